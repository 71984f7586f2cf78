"""Drum hits and kit pieces: the timeline field, the merge into instruments, and real audio."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from aimv_backend.listen.drums import listen_drums, merge_pieces
from aimv_backend.listen.drums.features import RATE
from aimv_timeline.schema import (
    DRUM_PIECES,
    Hit,
    InstrumentGuess,
    TimelineFormatError,
    timeline_from_dict,
    timeline_to_dict,
)
from tests.listen._instrument_clips import part, tools_missing

needs_synth = pytest.mark.skipif(tools_missing() is not None, reason=str(tools_missing()))
BPM = 100.0  # the synth's drum_kit: crash on the first beat of every 4th bar (2.4 s bars)


def _spans(seconds: float, window: float = 1.0):
    n = int(seconds / window)
    return [(i * window, (i + 1) * window) for i in range(n)]


def _guess(word, category, score, label=None):
    return InstrumentGuess(label or word, word, category, score, score >= 0.7)


# --------------------------------------------------------------------------------------------
# The timeline field (schema 1.1)


def test_hits_survive_a_round_trip_and_old_files_read_without_them(tiny_timeline):
    hit = Hit(time=0.25, piece="crash", score=0.93)
    w0 = dataclasses.replace(tiny_timeline.windows[0], hits=(hit,))
    tl = dataclasses.replace(tiny_timeline, windows=(w0, *tiny_timeline.windows[1:]))
    data = timeline_to_dict(tl)
    assert data["schema_version"] == "1.1"
    assert data["windows"][0]["hits"] == [{"time": 0.25, "piece": "crash", "score": 0.93}]
    back = timeline_from_dict(data)
    assert back.windows[0].hits == (hit,)
    del data["windows"][0]["hits"]
    data["schema_version"] = "1.0"
    assert timeline_from_dict(data).windows[0].hits is None


@pytest.mark.parametrize(
    "hit, message",
    [
        ({"time": 0.2, "piece": "cowbell", "score": 0.9}, "windows[0].hits[0].piece"),
        ({"time": 5.0, "piece": "kick", "score": 0.9}, "outside the window"),
        ({"time": 0.2, "piece": "kick", "score": 1.5}, "windows[0].hits[0].score"),
    ],
)
def test_a_bad_hit_is_refused_naming_the_field(tiny_timeline, hit, message):
    data = timeline_to_dict(tiny_timeline)
    data["windows"][0]["hits"] = [hit]
    with pytest.raises(TimelineFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        timeline_from_dict(data)


@pytest.fixture()
def tiny_timeline():
    from aimv_timeline.schema import Colour, Source, Timeline, Volume, Window

    vol = Volume(-20.0, -6.0, 0.0, "normal")
    col = Colour("#336699", "blue", 210.0, 0.5, 0.6, 440.0, "pitch")
    windows = tuple(Window(i, float(i), float(i + 1), vol, col) for i in range(2))
    src = Source("/x.wav", "0" * 64, 2.0, 22050, 1, 44100)
    return Timeline(source=src, window_seconds=1.0, windows=windows)


# --------------------------------------------------------------------------------------------
# Pieces in the instrument list (the design's 70 % rule)


def test_a_confident_crash_replaces_drums_and_its_runner_up_fills_the_list():
    tagger = (_guess("drums", "drum", 0.8), _guess("synth", "synth", 0.2))
    pieces = {"crash": 0.95, "splash": 0.4, "kick": 0.3, "hi-hat": 0.05}
    out = merge_pieces(tagger, pieces, confidence=0.7)
    assert [g.word for g in out] == ["crash", "splash", "synth"]  # the design's own example
    assert out[0].confident and out[0].category == "drum" and not out[1].confident


def test_a_crash_is_named_before_the_hi_hat_that_plays_all_the_time():
    tagger = (_guess("piano", "keys", 0.9),)
    pieces = {"hi-hat": 0.99, "kick": 0.98, "crash": 0.9}
    words = [g.word for g in merge_pieces(tagger, pieces, confidence=0.7)]
    assert "crash" in words and "piano" in words and "hi-hat" not in words


def test_without_a_confident_piece_the_window_keeps_drums():
    tagger = (_guess("drums", "drum", 0.75), _guess("guitar", "guitar", 0.5))
    out = merge_pieces(tagger, {"tom": 0.4}, confidence=0.7)
    assert [g.word for g in out] == ["drums", "guitar", "tom"]


def test_in_a_band_the_pieces_take_one_place_and_the_second_instrument_stays():
    # "Band mixes never list piano": bass and piano over drums, where a runner-up kick used
    # to push the piano out of the three places.
    tagger = (
        _guess("bass", "bass", 0.55),
        _guess("piano", "keys", 0.3),
        _guess("harp", "keys", 0.1),
    )
    out = merge_pieces(tagger, {"hi-hat": 0.6, "kick": 0.45}, confidence=0.7)
    assert [g.word for g in out] == ["hi-hat", "bass", "piano"]


def test_on_drums_alone_the_pieces_keep_two_places():
    tagger = (
        _guess("drums", "drum", 0.6),
        _guess("bass", "bass", 0.15),
        _guess("piano", "keys", 0.12),
    )
    out = merge_pieces(tagger, {"hi-hat": 0.6, "kick": 0.45}, confidence=0.7)
    assert [g.word for g in out] == ["drums", "hi-hat", "kick"]


# --------------------------------------------------------------------------------------------
# Real (rendered) audio


@needs_synth
def test_a_groove_with_a_crash_has_a_crash_hit_near_its_time():
    audio = part("drum_kit", 12.0)
    result = listen_drums(audio=audio, spans=_spans(12.0), active=[True] * 12)
    bar = 4 * 60.0 / BPM
    for t_crash in (0.0, 4 * bar):  # crashes at 0 s and 9.6 s
        w = int(t_crash)
        crashes = [h for h in result.hits[w] if h.piece == "crash"]
        assert crashes, f"window {w}: {result.hits[w]}"
        assert abs(crashes[0].time - t_crash) < 0.06
        assert result.piece_scores[w]["crash"] >= 0.7
    pieces = {h.piece for hs in result.hits for h in hs}
    assert {"kick", "snare", "hihat_closed"} <= pieces
    assert all(
        s <= h.time < e for (s, e), hs in zip(_spans(12.0), result.hits, strict=True) for h in hs
    )
    assert all(h.piece in DRUM_PIECES and 0 <= h.score <= 1 for hs in result.hits for h in hs)


@needs_synth
def test_a_piano_clip_has_no_drum_hits():
    audio = part("piano", 10.0)
    result = listen_drums(audio=audio, spans=_spans(10.0), active=[True] * 10)
    assert sum(len(h) for h in result.hits) == 0


@needs_synth
def test_silence_and_inactive_windows_have_no_hits():
    audio = part("drum_kit", 4.0)
    result = listen_drums(audio=audio, spans=_spans(4.0), active=[True, False, True, False])
    assert result.hits[1] == () and result.hits[3] == ()
    quiet = listen_drums(audio=np.zeros(4 * RATE, np.float32), spans=_spans(4.0), active=[True] * 4)
    assert all(h == () for h in quiet.hits)


@needs_synth
@pytest.mark.slow
def test_the_crash_window_sentence_says_crash_and_the_timeline_keeps_the_hits(tmp_path):
    from aimv_backend.describe import DescribeOptions, describe_timeline
    from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
    from aimv_backend.listen.instruments import InstrumentOptions
    from aimv_timeline.schema import read_timeline, write_timeline
    from tests.listen._instrument_clips import write_clip

    info = write_clip(tmp_path, "groove", part("drum_kit", 12.0))
    options = AnalyzeOptions(instruments=InstrumentOptions(engine="musicnn", allow_download=False))
    timeline = analyze_song(info.path, options=options)
    assert timeline.engines["drums"] == "kit-cnn:drum_pieces"
    first = timeline.windows[0]
    assert "crash" in [g.word for g in first.instruments]
    assert any(h.piece == "crash" and h.time < 0.06 for h in first.hits)
    described = describe_timeline(timeline, options=DescribeOptions(seed=1, vectors="default"))
    assert "crash" in described.windows[0].description.sentence.lower()
    path = write_timeline(described, tmp_path / "timeline.json")
    assert read_timeline(path).windows[0].hits == first.hits
