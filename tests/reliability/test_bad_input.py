"""Bad input gives one line and exit 2, never a traceback (issue 13, items 13, 14, 17, 19, 20)."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest
import soundfile as sf

from aimv_backend.audio.io import load_mono, probe_audio
from aimv_backend.errors import AudioInputError, ModelUnavailableError
from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
from aimv_timeline import events

LISTEN_FAST = ("--instruments", "none", "--no-voice", "--no-describe", "-q")


def _tone(seconds: float, rate: int, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _one_line(result) -> str:
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aimv: error:"), result.err
    return lines[0]


@pytest.mark.parametrize("subtype", ["GSM610", "G721_32", "NMS_ADPCM_16"])
def test_wavs_that_cannot_seek_are_decoded(tmp_path, subtype, run_aimv):
    """13.14: GSM 6.10, G.721 and NMS-ADPCM WAVs used to give a traceback."""
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, _tone(3.0, 8000), 8000, subtype=subtype)
    info = probe_audio(path)
    audio = load_mono(info, sample_rate=16000)
    assert abs(audio.shape[0] - 2 * info.frames) <= 2 and np.abs(audio).max() > 0.1
    result = run_aimv("analyze", path, "-o", tmp_path / "out", *LISTEN_FAST)
    assert result.code == 0, result.err


def test_a_fifo_and_a_link_loop_are_named_as_such(tmp_path, run_aimv):
    """13.19: a FIFO was called "empty", a symbolic-link loop "does not exist"."""
    fifo = tmp_path / "song.wav"
    os.mkfifo(fifo)
    assert "FIFO" in _one_line(run_aimv("analyze", fifo, "-o", tmp_path / "o", *LISTEN_FAST))
    loop = tmp_path / "loop.wav"
    os.symlink(tmp_path / "loop2.wav", loop)
    os.symlink(loop, tmp_path / "loop2.wav")
    line = _one_line(run_aimv("analyze", loop, "-o", tmp_path / "o", *LISTEN_FAST))
    assert "loop of symbolic links" in line


def test_a_float_wav_far_above_full_scale_fails_before_listening(tmp_path, run_aimv):
    """13.19: +97 dBFS failed only after the whole analysis; now up front."""
    path = tmp_path / "loud.wav"
    sf.write(path, _tone(3.0, 22050, amplitude=10 ** (97 / 20)), 22050, subtype="FLOAT")
    with pytest.raises(AudioInputError, match=r"peaks at \+97\.0 dBFS"):
        probe_audio(path)
    assert "dBFS" in _one_line(run_aimv("analyze", path, "-o", tmp_path / "o", *LISTEN_FAST))
    assert not (tmp_path / "o").exists()


def test_a_chained_ogg_is_refused_rather_than_heard_in_part(tmp_path, run_aimv):
    """Two Ogg streams end to end (cat a.ogg b.ogg) read as the first alone: a song cut short
    without a word. A single Vorbis or Opus file is read as ever."""
    one = tmp_path / "one.ogg"
    sf.write(one, _tone(2.0, 22050), 22050, format="OGG", subtype="VORBIS")
    joined = tmp_path / "joined.ogg"
    joined.write_bytes(one.read_bytes() * 2)
    line = _one_line(run_aimv("analyze", joined, "-o", tmp_path / "o", *LISTEN_FAST))
    assert "2 Ogg streams joined end to end" in line and "(2.0 s)" in line
    assert not (tmp_path / "o").exists()
    assert probe_audio(one).duration == pytest.approx(2.0)
    opus = tmp_path / "one.opus"
    sf.write(opus, _tone(2.0, 48000), 48000, format="OGG", subtype="OPUS")
    assert probe_audio(opus).duration == pytest.approx(2.0, abs=0.05)


def test_a_run_with_stderr_closed_still_makes_its_timeline(tmp_path):
    """``aimv ... 2>&-`` in a script: Python's sys.stderr is None; nothing may crash on it."""
    import subprocess
    import sys

    song = tmp_path / "song.wav"
    sf.write(song, _tone(3.0, 22050), 22050)
    done = subprocess.run(
        [sys.executable, "-m", "aimv_backend", "listen", str(song), "-o", str(tmp_path / "o"),
         *LISTEN_FAST],
        stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2), timeout=300,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )  # fmt: skip
    assert done.returncode == 0
    assert (tmp_path / "o" / "timeline.json").is_file()


def test_common_options_may_come_before_the_command_and_a_closed_pipe_is_no_error(
    tmp_path, run_aimv
):
    """``aimv -q --seed 3 listen ...`` works as ``aimv listen ... -q --seed 3``; ``aimv ... |
    head`` ending early is the shell's 141, not "aimv: error: Broken pipe"."""
    import subprocess
    import sys

    song = tmp_path / "song.wav"
    sf.write(song, _tone(3.0, 22050), 22050)
    before = run_aimv("-q", "--seed", "3", "listen", song, "-o", tmp_path / "o", *LISTEN_FAST)
    assert before.code == 0 and before.out == "" and before.err == "", before.err
    assert (tmp_path / "o" / "timeline.json").is_file()
    pipeline = '"$1" -m aimv_backend listen "$2" -o "$3" --instruments none --no-voice '
    pipeline += "--progress none | true; echo ${PIPESTATUS[0]}"
    reader_gone = subprocess.run(
        ["/bin/bash", "-c", pipeline, "bash", sys.executable, str(song), str(tmp_path / "p")],
        capture_output=True, text=True, timeout=300,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )  # fmt: skip
    assert reader_gone.stdout.strip() in ("0", "141"), reader_gone.stderr
    assert "error" not in reader_gone.stderr
    assert (tmp_path / "p" / "timeline.json").is_file()


def test_a_short_song_reports_enough_digits(tmp_path):
    """13.19: 44,099 frames were "1.000 s long, shorter than one window (1.0 s)"."""
    path = tmp_path / "short.wav"
    sf.write(path, _tone(44099 / 44100, 44100), 44100)
    with pytest.raises(AudioInputError) as err:
        analyze_song(path, options=AnalyzeOptions(window_seconds=1.0))
    assert "0.999977 s long (44099 samples at 44100 Hz)" in str(err.value)


def test_pure_dc_is_silent_not_normal_drums(tmp_path):
    """13.19: pure DC was rated "normal" (and tagged as drums)."""
    from aimv_backend.listen.instruments import InstrumentOptions

    path = tmp_path / "dc.wav"
    sf.write(path, np.full(3 * 16000, 0.5, dtype=np.float32), 16000)
    timeline = analyze_song(
        path,
        options=AnalyzeOptions(
            instruments=InstrumentOptions(engine="musicnn", allow_download=False)
        ),
    )
    assert {w.volume.level for w in timeline.windows} == {"silent"}
    assert all(not w.instruments for w in timeline.windows)


def test_a_song_replaced_while_it_is_analysed_is_one_line(tmp_path, monkeypatch):
    """13.13: no traceback, and never a timeline of song A under song B's hash."""
    from aimv_backend.listen import analyze as analyze_module

    path = tmp_path / "song.wav"
    sf.write(path, _tone(4.0, 22050), 22050)
    real = analyze_module.measure_windows

    def replace_then_measure(info, *args, **kwargs):
        other = tmp_path / "other.wav"
        sf.write(other, _tone(2.0, 44100, amplitude=0.1), 44100)
        os.replace(other, path)  # the user saves another song over it
        return real(info, *args, **kwargs)

    monkeypatch.setattr(analyze_module, "measure_windows", replace_then_measure)
    with pytest.raises(AudioInputError, match="changed while it was analysed"):
        analyze_song(path)


@pytest.mark.parametrize("engine", ["panns", "openai-whisper"])
def test_a_text_file_as_a_checkpoint_is_one_line(tmp_path, run_aimv, engine):
    """13.17: a text file as --panns-checkpoint or as an openai-whisper .pt gave IndexError."""
    song = tmp_path / "song.wav"
    sf.write(song, 0.1 * np.random.default_rng(0).standard_normal(3 * 22050), 22050)
    text = tmp_path / "model.pt"
    text.write_text("this is not a checkpoint\n" * 100)
    if engine == "panns":
        args = ("--instruments", "panns", "--panns-checkpoint", text, "--no-voice")
    else:
        args = ("--instruments", "none", "--asr", "openai-whisper", "--asr-model", text)
    result = run_aimv("analyze", song, "-o", tmp_path / "o", *args, "--no-describe", "-q")
    line = _one_line(result)
    assert "not a PyTorch checkpoint" in line
    assert text.read_text().startswith("this is not")


def test_the_weights_loader_refuses_text(tmp_path):
    from aimv_backend.util.weights import load_torch_weights

    path = tmp_path / "x.pth"
    path.write_text("hello")
    with pytest.raises(ModelUnavailableError, match="not a PyTorch checkpoint"):
        load_torch_weights(path, what="model")


def test_listening_resumes_from_its_checkpoint(tmp_path, monkeypatch, run_aimv):
    """13.20: an interrupted listen keeps its finished blocks; the re-run does not redo them."""
    from aimv_backend.listen import instruments as instruments_module
    from aimv_backend.listen.checkpoint import CHECKPOINT_FILE
    from aimv_backend.listen.instruments import InstrumentResult
    from aimv_backend.listen.voice import VoiceResult
    from aimv_timeline.schema import InstrumentGuess, Voice

    song = tmp_path / "song.wav"
    sf.write(song, _tone(3.0, 22050), 22050)
    out = tmp_path / "out"
    calls = []

    def fake_tagger(*, audio_info, windows, options, progress, silent=None, notes=None):
        calls.append(len(windows))
        guess = InstrumentGuess(
            label="piano", word="piano", category="keys", score=0.9, confident=True
        )
        return InstrumentResult("fake:tagger", tuple((guess,) for _ in windows))

    def interrupted(**kwargs):  # Ctrl-C in the voice part, once the instruments are heard
        for _ in range(1000):
            if calls:
                break
            threading.Event().wait(0.01)
        raise KeyboardInterrupt

    monkeypatch.setattr(instruments_module, "tag_instruments", fake_tagger)
    import aimv_backend.listen.voice as voice_module

    monkeypatch.setattr(voice_module, "listen_voice", interrupted)
    first = run_aimv("analyze", song, "-o", out, "--instruments", "musicnn", "--no-describe", "-q")
    assert first.code == 130 and calls == [3]
    saved = json.loads((out / CHECKPOINT_FILE).read_text())
    assert "instruments" in saved["parts"]

    def quiet_voice(*, audio_info, windows, options, progress):
        silent = Voice(present=False, probability=0.0, text="", words=())
        return VoiceResult("fake:asr", "fake:vad", None, tuple(silent for _ in windows))

    monkeypatch.setattr(voice_module, "listen_voice", quiet_voice)
    again = run_aimv("analyze", song, "-o", out, "--instruments", "musicnn", "--no-describe", "-q")
    assert again.code == 0, again.err
    assert calls == [3]  # the tags came from the checkpoint: the tagger did not run again
    assert not (out / CHECKPOINT_FILE).exists()  # removed once the timeline was written
    timeline = json.loads((out / "timeline.json").read_text())
    assert timeline["engines"]["instruments"] == "fake:tagger"


@pytest.mark.parametrize("flags", [("--progress", "json"), ("--progress", "json", "-q")])
def test_a_cancelled_run_says_so_as_an_event(tmp_path, monkeypatch, run_aimv, flags):
    """A script reading --progress json learns of Ctrl-C from a ``cancelled`` event, as it
    learns of a failure from ``error``; the person still gets the one line and exit 130."""
    import aimv_backend.listen.voice as voice_module

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(voice_module, "listen_voice", interrupted)
    song = tmp_path / "song.wav"
    sf.write(song, _tone(3.0, 22050), 22050)
    result = run_aimv("analyze", song, "-o", tmp_path / "out", "--no-describe", *flags)
    assert result.code == 130
    kinds = [e.kind for e in map(events.parse_line, result.err.splitlines()) if e is not None]
    assert kinds[-1] == "cancelled" and "error" not in kinds
    assert result.err.splitlines()[-1] == "aimv: cancelled"


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux's /sys")
def test_a_video_folder_nobody_may_write_is_refused_before_listening(tmp_path, run_aimv):
    """Even as root (where permission bits say yes), /sys takes no new file: the run stops
    before minutes of listening, naming the folder, not a temporary file of its own."""
    song = tmp_path / "song.wav"
    sf.write(song, _tone(3.0, 22050), 22050)
    work = tmp_path / "work"
    result = run_aimv("render", song, "-o", "/sys/kernel/v.mp4", "--work-dir", work, *LISTEN_FAST)
    line = _one_line(result)
    assert "'/sys/kernel'" in line and "not writable" in line and "partial" not in line
    assert not work.exists()


@pytest.mark.parametrize("command", ["describe", "imagine", "stage"])
def test_a_song_given_where_a_timeline_is_wanted_says_to_listen_first(tmp_path, run_aimv, command):
    song = tmp_path / "song.wav"
    sf.write(song, _tone(2.0, 22050), 22050)
    extra = ["-o", tmp_path / "v.mp4"] if command == "stage" else []
    line = _one_line(run_aimv(command, song, *extra))
    assert "is a sound file, not a timeline" in line and "aimv listen" in line


@pytest.mark.parametrize(
    ("seconds", "window", "hint"),
    [(0.1, "1.0", "a song must last at least 0.25 s"), (0.5, "1.0", "use a shorter --window")],
)
def test_a_song_shorter_than_a_window_gets_a_hint_that_can_be_followed(
    tmp_path, run_aimv, seconds, window, hint
):
    song = tmp_path / "short.wav"
    sf.write(song, _tone(seconds, 22050), 22050)
    line = _one_line(run_aimv("listen", song, "-o", tmp_path / "out", "--window", window, "-q"))
    assert hint in line
    if "--window" in hint:  # and following it works
        result = run_aimv("listen", song, "-o", tmp_path / "out", "--window", "0.25", *LISTEN_FAST)
        assert result.code == 0, result.err


def test_staging_at_a_frame_rate_below_one_frame_a_window_is_one_line(tmp_path, run_aimv):
    """`aimv render` refused it; `aimv stage` on a timeline of 0.25 s windows gave a
    traceback from the keying."""
    song = tmp_path / "song.wav"
    sf.write(song, _tone(3.0, 22050), 22050)
    work = tmp_path / "w"
    assert run_aimv("listen", song, "-o", work, "--window", "0.25", *LISTEN_FAST).code == 0
    out = tmp_path / "v.mp4"
    line = _one_line(run_aimv("stage", work / "timeline.json", "-o", out, "--fps", "2"))
    assert "--fps 2 gives less than one frame per window" in line and "0.25 s" in line
    assert not out.exists()


@pytest.mark.parametrize("where", ["no-such-folder/s.blend", "a-folder.blend", "s.txt"])
def test_a_bad_blend_out_is_one_line_before_staging(tmp_path, run_aimv, where):
    """The scene is saved to a temporary file beside it: a missing folder was named by that
    file's name, and a folder named like a .blend would have been moved aside with --force."""
    song = tmp_path / "song.wav"
    sf.write(song, _tone(3.0, 22050), 22050)
    work = tmp_path / "w"
    assert run_aimv("listen", song, "-o", work, *LISTEN_FAST).code == 0
    (tmp_path / "a-folder.blend").mkdir()
    out = tmp_path / "v.mp4"
    blend = tmp_path / where
    line = _one_line(
        run_aimv("stage", work / "timeline.json", "-o", out, "--blend-out", blend, "--force")
    )
    assert "--blend-out" in line and str(blend) in line
    assert not out.exists() and (tmp_path / "a-folder.blend").is_dir()


def test_diffusers_offline_without_the_model_is_refused_before_listening(tmp_path, run_aimv):
    """The model is looked up in the local cache first: no minutes of listening, no work
    folder, and a line saying what to give."""
    song = tmp_path / "song.wav"
    sf.write(song, _tone(3.0, 22050), 22050)
    out = tmp_path / "v.mp4"
    args = ("render", song, "-o", out, "--textures", "diffusers", "--offline", "-q")
    line = _one_line(run_aimv(*args, "--model", "nobody/no-such-model"))
    assert "'nobody/no-such-model' is not in the local Hugging Face cache" in line
    assert "--model" in line and not (tmp_path / "v.aimv").exists() and not out.exists()
