"""Sung or spoken, from word timing; and speech through the real recogniser."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from aimv_backend.listen.voice.mode import phrase_mode, window_modes
from aimv_backend.listen.windows import make_windows
from aimv_backend.progress import SilentProgress
from aimv_timeline.schema import Word

sys.path.insert(0, str(Path(__file__).parent))
import _voice_audio as va  # noqa: E402


def _words(spec):
    return [Word(text, a, b, 0.9) for text, a, b in spec]


SPOKEN = _words([("my", 1.0, 1.15), ("heart", 1.2, 1.45), ("is", 1.5, 1.6), ("on", 1.65, 1.8),
                 ("fire", 1.85, 2.15)])  # fmt: skip
SUNG = _words([("my", 1.0, 1.5), ("heart", 1.6, 2.6), ("is", 2.7, 3.1), ("on", 3.2, 3.6),
               ("fire", 3.7, 4.9)])  # fmt: skip


def test_held_words_are_sung_and_quick_ones_spoken():
    assert phrase_mode(SPOKEN) == "spoken"
    assert phrase_mode(SUNG) == "sung"


def test_windows_take_the_mode_of_their_phrase():
    windows = make_windows(frames=6000, sample_rate=1000, window_seconds=1.0)
    voiced = [False, True, True, False, False, False]
    modes = window_modes(words=SPOKEN, windows=windows, voiced=voiced)
    assert modes == [None, "spoken", "spoken", None, None, None]
    assert window_modes(words=[], windows=windows, voiced=voiced) == [None] * 6


RATE = 16000


def _voice(semitones: np.ndarray) -> np.ndarray:
    """A voice-like tone (eight harmonics) following a pitch track (semitones over 220 Hz,
    one value a sample)."""
    phase = 2 * np.pi * np.cumsum(220.0 * 2 ** (semitones / 12)) / RATE
    return (0.2 * sum(0.6**k * np.sin((k + 1) * phase) for k in range(8))).astype(np.float32)


def _held_notes(vibrato: float, *, notes: int = 8, hold: float = 0.6):
    """Held notes with a 5.5 Hz vibrato of +-``vibrato`` semitones, a word on each."""
    rng = np.random.default_rng(1)
    t = np.arange(int(notes * hold * RATE)) / RATE
    melody = np.repeat(rng.integers(-5, 6, notes), int(hold * RATE)).astype(float)
    audio = _voice(melody + vibrato * np.sin(2 * np.pi * 5.5 * t))
    words = [Word(f"w{k}", k * hold + 0.05, (k + 1) * hold - 0.05, 0.9) for k in range(notes)]
    return audio, words


@pytest.mark.parametrize("vibrato", [0.0, 0.3, 0.6, 1.0])
def test_held_notes_are_sung_with_or_without_vibrato(vibrato):
    """A real singer's held note swings +-0.3-1 semitone about 5.5 times a second: the 120 ms
    steadiness test alone called it speech (steadiness 0.43 at +-0.3, 0 from +-0.6)."""
    audio, words = _held_notes(vibrato)
    windows = make_windows(frames=audio.shape[0], sample_rate=RATE, window_seconds=1.0)
    modes = window_modes(words=words, windows=windows, voiced=[True] * len(windows), audio=audio)
    assert modes == ["sung"] * len(windows), modes


@pytest.mark.slow
def test_the_demo_songs_vocal_is_sung_in_every_window(tmp_path):
    """The sentence trial: the demo's sung vocal was "spoken" in 9 of its 18 voiced windows
    (YIN's octave jumps under the band made held notes look unsteady, and the timing terms
    did not tell espeak's singing from speech)."""
    from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
    from aimv_backend.listen.voice import VoiceOptions

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo.wav"
    options = AnalyzeOptions(instruments=None, voice=VoiceOptions(allow_download=False))
    timeline = analyze_song(demo, options=options)
    modes = [w.voice.mode for w in timeline.windows if w.voice and w.voice.mode]
    assert len(modes) >= 12 and set(modes) == {"sung"}, modes


@pytest.mark.slow
@pytest.mark.skipif(va.tools_missing() is not None, reason=str(va.tools_missing()))
def test_speech_is_spoken_and_its_sentence_says_so(tmp_path, monkeypatch):
    from aimv_backend.audio.io import probe_audio
    from aimv_backend.describe import describe_window
    from aimv_backend.listen.voice import VoiceOptions, listen_voice
    from aimv_backend.progress import SilentProgress
    from aimv_timeline.schema import Colour, Volume, Window

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bed = va.pad(6.0) * 0.3
    line = va.speak("the lantern by the river is burning tonight")
    path = va.write(tmp_path / "speech.wav", va.place(bed, line, 1.0, snr_db=10.0))
    info = probe_audio(path)
    windows = make_windows(frames=info.frames, sample_rate=info.sample_rate, window_seconds=1.0)
    result = listen_voice(
        audio_info=info, windows=windows, options=VoiceOptions(), progress=SilentProgress()
    )
    assert result.language == "en"
    voiced = [v for v in result.windows if v.text]
    assert voiced and all(v.mode == "spoken" for v in voiced)
    colour = Colour("#008080", "teal", 180.0, 0.5, 0.5, 440.0, "pitch")
    volume = Volume(-20.0, -6.0, 0.0, "normal")
    sentences = [
        describe_window(Window(i, i, i + 1.0, volume, colour, voice=v)).sentence
        for i, v in enumerate(result.windows)
        if v.text
    ]
    assert any(("speaks" in s or "says" in s) for s in sentences), sentences
    assert not any("sings" in s for s in sentences), sentences


def test_an_unsure_language_is_said_in_one_line_with_the_hint(monkeypatch):
    import aimv_backend.listen.voice as voice
    from aimv_backend.listen.voice import _detect_language

    class Recogniser:
        engine = "fake"

        def detect_language(self, windows):
            self.seconds = [w.shape[0] / 16000 for w in windows]
            self.starts = [float(w[0]) for w in windows]
            return "th", 0.53

    audio = np.arange(16000 * 200, dtype=np.float32) / 16000  # each sample says its time
    # seven recogniser calls of 20 s: the language is heard in four, spread over the song
    groups = [[(20.0 * k, 20.0 * k + 10.0), (20.0 * k + 12.0, 20.0 * k + 22.0)] for k in range(7)]
    recogniser = Recogniser()
    assert _detect_language(audio, groups, recogniser) == ("th", ("th", 0.53))
    assert recogniser.seconds == pytest.approx([20.0] * 4)
    assert recogniser.starts == pytest.approx([0.0, 40.0, 80.0, 120.0])  # first to last
    assert _detect_language(audio, groups[:2], recogniser)[0] == "th"
    assert recogniser.seconds == pytest.approx([20.0, 20.0])  # both, when there are few

    # listen_voice says so in one line, and only when some words survive.
    def fake_recognise(audio, groups, regions, duration, language, rec, progress, **kw):
        word = Word(text="มา", start=1.0, end=1.3, probability=0.9)
        return ([word] if kw["key"] == "voice" else []), language

    monkeypatch.setattr(voice, "_Recogniser", lambda options, progress: Recogniser())
    monkeypatch.setattr(voice, "_recognise", fake_recognise)
    monkeypatch.setattr(voice, "load_mono", lambda info, sample_rate: 0.1 * np.ones(16000 * 3))

    class Notices(SilentProgress):
        def __init__(self):
            self.messages = []

        def notice(self, message):
            self.messages.append(message)

    import aimv_backend.listen.voice.vad as vad

    result = vad.VadResult(np.ones(90, dtype=np.float32), (vad.SpeechRegion(0.5, 2.5),), "vad")
    monkeypatch.setattr(vad, "detect_speech", lambda audio, threshold: result)
    notices = Notices()
    spans = make_windows(frames=3 * 16000, sample_rate=16000, window_seconds=1.0)
    out = voice.listen_voice(audio_info=None, windows=spans, progress=notices)
    assert out.language == "th"
    assert len(notices.messages) == 1 and "--language" in notices.messages[0]
    assert "0.53" in notices.messages[0]


def test_a_resumed_run_takes_the_language_from_the_checkpoint(tmp_path):
    """An interrupted run detected the language; the re-run does not encode windows again."""
    from aimv_backend.listen import checkpoint
    from aimv_backend.listen.voice import _song_language

    class Recogniser:
        calls = 0

        def detect_language(self, windows):
            Recogniser.calls += 1
            return "th", 0.53

    audio = np.zeros(16000 * 20, dtype=np.float32)
    groups = [[(1.0, 11.0)]]
    with pytest.raises(KeyboardInterrupt), checkpoint.active(tmp_path, "song-and-settings"):
        assert _song_language(audio, groups, Recogniser()) == ("th", ("th", 0.53))
        raise KeyboardInterrupt  # Ctrl-C while transcribing
    with checkpoint.active(tmp_path, "song-and-settings"):  # the re-run
        assert _song_language(audio, groups, Recogniser()) == ("th", ("th", 0.53))
    assert Recogniser.calls == 1


def test_a_given_language_relaxes_the_log_probability_cut_off():
    from aimv_backend.listen.voice import GIVEN_LANGUAGE_LOGPROB
    from aimv_backend.listen.voice.assign import AsrSegment, Transcript, usable_words

    segment = AsrSegment(words=tuple(_words([("corazón", 1.0, 1.4)])), avg_logprob=-1.04)
    transcript = Transcript(language="es", segments=(segment,))
    assert usable_words(transcript) == []
    assert [w.text for w in usable_words(transcript, min_avg_logprob=GIVEN_LANGUAGE_LOGPROB)] == [
        "corazón"
    ]


def test_a_window_is_given_the_mode_of_the_phrases_near_it_however_long_the_song():
    """The windows of a long song look only at nearby phrases (an index, not a scan of every
    word): the result is the scan's, a phrase an hour in still sets its own windows, and a
    window far from any word gets no mode."""
    rng = np.random.default_rng(7)
    words, t = [], 0.0
    for i in range(600):
        held = i // 40 % 2 == 0  # 40 held (sung-timed) words, then 40 quick (spoken) ones
        length = 0.9 if held else 0.15
        words.append(Word("la", round(t, 3), round(t + length, 3), 0.9))
        t += length + (0.15 if held else 0.12) + (3.0 if i % 40 == 39 else 0.0)
        t += 0.02 * float(rng.random())
    windows = make_windows(frames=int((t + 30) * 100), sample_rate=100, window_seconds=1.0)
    modes = window_modes(words=words, windows=windows, voiced=[True] * len(windows))
    for i in (5, 45, 405, 445, 595):
        w = words[i]
        index = int((w.start + w.end) / 2)
        assert modes[index] == ("sung" if i // 40 % 2 == 0 else "spoken"), (i, index)
    assert modes[-1] is None  # 30 s after the last word
