"""Labelled training and test audio for the drum-piece and instrument-family classifiers.

Everything is rendered here from General MIDI soundfonts with fluidsynth (MIDI written with
mido, argument lists, no shell), so the truth is exact and no recording is needed:

* drums: for every drum kit of a soundfont (bank 128 presets), isolated hits of every piece at
  several velocities, then random grooves on a 16th-note grid at 70-180 bpm (hits overlap and
  ring into each other as in songs). Truth: (time, pieces struck) per event.
* beds: melodic programs (no percussion, no sound effects) playing chords, arpeggios and lines:
  the "not a drum" material, and the music that hits are mixed over.
* parts: one GM program at a time playing a part in its register, for the instrument families.

Used by tools/train_listen_models.py (training, leave-one-soundfont-out validation) and by
bench/kit_accuracy.py (figures on the soundfont left out of training). Rendered sets are
cached as .npz under $AIMV_CACHE_DIR/listen-train (else ~/.cache/aimv/listen-train).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import drum_sources
import egmd
import numpy as np

from aimv_backend.listen.drums import features
from aimv_backend.listen.drums.pieces import GM_DRUM_NOTES

CACHE_VERSION = 1
TICKS_PER_SECOND = 960  # 480 ticks per beat at 120 bpm

SOUNDFONTS = {
    "fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "musescore": "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
    "timgm6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2",
    # issue 11's independent training kits (docs/models-and-licences.md)
    "opl3": "/usr/share/sounds/sf2/OPL-3_FM_128M.sf2",  # opl3-soundfont, CC-BY-SA-4.0, FM
    "avl-redzep": "/usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2",  # avldrums, GPL-2+
}
# Licence of each soundfont's samples (docs/models-and-licences.md).
LICENCES = {
    "fluidr3": "MIT",
    "musescore": "MIT",
    "timgm6mb": "GPL-2",  # measured on only
    "opl3": "CC-BY-SA-4.0",
    "avl-redzep": "GPL-2+",
    "egmd": egmd.LICENCE,  # E-GMD, from a local copy (tools/egmd.py)
}
# GM drum kits (bank 128 presets); a soundfont without one falls back to its standard kit.
KITS = {
    "fluidr3": (0, 8, 16, 24, 25, 32, 40, 48),
    "musescore": (0, 8, 16, 24, 25, 32, 40, 48),
    "timgm6mb": (0,),
    "opl3": (0,),
    "avl-redzep": (0,),
}
# Kits that are a bank 0 preset (played on MIDI channel 1 without note-offs).
MELODIC_CHANNEL_KITS = {"avl-redzep"}

# Programs (0-based) that are not melodic instruments: timpani, percussive and sound effects.
NOT_MELODIC = {47, *range(112, 128)}
MELODIC_PROGRAMS = tuple(p for p in range(128) if p not in NOT_MELODIC)


@dataclass(frozen=True)
class DrumEvent:
    """One moment of a drum track: time in seconds and the pieces struck together."""

    time: float
    pieces: tuple[str, ...]
    velocity: int


def cache_dir() -> Path:
    base = os.environ.get("AIMV_CACHE_DIR") or os.path.expanduser("~/.cache/aimv")
    path = Path(base) / "listen-train"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------------------------
# MIDI writing and rendering


def write_midi(events: list[tuple[float, object]], path: Path) -> None:
    """Write (seconds, mido message) pairs to a one-track MIDI file at 120 bpm."""
    import mido

    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    order = sorted(range(len(events)), key=lambda i: (events[i][0], _prio(events[i][1]), i))
    last = 0
    for i in order:
        t, msg = events[i]
        tick = int(round(t * TICKS_PER_SECOND))
        track.append(msg.copy(time=tick - last))
        last = tick
    mid.save(str(path))


def _prio(msg) -> int:
    return {"program_change": 0, "control_change": 1, "note_off": 2}.get(msg.type, 3)


def render_midi(events, *, soundfont: str, seconds: float, reverb: bool = False) -> np.ndarray:
    """Render MIDI events with fluidsynth to mono float32 at features.RATE, ``seconds`` long."""
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="aimv-listen-data-") as tmp:
        mid, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        write_midi(events, mid)
        cmd = ["fluidsynth", "-q", "-ni", "-R", "1" if reverb else "0", "-C", "0", "-g", "0.5"]
        cmd += ["-O", "float", "-T", "wav", "-F", str(wav), "-r", str(features.RATE)]
        cmd += [SOUNDFONTS[soundfont], str(mid)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not wav.is_file():
            raise RuntimeError(f"fluidsynth failed: {proc.stderr.strip()[-300:]}")
        data, _ = sf.read(str(wav), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    out = np.zeros(int(round(seconds * features.RATE)), dtype=np.float32)
    n = min(out.shape[0], mono.shape[0])
    out[:n] = mono[:n]
    return out


def _note(events, t, channel, pitch, velocity, length):
    import mido

    events.append((t, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
    if length is not None:  # None: no note-off, the sample rings out (a drum plugin's way)
        events.append((t + length, mido.Message("note_off", channel=channel, note=pitch)))


def _program(events, t, channel, program):
    import mido

    events.append((t, mido.Message("program_change", channel=channel, program=program)))


def _cc(events, t, channel, number, value):
    import mido

    events.append((t, mido.Message("control_change", channel=channel, control=number, value=value)))


# --------------------------------------------------------------------------------------------
# Drums

PIECE_NOTES: dict[str, tuple[int, ...]] = {}
for _note_number, _piece in GM_DRUM_NOTES.items():
    PIECE_NOTES.setdefault(_piece, ())
    PIECE_NOTES[_piece] += (_note_number,)

# How often a piece is struck on a random groove step (relative weights).
GROOVE_WEIGHTS = {
    "kick": 5,
    "snare": 4,
    "rimshot": 1,
    "hihat_closed": 6,
    "hihat_open": 2,
    "crash": 1.5,
    "splash": 1,
    "ride": 2.5,
    "tom_high": 1,
    "tom_mid": 1,
    "tom_floor": 1,
    "clap": 1,
}


def isolated_gap(piece: str) -> float:
    """Seconds from one isolated hit to the next: cymbals ring longer."""
    return 0.6 if piece in ("crash", "splash", "ride", "hihat_open") else 0.45


def random_grooves(rng: np.random.Generator, *, start: float, seconds: float, pieces, strike):
    """Random grooves from ``start`` for about ``seconds`` (s): bars of 16-48 sixteenth steps
    at 70-180 bpm, 1-3 of ``pieces`` struck on a step (GROOVE_WEIGHTS), a second apart.

    ``strike(t, piece, velocity)`` plays one piece (it may draw once from ``rng``). Returns
    the truth DrumEvents and the time the last bar ends (s)."""
    names = [p for p in GROOVE_WEIGHTS if p in pieces]
    weights = np.array([GROOVE_WEIGHTS[p] for p in names], dtype=np.float64)
    weights /= weights.sum()
    truth: list[DrumEvent] = []
    t = start
    while t < start + seconds - 2.0:
        step = 60.0 / float(rng.uniform(70, 180)) / 4
        density = float(rng.uniform(0.25, 0.7))
        for _ in range(int(rng.integers(16, 48))):
            if rng.random() < density:
                k = int(rng.choice([1, 1, 1, 2, 2, 3]))
                chosen = tuple(sorted(set(rng.choice(names, size=k, p=weights))))
                vel = int(rng.integers(40, 128))
                for piece in chosen:
                    strike(t, piece, vel)
                truth.append(DrumEvent(round(t, 4), chosen, vel))
            t += step
        t += 1.0
    return truth, t


def drum_score(
    rng: np.random.Generator,
    kits: tuple[int, ...],
    *,
    groove_seconds: float,
    piece_notes: dict[str, tuple[int, ...]] | None = None,
    channel: int = 9,
    note_length: float | None = 0.1,
):
    """MIDI events and truth: isolated hits of every piece per kit, then random grooves.

    piece_notes: piece -> notes of a kit that is not GM-mapped (default: the GM map).
    """
    piece_notes = PIECE_NOTES if piece_notes is None else piece_notes
    events: list = []
    truth: list[DrumEvent] = []
    t = 0.2

    def strike(at: float, piece: str, vel: int) -> None:
        notes = piece_notes[piece]
        _note(events, at, channel, int(notes[rng.integers(len(notes))]), vel, note_length)

    for kit in kits:
        _program(events, max(t - 0.1, 0.0), channel, kit)
        for piece, notes in piece_notes.items():
            for note in notes:
                for vel in (int(rng.integers(35, 70)), int(rng.integers(70, 100)), 120):
                    _note(events, t, channel, note, vel, note_length)
                    truth.append(DrumEvent(round(t, 4), (piece,), vel))
                    t += isolated_gap(piece)
        grooves, t = random_grooves(
            rng, start=t, seconds=groove_seconds, pieces=piece_notes, strike=strike
        )
        truth += grooves
    return events, truth, t + 2.0


# --------------------------------------------------------------------------------------------
# Melodic beds and parts


def bed_score(rng: np.random.Generator, *, seconds: float, programs=MELODIC_PROGRAMS):
    """Random melodic music on channels 0-2 in 6 s segments; truth: every note onset time."""
    events: list = []
    onsets: list[float] = []
    t = 0.2
    while t < seconds - 1.0:
        seg_end = min(t + 6.0, seconds - 0.5)
        n_parts = int(rng.integers(1, 4))
        for ch in range(n_parts):
            program = int(rng.choice(programs))
            _program(events, max(t - 0.05, 0), ch, program)
            _cc(events, max(t - 0.05, 0), ch, 7, int(rng.integers(70, 120)))
            onsets += _random_line(events, rng, ch, t, seg_end)
        t = seg_end + 0.3
    return events, sorted(set(round(x, 4) for x in onsets))


def _random_line(events, rng, ch, start, end) -> list[float]:
    style = rng.choice(["chords", "arpeggio", "line", "held"])
    low = int(rng.integers(28, 60))
    span = int(rng.integers(12, 30))
    t = start
    out = []
    while t < end - 0.1:
        length = float(rng.uniform(0.08, 1.2)) if style != "held" else float(rng.uniform(1, 3))
        count = int(rng.integers(2, 5)) if style == "chords" else 1
        vel = int(rng.integers(45, 120))
        for _ in range(count):
            _note(events, t, ch, low + int(rng.integers(0, span)), vel, min(length, end - t))
        out.append(t)
        t += length if style != "arpeggio" else float(rng.uniform(0.08, 0.3))
    return out


# --------------------------------------------------------------------------------------------
# Cached sets


def _key(kind: str, params: dict) -> str:
    blob = json.dumps({"kind": kind, "v": CACHE_VERSION, **params}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def drum_set(soundfont: str, *, seed: int, groove_seconds: float = 45.0, reverb: bool = False):
    """(audio, truth events) of the drum material of one soundfont or sample kit, cached.

    ``soundfont``: a key of SOUNDFONTS, of drum_sources.SAMPLE_KITS (Hydrogen kits), or
    "egmd" (a local copy of E-GMD, tools/egmd.py).
    """
    params = {"sf": soundfont, "seed": seed, "groove": groove_seconds, "reverb": reverb}
    if soundfont in drum_sources.SYNTH_KITS:  # a change of the synthesiser is a new set
        params["synth"] = drum_sources.synth_kits.VERSION
    if soundfont == "egmd":
        params["egmd"] = str(egmd.egmd_dir().resolve())
    path = cache_dir() / f"drums-{soundfont}-{_key('drums', params)}.npz"
    rng = np.random.default_rng([seed, 1])
    if soundfont == "egmd":
        return _egmd_set(rng, path, seconds=egmd.SET_GROOVES * groove_seconds, reverb=reverb)
    if soundfont in drum_sources.SAMPLE_KITS:
        return _sample_kit_set(soundfont, rng, path, groove_seconds=groove_seconds, reverb=reverb)
    kw = {}
    if soundfont in drum_sources.NOTE_MAPS:
        kw["piece_notes"] = _piece_notes(drum_sources.NOTE_MAPS[soundfont])
    if soundfont in MELODIC_CHANNEL_KITS:
        kw.update(channel=0, note_length=None)
    events, truth, seconds = drum_score(rng, KITS[soundfont], groove_seconds=groove_seconds, **kw)
    if path.is_file():
        with np.load(path) as data:
            return data["audio"], truth
    if reverb:
        _cc(events, 0.0, kw.get("channel", 9), 91, 70)
    audio = render_midi(events, soundfont=soundfont, seconds=seconds, reverb=reverb)
    _save(path, audio=audio)
    return audio, truth


def _piece_notes(note_map: dict[int, str]) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for note, piece in note_map.items():
        out[piece] = out.get(piece, ()) + (note,)
    return out


def _sample_kit_set(name: str, rng, path: Path, *, groove_seconds: float, reverb: bool):
    hits, truth, seconds = drum_sources.sample_kit_score(rng, name, groove_seconds=groove_seconds)
    if path.is_file():
        with np.load(path) as data:
            return data["audio"], truth
    audio = drum_sources.render_sample_kit(name, hits, seconds=seconds, rng=rng)
    if reverb:
        audio = drum_sources.synthetic_room(audio, rng)
    _save(path, audio=audio)
    return audio, truth


def _egmd_set(rng, path: Path, *, seconds: float, reverb: bool):
    """E-GMD's audio and truth, both cached (the truth depends on the files read)."""
    if path.is_file():
        with np.load(path) as data:
            truth = [
                DrumEvent(float(t), tuple(str(p).split("+")), int(v))
                for t, p, v in zip(data["times"], data["pieces"], data["velocities"], strict=True)
            ]
            return data["audio"], truth
    audio, truth = egmd.drum_set(rng, seconds=seconds)
    if reverb:
        audio = drum_sources.synthetic_room(audio, rng)
    _save(
        path,
        audio=audio,
        times=np.array([e.time for e in truth]),
        pieces=np.array(["+".join(e.pieces) for e in truth]),
        velocities=np.array([e.velocity for e in truth]),
    )
    return audio, truth


def bed_set(soundfont: str, *, seed: int, seconds: float = 300.0):
    """(audio, note onset times) of random melodic beds of one soundfont, cached."""
    params = {"sf": soundfont, "seed": seed, "seconds": seconds}
    path = cache_dir() / f"bed-{soundfont}-{_key('bed', params)}.npz"
    rng = np.random.default_rng([seed, 2])
    events, onsets = bed_score(rng, seconds=seconds)
    if path.is_file():
        with np.load(path) as data:
            return data["audio"], onsets
    audio = render_midi(events, soundfont=soundfont, seconds=seconds)
    _save(path, audio=audio)
    return audio, onsets


def _save(path: Path, **arrays) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
    os.close(fd)
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# Instrument families: parts of one GM program at a time

# family -> (GM programs, lowest note, highest note, style)
FAMILY_PARTS = {  # each family's programs and its instruments' whole register (MIDI notes)
    "piano": ((0, 1, 2, 3, 4, 5, 6, 7), 28, 96, "keys"),
    "organ": ((16, 17, 18, 19, 20), 28, 91, "pad"),
    "guitar": ((24, 25, 26, 27, 28, 29, 30, 31), 40, 84, "keys"),
    "bass": ((32, 33, 34, 35, 36, 37, 38, 39), 28, 55, "bass"),
    "strings": ((40, 41, 42, 44, 45, 48, 49, 50, 51), 28, 96, "pad"),
    "brass": ((56, 57, 58, 59, 60, 61, 62, 63), 34, 84, "lead"),
    "saxophone": ((64, 65, 66, 67), 44, 84, "lead"),
    "flute": ((72, 73, 74, 75, 76, 77, 78, 79), 60, 98, "lead"),
    "synth_lead": ((80, 81, 82, 83, 84, 85, 86, 87), 48, 91, "lead"),
    "synth_pad": ((88, 89, 90, 91, 92, 93, 94, 95), 36, 88, "pad"),
    "choir": ((52, 53, 54), 43, 81, "pad"),
}
FAMILIES = tuple(FAMILY_PARTS)


@dataclass(frozen=True)
class PartSegment:
    """A stretch of one family playing alone: [start, end) seconds, GM program."""

    start: float
    end: float
    family: str
    program: int


def parts_score(rng: np.random.Generator, *, seconds_per_program: float):
    """Every program of every family in turn, each playing a part in its register."""
    events: list = []
    truth: list[PartSegment] = []
    t = 0.2
    for family, (programs, low, high, style) in FAMILY_PARTS.items():
        for program in programs:
            _program(events, max(t - 0.1, 0.0), 0, program)
            end = t + seconds_per_program
            _part(events, rng, t, end, low, high, style)
            truth.append(PartSegment(round(t, 4), round(end, 4), family, program))
            t = end + 1.5
    return events, truth, t


def _root(rng, low, high, style) -> int:
    """A part's root: a lead's anywhere in its register (it plays about an octave over it),
    the others' in their lowest octave (they build up from it)."""
    if style == "lead":
        return int(rng.integers(low, max(low + 1, high - 24)))
    return int(rng.integers(low, min(low + 12, high)))


def _part(events, rng, start, end, low, high, style) -> None:
    t = start
    root = _root(rng, low, high, style)
    while t < end - 0.05:
        vel = int(rng.integers(50, 120))
        if style == "bass":
            length = float(rng.choice([0.125, 0.25, 0.25, 0.5, 0.75]))
            pitch = root + int(rng.choice([0, 0, 7, 12, 5, 3, 10]))
            _note(events, t, 0, min(pitch, high), vel, min(length * 0.9, end - t))
        elif style == "pad":
            length = float(rng.uniform(1.0, 3.0))
            base = int(rng.integers(low, max(low + 1, high - 16)))
            for step in (0, 4 if rng.random() < 0.5 else 3, 7, 12)[: int(rng.integers(2, 5))]:
                _note(events, t, 0, base + step, vel, min(length, end - t))
        elif style == "lead":
            length = float(rng.choice([0.125, 0.25, 0.25, 0.5, 1.0]))
            pitch = int(np.clip(root + 12 + int(rng.integers(-7, 8)), low, high))
            _note(events, t, 0, pitch, vel, min(length * 0.95, end - t))
        else:  # keys: chords and arpeggios
            length = float(rng.choice([0.125, 0.25, 0.5, 1.0]))
            base = int(rng.integers(low, max(low + 1, high - 12)))
            count = int(rng.choice([1, 1, 3, 4]))
            for step in (0, 4, 7, 12)[:count]:
                _note(events, t, 0, base + step, vel, min(length, end - t))
        t += length
        if rng.random() < 0.1:
            root = _root(rng, low, high, style)


def parts_set(soundfont: str, *, seed: int, seconds_per_program: float = 12.0):
    """(audio, segments) of every family's programs playing alone, one soundfont, cached."""
    params = {"sf": soundfont, "seed": seed, "secs": seconds_per_program, "parts": FAMILY_PARTS}
    path = cache_dir() / f"parts-{soundfont}-{_key('parts', params)}.npz"
    rng = np.random.default_rng([seed, 3])
    events, truth, seconds = parts_score(rng, seconds_per_program=seconds_per_program)
    if path.is_file():
        with np.load(path) as data:
            return data["audio"], truth
    audio = render_midi(events, soundfont=soundfont, seconds=seconds)
    _save(path, audio=audio)
    return audio, truth
