"""The meter's evidence (aimv_backend/listen/meter.py) on beat sequences whose pattern is known."""

from __future__ import annotations

import numpy as np

from aimv_backend.listen.beats import OnsetFeatures
from aimv_backend.listen.meter import (
    MIN_BEATS,
    estimate_beats_per_bar,
    may_double_in_three,
    periodicity,
)


def test_a_pattern_repeating_every_three_beats_scores_for_three_not_four():
    rng = np.random.default_rng(0)
    accents = np.tile([1.0, 0.3, 0.3], 20) + 0.05 * rng.standard_normal(60)
    assert periodicity([accents], 3) > 50
    assert periodicity([accents], 4) < 3
    fours = np.tile([1.0, 0.2, 0.6, 0.2], 15) + 0.05 * rng.standard_normal(60)
    assert periodicity([fours], 4) > 50 and periodicity([fours], 3) < 3
    # sections keep their own phase: two sections, the second shifted by a beat
    assert periodicity([accents[:30], accents[31:]], 3) > 50
    # a pattern with no variation at all is as periodic as it gets, not "no pattern"
    exact = np.tile([1.0, 0.0, 0.0], 10)
    assert periodicity([exact], 3) > 1e5 and periodicity([exact], 4) < 3


def _features(accents: np.ndarray, chords: np.ndarray, frames_per_beat: int = 20):
    """Onset strength peaking on each beat by ``accents``, chroma one pitch class a beat."""
    n = accents.shape[0] * frames_per_beat
    envelope = np.zeros(n)
    envelope[::frames_per_beat] = accents
    chroma = np.zeros((12, n))
    for k, pc in enumerate(chords):
        chroma[pc, k * frames_per_beat : (k + 1) * frames_per_beat] = 1.0
    beats = np.arange(accents.shape[0]) * frames_per_beat
    return OnsetFeatures(fps=43.0, envelope=envelope, low=envelope.copy(), chroma=chroma), beats


def test_chords_changing_every_third_beat_make_bars_of_three():
    accents = np.tile([1.0, 0.5, 0.5], 16) + 0.02 * np.random.default_rng(1).random(48)
    chords = np.repeat(np.tile([0, 5, 7, 9], 4), 3)
    features, beats = _features(accents, chords)
    estimate = estimate_beats_per_bar(features=features, sections=[beats])
    assert estimate.beats_per_bar == 3 and estimate.score_three > 10 * estimate.score_four


def test_no_pattern_or_too_few_beats_keeps_four():
    rng = np.random.default_rng(2)
    features, beats = _features(rng.random(48) + 0.5, rng.integers(0, 12, 48))
    assert estimate_beats_per_bar(features=features, sections=[beats]).beats_per_bar == 4
    accents = np.tile([1.0, 0.5, 0.5], 7)  # a clear three, but 21 beats
    assert accents.shape[0] < MIN_BEATS
    features, beats = _features(accents, np.repeat([0, 5, 7, 9, 0, 5, 7], 3))
    assert estimate_beats_per_bar(features=features, sections=[beats]).beats_per_bar == 4


def test_a_waltz_at_the_top_of_the_range_may_double_past_it_by_the_estimates_error():
    """A 200 bpm waltz's half tempo is estimated at 100.4: whole song and tempo sections alike
    may double it (the sections had no slack), but not a tempo well past the range."""
    assert may_double_in_three(bpm=100.4, max_bpm=200.0)
    assert may_double_in_three(bpm=90.0, max_bpm=200.0)
    assert not may_double_in_three(bpm=104.0, max_bpm=200.0)
    assert not may_double_in_three(bpm=80.0, max_bpm=150.0)
