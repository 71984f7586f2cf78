"""Songs with ground truth: sections of parts plus a vocal line, rendered with a per-second record.

A :class:`SongSpec` says which parts play in which section and which words are sung when;
:func:`render_song` renders all parts in one fluidsynth pass (shared key and tempo, MIDI volume,
pan and reverb per part), places the words with espeak-ng, mixes the vocal at a chosen SNR and
returns the audio with a :class:`SongTruth`: per window, the parts and drum pieces sounding,
the words, whether a voice is present, the section and its loudness, and the measured level.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from aimv_backend.errors import ParameterError
from aimv_testkit._cache import cached_array
from aimv_testkit.instruments import INSTRUMENTS, get_instrument
from aimv_testkit.midi import (
    Track,
    check_rate,
    check_seconds,
    fluidsynth_version,
    render_tracks,
    soundfont_id,
)
from aimv_testkit.mixing import Layer, _chmod_like_new_file, active_rms, db_to_gain, mix, rms
from aimv_testkit.patterns import KEY_NAMES, NoteEvent, make_harmony, part_notes
from aimv_testkit.voice import VocalWord, WordTruth, espeak_version, place_words

SONG_PEAK = 0.89  # -1 dBFS: songs are normalised to this peak
LOUDNESS_VELOCITY = {"quiet": -20, "normal": 0, "loud": 14}
DRUM_PIECES = {
    35: "kick",
    36: "kick",
    37: "rimshot",
    38: "snare",
    40: "snare",
    42: "hihat",
    44: "hihat",
    46: "hihat",
    49: "crash",
    57: "crash",
    55: "splash",
    51: "ride",
    41: "tom",
    43: "tom",
    45: "tom",
    47: "tom",
    48: "tom",
    50: "tom",
}


@dataclass(frozen=True)
class PartSpec:
    """One part in a section: instrument name, level (dB, 0 = MIDI volume 100), pan (-1..1)."""

    instrument: str
    gain_db: float = 0.0
    pan: float = 0.0
    velocity: int = 90
    reverb: int = 40


@dataclass(frozen=True)
class Section:
    """A stretch of the song [start, end) seconds with its parts and loudness."""

    name: str
    start: float
    end: float
    parts: tuple[PartSpec, ...]
    loudness: str = "normal"
    crash: bool = False


@dataclass(frozen=True)
class SongSpec:
    """Everything that decides a song's audio. ``vocal_snr_db`` is the vocal's active level
    over the music's level while words sound (higher = clearer vocal)."""

    sections: tuple[Section, ...]
    words: tuple[VocalWord, ...] = ()
    bpm: float = 100.0
    key: str | None = None
    progression: tuple[int, ...] | None = None
    seed: int = 0
    voice: str = "en"
    speed: int = 140
    pitch: int = 50
    sing: bool = False
    vocal_snr_db: float = 3.0
    stereo: bool = True
    reverb: bool = True
    fade_out: float = 0.0  # seconds of fade at the end (a song ends, a test clip just stops)

    @property
    def duration(self) -> float:
        return max(s.end for s in self.sections)


@dataclass(frozen=True)
class SecondTruth:
    """Ground truth of one window."""

    index: int
    start: float
    end: float
    section: str
    loudness: str
    instruments: tuple[str, ...]
    drum_pieces: tuple[str, ...]
    labels: tuple[str, ...]
    voice: bool
    words: tuple[WordTruth, ...]
    rms_db: float


@dataclass(frozen=True)
class SongTruth:
    duration: float
    sample_rate: int
    bpm: float
    key: str
    window_seconds: float
    words: tuple[WordTruth, ...]
    sections: tuple[dict, ...]
    windows: tuple[SecondTruth, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"format": "aimv-synth-truth", "version": 1, **asdict(self)}

    def save(self, path: str | os.PathLike[str]) -> Path:
        from aimv_timeline.schema import write_json_atomic

        out = write_json_atomic(self.to_dict(), path)
        _chmod_like_new_file(out)
        return out


@dataclass(frozen=True)
class RenderedSong:
    audio: np.ndarray
    sample_rate: int
    truth: SongTruth


def _check_spec(spec: SongSpec) -> None:
    if not spec.sections:
        raise ParameterError("song spec needs at least one section")
    for s in spec.sections:
        check_seconds(s.end - s.start, name=f"section {s.name!r} length")
        if s.start < 0:
            raise ParameterError(f"section {s.name!r} start must be >= 0, got {s.start!r}")
        if s.loudness not in LOUDNESS_VELOCITY:
            raise ParameterError(
                f"section {s.name!r} loudness must be one of {', '.join(LOUDNESS_VELOCITY)}, "
                f"got {s.loudness!r}"
            )
        for p in s.parts:
            get_instrument(p.instrument)
            if not -1 <= p.pan <= 1:
                raise ParameterError(f"part {p.instrument!r} pan must be in [-1, 1], got {p.pan!r}")
    check_seconds(spec.duration, name="song duration")
    if not 0 <= spec.fade_out <= spec.duration:
        raise ParameterError(f"fade_out must be in [0, song duration], got {spec.fade_out!r}")


def _volume_cc(gain_db: float) -> int:
    return int(np.clip(round(100 * 10 ** (gain_db / 40)), 0, 127))


def song_notes(spec: SongSpec) -> dict[str, tuple[NoteEvent, ...]]:
    """Notes per canonical instrument name over the whole song (for rendering and truth)."""
    h = make_harmony(seed=spec.seed, bpm=spec.bpm, key=spec.key, progression=spec.progression)
    dur = spec.duration
    out: dict[str, list[NoteEvent]] = {}
    for sec in spec.sections:
        vel_offset = LOUDNESS_VELOCITY[sec.loudness]
        for p in sec.parts:
            inst = get_instrument(p.instrument)
            vel = int(np.clip(p.velocity + vel_offset, 1, 127))
            if inst.is_drum:  # drums share channel 10: their level goes into velocity
                vel = int(np.clip(round(vel * 10 ** (p.gain_db / 40)), 1, 127))
            notes = part_notes(inst, harmony=h, seconds=dur, seed=spec.seed, velocity=vel)
            kept = [
                NoteEvent(n.pitch, n.start, min(n.end, sec.end), n.velocity)
                for n in notes
                if sec.start - 1e-6 <= n.start < sec.end - 0.02
            ]
            out.setdefault(inst.name, []).extend(kept)
        if sec.crash:
            v = int(np.clip(110 + vel_offset // 2, 1, 127))
            out.setdefault("crash", []).append(NoteEvent(49, sec.start, sec.start + 0.2, v))
    return {k: tuple(sorted(v, key=lambda n: (n.start, n.pitch))) for k, v in out.items()}


def _tracks(spec: SongSpec, notes: dict[str, tuple[NoteEvent, ...]]) -> list[Track]:
    tracks = []
    for name, ns in notes.items():
        inst = INSTRUMENTS[name]
        first = next(
            (
                p
                for s in spec.sections
                for p in s.parts
                if get_instrument(p.instrument).name == name
            ),
            PartSpec(name),
        )
        vol = 100 if inst.is_drum else _volume_cc(first.gain_db)
        changes = tuple(
            (s.start, _volume_cc(p.gain_db))
            for s in spec.sections
            for p in s.parts
            if not inst.is_drum and s.start > 0 and get_instrument(p.instrument).name == name
        )
        tracks.append(
            Track(
                inst,
                ns,
                volume=vol,
                pan=int(np.clip(64 + first.pan * 63, 0, 127)),
                reverb=first.reverb if spec.reverb else 0,
                volume_changes=changes,
            )
        )
    return tracks


def render_song(
    spec: SongSpec, *, sample_rate: int = 44100, window_seconds: float = 1.0
) -> RenderedSong:
    """Render ``spec`` to float32 audio ((frames, 2) if spec.stereo) with its ground truth.

    Deterministic in ``spec`` (including its seed); the mix is cached on disk.
    """
    _check_spec(spec)
    sample_rate = check_rate(sample_rate)
    window_seconds = check_seconds(window_seconds, name="window_seconds")
    dur = spec.duration
    notes = song_notes(spec)
    word_truth: list[WordTruth] = []

    def vocal() -> tuple[np.ndarray, list[WordTruth]]:
        if not spec.words:
            return np.zeros(int(round(dur * sample_rate)), np.float32), []
        return place_words(
            words=spec.words,
            seconds=dur,
            sample_rate=sample_rate,
            voice=spec.voice,
            speed=spec.speed,
            pitch=spec.pitch,
            sing=spec.sing,
        )

    voc, word_truth = vocal()

    def make() -> np.ndarray:
        music = render_tracks(
            _tracks(spec, notes), seconds=dur, sample_rate=sample_rate, reverb=spec.reverb
        )
        layers = [Layer(music)]
        if word_truth:
            spans = np.concatenate(
                [music[int(w.start * sample_rate) : int(w.end * sample_rate)] for w in word_truth]
            )
            m, v = rms(spans), active_rms(voc, rate=sample_rate)
            if m > 0 and v > 0:
                layers.append(Layer(voc, gain_db=20 * math.log10(m / v) + spec.vocal_snr_db))
            else:
                layers.append(Layer(voc))
        out = mix(*layers, seconds=dur, sample_rate=sample_rate, stereo=spec.stereo, peak=None)
        top = float(np.max(np.abs(out)))
        if top > 0:
            out *= np.float32(SONG_PEAK / top)
        n = min(out.shape[0], int(round(spec.fade_out * sample_rate)))
        if n > 0:
            ramp = np.cos(np.linspace(0.0, np.pi / 2, n, dtype=np.float64)) ** 2
            out[-n:] *= ramp.astype(np.float32).reshape((n,) + (1,) * (out.ndim - 1))
        return out

    params = {
        "spec": repr(spec),
        "rate": sample_rate,
        "fluidsynth": fluidsynth_version(),
        "sf2": soundfont_id(),  # $AIMV_SOUNDFONT: the same spec sounds otherwise in another one
        "espeak": espeak_version() if spec.words else None,
    }
    audio = cached_array("song", params, make)
    truth = song_truth(spec, notes, word_truth, audio, sample_rate, window_seconds)
    return RenderedSong(audio=audio, sample_rate=sample_rate, truth=truth)


def song_truth(
    spec: SongSpec,
    notes: dict[str, tuple[NoteEvent, ...]],
    words: list[WordTruth],
    audio: np.ndarray,
    sample_rate: int,
    window_seconds: float = 1.0,
) -> SongTruth:
    """Per-window truth: a part is present when one of its notes sounds in the window."""
    dur = spec.duration
    count = max(1, math.ceil(dur / window_seconds - 1e-9))
    mono = audio if audio.ndim == 1 else audio.mean(axis=1)
    wins = []
    for i in range(count):
        a, b = i * window_seconds, min(dur, (i + 1) * window_seconds)
        sec = next((s for s in spec.sections if s.start <= a < s.end), spec.sections[-1])
        present, pieces, labels = [], set(), []
        for name, ns in notes.items():
            hits = [n for n in ns if n.start < b and n.end > a]
            if not hits:
                continue
            present.append(name)
            for lab in INSTRUMENTS[name].labels:
                if lab not in labels:
                    labels.append(lab)
            if INSTRUMENTS[name].is_drum:
                pieces.update(
                    DRUM_PIECES.get(n.pitch, "percussion") for n in hits if a <= n.start < b
                )
        ws = tuple(w for w in words if w.start < b and w.end > a)
        if ws and "vocal" not in labels:
            labels += ["vocal", "voice", "singing" if spec.sing else "speech"]
        seg = mono[int(a * sample_rate) : int(b * sample_rate)]
        level = rms(seg)
        wins.append(
            SecondTruth(
                i,
                round(a, 6),
                round(b, 6),
                sec.name,
                sec.loudness,
                tuple(sorted(present)),
                tuple(sorted(pieces)),
                tuple(labels),
                bool(ws),
                ws,
                round(20 * math.log10(max(level, 1e-9)), 2),
            )
        )
    h = make_harmony(seed=spec.seed, bpm=spec.bpm, key=spec.key, progression=spec.progression)
    key = KEY_NAMES[h.key_root] + " major"
    sections = tuple(
        {
            "name": s.name,
            "start": s.start,
            "end": s.end,
            "loudness": s.loudness,
            "parts": [p.instrument for p in s.parts],
        }
        for s in spec.sections
    )
    return SongTruth(
        duration=dur,
        sample_rate=sample_rate,
        bpm=spec.bpm,
        key=key,
        window_seconds=window_seconds,
        words=tuple(words),
        sections=sections,
        windows=tuple(wins),
    )


__all__ = [
    "PartSpec",
    "Section",
    "SongSpec",
    "SecondTruth",
    "SongTruth",
    "RenderedSong",
    "render_song",
    "song_notes",
    "song_truth",
    "db_to_gain",
]
