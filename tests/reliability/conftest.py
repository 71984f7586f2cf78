"""Fixtures of the reliability tests: a short song, a real MP4, a fake Blender binary."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.blender.conftest import blender_env  # noqa: F401 - shared with the Blender tests

HERE = Path(__file__).parent
SONG_SECONDS = 3.0


@pytest.fixture(scope="session")
def short_song(tmp_path_factory) -> Path:
    rate = 22050
    t = np.arange(int(SONG_SECONDS * rate)) / rate
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))).astype(
        np.float32
    )
    path = tmp_path_factory.mktemp("song") / "song.wav"
    sf.write(path, audio, rate)
    return path


@pytest.fixture(scope="session")
def real_mp4(tmp_path_factory) -> Path:
    """A small MP4 with a video and an audio stream, as long as the song."""
    if shutil.which("ffmpeg") is None:
        if os.environ.get("CI"):
            raise RuntimeError("ffmpeg is not installed")
        pytest.skip("ffmpeg is not installed (scripts/setup.sh --dev installs it)")
    out = tmp_path_factory.mktemp("mp4") / "ref.mp4"
    d = str(SONG_SECONDS)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color=c=blue:s=64x36:d={d}:r=8",
         "-f", "lavfi", "-i", f"sine=d={d}", "-c:v", "libx264", "-c:a", "aac", "-shortest",
         str(out)],
        check=True,
        timeout=120,
    )  # fmt: skip
    return out


@pytest.fixture
def fake_blender(tmp_path, real_mp4, monkeypatch) -> Path:
    """An executable that behaves like Blender for ``aimv render --blender``."""
    exe = tmp_path / "fake-blender"
    exe.write_text(f"#!{sys.executable}\n" + (HERE / "fake_blender.py").read_text())
    exe.chmod(0o755)
    monkeypatch.setenv("FAKE_BLENDER_VIDEO", str(real_mp4))
    monkeypatch.setenv("FAKE_BLENDER_MODE", "ok")
    return exe


def render_args(song: Path, output: Path, blender: Path, *extra: str) -> list[str]:
    """A fast ``aimv render``: no models, procedural textures, the fake Blender."""
    return [
        "render", str(song), "-o", str(output), "--blender", str(blender),
        "--instruments", "none", "--no-voice", "--no-describe", "--textures", "procedural",
        "--texture-size", "64", "--resolution", "64x36", "--fps", "8", "--progress", "none",
        *extra,
    ]  # fmt: skip
