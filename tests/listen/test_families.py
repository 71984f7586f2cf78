"""Instrument families: the classifier joins the tagger, so a bass is no longer a guitar."""

from __future__ import annotations

import numpy as np
import pytest

from aimv_backend.listen.families import FAMILIES, FAMILY_WORDS, combine
from aimv_backend.listen.instruments import InstrumentOptions, tag_instruments
from aimv_backend.listen.instruments.labels import MUSICNN_INSTRUMENTS
from aimv_backend.listen.instruments.musicnn_model import MTT_LABELS
from aimv_backend.listen.instruments.selection import select_instruments
from aimv_backend.progress import SilentProgress
from tests.listen._instrument_clips import part, tools_missing, windows_of, write_clip

needs_synth = pytest.mark.skipif(tools_missing() is not None, reason=str(tools_missing()))


def _family_row(**scores: float) -> np.ndarray:
    return np.array([scores.get(f, 0.01) for f in FAMILIES])


def test_a_confident_family_caps_the_tagger_word_it_contradicts():
    tagger = np.zeros(len(MTT_LABELS))
    tagger[MTT_LABELS.index("guitar")] = 0.92  # musicnn's verdict on a bass line
    tagger[MTT_LABELS.index("vocal")] = 0.30
    row, labels, table = combine(
        tagger, _family_row(bass=0.95, guitar=0.04), labels=MTT_LABELS, table=MUSICNN_INSTRUMENTS
    )
    picked = select_instruments(row, labels=labels, table=table, confidence=0.7)
    words = [g.word for g in picked]
    assert words[0] == "bass" and picked[0].confident and picked[0].category == "bass"
    assert "guitar" not in words[:1] and "vocal" in words  # vocal is no family: left alone
    assert len(labels) == len(MTT_LABELS) + len(FAMILIES)


def test_both_synth_families_are_the_word_synth():
    assert FAMILY_WORDS["synth_lead"][1] == FAMILY_WORDS["synth_pad"][1] == "synth"


@needs_synth
@pytest.mark.slow
@pytest.mark.parametrize("instrument, word", [("bass", "bass"), ("organ", "organ")])
def test_a_part_musicnn_has_no_tag_for_is_named(tmp_path, instrument, word):
    info = write_clip(tmp_path, instrument, part(instrument, 8.0))
    windows = windows_of(info)
    options = InstrumentOptions(engine="musicnn", allow_download=False)
    result = tag_instruments(
        audio_info=info, windows=windows, options=options, progress=SilentProgress()
    )
    assert result.family_engine == "family-cnn:families"
    top3 = [[g.word for g in w[:3]] for w in result.windows]
    assert sum(word in t for t in top3) >= 0.75 * len(top3), top3
    plain = tag_instruments(
        audio_info=info,
        windows=windows,
        options=InstrumentOptions(
            engine="musicnn", allow_download=False, families="none", drums="none"
        ),
        progress=SilentProgress(),
    )
    assert all(word not in [g.word for g in w] for w in plain.windows)  # musicnn alone: never
