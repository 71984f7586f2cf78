"""PANNs Cnn14: checkpoint lookup, loading a real-format checkpoint offline, auto fallback.

The real checkpoint (327 MB from Zenodo) cannot be fetched here, so a Cnn14 with random
weights is saved exactly as panns-inference stores it ({"model": state_dict}) and the real
loading code runs on it. Its scores are meaningless; the tests check the plumbing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.listen.instruments import InstrumentOptions, load_engine, tag_instruments
from aimv_backend.listen.instruments import panns_engine as pe
from aimv_backend.listen.instruments.labels import AUDIOSET_INSTRUMENTS
from tests.listen._instrument_clips import (
    RATE,
    RecordingProgress,
    no_network,
    windows_of,
    write_clip,
)


@pytest.fixture(scope="module")
def random_checkpoint(tmp_path_factory) -> Path:
    """A Cnn14 with random weights in panns-inference's checkpoint format (327 MB)."""
    import torch

    torch.manual_seed(0)
    model = pe.panns_models_module().Cnn14(**pe.CNN14_KWARGS)
    path = tmp_path_factory.mktemp("panns") / "Cnn14_random.pth"
    torch.save({"model": model.state_dict(), "iteration": 0}, path)
    return path


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh $HOME without PANNs files, and no $AIMV_PANNS_CHECKPOINT."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(pe.ENV_CHECKPOINT, raising=False)
    return tmp_path / "home"


def _noise_clip(folder: Path, seconds: float = 5.0):
    rng = np.random.default_rng(1)
    return write_clip(
        folder, "noise", (0.1 * rng.standard_normal(int(seconds * RATE))).astype(np.float32)
    )


def test_checkpoint_path_comes_from_option_then_env_then_home(home, monkeypatch, tmp_path):
    assert pe.resolve_checkpoint(None) == home / "panns_data" / "Cnn14_mAP=0.431.pth"
    monkeypatch.setenv(pe.ENV_CHECKPOINT, str(tmp_path / "env.pth"))
    assert pe.resolve_checkpoint(None) == tmp_path / "env.pth"
    assert pe.resolve_checkpoint(str(tmp_path / "opt.pth")) == tmp_path / "opt.pth"


def test_panns_models_load_without_running_the_package_init(home):
    models = pe.panns_models_module()
    assert hasattr(models, "Cnn14")
    assert "_aimv_panns_inference.config" not in sys.modules  # the module that runs wget
    assert not (home / "panns_data").exists()


@pytest.mark.slow
def test_real_loading_code_tags_with_a_random_weight_checkpoint_offline(
    random_checkpoint, home, tmp_path, monkeypatch
):
    calls: list[str] = []
    no_network(monkeypatch, calls)
    info = _noise_clip(tmp_path)
    progress = RecordingProgress()
    options = InstrumentOptions(  # the tagger alone (drum pieces: test_drums.py)
        engine="panns", panns_checkpoint=str(random_checkpoint), allow_download=True, drums="none"
    )
    result = tag_instruments(
        audio_info=info, windows=windows_of(info), options=options, progress=progress
    )
    assert result.engine == "panns:Cnn14"
    assert len(result.windows) == 5 and all(len(w) >= 3 for w in result.windows)
    for window in result.windows:
        assert len({g.word for g in window}) == len(window)
        for guess in window:
            assert AUDIOSET_INSTRUMENTS[guess.label].word == guess.word
            assert 0.0 <= guess.score <= 1.0
    assert calls == [] and not (home / "panns_data").exists()
    assert progress.tasks[0][0] == "instruments (panns)"
    # $AIMV_PANNS_CHECKPOINT is honoured the same way, and "auto" prefers PANNs when present
    monkeypatch.setenv(pe.ENV_CHECKPOINT, str(random_checkpoint))
    assert load_engine(InstrumentOptions(engine="auto"), RecordingProgress()).name == "panns:Cnn14"


@pytest.mark.slow
def test_song_features_are_the_same_whether_or_not_the_song_is_chunked(
    random_checkpoint, monkeypatch
):
    import torch

    from aimv_backend.progress import SilentProgress

    engine = pe.PannsEngine(random_checkpoint, device="cpu")
    audio = (0.1 * np.random.default_rng(2).standard_normal(32000 * 4)).astype(np.float32)
    whole = engine.song_features(audio, batch_size=4, progress=SilentProgress())
    monkeypatch.setattr(pe, "CHUNK_FRAMES", 5)  # 1.6 s chunks: two chunk borders inside
    chunked = engine.song_features(audio, batch_size=2, progress=SilentProgress())
    assert whole.shape == chunked.shape == (2048, 13)
    assert torch.allclose(whole, chunked, atol=1e-5)
    # and the pooled head equals Cnn14.forward on a clip (the design's clipwise output)
    clip = torch.from_numpy(audio[: 32000 * 2])[None]
    with torch.inference_mode():
        expected = engine.model(clip)["clipwise_output"]
        got = pe._head(engine.model, pe._trunk(engine.model, clip))
    assert torch.allclose(expected, got, atol=1e-6)


def test_auto_falls_back_to_musicnn_offline_without_a_checkpoint(home, tmp_path, monkeypatch):
    """Offline, or with the download host silent, auto says so in ONE line, and a failure is
    remembered: the next run does not try again (issue 13.18, issue 10's new user)."""
    from aimv_backend.util import net

    calls: list[str] = []
    no_network(monkeypatch, calls)
    resolved: list[str] = []

    def dead_network(host, port, timeout_s):
        resolved.append(host)
        assert timeout_s <= 2.0
        raise TimeoutError("timed out")

    monkeypatch.setattr(net, "_resolve", dead_network)
    monkeypatch.setenv("AIMV_CACHE_DIR", str(tmp_path / "cache"))  # this test's memory only
    info = _noise_clip(tmp_path, 3.0)
    for allow_download in (False, True, True):
        progress = RecordingProgress()
        result = tag_instruments(
            audio_info=info,
            windows=windows_of(info),
            options=InstrumentOptions(engine="auto", allow_download=allow_download),
            progress=progress,
        )
        assert result.engine == "musicnn:MTT_musicnn"
        assert len(progress.notices) == 1, progress.notices  # no "downloading ..." line
        assert progress.notices[0].startswith("instruments: musicnn")
        assert "downloading" not in progress.notices[0]
    assert "offline" not in progress.notices[0] and "did not answer" in progress.notices[0]
    assert resolved == ["zenodo.org"]  # tried once; the third run remembered the failure
    assert calls == []  # urlopen never ran: the host check failed within 2 s
    assert not (home / "panns_data").exists() or list((home / "panns_data").iterdir()) == []


def test_panns_asked_for_offline_is_a_clear_error(home, tmp_path):
    info = _noise_clip(tmp_path, 2.0)
    with pytest.raises(ModelUnavailableError) as err:
        tag_instruments(
            audio_info=info,
            windows=windows_of(info),
            options=InstrumentOptions(engine="panns", allow_download=False),
            progress=RecordingProgress(),
        )
    message = str(err.value)
    assert "Cnn14_mAP=0.431.pth" in message and "--instruments musicnn" in message
    assert "\n" not in message


def test_a_broken_existing_checkpoint_is_reported_and_never_overwritten(
    home, tmp_path, monkeypatch
):
    calls: list[str] = []
    no_network(monkeypatch, calls)
    bad = tmp_path / "models" / "Cnn14_mAP=0.431.pth"
    bad.parent.mkdir()
    bad.write_bytes(b"not a checkpoint" * 1000)
    before = bad.read_bytes()
    info = _noise_clip(tmp_path, 2.0)
    options = InstrumentOptions(engine="panns", panns_checkpoint=str(bad), allow_download=True)
    with pytest.raises(ModelUnavailableError, match="cannot be loaded"):
        tag_instruments(
            audio_info=info, windows=windows_of(info), options=options, progress=RecordingProgress()
        )
    assert bad.read_bytes() == before and calls == []
    assert sorted(p.name for p in bad.parent.iterdir()) == [bad.name]
    progress = RecordingProgress()
    auto = InstrumentOptions(engine="auto", panns_checkpoint=str(bad))
    assert load_engine(auto, progress).name == "musicnn:MTT_musicnn"
    assert "cannot be loaded" in progress.notices[0]
