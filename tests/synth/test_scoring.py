"""Scoring listeners against truth: the harness's figures depend on these rules."""

from __future__ import annotations

import pytest

from aimv_testkit import instrument_names
from aimv_testkit.scoring import EXPECTED_WORDS, normalise_text, part_heard, score_words


def test_every_part_has_expected_words():
    assert set(instrument_names()) <= set(EXPECTED_WORDS)
    assert "vocal" in EXPECTED_WORDS


def test_part_heard_uses_top_three_and_lenient_families():
    assert part_heard("snare", ["guitar", "piano", "snare", "drums"])
    assert not part_heard("snare", ["guitar", "piano", "strings", "snare"])
    assert not part_heard("snare", ["drums", "guitar"])
    assert part_heard("snare", ["drums", "guitar"], lenient=True)
    assert part_heard("crash", ["Cymbal"])
    assert not part_heard("piano", ["guitar", "piano"], top=1)
    assert part_heard("vocal", ["guitar", "male vocal"])


def test_score_words_matches_text_and_time():
    truth = [("heart", 1.0, 1.5), ("fire", 2.0, 2.5), ("ocean", 5.0, 5.6)]
    heard = [(" Heart,", 1.05, 1.45), ("fire", 4.0, 4.4), ("ocean", 5.1, 5.5), ("the", 6, 6.2)]
    score = score_words(truth, heard)
    assert (score.truth, score.heard, score.matched) == (3, 4, 2)
    assert score.recall == pytest.approx(2 / 3) and score.precision == pytest.approx(0.5)
    assert score.start_error == pytest.approx(0.075)
    assert normalise_text("My  heart, is ON fire!") == "my heart is on fire"
