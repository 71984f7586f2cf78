"""Fixtures of the texture tests: timelines built in the test, tiny diffusers models on disk."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from imagine_helpers import SONG, RecordingProgress, make_timeline  # noqa: E402

from aimv_timeline.schema import Timeline  # noqa: E402


@pytest.fixture
def song_timeline() -> Timeline:
    """Five windows, two of which share a prompt (and colour and volume)."""
    return make_timeline(SONG)


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory) -> Path:
    """A tiny random Stable Diffusion pipeline saved with save_pretrained (64x64 images)."""
    from aimv_testkit.tiny_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("tiny-sd") / "model")


@pytest.fixture(scope="session")
def tiny_vae(tmp_path_factory) -> Path:
    from aimv_testkit.tiny_models import build_tiny_vae

    return build_tiny_vae(tmp_path_factory.mktemp("tiny-vae") / "vae")


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def recording_progress() -> RecordingProgress:
    return RecordingProgress()


@pytest.fixture(scope="session")
def tiny_ltx(tmp_path_factory) -> Path:
    """A tiny random LTX-Video pipeline saved with save_pretrained (sizes: multiples of 32)."""
    from aimv_testkit.tiny_models import build_tiny_ltx

    return build_tiny_ltx(tmp_path_factory.mktemp("tiny-ltx") / "model")
