"""listen_voice on real audio: espeak-ng words over a fluidsynth pad, instruments, silence, hums.

These run the default engine (faster-whisper base assembled from the registry packages) and
silero-vad, offline. Clips are a few seconds long; each clip is analysed once per module.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _voice_audio as va  # noqa: E402

from aimv_backend.audio.io import probe_audio  # noqa: E402
from aimv_backend.errors import ParameterError  # noqa: E402
from aimv_backend.listen.voice import VoiceOptions, listen_voice  # noqa: E402
from aimv_backend.listen.windows import make_windows  # noqa: E402
from aimv_backend.progress import SilentProgress  # noqa: E402
from tests.imagine.imagine_helpers import RecordingProgress  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(va.tools_missing() is not None, reason=str(va.tools_missing())),
]

# Each word spoken on its own and placed at a known time: "heart" sounds inside window 1
# (1 s windows) and "fire" inside window 3; nothing is said before 0.9 s or after 3.8 s.
WORDS = [("my", 0.9), ("heart", 1.4), ("is", 2.25), ("on", 2.65), ("fire", 3.3)]
SECONDS = 6.0


class _NoNetwork:
    """Make any socket connection fail loudly while active."""

    def __enter__(self):
        self._connect = socket.socket.connect

        def refuse(sock, address):
            raise AssertionError(f"network access attempted: {address!r}")

        socket.socket.connect = refuse
        return self

    def __exit__(self, *exc):
        socket.socket.connect = self._connect


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """A private AIMV cache, so the tests assemble the base model where they can see it."""
    folder = tmp_path_factory.mktemp("aimv-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("AIMV_CACHE_DIR", str(folder))
    mp.setenv("HF_HUB_OFFLINE", "1")
    yield folder
    mp.undo()


def _analyse(path: Path, options: VoiceOptions, window_seconds: float = 1.0, progress=None):
    info = probe_audio(path)
    windows = make_windows(
        frames=info.frames, sample_rate=info.sample_rate, window_seconds=window_seconds
    )
    with _NoNetwork():
        result = listen_voice(
            audio_info=info,
            windows=windows,
            options=options,
            progress=progress or SilentProgress(),
        )
    return windows, result


@pytest.fixture(scope="module")
def spoken(tmp_path_factory, cache_dir):
    """'my heart is on fire' over a quiet pad, analysed with language detection."""
    folder = tmp_path_factory.mktemp("voice-spoken")
    bed = va.pad(SECONDS) * 0.3
    mix, truth = va.place_words(bed, WORDS, snr_db=8.0)
    path = va.write(folder / "heart.wav", mix)
    notices = RecordingProgress()
    windows, result = _analyse(path, VoiceOptions(), progress=notices)
    _spoken_tasks.extend(notices.tasks)
    return path, truth, windows, result, notices.notices


_spoken_tasks: list = []  # the progress tasks of the `spoken` analysis


def test_every_voice_progress_bar_ends_full(spoken):
    """A finished pass shows 100 %, not 17 of 18 (its seconds of voice are rounded up)."""
    voice = [t for t in _spoken_tasks if t[0].startswith("voice: ")]
    assert any(t[0] == "voice: transcribe" for t in voice), _spoken_tasks
    for name, total, advanced in voice:
        assert advanced == total, (name, total, advanced)


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _window_of(windows, t: float) -> int:
    return next(w.index for w in windows if w.start <= t < w.end)


def test_words_land_in_the_windows_where_they_are_spoken(spoken):
    _, truth, windows, result, _ = spoken
    assert result.engine == "faster-whisper:base"
    assert result.vad_engine.startswith("silero-vad:")
    assert len(result.windows) == len(windows)
    for word in ("heart", "fire"):
        start, end = truth[word]
        expected = _window_of(windows, 0.5 * (start + end))
        holders = [
            i for i, v in enumerate(result.windows) if any(_norm(w.text) == word for w in v.words)
        ]
        assert holders == [expected], f"{word!r} in windows {holders}, spoken in {expected}"
        voice = result.windows[expected]
        assert voice.present and word in _norm(voice.text)
        found = next(w for w in voice.words if _norm(w.text) == word)
        assert abs(found.start - start) < 0.35 and abs(found.end - end) < 0.35
    assert expected == 3 and _window_of(windows, sum(truth["heart"]) / 2) == 1


def test_language_is_detected_and_recorded(spoken):
    _, _, _, result, _ = spoken
    assert result.language == "en"
    voiced = [v for v in result.windows if v.present]
    assert voiced and all(v.language == "en" for v in voiced)
    assert all(v.language is None for v in result.windows if not v.present)


def test_detecting_the_language_costs_no_encoder_run_of_its_own(spoken, cache_dir):
    """The window the language is heard in is the one transcribed next: encoded once."""
    from aimv_backend.listen.voice import asr_faster_whisper
    from aimv_backend.listen.voice.models import resolve_faster_whisper

    path = spoken[0]
    ref = resolve_faster_whisper("base", allow_download=False)
    memo = asr_faster_whisper.load_model(ref, "int8").encode
    runs = {}
    for language in (None, "en"):
        encoded, reused = memo.encoded, memo.reused
        _, result = _analyse(path, VoiceOptions(language=language))
        assert result.language == "en"
        runs[language] = (memo.encoded - encoded, memo.reused - reused)
    assert runs[None][1] == 1  # the voiced window's encoding served its transcription
    assert runs[None][0] == runs["en"][0] >= 1  # no more encoder runs than with --language


def test_windows_without_speech_have_no_voice(spoken):
    _, _, windows, result, _ = spoken
    # 0-0.9 s and 3.8-6 s hold only the pad.
    for i in (0, 4, 5):
        assert not result.windows[i].present, f"window {i}: {result.windows[i]}"
        assert result.windows[i].text == "" and result.windows[i].words == ()
    assert all(result.windows[i].present for i in (1, 2, 3))


def test_language_given_by_name_passes_through(tmp_path, cache_dir):
    """--language Spanish reaches whisper as "es". Spanish speech, so that the words survive
    on every CPU: English decoded as Spanish sits at the log-probability cut-off, and its
    words came and went between machines."""
    bed = va.pad(6.0) * 0.3
    line = va.speak("mi corazón está en llamas, la noche es larga", voice="es")
    path = va.write(tmp_path / "es.wav", va.place(bed, line, 1.0, snr_db=8.0))
    _, result = _analyse(path, VoiceOptions(language="Spanish"))
    assert result.language == "es"
    voiced = [v for v in result.windows if v.present]
    assert voiced and all(v.language == "es" for v in voiced)
    assert "corazón" in " ".join(v.text for v in result.windows).lower()


def test_vad_only_matches_presence_of_full_run(spoken, cache_dir):
    path, _, _, full, _ = spoken
    _, vad_only = _analyse(path, VoiceOptions(asr="none"))
    assert vad_only.engine == "none" and vad_only.language is None
    assert [v.present for v in vad_only.windows] == [v.present for v in full.windows]
    assert all(v.text == "" and v.words == () for v in vad_only.windows)


def test_music_without_voice_has_no_voice_in_any_window(tmp_path, cache_dir):
    music = va.drums_and_bass(SECONDS) + 0.5 * va.pad(SECONDS, program=48)  # + strings
    path = va.write(tmp_path / "band.wav", music)
    windows, result = _analyse(path, VoiceOptions(language="en"))
    assert len(result.windows) == len(windows) == 6
    assert [v.present for v in result.windows] == [False] * 6
    assert all(v.text == "" and v.words == () for v in result.windows)
    assert max(v.probability for v in result.windows) < 0.5


def test_silence_has_no_voice(tmp_path, cache_dir):
    rng = np.random.default_rng(0)
    quiet = np.zeros(int(4 * va.RATE), dtype=np.float32)
    quiet[va.RATE * 2 :] = rng.normal(0, 1e-3, va.RATE * 2)  # -60 dBFS hiss in the second half
    path = va.write(tmp_path / "silence.wav", quiet)
    _, result = _analyse(path, VoiceOptions())
    assert [v.present for v in result.windows] == [False] * 4
    assert result.language is None
    assert all(v.text == "" for v in result.windows)


def test_a_held_vowel_is_voice_without_words(tmp_path, cache_dir):
    # The design's "hmmmm / oooooo" case: espeak-ng holding "oooo" over the pad.
    bed = va.pad(5.0) * 0.3
    vowel = va.speak("ooooooooooooo", speed=80)
    mix = va.place(bed, vowel, 1.5, snr_db=8.0)
    path = va.write(tmp_path / "vowel.wav", mix)
    windows, result = _analyse(path, VoiceOptions(language="en"))
    held = range(
        _window_of(windows, 1.6), _window_of(windows, 1.5 + vowel.shape[0] / va.RATE - 0.2) + 1
    )
    assert all(result.windows[i].present for i in held)
    assert all(v.text == "" and v.words == () for v in result.windows)
    assert not result.windows[0].present
    # A voice without words says nothing about the song's language, even one given.
    assert result.language is None and all(v.language is None for v in result.windows)


def test_half_second_windows_follow_the_middle_rule(spoken, cache_dir):
    path, truth, _, _, _ = spoken
    windows, result = _analyse(path, VoiceOptions(language="en"), 0.5)
    assert len(result.windows) == len(windows) == 12
    words = [(i, w) for i, v in enumerate(result.windows) for w in v.words]
    assert {"heart", "fire"} <= {_norm(w.text) for _, w in words}
    for i, w in words:  # each word sits in the window holding its recorded middle
        assert windows[i].start <= 0.5 * (w.start + w.end) < windows[i].end
        assert result.windows[i].present
    # Whisper's word times are good to about 0.2 s: within one half-second window of the truth.
    for i, w in words:
        if _norm(w.text) in truth:
            start, end = truth[_norm(w.text)]
            assert abs(i - _window_of(windows, 0.5 * (start + end))) <= 1


def test_english_only_model_refuses_another_language():
    with pytest.raises(ParameterError, match="--language 'es'.*tiny.en"):
        VoiceOptions(model="tiny.en", language="es")


def test_first_use_assembles_the_base_model_into_the_cache(spoken, cache_dir):
    messages = spoken[4]
    target = cache_dir / "models" / "faster-whisper-base"
    assert any("assembling" in m and str(target) in m for m in messages)
    assert (target / "model.bin").stat().st_size > 100_000_000


def test_spanish_is_detected_and_transcribed(tmp_path, cache_dir):
    bed = va.pad(6.0) * 0.3
    line = va.speak("mi corazón está en llamas, la noche es larga", voice="es")
    path = va.write(tmp_path / "es.wav", va.place(bed, line, 1.0, snr_db=8.0))
    _, result = _analyse(path, VoiceOptions())
    assert result.language == "es"
    text = " ".join(v.text for v in result.windows).lower()
    assert "corazón" in text and "noche" in text
    assert not result.windows[0].present and result.windows[1].present


def test_without_onnxruntime_the_torchscript_vad_agrees(spoken, monkeypatch):
    import silero_vad

    from aimv_backend.audio.io import load_mono
    from aimv_backend.listen.voice import vad

    path, _, windows, result, _ = spoken
    real_load = silero_vad.load_silero_vad

    def no_onnx(onnx=False, **kw):
        if onnx:
            raise ImportError("No module named 'onnxruntime'")
        return real_load(onnx=False, **kw)

    monkeypatch.setattr(silero_vad, "load_silero_vad", no_onnx)
    vad._load_silero.cache_clear()
    try:
        assert vad._load_silero()[3] is True  # the TorchScript model
        audio = load_mono(probe_audio(path), sample_rate=16000)
        presence = vad.window_presence(vad.detect_speech(audio), windows)
    finally:
        vad._load_silero.cache_clear()
    assert [p for p, _ in presence] == [v.present for v in result.windows]
