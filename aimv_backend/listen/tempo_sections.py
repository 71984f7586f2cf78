"""Songs whose tempo changes: find the sections that keep one tempo, and track each at its own.

Why: the beat tracker keeps to one global tempo, and a song that goes from 96 to 128 bpm has
none; the tracker settled on a compromise and lost both halves (beat F-measure 0.53 over the
whole song; docs/benchmarks.md, "Tempo changes"). A tempo that drifts (a drummer speeding up
15 %) or breathes (rubato) is followed by the tracker as it is, and is left to it.

1. **The local tempo** every ``HOP_SECONDS``: the tempo estimate of the ``WINDOW_SECONDS``
   around that time, moved by octaves next to the global tempo (a section in half time is not
   a change), then a running median over five points.
2. **Sections**: a new one starts where the local tempo leaves the current one's by more than
   ``JUMP`` for three points in a row; sections shorter than ``MIN_SECTION_SECONDS`` join their
   neighbour. One section, the steady song, is tracked exactly as before.
3. **One metrical level**: the sections' tempi keep their ratios and are doubled together while
   the beats' mid-points carry beats too (the half/double rule over every section at once),
   then a section is doubled on its own where its own mid-points say so.
4. **Kept only where it fits better**: in each section, the section's beats replace the global
   ones only when they land on the section's strong onsets clearly more often (F-measure
   against the onset peaks, ``FIT_MARGIN`` higher): a breakdown with no drums keeps the beat
   the global tempo carried through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from aimv_backend.listen.beats import (
    DOUBLE_ALL_RATIO,
    DOUBLE_LOW_RATIO,
    OnsetFeatures,
    beat_envelope,
    estimate_tempo,
    mid_ratios,
    refine_tempo,
    track_beats,
)
from aimv_backend.listen.meter import half_tempo_in_three, may_double_in_three

WINDOW_SECONDS = 12.0  # the stretch each local tempo is estimated from
HOP_SECONDS = 2.0
MEDIAN_POINTS = 5
JUMP = math.log2(1.06)  # a tempo 6 % away is another section's
JUMP_POINTS = 3  # ... when it stays away this many points (6 s)
MIN_SECTION_SECONDS = 16.0
MARGIN_SECONDS = 4.0  # context tracked on both sides of a section
FIT_MARGIN = 0.1
ONSET_TOLERANCE = 0.07  # s, a beat "on" an onset (the beat F-measure's)


@dataclass(frozen=True)
class TempoSection:
    """Envelope frames [start, end) that keep one tempo, and the beats found there (frames)."""

    start: int
    end: int
    bpm: float
    beats: np.ndarray


def local_tempo_curve(
    envelope: np.ndarray, fps: float, *, reference_bpm: float, min_bpm: float, max_bpm: float
) -> tuple[np.ndarray, np.ndarray]:
    """(centre frames, log2 of the local tempo) every HOP_SECONDS, each estimate moved by
    octaves to lie within half an octave of ``reference_bpm``, then median-filtered."""
    n = envelope.shape[0]
    width, hop = int(WINDOW_SECONDS * fps), int(HOP_SECONDS * fps)
    starts = np.arange(0, max(1, n - width + 1), hop)
    curve = np.empty(starts.shape[0])
    for k, a in enumerate(starts):
        bpm = estimate_tempo(envelope[a : a + width], fps, min_bpm=min_bpm, max_bpm=max_bpm)
        curve[k] = math.log2(bpm) + round(math.log2(reference_bpm / bpm))
    half = MEDIAN_POINTS // 2
    padded = np.pad(curve, half, mode="edge")
    smooth = np.array([np.median(padded[k : k + MEDIAN_POINTS]) for k in range(curve.shape[0])])
    return starts + width // 2, smooth


def split_sections(
    centres: np.ndarray, curve: np.ndarray, *, frames: int, fps: float
) -> list[tuple[int, int]]:
    """[start, end) frame ranges of one tempo each, from the local tempo curve (steps 2)."""
    cuts = [0]
    reference, away = float(curve[0]) if curve.size else 0.0, 0
    for k in range(curve.shape[0]):
        away = away + 1 if abs(curve[k] - reference) > JUMP else 0
        if away == JUMP_POINTS:
            first = k - JUMP_POINTS + 1
            cuts.append(int(0.5 * (centres[first - 1] + centres[first])) if first else 0)
            reference, away = float(np.median(curve[first : first + 4])), 0
    cuts.append(frames)
    spans = [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]
    shortest = MIN_SECTION_SECONDS * fps
    while len(spans) > 1:
        short = [k for k, (a, b) in enumerate(spans) if b - a < shortest]
        if not short:
            break
        k = short[0]
        into = k - 1 if k else 1  # the section before, or the next for the first
        lo, hi = min(k, into), max(k, into)
        spans[lo : hi + 1] = [(spans[lo][0], spans[hi][1])]
    return spans


def _section_tempo(centres, curve, a: int, b: int, bpm: float) -> float:
    """The median local tempo of frames [a, b) (``bpm`` when no estimate lies there)."""
    inside = curve[(centres >= a) & (centres < b)]
    return 2.0 ** float(np.median(inside)) if inside.size else bpm


def _section_features(features: OnsetFeatures, a: int, b: int) -> OnsetFeatures:
    return replace(
        features,
        envelope=features.envelope[a:b],
        low=features.low[a:b],
        chroma=features.chroma[:, a:b],
    )


def _onset_peaks(signal: np.ndarray) -> np.ndarray:
    """Frames of the envelope's clear peaks (over its mean plus half a deviation)."""
    if signal.shape[0] < 3:
        return np.zeros(0, dtype=int)
    floor = float(signal.mean() + 0.5 * signal.std())
    middle = signal[1:-1]
    return np.flatnonzero((middle > signal[:-2]) & (middle >= signal[2:]) & (middle > floor)) + 1


def _fit(beats: np.ndarray, peaks: np.ndarray, tolerance: int) -> float:
    """F-measure of beats against onset peaks (frames), each within ``tolerance`` frames."""
    if beats.size == 0 or peaks.size == 0:
        return 0.0
    near = np.abs(beats[:, None] - peaks[None, :]) <= tolerance
    precision, recall = float(near.any(axis=1).mean()), float(near.any(axis=0).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def track_sections(
    features: OnsetFeatures,
    *,
    bpm: float,
    beats: np.ndarray,
    min_bpm: float,
    max_bpm: float,
    maybe_three: bool = False,
) -> list[TempoSection]:
    """The song's tempo sections with their beats (frames). ``bpm`` and ``beats``: the global
    tempo and the beats tracked at it. A steady song is one section holding ``beats``.
    ``maybe_three``: a section may be in three, so one tracked at half its tempo doubles
    (:func:`~aimv_backend.listen.meter.half_tempo_in_three`)."""
    n = features.envelope.shape[0]
    centres, curve = local_tempo_curve(
        features.envelope, features.fps, reference_bpm=bpm, min_bpm=min_bpm, max_bpm=max_bpm
    )
    spans = split_sections(centres, curve, frames=n, fps=features.fps)
    if len(spans) < 2:
        return [TempoSection(0, n, bpm, beats)]
    tempi = np.array([_section_tempo(centres, curve, a, b, bpm) for a, b in spans])
    margin = int(MARGIN_SECONDS * features.fps)

    found_at: dict[tuple[int, float], np.ndarray] = {}  # each section tracked once a tempo

    def track_one(k: int, tempo: float) -> np.ndarray:
        if (k, tempo) not in found_at:
            a, b = spans[k]
            lo, hi = max(0, a - margin), min(n, b + margin)
            part = _section_features(features, lo, hi)
            refined = refine_tempo(part.envelope, features.fps, tempo)
            found = track_beats(beat_envelope(part), features.fps, refined) + lo
            found_at[(k, tempo)] = found[(found >= a) & (found < b)]
        return found_at[(k, tempo)]

    def tracked(tempi: np.ndarray) -> list[np.ndarray]:
        return [track_one(k, float(tempo)) for k, tempo in enumerate(tempi)]

    while (tempi / 2 >= min_bpm).all():
        tempi = tempi / 2
    while (2 * tempi <= max_bpm).all():  # step 3, every section at once
        low_ratio, all_ratio = mid_ratios(features, np.concatenate(tracked(tempi)))
        if low_ratio < DOUBLE_LOW_RATIO and all_ratio < DOUBLE_ALL_RATIO:
            break
        tempi = tempi * 2
    for k, part in enumerate(tracked(tempi)):  # step 3, a section on its own
        if 2 * tempi[k] <= max_bpm:
            low_ratio, all_ratio = mid_ratios(features, part)
            double = low_ratio >= DOUBLE_LOW_RATIO or all_ratio >= DOUBLE_ALL_RATIO
        else:
            double = False
        if not double and maybe_three and may_double_in_three(bpm=float(tempi[k]), max_bpm=max_bpm):
            double = half_tempo_in_three(
                features=features, beats=part, doubled=track_one(k, float(2 * tempi[k]))
            )
        if double:
            tempi[k] *= 2
    peaks = _onset_peaks(beat_envelope(features))
    tolerance = int(round(ONSET_TOLERANCE * features.fps))
    sections = []
    for (a, b), tempo, own in zip(spans, tempi, tracked(tempi), strict=True):
        kept = beats[(beats >= a) & (beats < b)]
        near = peaks[(peaks >= a) & (peaks < b)]
        better = _fit(own, near, tolerance) > _fit(kept, near, tolerance) + FIT_MARGIN
        sections.append(
            TempoSection(a, b, float(tempo) if better else bpm, own if better else kept)
        )
    return _without_doubled_beats(sections, features.fps, max_bpm)


def _without_doubled_beats(
    sections: list[TempoSection], fps: float, max_bpm: float
) -> list[TempoSection]:
    """Drop a section's first beats that come closer to the previous section's last beat
    than the fastest tempo allows (both sections found a beat at their joint)."""
    closest = 0.5 * 60.0 * fps / max_bpm
    out: list[TempoSection] = []
    for section in sections:
        beats = section.beats
        if out and out[-1].beats.size:
            beats = beats[beats - out[-1].beats[-1] >= closest]
        out.append(replace(section, beats=beats))
    return out
