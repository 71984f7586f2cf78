"""Musical content: a key, a chord progression and one pattern per role, all from a seed.

Every part of a song shares one :class:`Harmony`, so parts rendered separately still agree on
key, tempo and chords (a musician should hear a band, not eleven random generators).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from aimv_backend.errors import ParameterError
from aimv_testkit.instruments import InstrumentDef

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
KEYS = {
    "C": 0,
    "C#": 1,
    "Db": 1,
    "D": 2,
    "Eb": 3,
    "E": 4,
    "F": 5,
    "F#": 6,
    "Gb": 6,
    "G": 7,
    "Ab": 8,
    "A": 9,
    "Bb": 10,
    "B": 11,
}
KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Scale degrees (0 = I) of one chord per bar; classic pop/rock loops.
PROGRESSIONS = ((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4), (0, 3, 4, 3), (0, 3, 5, 4))


@dataclass(frozen=True)
class NoteEvent:
    """One note in seconds; ``pitch`` is a MIDI note number."""

    pitch: int
    start: float
    end: float
    velocity: int


@dataclass(frozen=True)
class Harmony:
    """Key (major, root pitch class), tempo and a looping progression of scale degrees."""

    key_root: int = 0
    bpm: float = 100.0
    progression: tuple[int, ...] = PROGRESSIONS[0]
    beats_per_bar: int = 4

    @property
    def beat(self) -> float:
        return 60.0 / self.bpm

    @property
    def bar(self) -> float:
        return self.beat * self.beats_per_bar

    def degree_pitch_class(self, degree: int) -> int:
        octave, step = divmod(degree, 7)
        return (self.key_root + MAJOR_SCALE[step] + 12 * octave) % 12

    def chord(self, bar_index: int) -> tuple[int, int, int]:
        """Pitch classes (root, third, fifth) of the chord in bar ``bar_index``."""
        d = self.progression[bar_index % len(self.progression)]
        return tuple(self.degree_pitch_class(d + k) for k in (0, 2, 4))  # type: ignore[return-value]

    def scale_pitches(self, low: int, high: int) -> list[int]:
        pcs = {(self.key_root + s) % 12 for s in MAJOR_SCALE}
        return [p for p in range(low, high + 1) if p % 12 in pcs]


def make_harmony(
    *,
    seed: int = 0,
    bpm: float = 100.0,
    key: str | None = None,
    progression: tuple[int, ...] | None = None,
    beats_per_bar: int = 4,
) -> Harmony:
    """A Harmony; key and progression are drawn from ``seed`` when not given.

    ``beats_per_bar``: 4 (4/4, the default) or 3 (3/4: every part plays its pattern in three
    beats, the drums a waltz's kick on 1 and snare on 2 and 3).
    """
    if not (isinstance(bpm, int | float) and math.isfinite(bpm) and 40 <= bpm <= 220):
        raise ParameterError(f"bpm must be between 40 and 220, got {bpm!r}")
    if beats_per_bar not in (3, 4):
        raise ParameterError(f"beats_per_bar must be 3 or 4, got {beats_per_bar!r}")
    rng = np.random.default_rng(int(seed))
    names = ("C", "D", "E", "F", "G", "A", "Bb", "Eb")
    key_name = key if key is not None else names[int(rng.integers(len(names)))]
    if key_name not in KEYS:
        raise ParameterError(f"key must be one of {', '.join(KEYS)}; got {key!r}")
    prog = (
        progression
        if progression is not None
        else PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    )
    if not prog or any(not 0 <= int(d) < 7 for d in prog):
        raise ParameterError(f"progression must be scale degrees 0-6, got {progression!r}")
    return Harmony(
        key_root=KEYS[key_name],
        bpm=float(bpm),
        progression=tuple(int(d) for d in prog),
        beats_per_bar=int(beats_per_bar),
    )


def _rng(seed: int, name: str) -> np.random.Generator:
    salt = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, salt])


def _pitch(pc: int, octave: int) -> int:
    return 12 * (octave + 1) + pc


def _vel(rng: np.random.Generator, velocity: int, accent: int = 0) -> int:
    return int(np.clip(velocity + accent + rng.integers(-5, 6), 1, 127))


def part_notes(
    inst: InstrumentDef, *, harmony: Harmony, seconds: float, seed: int = 0, velocity: int = 90
) -> list[NoteEvent]:
    """The notes ``inst`` plays from 0 to ``seconds`` over ``harmony`` (deterministic in seed)."""
    rng = _rng(seed, inst.name)
    fn = _ROLE_FUNCS[inst.role]
    notes = [n for n in fn(inst, harmony, seconds, rng, velocity) if n.start < seconds - 0.05]
    return [NoteEvent(n.pitch, n.start, min(n.end, seconds), n.velocity) for n in notes]


def _bars(h: Harmony, seconds: float):
    for b in range(int(math.ceil(seconds / h.bar))):
        yield b, b * h.bar


def _arpeggio(inst, h, seconds, rng, velocity):
    out = []
    for b, t0 in _bars(h, seconds):
        r, third, fifth = h.chord(b)
        bass = _pitch(r, inst.octave - 1)
        out.append(NoteEvent(bass, t0, t0 + h.bar, _vel(rng, velocity - 10)))
        tones = sorted(_pitch(pc, inst.octave) for pc in (r, third, fifth))
        pattern = tones + [tones[0] + 12] + tones[::-1][:3] + [tones[1]]
        for k, p in enumerate(pattern[: 2 * h.beats_per_bar]):
            s = t0 + k * h.beat / 2
            out.append(NoteEvent(p, s, s + h.beat * 0.9, _vel(rng, velocity, 6 if k == 0 else 0)))
    return out


def _strum(inst, h, seconds, rng, velocity):
    out = []
    # beats: down, down-up, up, down (3/4: down, down-up, down)
    rhythm = (0.0, 1.0, 1.5, 2.5, 3.0) if h.beats_per_bar == 4 else (0.0, 1.0, 1.5, 2.0)
    for b, t0 in _bars(h, seconds):
        r, third, fifth = h.chord(b)
        voicing = [_pitch(r, inst.octave), _pitch(fifth, inst.octave) + (12 if fifth < r else 0)]
        voicing += [_pitch(r, inst.octave + 1), _pitch(third, inst.octave + 1)]
        voicing += [_pitch(fifth, inst.octave + 1) + (12 if fifth < r else 0)]
        for beat in rhythm:
            s = t0 + beat * h.beat
            down = beat == int(beat)
            order = voicing if down else voicing[::-1][:3]
            for j, p in enumerate(order):
                st = s + j * 0.012
                out.append(
                    NoteEvent(p, st, s + h.beat * 0.95, _vel(rng, velocity, 0 if down else -15))
                )
    return out


def _pad(inst, h, seconds, rng, velocity):
    out = []
    for b, t0 in _bars(h, seconds):
        r, third, fifth = h.chord(b)
        for pc in (r, third, fifth):
            p = _pitch(pc, inst.octave)
            out.append(NoteEvent(p, t0, t0 + h.bar * 0.98, _vel(rng, velocity - 10)))
        out.append(
            NoteEvent(_pitch(r, inst.octave - 1), t0, t0 + h.bar * 0.98, _vel(rng, velocity - 15))
        )
    return out


_RHYTHMS = ((1, 1, 2), (0.5, 0.5, 1, 2), (2, 2), (1.5, 0.5, 2), (1, 1, 1, 1), (3, 1))
_RHYTHMS_3 = ((1, 1, 1), (0.5, 0.5, 1, 1), (2, 1), (1.5, 0.5, 1), (1, 2), (3,))


def _melody(inst, h, seconds, rng, velocity):
    out = []
    low, high = _pitch(h.key_root, inst.octave) - 3, _pitch(h.key_root, inst.octave) + 16
    scale = h.scale_pitches(low, high)
    idx = len(scale) // 2
    rhythms = _RHYTHMS if h.beats_per_bar == 4 else _RHYTHMS_3
    phrase = [(rhythms[int(rng.integers(len(rhythms)))]) for _ in range(4)]
    for b, t0 in _bars(h, seconds):
        chord_pcs = h.chord(b)
        t = t0
        for k, dur in enumerate(phrase[b % 4]):
            if k == 0:  # strong beat: nearest chord tone
                cands = [i for i, p in enumerate(scale) if p % 12 in chord_pcs]
                idx = min(cands, key=lambda i: abs(i - idx) + 0.1 * rng.random())
            else:
                idx = int(np.clip(idx + rng.choice((-2, -1, -1, 1, 1, 2)), 0, len(scale) - 1))
            out.append(
                NoteEvent(
                    scale[idx], t, t + dur * h.beat * 0.92, _vel(rng, velocity, 8 if k == 0 else 0)
                )
            )
            t += dur * h.beat
    return out


def _bass(inst, h, seconds, rng, velocity):
    out = []
    for b, t0 in _bars(h, seconds):
        r, _, fifth = h.chord(b)
        root = _pitch(r, inst.octave)
        fifth_p = _pitch(fifth, inst.octave) + (12 if fifth < r else 0)
        for k in range(2 * h.beats_per_bar):
            p = root + 12 if k == 3 else fifth_p if k == 6 else root
            s = t0 + k * h.beat / 2
            out.append(
                NoteEvent(p, s, s + h.beat * 0.45, _vel(rng, velocity, 8 if k % 2 == 0 else -6))
            )
    return out


def _root(inst, h, seconds, rng, velocity):
    out = []
    for b, t0 in _bars(h, seconds):
        r, _, fifth = h.chord(b)
        half = h.beat * math.ceil(h.beats_per_bar / 2)  # 3/4: the fifth on beat 3
        out.append(NoteEvent(_pitch(r, inst.octave - 1), t0, t0 + half * 0.97, _vel(rng, velocity)))
        out.append(
            NoteEvent(
                _pitch(fifth, inst.octave - 1) + (12 if fifth < r else 0),
                t0 + half,
                t0 + h.bar * 0.97,
                _vel(rng, velocity - 5),
            )
        )
    return out


def _stabs(inst, h, seconds, rng, velocity):
    out = []
    for b, t0 in _bars(h, seconds):
        pcs = h.chord(b)
        for beat in (0.0, 1.5, 3.0) if h.beats_per_bar == 4 else (0.0, 1.0, 2.0):
            s = t0 + beat * h.beat
            for pc in pcs:
                out.append(
                    NoteEvent(_pitch(pc, inst.octave), s, s + h.beat * 0.4, _vel(rng, velocity))
                )
    return out


KICK, SNARE, HAT, CRASH = 36, 38, 42, 49
TOMS = (50, 48, 47, 45, 43, 41)


def _drums(inst, h, seconds, rng, velocity):
    out = []
    beat = h.beat

    def hit(p, s, accent=0):
        out.append(NoteEvent(p, s, s + 0.1, _vel(rng, velocity, accent)))

    bpb = h.beats_per_bar
    for b, t0 in _bars(h, seconds):
        if inst.name == "drum_kit" and bpb == 3:  # a waltz: kick on 1, snare on 2 and 3
            if b % 4 == 0:
                hit(CRASH, t0, 10)
            hit(KICK, t0, 10)
            for k in (1.0, 2.0) if b % 4 != 3 else (1.0,):
                hit(SNARE, t0 + k * beat, 0)
            for k in range(1, 6):
                hit(HAT, t0 + k * beat / 2, -18 if k % 2 else -8)
            if b % 4 == 3:
                for k, p in enumerate((50, 48, 47, 45)):
                    hit(p, t0 + 2 * beat + k * beat / 4, 4)
        elif inst.name == "drum_kit":
            fill = b % 4 == 3
            if b % 4 == 0:
                hit(CRASH, t0, 10)
            for k in (0.0, 2.0, 2.5):
                hit(KICK, t0 + k * beat, 10)
            for k in (1.0, 3.0) if not fill else (1.0,):
                hit(SNARE, t0 + k * beat, 8)
            for k in range(8 if not fill else 6):
                if not (b % 4 == 0 and k == 0):
                    hit(HAT, t0 + k * beat / 2, -18 if k % 2 else -8)
            if fill:
                for k, p in enumerate((50, 48, 47, 45)):
                    hit(p, t0 + 3 * beat + k * beat / 4, 4)
        elif inst.name in ("crash", "splash"):
            hit(inst.drum_notes[0], t0, 5)
            if h.bar > 1.6:
                hit(inst.drum_notes[0], t0 + 2 * beat, 0)
        elif inst.name == "hihat":
            for k in range(2 * bpb):
                hit(HAT, t0 + k * beat / 2, 5 if k % 2 == 0 else -10)
        elif inst.name == "tom":
            for k in range(2 * bpb):
                hit(TOMS[k % len(TOMS)], t0 + k * beat / 2, 0)
        elif inst.name in ("snare", "rimshot"):
            for k in range(bpb):
                hit(inst.drum_notes[0], t0 + k * beat, 8 if k % 2 else 0)
        else:  # kick, ride: every beat
            for k in range(bpb):
                hit(inst.drum_notes[0], t0 + k * beat, 8 if k == 0 else 0)
    return out


_ROLE_FUNCS = {
    "arpeggio": _arpeggio,
    "strum": _strum,
    "pad": _pad,
    "melody": _melody,
    "bass": _bass,
    "root": _root,
    "stabs": _stabs,
    "drums": _drums,
}
