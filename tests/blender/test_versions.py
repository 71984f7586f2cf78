"""Blender 4.2 LTS as well as 5.0: the built zip validates and installs in both, imports the
contract from inside itself, and (on 4.2, where test_render.py does not run) the headless script
builds the scene and renders with Workbench and stages an EEVEE scene, so the 4.2 API
fallbacks run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aimv_timeline.events import PREFIX
from tests.blender import fixtures
from tests.blender.conftest import FPS, ROOT, bpy_pythons, needs_bpy42, run_bpy_script
from tests.blender.test_render import HEADLESS, H, W, frames, probe

pytestmark = [pytest.mark.blender, pytest.mark.slow]
HERE = Path(__file__).parent
VERSIONS = ("5.0", "4.2")


def python_of(version: str) -> str:
    python = bpy_pythons().get(version)
    if python is None:
        pytest.skip(f"no bpy {version} environment (scripts/setup.sh --dev makes both)")
    return python


def fresh_env(base: dict[str, str], home: Path) -> dict[str, str]:
    """Blender's user folders of one run (4.2 and 5.0 must not share an extensions repo)."""
    env = dict(base)
    for key in (
        "BLENDER_USER_RESOURCES",
        "BLENDER_USER_CONFIG",
        "BLENDER_USER_SCRIPTS",
        "BLENDER_USER_EXTENSIONS",
    ):
        env[key] = str(home / key.lower())
    return env


def blender_ext(python: str) -> Path:
    """blender_ext.py, Blender's extension validator and builder, of the bpy in ``python``."""
    code = (
        "import importlib.util, glob, pathlib; "
        "base = pathlib.Path(importlib.util.find_spec('bpy').origin).parent; "
        "print(sorted(glob.glob(str(base / '*/scripts/addons_core/bl_pkg/cli/blender_ext.py')))"
        "[-1])"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return Path(done.stdout.strip())


@pytest.mark.parametrize("version", VERSIONS)
def test_zip_validates_installs_and_imports_its_own_contract(
    version, extension_zip, timelines, blender_env, tmp_path
):
    python = python_of(version)
    check = subprocess.run(
        [python, str(blender_ext(python)), "validate", str(extension_zip)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    env = fresh_env(blender_env, tmp_path / "home")
    config = {"zip": str(extension_zip), "timeline": str(timelines["textured"]), "fps": FPS}
    data = run_bpy_script(HERE / "bpy_install.py", config, tmp_path, env, python=python)
    assert ".".join(map(str, data["version"][:2])) == version
    assert data["install"] == ["FINISHED"] and data["enabled"]
    extensions = env["BLENDER_USER_EXTENSIONS"]
    for name, (module, file) in data["contract"].items():
        # inside the installed zip, not the checkout's aimv_timeline on sys.path
        assert module == f"bl_ext.user_default.aimv.aimv_timeline.{name}"
        assert file.startswith(extensions), file
    assert data["aimv_error"] == "bl_ext.user_default.aimv.aimv_timeline.errors"
    assert data["defaults"] == [640, 360, 24, "workbench"]  # the preview preset, as the CLI
    assert data["build"] == ["FINISHED"]
    assert data["frames"] == [1, len(fixtures.WINDOWS) * FPS]


def headless42(*args) -> list[str]:
    return [str(python_of("4.2")), str(HEADLESS), "--", *map(str, args)]


@needs_bpy42
def test_bpy42_builds_and_renders_each_window(tmp_path, blender_env, timelines):
    out = tmp_path / "v42.mp4"
    command = headless42(
        "--timeline", timelines["textured"], "-o", out, "--resolution", f"{W}x{H}",
        "--fps", FPS, "--frames", f"1:{2 * FPS}", "--progress", "json",
    )  # fmt: skip
    done = subprocess.run(command, env=blender_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    video = next(s for s in probe(out)["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], int(video["nb_frames"])) == ("h264", 2 * FPS)
    means = frames(out).mean(axis=(1, 2))
    for i, (hex_colour, *_rest) in enumerate(fixtures.WINDOWS[:2]):
        want = np.array(fixtures.hex_rgb(hex_colour), float)
        assert np.abs(means[i * FPS + FPS // 2] - want).max() < 30, (i, means[i * FPS + FPS // 2])
    events = [
        json.loads(x.split(" ", 1)[1])["event"]
        for x in done.stderr.splitlines()
        if x.startswith(PREFIX)
    ]
    assert events[-1] == "end"
    # the bpy 4.2 module has no Audaspace: a silent video, and the user is told why
    assert any("no sound support" in x for x in done.stderr.splitlines())


@needs_bpy42
def test_bpy42_stages_an_eevee_scene(tmp_path, blender_env, timelines):
    """4.2 names EEVEE BLENDER_EEVEE_NEXT: the fallback in render._set_eevee runs here. (An
    EEVEE frame costs 20-90 s in software GL on this CPU; the 5.0 frame is in test_render.)"""
    blend = tmp_path / "eevee42.blend"
    command = headless42(
        "--timeline", timelines["textured"], "--blend-out", blend, "--resolution", "64x36",
        "--fps", FPS, "--engine", "eevee", "--samples", 1,
    )  # fmt: skip
    done = subprocess.run(command, env=blender_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "EGL" not in done.stderr
    assert blend.stat().st_size > 10_000


def test_the_test_runner_sees_both_blenders():
    """CI runs both versions: a missing 4.2 environment is a setup error, not a quiet skip."""
    if not (ROOT / ".venv-bpy42").exists() and sys.prefix != str(ROOT / ".venv"):
        pytest.skip("not the project's own environment")
    found = bpy_pythons()
    assert set(found) == set(VERSIONS), f"found {found}: run scripts/setup.sh --dev"
