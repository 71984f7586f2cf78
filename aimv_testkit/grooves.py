"""Grooves with known beats: a band (drum kit, bass, chords) at a given tempo, and its truth.

Beat and bar tracking are scored against the score the band played from: beat ``k`` sounds at
``lead_in + k * 60 / bpm``, and every fourth beat starts a bar (4/4). The chords change on the
bar, the kick plays beats 1 and 3 (and the "and" of 3), the snare 2 and 4, the hi-hat eighths.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aimv_backend.errors import ParameterError
from aimv_testkit._cache import cached_array
from aimv_testkit.instruments import get_instrument
from aimv_testkit.midi import (
    ENV_SOUNDFONT,
    Track,
    check_rate,
    check_seconds,
    fluidsynth_version,
    render_tracks,
    soundfont_id,
)
from aimv_testkit.patterns import NoteEvent, make_harmony, part_notes

DEFAULT_PARTS = ("drum_kit", "bass", "piano")


@contextlib.contextmanager
def _soundfont(soundfont: str | os.PathLike[str] | None):
    """Render with ``soundfont`` inside the block ($AIMV_SOUNDFONT restored after)."""
    previous = os.environ.get(ENV_SOUNDFONT)
    if soundfont is not None:
        os.environ[ENV_SOUNDFONT] = str(Path(soundfont))
    try:
        yield
    finally:
        if soundfont is not None:
            if previous is None:
                os.environ.pop(ENV_SOUNDFONT, None)
            else:
                os.environ[ENV_SOUNDFONT] = previous


@dataclass(frozen=True)
class Groove:
    """Mono float32 audio and the beats the band played (seconds), and the first beat of each
    bar (4/4 unless rendered in 3/4)."""

    audio: np.ndarray
    sample_rate: int
    bpm: float
    beats: tuple[float, ...]
    downbeats: tuple[float, ...]


def render_groove(
    *,
    bpm: float,
    seconds: float = 20.0,
    seed: int = 0,
    parts: Sequence[str] = DEFAULT_PARTS,
    sample_rate: int = 22050,
    lead_in: float = 0.0,
    soundfont: str | os.PathLike[str] | None = None,
    beats_per_bar: int = 4,
) -> Groove:
    """Render ``parts`` together at ``bpm`` for ``seconds`` (after ``lead_in`` s of silence).

    ``soundfont`` renders with another .sf2 (else $AIMV_SOUNDFONT or FluidR3_GM);
    ``beats_per_bar`` 3 plays it in 3/4. Deterministic and cached like
    :func:`aimv_testkit.render_part`.
    """
    seconds = check_seconds(seconds)
    sample_rate = check_rate(sample_rate)
    if not (isinstance(lead_in, int | float) and math.isfinite(lead_in) and 0 <= lead_in < 10):
        raise ParameterError(f"lead_in must be in [0, 10) seconds, got {lead_in!r}")
    harmony = make_harmony(seed=seed, bpm=bpm, beats_per_bar=beats_per_bar)
    insts = [get_instrument(name) for name in parts]
    with _soundfont(soundfont):
        params = {
            "parts": [i.name for i in insts],
            "seconds": seconds,
            "rate": sample_rate,
            "seed": int(seed),
            "harmony": repr(harmony),
            "lead_in": float(lead_in),
            "fluidsynth": fluidsynth_version(),
            "sf2": soundfont_id(),
        }
        if beats_per_bar != 4:  # 4/4 keeps the cache keys it always had
            params["beats_per_bar"] = beats_per_bar

        def make() -> np.ndarray:
            tracks = []
            for inst in insts:
                notes = part_notes(inst, harmony=harmony, seconds=seconds - lead_in, seed=seed)
                shifted = tuple(
                    NoteEvent(n.pitch, n.start + lead_in, n.end + lead_in, n.velocity)
                    for n in notes
                )
                tracks.append(Track(inst, shifted, volume=90 if inst.is_drum else 80))
            stereo = render_tracks(tracks, seconds=seconds, sample_rate=sample_rate)
            return stereo.mean(axis=1)

        audio = cached_array("groove", params, make)
    beat = 60.0 / harmony.bpm
    count = int(math.floor((seconds - lead_in) / beat - 1e-9)) + 1
    beats = tuple(
        round(lead_in + k * beat, 6) for k in range(count) if lead_in + k * beat < seconds
    )
    return Groove(
        audio=audio,
        sample_rate=sample_rate,
        bpm=harmony.bpm,
        beats=beats,
        downbeats=beats[::beats_per_bar],
    )


def render_tempo_map(
    *,
    tempi: Sequence[float],
    seed: int = 0,
    parts: Sequence[str] = DEFAULT_PARTS,
    sample_rate: int = 22050,
    soundfont: str | os.PathLike[str] | None = None,
    quiet_drums: tuple[int, int] | None = None,
) -> Groove:
    """A band whose tempo follows ``tempi`` (bpm of each beat in turn): a step from one tempo
    to another, a drift, rubato. The parts are written at 60 bpm and their notes moved onto
    the beats, so the truth is exact. ``quiet_drums``: beats [a, b) without the drum kit (a
    breakdown). Bars in 4/4; Groove.bpm is the first beat's tempo. Cached like render_groove.
    """
    if not tempi or any(not (40 <= float(t) <= 220) for t in tempi):
        raise ParameterError(f"tempi must be 40 to 220 bpm each, got {list(tempi)[:4]!r}...")
    times = np.concatenate([[0.0], np.cumsum([60.0 / float(t) for t in tempi])])
    count = len(tempi)

    def warp(t: float) -> float:  # 60 bpm time (one beat a second) to song time
        k = min(int(math.floor(t)), count - 1)
        return float(times[k] + (t - k) * (times[k + 1] - times[k]))

    harmony = make_harmony(seed=seed, bpm=60.0)
    insts = [get_instrument(name) for name in parts]
    seconds = float(times[-1])
    with _soundfont(soundfont):
        params = {
            "parts": [i.name for i in insts],
            "tempi": [round(float(t), 6) for t in tempi],
            "rate": sample_rate,
            "seed": int(seed),
            "quiet_drums": quiet_drums,
            "fluidsynth": fluidsynth_version(),
            "sf2": soundfont_id(),
        }

        def make() -> np.ndarray:
            tracks = []
            for inst in insts:
                notes = part_notes(inst, harmony=harmony, seconds=float(count), seed=seed)
                if inst.is_drum and quiet_drums is not None:
                    notes = [n for n in notes if not quiet_drums[0] <= n.start < quiet_drums[1]]
                moved = tuple(
                    NoteEvent(
                        n.pitch, warp(n.start), max(warp(n.end), warp(n.start) + 0.02), n.velocity
                    )
                    for n in notes
                )
                tracks.append(Track(inst, moved, volume=90 if inst.is_drum else 80))
            return render_tracks(tracks, seconds=seconds, sample_rate=sample_rate).mean(axis=1)

        audio = cached_array("tempo-map", params, make)
    beats = tuple(round(float(t), 6) for t in times[:-1])
    return Groove(
        audio=audio,
        sample_rate=sample_rate,
        bpm=float(tempi[0]),
        beats=beats,
        downbeats=beats[::4],
    )


WALTZ_ROOTS = (36, 41, 43, 36, 45, 41, 43, 36)  # C F G C A F G C, a chord a bar


def render_waltz(
    *, bpm: float, chord_octaves: int = 2, bars: int = 16, sample_rate: int = 22050
) -> Groove:
    """A waltz (3/4): the bass alone on beat 1, a piano triad ``chord_octaves`` octaves over it
    on beats 2 and 3, a new chord each bar. The case where the downbeat is the bass's note,
    not the chord's (rendered with $AIMV_SOUNDFONT, else FluidR3_GM; not cached)."""
    beat = 60.0 / bpm
    bass, chords = [], []
    for bar in range(bars):
        t0, root = bar * 3 * beat, WALTZ_ROOTS[bar % len(WALTZ_ROOTS)]
        bass.append(NoteEvent(root, t0, t0 + 0.9 * beat, 100))
        low = root + 12 * chord_octaves
        for b in (1, 2):
            for pitch in (low, low + (3 if root == 45 else 4), low + 7):
                chords.append(NoteEvent(pitch, t0 + b * beat, t0 + (b + 0.8) * beat, 70))
    tracks = [
        Track(get_instrument("bass"), tuple(bass)),
        Track(get_instrument("piano"), tuple(chords)),
    ]
    audio = render_tracks(tracks, seconds=bars * 3 * beat, sample_rate=sample_rate)
    beats = tuple(round(k * beat, 6) for k in range(3 * bars))
    return Groove(
        audio=audio.mean(axis=1),
        sample_rate=sample_rate,
        bpm=bpm,
        beats=beats,
        downbeats=beats[::3],
    )


def beat_f_measure(
    truth: Sequence[float], found: Sequence[float], tolerance: float = 0.07
) -> float:
    """Beat F-measure (as mir_eval.beat.f_measure): each true beat matched by at most one found
    beat within ``tolerance`` seconds (70 ms, the MIREX convention)."""
    truth, found = sorted(truth), sorted(found)
    if not truth or not found:
        return 0.0
    used: set[int] = set()
    hits = 0
    for t in truth:
        free = [j for j in range(len(found)) if j not in used]
        if not free:
            break
        best = min(free, key=lambda j: abs(found[j] - t))
        if abs(found[best] - t) <= tolerance:
            used.add(best)
            hits += 1
    if hits == 0:
        return 0.0
    precision, recall = hits / len(found), hits / len(truth)
    return 2 * precision * recall / (precision + recall)
