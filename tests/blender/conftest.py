"""Session fixtures of the Blender tests: fixture timelines, the extension zip, a clean env.

bpy runs only in subprocesses (one per test module): it is heavy, writes its user folders on
import and cannot be re-initialised inside one process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.blender import fixtures

ROOT = Path(__file__).resolve().parents[2]
FPS = 12


def bpy_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("bpy") is not None


def bpy42_python() -> Path | None:
    """The Python of the Blender 4.2 LTS environment (scripts/setup.sh --dev makes
    .venv-bpy42 with bpy 4.2 and numpy only), or $AIMV_BPY42_PYTHON; None when there is none."""
    given = os.environ.get("AIMV_BPY42_PYTHON")
    path = Path(given) if given else ROOT / ".venv-bpy42" / "bin" / "python"
    return path if path.is_file() else None


def bpy_pythons() -> dict[str, str]:
    """Blender version -> the Python that imports that bpy: 5.0 (this one) and 4.2 LTS."""
    out = {"5.0": sys.executable} if bpy_available() else {}
    if bpy42_python() is not None:
        out["4.2"] = str(bpy42_python())
    return out


needs_bpy = pytest.mark.skipif(not bpy_available(), reason="the bpy module is not installed")
needs_bpy42 = pytest.mark.skipif(
    bpy42_python() is None, reason="no Blender 4.2 environment: run scripts/setup.sh --dev"
)


@pytest.fixture(scope="session")
def blender_env(tmp_path_factory) -> dict[str, str]:
    """Environment for bpy subprocesses: Blender's and the user's folders in a temp dir."""
    home = tmp_path_factory.mktemp("blender-home")
    env = dict(os.environ)
    env.update(
        BLENDER_USER_RESOURCES=str(home / "blender"),
        BLENDER_USER_CONFIG=str(home / "blender" / "config"),
        BLENDER_USER_SCRIPTS=str(home / "blender" / "scripts"),
        BLENDER_USER_EXTENSIONS=str(home / "blender" / "extensions"),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture(scope="session")
def timelines(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("timelines")
    return {
        "textured": fixtures.make_timeline(base / "textured", textures=True),
        "plain": fixtures.make_timeline(base / "plain", textures=False),
    }


@pytest.fixture(scope="session")
def extension_zip(tmp_path_factory) -> Path:
    """The extension built (and validated) by tools/build_extension.py."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_extension.py"), "--output-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    path = Path(done.stdout.strip().splitlines()[-1])
    assert path.is_file()
    return path


def window_frames(fps: int = FPS) -> list[dict[str, int]]:
    """Each fixture window's frames (1 s windows, frame 1 = t 0), computed independently."""
    out = []
    for i in range(len(fixtures.WINDOWS)):
        first, last = 1 + i * fps, (i + 1) * fps
        out.append({"first_frame": first, "last_frame": last, "middle_frame": first + fps // 2})
    return out


def run_bpy_script(
    script: Path,
    config: dict,
    tmp: Path,
    env: dict[str, str],
    timeout: float = 180,
    python: str = sys.executable,
) -> dict:
    """Run ``script CONFIG RESULT`` in ``python`` (a bpy environment); its facts as a dict."""
    cfg, result = tmp / "config.json", tmp / "result.json"
    cfg.write_text(json.dumps(config))
    done = subprocess.run(
        [python, str(script), str(cfg), str(result)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.is_file(), (
        f"bpy script wrote nothing (rc {done.returncode}):\n{done.stderr[-3000:]}"
    )
    data = json.loads(result.read_text())
    assert "exception" not in data, data["exception"]
    return data
