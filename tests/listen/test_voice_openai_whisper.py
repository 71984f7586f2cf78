"""The openai-whisper engine's real loading and transcription code, offline.

A random-weight checkpoint in openai-whisper's own file format (``{"dims", "model_state_dict"}``)
stands in for the real weights, which cannot be downloaded here.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _voice_audio as va  # noqa: E402
from _voice_whisper_ckpt import TINY_DIMS, write_random_checkpoint  # noqa: E402

from aimv_backend.audio.io import probe_audio  # noqa: E402
from aimv_backend.errors import ModelUnavailableError  # noqa: E402
from aimv_backend.listen.voice import VoiceOptions, listen_voice  # noqa: E402
from aimv_backend.listen.voice import asr_openai_whisper as ow  # noqa: E402
from aimv_backend.listen.windows import make_windows  # noqa: E402
from aimv_backend.progress import SilentProgress  # noqa: E402

pytest.importorskip("whisper")


class _Notices(SilentProgress):
    def __init__(self):
        self.messages = []

    def notice(self, message):
        self.messages.append(message)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write_random_checkpoint(tmp_path_factory.mktemp("ow") / "tiny-random.pt")


def test_checkpoint_loads_with_weights_only(checkpoint):
    model, notice = ow.load_model(str(checkpoint), None, "cpu")
    assert model.dims.n_text_state == TINY_DIMS["n_text_state"]
    assert model.is_multilingual
    assert notice is not None and "not an official model" in notice


def test_a_pickle_with_code_is_refused(tmp_path):
    import argparse

    import torch

    # Anything beyond tensors and plain containers (here an argparse.Namespace) needs full
    # unpickling, which weights_only=True refuses.
    bad = tmp_path / "evil.pt"
    torch.save({"dims": TINY_DIMS, "model_state_dict": {}, "x": argparse.Namespace(a=1)}, bad)
    with pytest.raises(ModelUnavailableError, match="cannot be loaded"):
        ow.load_model(str(bad), None, "cpu")


@pytest.mark.slow
def test_random_checkpoint_gives_a_well_formed_result_offline(checkpoint, tmp_path, monkeypatch):
    bed = va.pad(4.0) * 0.3
    mix = va.place(bed, va.speak("my heart is on fire"), 1.0, snr_db=8.0)
    path = va.write(tmp_path / "line.wav", mix)
    info = probe_audio(path)
    windows = make_windows(frames=info.frames, sample_rate=info.sample_rate, window_seconds=1.0)

    def refuse(sock, address):
        raise AssertionError(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    progress = _Notices()
    options = VoiceOptions(
        asr="openai-whisper", model=str(checkpoint), language="en", allow_download=False
    )
    result = listen_voice(audio_info=info, windows=windows, options=options, progress=progress)
    assert result.engine == "openai-whisper:tiny-random.pt"
    # The given language is recorded when words survive; a random model's garbage may not.
    assert result.language == ("en" if any(v.words for v in result.windows) else None)
    assert len(result.windows) == len(windows) == 4
    assert not result.windows[0].present and result.windows[1].present
    for i, voice in enumerate(result.windows):
        assert 0.0 <= voice.probability <= 1.0
        assert voice.text == " ".join(w.text for w in voice.words)
        for w in voice.words:  # garbage words, but in this window and inside the song
            assert windows[i].start <= 0.5 * (w.start + w.end) <= windows[i].end
            assert 0.0 <= w.start <= w.end <= info.duration
    assert any("not an official model" in m for m in progress.messages)


def test_named_model_is_looked_up_in_the_whisper_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ow.whisper_cache_dir() == tmp_path / "whisper"
    with pytest.raises(ModelUnavailableError, match="downloads are not allowed"):
        ow.resolve_checkpoint("base", allow_download=False)
    # A damaged download is reported, never silently replaced or loaded.
    (tmp_path / "whisper").mkdir()
    damaged = tmp_path / "whisper" / "base.pt"
    damaged.write_bytes(b"half a file")
    with pytest.raises(ModelUnavailableError, match="sha256"):
        ow.resolve_checkpoint("base", allow_download=True)
    assert damaged.read_bytes() == b"half a file"


def test_a_failed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    import whisper

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def offline(url, root, in_memory):
        Path(root, "tiny.pt").write_bytes(b"partial")
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(whisper, "_download", offline)
    with pytest.raises(ModelUnavailableError, match="cannot be downloaded"):
        ow.resolve_checkpoint("tiny", allow_download=True)
    assert list((tmp_path / "whisper").iterdir()) == []


def test_official_names_get_their_alignment_heads(checkpoint, tmp_path):
    # A checkpoint file named like an official one is matched by name (tiny's heads need
    # tiny's 4x6 decoder; ours is 2x2, so it falls back with a notice instead of failing).
    renamed = tmp_path / "tiny.pt"
    renamed.write_bytes(checkpoint.read_bytes())
    assert ow._official_name(renamed) == "tiny"
    model, notice = ow.load_model(str(renamed), None, "cpu")
    assert notice is not None
    assert np.asarray(model.alignment_heads.to_dense()).any()


def test_a_song_without_voice_never_loads_the_checkpoint(tmp_path):
    import soundfile as sf

    bogus = tmp_path / "bogus.pt"
    # looks like a checkpoint (a zip) to the up-front check, but would fail to load
    bogus.write_bytes(b"PK\x03\x04 not a checkpoint")
    path = tmp_path / "silence.wav"
    sf.write(str(path), np.zeros(3 * 16000, dtype=np.float32), 16000)
    info = probe_audio(path)
    windows = make_windows(frames=info.frames, sample_rate=info.sample_rate, window_seconds=1.0)
    options = VoiceOptions(asr="openai-whisper", model=str(bogus), allow_download=False)
    result = listen_voice(
        audio_info=info, windows=windows, options=options, progress=SilentProgress()
    )
    assert result.engine == "openai-whisper:bogus.pt"
    assert [v.present for v in result.windows] == [False] * 3
