"""Fixtures shared by every test area: audio writers and a CLI runner.

Tests make their own audio (tones, noise, silence, rendered instruments, espeak-ng speech):
nothing is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from aimv_timeline import offline

# Keep Blender's and the models' user folders inside the test session.
_SESSION_HOME = Path(os.environ.setdefault("AIMV_TEST_HOME", "/tmp/aimv-test-home"))
os.environ.setdefault("BLENDER_USER_RESOURCES", str(_SESSION_HOME / "blender"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("AIMV_CACHE_DIR", str(_SESSION_HOME / "aimv-cache"))
# No test reaches the network (docs/security.md): this process and every child refuse any
# non-local connection, and telemetry is off everywhere.
os.environ["AIMV_NO_NETWORK"] = "1"
offline.enforce(offline=False)


def sine(freq_hz: float, seconds: float, sample_rate: int, *, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def db_to_amplitude(db: float) -> float:
    return float(10 ** (db / 20))


@pytest.fixture
def write_wav(tmp_path: Path) -> Callable[..., Path]:
    """write_wav(name, samples, sample_rate, subtype=None, format=None) -> path."""

    def _write(
        name: str,
        samples: np.ndarray,
        sample_rate: int,
        *,
        subtype: str | None = None,
        format: str | None = None,
    ) -> Path:
        path = tmp_path / name
        sf.write(path, samples, sample_rate, subtype=subtype, format=format)
        return path

    return _write


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_aimv(capsys) -> Callable[..., CliResult]:
    """Run ``aimv`` in-process: run_aimv("analyze", path, "-o", out) -> CliResult."""
    from aimv_backend.cli.main import main

    def _run(*argv: object) -> CliResult:
        capsys.readouterr()
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run
