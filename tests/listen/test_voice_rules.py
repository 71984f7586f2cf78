"""The voice stage's rules on constructed inputs: options, languages, word -> window, filters."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from aimv_backend.errors import ParameterError
from aimv_backend.listen.voice import (
    VoiceOptions,
    check_voice_options,
    normalize_language,
    token_budget,
)
from aimv_backend.listen.voice.assign import (
    AsrSegment,
    Transcript,
    build_voices,
    clean_words,
    is_word,
    usable_words,
    words_by_window,
)
from aimv_backend.listen.voice.regions import (
    OffsetMap,
    group_spans,
    pack_regions,
    plan_regions,
    snap_to_regions,
)
from aimv_backend.listen.voice.vad import SpeechRegion, VadResult, window_presence
from aimv_backend.listen.windows import make_windows
from aimv_timeline.schema import Word


def W(text, start, end, p=0.9):
    return Word(text=text, start=start, end=end, probability=p)


# --- --language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, code",
    [("es", "es"), ("Spanish", "es"), (" SPANISH ", "es"), ("castilian", "es"), ("en", "en"),
     ("Haitian Creole", "ht"), ("mandarin", "zh"), (None, None), ("auto", None)],
)  # fmt: skip
def test_language_names_and_codes_normalise(given, code):
    assert normalize_language(given) == code


@pytest.mark.parametrize("bad", ["Klingon", "xx", "english please", "e"])
def test_unknown_language_is_a_parameter_error_naming_it(bad):
    with pytest.raises(ParameterError, match=f"--language {bad!r}"):
        normalize_language(bad)
    with pytest.raises(ParameterError, match="--language"):
        VoiceOptions(language=bad)


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, option",
    [
        ({"asr": "whisperx"}, "--asr .*'whisperx'"),
        ({"model": ""}, "--asr-model"),
        ({"model": "no-such-model"}, "--asr-model 'no-such-model'"),
        ({"asr": "openai-whisper", "model": "missing.pt"}, "--asr-model 'missing.pt'"),
        ({"vad_threshold": 0.0}, "--vad-threshold .*0.0"),
        ({"vad_threshold": float("nan")}, "--vad-threshold .*nan"),
        ({"compute_type": "int3"}, "--compute-type .*'int3'"),
        ({"model": "tiny.en", "language": "Spanish"}, "--language 'Spanish'"),
    ],
)
def test_bad_options_are_refused_on_construction_naming_the_option_and_value(changes, option):
    with pytest.raises(ParameterError, match=option) as err:
        VoiceOptions(**changes)
    assert "\n" not in str(err.value)
    good = VoiceOptions()
    with pytest.raises(ParameterError, match=option):  # a changed copy is checked as well
        replace(good, **changes)


def test_good_options_pass(tmp_path):
    check_voice_options(VoiceOptions())  # an instance may be checked again
    VoiceOptions(asr="none", model="whatever")
    VoiceOptions(model="tiny.en", language="English")
    VoiceOptions(model=str(tmp_path))  # a folder is checked at load time
    VoiceOptions(asr="openai-whisper", model="small")


# --- words -> windows ---------------------------------------------------------------------


def test_a_word_belongs_to_the_window_holding_its_middle():
    windows = make_windows(frames=4 * 16000, sample_rate=16000, window_seconds=1.0)
    words = [W("across", 0.7, 1.2), W("later", 0.9, 1.8), W("edge", 2.0, 2.0), W("end", 3.5, 4.4)]
    out = words_by_window(words, windows)
    assert [[w.text for w in ws] for ws in out] == [["across"], ["later"], ["edge"], ["end"]]


def test_voice_without_words_keeps_presence_and_empty_text():
    voices = build_voices(
        presence=[(True, 0.9), (False, 0.1), (True, 0.8), (False, 0.2)],
        words=[[W("fire", 0.1, 0.4)], [], [], [W("late", 3.1, 3.3)]],
        language="en",
        transcribed=True,
    )
    assert voices[0].present and voices[0].text == "fire" and voices[0].language == "en"
    assert not voices[1].present and voices[1].text == "" and voices[1].language is None
    # The "hmmmm / oooooo" case: voice, no intelligible word.
    assert voices[2].present and voices[2].text == "" and voices[2].words == ()
    # The recogniser heard a word where the VAD stayed under its threshold: that is voice.
    assert voices[3].present and voices[3].probability == pytest.approx(0.2)


@pytest.mark.parametrize(
    "token, ok",
    [("fire", True), ("Fire.", True), ("a", True), ("la", True), ("um", True), ("Hmm", False),
     ("mmmm", False), ("Oooh", False), ("Oh,", False), ("Aaah", False), ("H-h-h-h-h-", False),
     ("[Music]", False), ("(humming)", False), ("♪", False), ("...", False), ("don't", True)],
)  # fmt: skip
def test_hums_tags_and_stutters_are_not_words(token, ok):
    assert is_word(token) is ok


def test_clean_words_drops_non_words_and_orders():
    words = clean_words([W("fire", 2.0, 2.4), W("Hmm", 0.5, 0.9), W(" my ", 1.0, 1.2, 1.3)])
    assert [(w.text, w.probability) for w in words] == [("my", 1.0), ("fire", 0.9)]


def test_failed_and_looping_segments_are_dropped():
    good = AsrSegment((W("my", 0, 0.2), W("heart", 0.2, 0.5)), -0.3, 1.1, 0.1)
    loop = AsrSegment(
        tuple(
            W(t, i * 0.1, i * 0.1 + 0.1)
            for i, t in enumerate("come on, come on, come on, come on,".split())
        ),
        -0.1,
        1.8,
        0.1,
    )
    compressed = AsrSegment((W("ho", 0, 1),), -0.1, 24.0, 0.1)
    unsure = AsrSegment((W("hello", 0, 1),), -1.2, 0.5, 0.5)
    silent = AsrSegment((W("thanks", 0, 1),), -0.7, 0.9, 0.8)
    words = usable_words(Transcript("en", (good, loop, compressed, unsure, silent)))
    assert [w.text for w in words] == ["my", "heart"]


# --- regions ------------------------------------------------------------------------------


def test_regions_are_padded_merged_and_clipped():
    regions = [SpeechRegion(0.1, 1.0), SpeechRegion(1.5, 2.0), SpeechRegion(5.0, 9.9)]
    assert plan_regions(regions, duration=10.0, pad=0.4, merge_gap=1.0) == [
        (0.0, 2.4), (4.6, 10.0)
    ]  # fmt: skip
    assert plan_regions([], duration=10.0) == []


def test_packed_times_map_back_to_song_time():
    audio = np.arange(10 * 100, dtype=np.float32)  # 10 s at 100 Hz: sample value = index
    packed, mapping = pack_regions(audio, [(1.0, 2.0), (5.0, 7.5)], sample_rate=100)
    assert packed.shape[0] == 350
    assert packed[100] == audio[500]  # packed 1.0 s is song 5.0 s
    assert mapping.to_song(0.5) == pytest.approx(1.5)
    assert mapping.to_song(1.25) == pytest.approx(5.25)
    assert mapping.to_song(9.0) == pytest.approx(7.5)  # past the end clamps
    assert OffsetMap((), (), ()).to_song(3.0) == 3.0


def test_a_word_straddling_a_joint_stays_in_the_piece_holding_most_of_it():
    audio = np.zeros(20 * 100, dtype=np.float32)
    _, mapping = pack_regions(audio, [(1.0, 3.0), (10.0, 12.0)], sample_rate=100)
    # Packed 1.9-2.4 s: 0.1 s in the first piece, 0.4 s in the second (song 10.0-10.4 s).
    assert mapping.span_to_song(1.9, 2.4) == pytest.approx((10.0, 10.4))
    assert mapping.span_to_song(1.5, 2.1) == pytest.approx((2.5, 3.0))
    assert mapping.span_to_song(0.2, 0.6) == pytest.approx((1.2, 1.6))


def test_groups_stay_within_one_whisper_window():
    groups = group_spans([(0, 5), (6, 20), (21, 30), (31, 100)], max_seconds=28)
    assert all(sum(b - a for a, b in g) <= 28 + 1e-9 for g in groups)
    assert [span for g in groups for span in g][:3] == [(0, 5), (6, 20), (21, 30)]
    assert sum(b - a for g in groups for a, b in g) == pytest.approx(5 + 14 + 9 + 69)


def test_filled_calls_cut_a_stretch_to_fill_each_whisper_window():
    from aimv_backend.listen.voice.regions import fill_groups

    # the benchmark song's music pass: 118 s between the sung lines, in 23 stretches
    spans, t = [], 0.0
    for length in (4.5, 1.5, 1.9, 2.8, 1.9, 16.5, 2.1, 1.4, 2.0, 2.2, 17.1, 1.7, 2.1, 1.5) + (
        2.0,
        16.5,
        2.0,
        11.6,
        16.4,
        2.2,
        1.9,
        1.8,
        4.6,
    ):
        spans.append((t, t + length))
        t += length + 2.5
    assert len(group_spans(spans)) == 6
    calls = fill_groups(spans)
    assert len(calls) == 5  # one encoder run fewer
    for call in calls:
        assert sum(b - a for a, b in call.heard) <= 28 + 1e-9
        assert all(b - a >= 3.0 - 1e-9 for a, b in call.owned if (a, b) not in spans)
    # every moment of every stretch is answered for by exactly one call
    for a, b in spans:
        for t in np.linspace(a, b, 60, endpoint=False):
            assert sum(call.keeps(t, margin=0.0) and _hears(call, t) for call in calls) == 1, t
    # a cut is heard 1 s past on each side: a word across it is heard whole by one call
    pieces = [(h, o) for c in calls for h, o in zip(c.heard, c.owned, strict=True)]
    cut = next(o[1] for h, o in pieces if h[1] > o[1])
    assert sum(_hears(c, cut - 0.9) and _hears(c, cut + 0.9) for c in calls) == 2


def _hears(call, t):
    return any(a <= t < b for a, b in call.heard)


def test_a_stretch_longer_than_a_window_is_cut_with_context():
    from aimv_backend.listen.voice.regions import fill_groups

    calls = fill_groups([(0.0, 70.0)])
    assert [c.owned for c in calls] == [((0.0, 27.0),), ((27.0, 53.0),), ((53.0, 70.0),)]
    assert [c.heard for c in calls] == [((0.0, 28.0),), ((26.0, 54.0),), ((52.0, 70.0),)]
    assert fill_groups([]) == []


def test_the_music_pass_never_takes_more_calls_than_plain_groups():
    from aimv_backend.listen.voice.regions import pack_calls

    # one long stretch: 2 s of context a cut would make 56 s three calls; cut plainly, two
    for length in (55.0, 56.0, 84.0, 112.0, 240.0):
        assert len(pack_calls([(0.0, length)])) == len(group_spans([(0.0, length)]))
    many = [(20.0 * k, 20.0 * k + 15.0) for k in range(8)]  # no two fit in one call uncut
    assert len(group_spans(many)) == 8 and len(pack_calls(many)) == 5


def test_a_word_both_calls_heard_across_a_cut_is_kept_once():
    from aimv_backend.listen.voice.regions import RecogniserCall, join_at_cuts

    cut = 26.107
    a = RecogniserCall(((0.0, cut + 1.0),), ((0.0, cut),))
    b = RecogniserCall(((cut - 1.0, 40.0),), ((cut, 40.0),))
    # the two calls time "turtle" a little differently, on either side of the cut (heard so by
    # faster-whisper base: a middle-of-word cut lost it from both calls)
    heard_a = [W("the", 25.6, 25.8), W("turtle,", 25.98, 26.36)]
    heard_b = [W("the", 25.5, 25.77), W("Turtle", 25.77, 26.35), W("sleeps", 26.5, 26.9)]
    assert a.keeps(26.17) and b.keeps(26.06)  # both keep it, within the margin of the cut
    assert not a.keeps(cut + 0.7) and not b.keeps(cut - 0.7)  # past it: the other side's
    words = join_at_cuts([a, b], [heard_a, heard_b])
    assert [w.text.strip(",").lower() for w in words] == ["the", "turtle", "sleeps"]
    # the one heard with more context around it: b's, 0.95 s into its audio (a's is 0.94 s
    # before its end)
    assert words[1].text == "Turtle" and words[0].start == 25.6


def test_words_snap_to_the_region_they_overlap_most():
    regions = [SpeechRegion(1.0, 2.0), SpeechRegion(3.3, 4.0)]
    assert snap_to_regions(2.9, 3.7, regions) == (3.3, 3.7)  # pause before "fire" trimmed
    assert snap_to_regions(0.6, 1.4, regions) == (1.0, 1.4)  # padding before the first word
    assert snap_to_regions(2.2, 2.5, regions) == (2.2, 2.5)  # overlaps nothing: unchanged


def test_token_budget_grows_with_voice_and_is_capped():
    assert token_budget(1.0) < token_budget(10.0) < token_budget(28.0) <= 220
    assert token_budget(600.0) == token_budget(30.0)


def test_window_presence_needs_a_tenth_of_a_second_of_speech():
    windows = make_windows(frames=3 * 16000, sample_rate=16000, window_seconds=1.0)
    probs = np.zeros(94, dtype=np.float32)
    probs[40] = 0.97  # frame centre at 1.296 s
    vad = VadResult(probs, (SpeechRegion(0.95, 1.5), SpeechRegion(2.96, 3.0)), "test")
    presence = window_presence(vad, windows)
    assert [p for p, _ in presence] == [False, True, False]
    assert presence[1][1] == pytest.approx(0.97) and presence[0][1] == 0.0


def test_audio_shorter_than_one_vad_frame_has_no_voice():
    from aimv_backend.listen.voice.vad import detect_speech

    vad = detect_speech(np.zeros(300, dtype=np.float32))
    assert vad.regions == () and vad.probabilities.shape == (0,)
    windows = make_windows(frames=300, sample_rate=16000, window_seconds=1.0)
    assert window_presence(vad, windows) == [(False, 0.0)]


def test_the_voice_package_imports_no_model_library():
    import subprocess
    import sys

    code = (
        "import sys, aimv_backend.listen.voice as v; "
        "print(sorted(m for m in ('torch', 'faster_whisper', 'whisper', 'silero_vad', "
        "'ctranslate2', 'onnxruntime') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"


def test_every_spelling_of_a_language_is_one_setting():
    """A re-run with --language English after --language en must find its timeline current."""
    spellings = [VoiceOptions(language=v) for v in ("en", "English", " EN ", "english")]
    assert {o.language for o in spellings} == {"en"}
    assert len(set(spellings)) == 1
    assert VoiceOptions(language="auto") == VoiceOptions(language="") == VoiceOptions()
