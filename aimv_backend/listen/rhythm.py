"""Beats, downbeats and tempo: the song's pulse, so that the video can cut and move on the beat.

The default engine ("onset") is librosa's beat tracker, written out in numpy
(:mod:`aimv_backend.listen.beats`). Four rules make it hold on real songs:

- **Beats on the low band too.** The beats are placed on the onset strength of all bands plus,
  equally weighted, that under ~180 Hz (:func:`~aimv_backend.listen.beats.beat_envelope`): an
  off-beat hi-hat (house music's, over a sine kick) is as strong as the kick in all bands, and
  without the low band the beats landed on it, half a beat late.
- **Half and double tempo.** A tempo and its double both fit a groove. The tracker starts from
  the lowest octave of its estimate within ``[min_bpm, max_bpm]``, then checks the beats
  against the drums: while the points half-way between beats carry nearly as much onset
  strength as the beats themselves (``DOUBLE_LOW_RATIO`` under ~180 Hz, ``DOUBLE_ALL_RATIO``
  in all bands), they are beats too, and the tempo doubles
  (:func:`~aimv_backend.listen.beats.choose_tempo`).
- **A song in three at half tempo.** A 3/4 band at 120-180 bpm tracked at half tempo puts
  every other bar's kick half-way between its beats, under the 4/4 rule's bar for doubling;
  where the beats at twice the tempo make clear bars of three, the tempo doubles
  (:func:`~aimv_backend.listen.meter.half_tempo_in_three`), for the song and for each of its
  tempo sections. A 4/4 song's doubled beats make bars of four, so its tempo never moves.
- **Tempo changes.** A song that changes tempo (96 bpm, then 128) is cut into sections of one
  tempo each, and each is tracked at its own (:mod:`aimv_backend.listen.tempo_sections`); a
  steady, drifting or breathing tempo stays one section. ``tempo_bpm`` is then that of the
  section with the most beats.
- **Beats in a bar.** Unless ``beats_per_bar`` is given, 3 or 4 is heard from the song: the
  place in the bar where its chords change and its kick and bass lean
  (:mod:`aimv_backend.listen.meter`).
- **Downbeats.** Bars start where the chords change: for each of the ``beats_per_bar``
  phases, the chroma (pitch-class profile) change across its beats is set against that in the
  middle of the bar, inside a chord; the phase with the largest contrast starts the bars
  (:func:`downbeat_phase`), in each tempo section.

``madmom`` (opt-in, ``--beats madmom``) runs madmom's RNN + DBN beat and downbeat trackers.
Their models are licensed CC BY-NC-SA 4.0: **non-commercial use only** (docs/models-and-licences.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aimv_backend.errors import ParameterError
from aimv_backend.listen.beats import (
    SAMPLE_RATE,
    OnsetFeatures,
    beat_envelope,
    choose_tempo,
    onset_features,
    refine_tempo,
    track_beats,
)
from aimv_backend.listen.meter import (
    MeterEstimate,
    estimate_beats_per_bar,
    half_tempo_in_three,
    may_double_in_three,
)
from aimv_backend.listen.tempo_sections import track_sections
from aimv_timeline.schema import Rhythm

__all__ = [
    "BEAT_ENGINES",
    "SAMPLE_RATE",
    "RhythmOptions",
    "RhythmResult",
    "check_rhythm_options",
    "track_rhythm",
]

BEAT_ENGINES = ("onset", "madmom", "none")


@dataclass(frozen=True)
class RhythmOptions:
    """How to find the pulse.

    engine: "onset" (default, numpy), "madmom" (opt-in; models CC BY-NC-SA 4.0,
        non-commercial) or "none".
    beats_per_bar: beats in a bar, 2 to 12 (4 for 4/4); None or "auto" (the default) hears 3
        or 4 from the song.
    min_bpm, max_bpm: the tempo range considered, beats per minute (30 <= min < max/1.5,
        max <= 300).
    """

    engine: str = "onset"
    beats_per_bar: int | None = None
    min_bpm: float = 60.0
    max_bpm: float = 200.0

    def __post_init__(self) -> None:
        if isinstance(self.beats_per_bar, str) and self.beats_per_bar.strip().lower() == "auto":
            object.__setattr__(self, "beats_per_bar", None)  # as the command line spells it
        check_rhythm_options(self)


@dataclass(frozen=True)
class RhythmResult:
    """The song's pulse, the engine that found it ("onset", "madmom:DBN") and the beats in its
    bars (given, or heard; None without beats); ``meter``: the evidence when they were heard
    by the onset engine."""

    rhythm: Rhythm
    engine: str
    beats_per_bar: int | None = None
    meter: MeterEstimate | None = None


def check_rhythm_options(options: RhythmOptions) -> None:
    """Refuse bad rhythm options (ParameterError naming the option and its value)."""
    if options.engine not in BEAT_ENGINES:
        raise ParameterError(
            f"--beats must be one of {', '.join(BEAT_ENGINES)}, got {options.engine!r}"
        )
    bpb = options.beats_per_bar
    if bpb is not None and (
        isinstance(bpb, bool) or not isinstance(bpb, int) or not 2 <= bpb <= 12
    ):
        raise ParameterError(
            f"--beats-per-bar must be auto or an integer from 2 to 12, got {bpb!r}"
        )
    if bpb is not None and options.engine == "none":
        raise ParameterError(
            f"--beats-per-bar {bpb} needs beats, but --beats is 'none': leave"
            " --beats-per-bar out, or choose a --beats engine"
        )
    for name, value in (("min_bpm", options.min_bpm), ("max_bpm", options.max_bpm)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or not 30.0 <= value <= 300.0
        ):
            raise ParameterError(f"{name} must be between 30 and 300 bpm, got {value!r}")
    if options.max_bpm < 1.5 * options.min_bpm:
        raise ParameterError(
            f"max_bpm ({options.max_bpm!r}) must be at least 1.5 x min_bpm ({options.min_bpm!r})"
        )


def downbeat_phase(features: OnsetFeatures, beats: np.ndarray, beats_per_bar: int) -> int:
    """Index (0 .. beats_per_bar-1) of the first beat that starts a bar.

    Chords change on the bar: at each beat, the chroma of the half bar before is compared with
    that of the half bar after. A downbeat has a large change, the middle of the bar (inside
    one chord: the beat half a bar later, or in 3/4 the two beats around that point) a small
    one; the phase with the largest difference between the two wins. (The kick is no guide on
    its own: in a common rock groove it plays beats 1 and 3, and the "and" of 3 makes beat 3
    the strongest.)
    """
    if beats.shape[0] < 2 * beats_per_bar:
        return 0
    span = max(1, beats_per_bar // 2)
    change = np.zeros(beats.shape[0])
    for i in range(beats.shape[0]):
        a0 = beats[max(0, i - span)]
        b1 = beats[i + span] if i + span < beats.shape[0] else features.chroma.shape[1]
        if beats[i] <= a0 or b1 <= beats[i]:
            continue
        before = features.chroma[:, a0 : beats[i]].mean(axis=1)
        after = features.chroma[:, beats[i] : b1].mean(axis=1)
        denom = float(np.linalg.norm(before) * np.linalg.norm(after))
        change[i] = 1.0 - float(before @ after) / denom if denom > 0 else 0.0
    per_phase = np.array([change[p::beats_per_bar].mean() for p in range(beats_per_bar)])
    # Against the next beat alone, a 3/4 downbeat lost to beat 2, whose neighbour (beat 3,
    # inside the chord) never changes: with the bass alone on 1 every downbeat came a beat late.
    middle = 0.5 * (
        np.roll(per_phase, -(beats_per_bar // 2)) + np.roll(per_phase, -((beats_per_bar + 1) // 2))
    )
    contrast = per_phase - middle
    return int(np.argmax(contrast))


def _tempo_of(beat_times: np.ndarray) -> float | None:
    """Beats per minute from the least-squares slope of beat time against beat number."""
    if beat_times.shape[0] < 2:
        return None
    slope = float(np.polyfit(np.arange(beat_times.shape[0]), beat_times, 1)[0])
    return round(60.0 / slope, 2) if slope > 0 else None


def _double_for_three(
    features: OnsetFeatures,
    pulse: np.ndarray,
    beats: np.ndarray,
    bpm: float,
    options: RhythmOptions,
) -> bool:
    """Whether a song in three was tracked at half its tempo (module docstring); ``pulse``:
    its beat envelope, ``beats``: the frames tracked on it at ``bpm``."""
    if options.beats_per_bar not in (None, 3) or not may_double_in_three(
        bpm=bpm, max_bpm=options.max_bpm
    ):
        return False
    doubled = track_beats(pulse, features.fps, 2 * bpm)
    return half_tempo_in_three(features=features, beats=beats, doubled=doubled)


def onset_rhythm(audio: np.ndarray, sample_rate: int, options: RhythmOptions) -> RhythmResult:
    """The default engine on mono ``audio`` (see the module docstring)."""
    features = onset_features(audio, sample_rate)
    if not features.envelope.any():  # silence, or a hum with no onset: no pulse
        return RhythmResult(Rhythm(tempo_bpm=None), "onset")
    bpm = choose_tempo(features, min_bpm=options.min_bpm, max_bpm=options.max_bpm)
    pulse = beat_envelope(features)
    frames = track_beats(pulse, features.fps, bpm)
    if _double_for_three(features, pulse, frames, bpm, options):
        bpm = refine_tempo(features.envelope, features.fps, 2 * bpm)
        frames = track_beats(pulse, features.fps, bpm)
    sections = [
        section
        for section in track_sections(
            features,
            bpm=bpm,
            beats=frames,
            min_bpm=options.min_bpm,
            max_bpm=options.max_bpm,
            maybe_three=options.beats_per_bar in (None, 3),
        )
        if section.beats.size
    ]
    if sum(section.beats.size for section in sections) < 2:
        return RhythmResult(Rhythm(tempo_bpm=None), "onset")
    meter = None
    if options.beats_per_bar is None:
        meter = estimate_beats_per_bar(
            features=features, sections=[section.beats for section in sections]
        )
    bpb = options.beats_per_bar or meter.beats_per_bar
    beats, downbeats = [], []
    for section in sections:  # bars restart in each tempo section
        phase = downbeat_phase(features, section.beats, bpb)
        beats.extend(section.beats / features.fps)
        downbeats.extend(section.beats[phase::bpb] / features.fps)
    longest = max(sections, key=lambda section: section.beats.size)
    tempo = _tempo_of(longest.beats / features.fps) or _tempo_of(np.asarray(beats))
    rhythm = Rhythm(
        tempo_bpm=tempo,
        beats=tuple(round(float(t), 4) for t in beats),
        downbeats=tuple(round(float(t), 4) for t in downbeats),
    )
    return RhythmResult(rhythm, "onset", bpb, meter)


def track_rhythm(
    *, audio: np.ndarray, sample_rate: int, options: RhythmOptions | None = None
) -> RhythmResult:
    """Tempo (bpm), beat and downbeat times (seconds) of mono ``audio`` at ``sample_rate`` Hz.

    Raises ParameterError for bad options, ModelUnavailableError when ``--beats madmom`` is
    asked for and madmom is not installed.
    """
    options = options or RhythmOptions()
    if options.engine == "none":
        return RhythmResult(Rhythm(tempo_bpm=None), "none")
    if options.engine == "madmom":
        from aimv_backend.listen.rhythm_madmom import madmom_rhythm

        return madmom_rhythm(audio=audio, sample_rate=sample_rate, options=options)
    if sample_rate != SAMPLE_RATE:
        import soxr

        audio = soxr.resample(np.asarray(audio, dtype=np.float32), sample_rate, SAMPLE_RATE)
    return onset_rhythm(audio, SAMPLE_RATE, options)
