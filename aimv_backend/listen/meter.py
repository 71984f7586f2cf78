"""Beats in a bar, 3 or 4, heard from the song: a waltz gets bars of three without a flag.

A bar repeats: the chords change on its first beat, the kick and bass lean on the same beats
every bar, the snare on the same others. So each beat's features (the chroma change into it,
the low-band and all-band onset strength on it) are grouped by their place in a bar of three
and in a bar of four, and each grouping is scored by how far apart its places are against how
much the beats at one place vary (a one-way analysis of variance: the F ratio, about 1 when
the grouping means nothing). Three and four share no divisor, so a 4/4 song's pattern (period
2, 4 or 8 beats) averages out in places of three, and a waltz's (3 or 6) in places of four.
Four wins unless three is clearly better (:data:`THREE_OVER_FOUR`) and clearly there
(:data:`MIN_F`): most songs are in 4/4, and bars of three on a 4/4 song cut it off the beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aimv_backend.listen.beats import OnsetFeatures, mid_ratios, strength_at

__all__ = [
    "MeterEstimate",
    "estimate_beats_per_bar",
    "half_tempo_in_three",
    "may_double_in_three",
    "periodicity",
]

# Set on FluidR3_GM renders (bench/meter.py); TimGM6mb renders and real drum loops held out.
THREE_OVER_FOUR = 2.0  # three's score must be at least this multiple of four's ...
MIN_F = 10.0  # ... and at least this (three features with no pattern sum to about 3)
MIN_BEATS = 24  # fewer beats than this (six bars of four) say nothing: four
PERFECT_F = 1e6  # the F ratio of a pattern with no variation within its places
# Mid-points this strong under ~180 Hz double the tempo when the doubled beats make bars of
# three: 3/4 bands tracked at half tempo give 0.98-1.16, 4/4 grooves at their true 70-100 bpm
# at most 0.82 (FluidR3_GM renders; docs/benchmarks.md).
THREE_DOUBLE_LOW_RATIO = 0.9
# A song in three may double past the top of the tempo range by this much: a 200 bpm
# waltz's half tempo is estimated at 100.4, and doubling it must not be refused.
THREE_DOUBLE_SLACK = 1.02


@dataclass(frozen=True)
class MeterEstimate:
    """Beats in a bar, and the evidence: each candidate's score (summed F ratios)."""

    beats_per_bar: int
    score_three: float
    score_four: float


def periodicity(values: Sequence[np.ndarray], period: int) -> float:
    """One-way F ratio of ``values`` (one array per tempo section, a value a beat) grouped by
    beat index modulo ``period``, pooled over the sections (each keeps its own phase)."""
    between = within = 0.0
    dof_between = dof_within = 0
    for x in values:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] < 2 * period:
            continue
        places = [x[p::period] for p in range(period)]
        mean = float(x.mean())
        between += sum(g.shape[0] * (float(g.mean()) - mean) ** 2 for g in places)
        within += sum(float(((g - g.mean()) ** 2).sum()) for g in places)
        dof_between += period - 1
        dof_within += x.shape[0] - period
    if dof_between == 0 or dof_within == 0 or between <= 0:
        return 0.0
    if within <= 0:  # every place exactly alike: as periodic as it gets (capped, not inf)
        return PERFECT_F
    return min(PERFECT_F, (between / dof_between) / (within / dof_within))


def _beat_features(features: OnsetFeatures, beats: np.ndarray) -> list[np.ndarray]:
    """Per beat: chroma change into it, low-band and all-band onset strength on it."""
    edges = np.append(beats, features.chroma.shape[1]).astype(int)
    chroma = np.stack(
        [
            features.chroma[:, a:b].mean(axis=1) if b > a else np.zeros(12)
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
    norms = np.linalg.norm(chroma, axis=1)
    cosine = (chroma[1:] * chroma[:-1]).sum(axis=1) / np.maximum(norms[1:] * norms[:-1], 1e-12)
    # Silence is no chord change (as in rhythm.downbeat_phase): a bar's stop would otherwise be
    # the largest change of the song twice over and drown the bar's pattern.
    silent = norms <= 1e-9
    change = np.where(silent[1:] | silent[:-1], 0.0, 1.0 - cosine)  # from the second beat on
    return [
        change,
        strength_at(features.low, beats)[1:],
        strength_at(features.envelope, beats)[1:],
    ]


def estimate_beats_per_bar(
    *, features: OnsetFeatures, sections: Sequence[np.ndarray]
) -> MeterEstimate:
    """3 or 4 beats a bar from the beat frames of each tempo section (see the module docstring).

    ``sections``: beat positions in envelope frames, one array per tempo section.
    """
    usable = [np.asarray(s, dtype=int) for s in sections if len(s) >= 8]
    if sum(s.shape[0] for s in usable) < MIN_BEATS:
        return MeterEstimate(4, 0.0, 0.0)
    per_feature = list(zip(*(_beat_features(features, s) for s in usable), strict=True))
    three = sum(periodicity(values, 3) for values in per_feature)
    four = sum(periodicity(values, 4) for values in per_feature)
    choose_three = three >= THREE_OVER_FOUR * four and three >= MIN_F
    return MeterEstimate(3 if choose_three else 4, round(three, 3), round(four, 3))


def may_double_in_three(*, bpm: float, max_bpm: float) -> bool:
    """Whether a tempo of ``bpm`` (beats per minute) may be doubled for a song in three within
    the range's top ``max_bpm``, with :data:`THREE_DOUBLE_SLACK` for the tempo's estimate."""
    return 2 * bpm <= THREE_DOUBLE_SLACK * max_bpm


def half_tempo_in_three(*, features: OnsetFeatures, beats: np.ndarray, doubled: np.ndarray) -> bool:
    """Whether ``beats`` (frames) are a song in three tracked at half its tempo; ``doubled``:
    the beats tracked at twice it. At half tempo every other bar's kick falls half-way between
    the beats, so the mid-points are about as strong as the beats under ~180 Hz (ratio 0.98-1.16
    against the 1.2 that doubles a 4/4 groove), and the doubled beats make clear bars of three;
    a 4/4 song's doubled beats make bars of four, so its tempo is never moved by this."""
    low_ratio, _ = mid_ratios(features, beats)
    if low_ratio < THREE_DOUBLE_LOW_RATIO:
        return False
    return estimate_beats_per_bar(features=features, sections=[doubled]).beats_per_bar == 3
