"""The design's selection rule, the label tables and the option checks (no model needed)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from aimv_backend.errors import ParameterError
from aimv_backend.listen.instruments import InstrumentOptions, check_instrument_options
from aimv_backend.listen.instruments.labels import (
    AUDIOSET_INSTRUMENTS,
    MUSICNN_INSTRUMENTS,
    MUSICNN_NOT_INSTRUMENTS,
    audioset_labels,
)
from aimv_backend.listen.instruments.musicnn_model import MTT_LABELS
from aimv_backend.listen.instruments.selection import select_instruments
from aimv_timeline.schema import INSTRUMENT_CATEGORIES


def _scores(**by_label: float) -> np.ndarray:
    out = np.zeros(len(MTT_LABELS))
    for label, score in by_label.items():
        out[MTT_LABELS.index(label.replace("_", " "))] = score
    return out


def _pick(scores: np.ndarray, **kw):
    return select_instruments(scores, labels=MTT_LABELS, table=MUSICNN_INSTRUMENTS, **kw)


def test_one_confident_label_is_filled_to_three_with_runner_ups():
    got = _pick(_scores(drums=0.91, synth=0.40, guitar=0.30, piano=0.10))
    assert [(g.word, g.confident) for g in got] == [
        ("drums", True),
        ("synth", False),
        ("guitar", False),
    ]
    assert [g.category for g in got] == ["drum", "synth", "guitar"]
    assert got[0].score == pytest.approx(0.91)


def test_every_confident_label_is_kept_even_beyond_three():
    got = _pick(_scores(drums=0.95, guitar=0.9, piano=0.8, violin=0.75, flute=0.5))
    assert [g.word for g in got] == ["drums", "guitar", "piano", "violin"]
    assert all(g.confident for g in got)


def test_labels_of_the_same_word_merge_and_keep_the_highest_score():
    got = _pick(_scores(vocal=0.3, vocals=0.8, singing=0.5, voice=0.2, guitar=0.4))
    words = [g.word for g in got]
    assert words.count("vocal") == 1
    vocal = got[words.index("vocal")]
    assert (vocal.label, vocal.score, vocal.confident) == ("vocals", pytest.approx(0.8), True)


def test_a_singer_takes_one_slot_whatever_the_voice_tags_say():
    got = _pick(_scores(male_vocal=0.6, vocal=0.3, female=0.25, man=0.2, guitar=0.4, piano=0.1))
    assert [g.word for g in got] == ["vocal", "guitar", "piano"]
    assert got[0].label == "male vocal" and got[0].category == "vocal"


def test_the_threshold_is_configurable():
    scores = _scores(piano=0.65, violin=0.55, cello=0.2)
    assert not any(g.confident for g in _pick(scores))
    lowered = _pick(scores, confidence=0.5)
    assert [(g.word, g.confident) for g in lowered] == [
        ("piano", True),
        ("violin", True),
        ("cello", False),
    ]
    assert [g.confident for g in _pick(scores, confidence=0.65)] == [True, False, False]


def test_non_instrument_tags_are_never_chosen_even_when_they_score_highest():
    got = _pick(_scores(classical=0.99, loud=0.95, beat=0.9, no_vocals=0.9, techno=0.9, harp=0.3))
    assert [g.word for g in got] == ["harp"]


def test_runner_ups_below_the_floor_are_noise_not_guesses():
    got = _pick(_scores(guitar=0.5, piano=0.01, violin=0.005))
    assert [g.word for g in got] == ["guitar"]


def test_nan_scores_are_ignored():
    scores = _scores(guitar=0.5, piano=0.4)
    scores[MTT_LABELS.index("violin")] = math.nan
    assert [g.word for g in _pick(scores)] == ["guitar", "piano"]


def test_audioset_labels_map_drum_kit_pieces_to_the_design_words():
    labels = audioset_labels()
    scores = np.zeros(len(labels))
    for name, value in {
        "Music": 0.99,
        "Speech": 0.9,
        "Drum kit": 0.85,
        "Drum": 0.8,
        "Bass drum": 0.72,
        "Hi-hat": 0.4,
        "Cymbal": 0.3,
    }.items():
        scores[labels.index(name)] = value
    got = select_instruments(scores, labels=labels, table=AUDIOSET_INSTRUMENTS)
    assert [(g.word, g.confident) for g in got] == [
        ("drums", True),
        ("kick", True),
        ("hi-hat", False),
    ]
    assert got[0].label == "Drum kit"


def test_label_tables_cover_the_engines_and_use_schema_categories():
    assert len(MTT_LABELS) == 50
    assert set(MUSICNN_INSTRUMENTS) | set(MUSICNN_NOT_INSTRUMENTS) == set(MTT_LABELS)
    assert not set(MUSICNN_INSTRUMENTS) & set(MUSICNN_NOT_INSTRUMENTS)
    labels = audioset_labels()
    assert len(labels) == 527 and labels[0] == "Speech" and labels[137] == "Music"
    assert set(AUDIOSET_INSTRUMENTS) <= set(labels)
    for table in (MUSICNN_INSTRUMENTS, AUDIOSET_INSTRUMENTS):
        assert {i.category for i in table.values()} <= set(INSTRUMENT_CATEGORIES)
    for excluded in ("Speech", "Music", "Silence", "Musical instrument"):
        assert excluded not in AUDIOSET_INSTRUMENTS
    words = {i.word for i in AUDIOSET_INSTRUMENTS.values()}
    assert {"kick", "snare", "hi-hat", "cymbal", "rimshot", "piano", "bass", "synth"} <= words


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"engine": "tensorflow"}, "--instruments"),
        ({"confidence": 1.5}, "--instrument-confidence"),
        ({"confidence": float("nan")}, "--instrument-confidence"),
        ({"confidence": "high"}, "--instrument-confidence"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"panns_checkpoint": "  "}, "--panns-checkpoint"),
    ],
)
def test_bad_options_are_refused_on_construction_naming_the_option_and_value(changes, named):
    with pytest.raises(ParameterError) as err:
        InstrumentOptions(**changes)
    message = str(err.value)
    assert named in message and "\n" not in message
    assert repr(next(iter(changes.values())))[:6] in message
    with pytest.raises(ParameterError, match=named):  # a changed copy is checked as well
        replace(InstrumentOptions(), **changes)


def test_default_options_pass():
    check_instrument_options(InstrumentOptions())  # an instance may be checked again
    InstrumentOptions(engine="none", confidence=0.0, batch_size=1)


def test_silent_flags_must_match_the_windows(tmp_path):
    import soundfile as sf

    from aimv_backend.audio.io import probe_audio
    from aimv_backend.listen.instruments import tag_instruments
    from aimv_backend.listen.windows import make_windows
    from aimv_backend.progress import SilentProgress

    sf.write(tmp_path / "a.wav", np.zeros(16000, np.float32), 16000)
    info = probe_audio(tmp_path / "a.wav")
    windows = make_windows(frames=info.frames, sample_rate=16000, window_seconds=0.5)
    with pytest.raises(ParameterError, match="silent has 3 entries for 2 windows"):
        tag_instruments(
            audio_info=info,
            windows=windows,
            options=InstrumentOptions(engine="musicnn"),
            progress=SilentProgress(),
            silent=[True, False, True],
        )
