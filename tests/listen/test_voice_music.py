"""The music pass: sung words under a band reach the recogniser; a band alone gives no words.

The slow tests run the default engines (silero-vad, faster-whisper base) offline on espeak-ng
"singing" placed word by word over a rendered band (drum kit, bass, piano).
"""

from __future__ import annotations

import numpy as np
import pytest

from aimv_backend.listen.voice.assign import AsrSegment, Transcript
from aimv_backend.listen.voice.music import (
    audible_spans,
    is_invented,
    music_spans,
    remainder_spans,
    sung_words,
)
from aimv_timeline.schema import Word


def _words(*items):
    return tuple(Word(text=t, start=s, end=s + 0.3, probability=p) for t, s, p in items)


def test_the_music_pass_covers_the_audible_song_outside_the_heard_spans():
    assert remainder_spans([(2.0, 4.0), (4.5, 6.0)], duration=10.0) == [(0.0, 2.0), (6.0, 10.0)]
    assert remainder_spans([], duration=3.0) == [(0.0, 3.0)]
    rate = 16_000
    audio = np.zeros(rate * 6, dtype=np.float32)
    audio[rate : rate * 5] = 0.1 * np.sin(np.arange(rate * 4) * 0.05)  # sound from 1 s to 5 s
    assert audible_spans(audio, sample_rate=rate) == [(1.0, 5.0)]
    assert music_spans([(2.0, 2.5)], [(1.0, 5.0)], duration=6.0) == [(1.0, 2.0), (2.5, 5.0)]
    assert music_spans([(1.5, 4.5)], [(1.0, 5.0)], duration=6.0) == []  # scraps under 1 s
    assert music_spans([], [], duration=6.0) == []  # silence costs no recognition


@pytest.mark.parametrize(
    "text",
    ["Thank you.", "Thank you very much.", "Thanks for watching!", "you", "Subtitles by X"],
)
def test_whisper_inventions_on_music_are_known(text):
    assert is_invented(_words(*((w, 0.0, 0.9) for w in text.split())))


def test_a_real_line_is_not_an_invention():
    assert not is_invented(_words(("thank", 0, 0.9), ("you", 0.5, 0.9), ("river", 1, 0.9)))


def test_only_confident_words_of_sound_segments_survive():
    line = _words(("across", 1.0, 0.85), ("the", 1.4, 0.84), ("water", 1.8, 0.4))
    guess = _words(("Thank", 3.5, 0.01), ("you", 4.9, 0.94), ("very", 6.2, 0.1))

    def kept(words, **figures):
        return [w.text for w in sung_words(Transcript("en", (AsrSegment(words, **figures),)))]

    assert kept(line, avg_logprob=-1.1) == ["across", "the", "water"]
    assert kept(line, avg_logprob=-1.5) == []  # too unsure a segment
    assert kept(line, avg_logprob=-0.5, no_speech_prob=0.8) == []
    assert kept(guess, avg_logprob=-1.1) == []  # one confident word is not enough
    lone = _words(("water", 1.8, 0.9), ("oh", 2.2, 0.1))
    assert kept(lone, avg_logprob=-0.5) == []


# --- real audio: espeak-ng "singing" over a rendered band ---------------------------------

LINE = "the lantern by the river shines across the water"
RATE = 22050


def _tools_missing():
    import shutil

    for exe in ("espeak-ng", "fluidsynth"):
        if shutil.which(exe) is None:
            return f"{exe} is not installed"
    return None


needs_tools = pytest.mark.skipif(_tools_missing() is not None, reason=str(_tools_missing()))


@pytest.fixture(scope="module")
def offline_cache(tmp_path_factory):
    """A private AIMV cache (the base model is assembled into it from the registry parts)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AIMV_CACHE_DIR", str(tmp_path_factory.mktemp("aimv-cache")))
    mp.setenv("HF_HUB_OFFLINE", "1")
    yield
    mp.undo()


def _listen(path, *, music_pass=True, language="en"):
    from aimv_backend.audio.io import probe_audio
    from aimv_backend.listen.voice import VoiceOptions, listen_voice
    from aimv_backend.listen.windows import make_windows
    from aimv_backend.progress import SilentProgress

    info = probe_audio(path)
    spans = make_windows(frames=info.frames, sample_rate=info.sample_rate, window_seconds=1.0)
    options = VoiceOptions(language=language, allow_download=False, music_pass=music_pass)
    return listen_voice(audio_info=info, windows=spans, options=options, progress=SilentProgress())


def _band(seconds, seed):
    from aimv_testkit.grooves import render_groove

    return render_groove(bpm=100, seconds=seconds, seed=seed).audio


def _norm(text):
    return "".join(c for c in text.lower() if c.isalnum())


@pytest.fixture(scope="module")
def sung_over_band(tmp_path_factory, offline_cache):
    """The line "sung" (espeak-ng en-us+f3, D4-A4, 0.55 s holds) over drums, bass and piano at
    +3 dB, analysed with and without the music pass."""
    from aimv_testkit import VocalWord, scale_to_snr, write_audio
    from aimv_testkit.voice import place_words

    notes = (62, 64, 66, 67, 69, 67, 66, 64, 62, 64)
    words = [
        VocalWord(w, None if k else 0.8, note=notes[k], hold=0.55)
        for k, w in enumerate(LINE.split())
    ]
    voice, truth = place_words(
        words=words, seconds=9.0, sample_rate=RATE, sing=True, voice="en-us+f3", speed=150
    )
    band = scale_to_snr(voice, _band(9.0, 0), snr_db=3.0, rate=RATE)
    mix = voice + band
    path = write_audio(tmp_path_factory.mktemp("sung") / "sung.wav", mix / abs(mix).max(), RATE)
    return truth, _listen(path), _listen(path, music_pass=False)


@pytest.mark.slow
@needs_tools
def test_a_sung_line_under_a_band_comes_out_as_timed_words(sung_over_band):
    truth, result, _ = sung_over_band
    words = [w for v in result.windows for w in v.words]
    right = set()
    for w in words:
        for k, t in enumerate(truth):
            if _norm(t.word) == _norm(w.text) and w.start <= t.end + 0.3 and w.end >= t.start - 0.3:
                right.add(k)
    assert len(right) >= 3, [(w.text, round(w.start, 2)) for w in words]
    assert result.language == "en"
    # every word shown is in the song where the line is sung
    assert all(0.5 <= w.start and w.end <= truth[-1].end + 0.5 for w in words)


@pytest.mark.slow
@needs_tools
def test_without_the_music_pass_the_sung_line_is_lost(sung_over_band):
    _, result, before = sung_over_band
    count = sum(len(v.words) for v in result.windows)
    assert sum(len(v.words) for v in before.windows) < count


@pytest.mark.slow
@needs_tools
def test_a_band_alone_gives_no_words_and_no_language(tmp_path, offline_cache):
    from aimv_testkit import write_audio

    band = _band(20.0, 5)
    path = write_audio(tmp_path / "band.wav", band / abs(band).max() * 0.9, RATE)
    result = _listen(path, language=None)
    assert [v.text for v in result.windows] == [""] * 20
    assert result.language is None
