"""What ships: the runtime wheel and the extension zip carry the product and its contract, and
nothing of the test tooling (aimv_testkit: the song synthesiser and the tiny models)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.blender.conftest import ROOT, needs_bpy


def _testkit_files(archive: zipfile.ZipFile) -> list[str]:
    """Files of the test tooling, or product files that would need it."""
    return [
        n
        for n in archive.namelist()
        if n.startswith("aimv_testkit/")
        or "/synth/" in n
        or "tiny_models" in n
        or (n.endswith(".py") and b"aimv_testkit" in archive.read(n))
    ]


@pytest.mark.slow
def test_the_wheel_has_the_product_and_no_test_tooling(tmp_path):
    source = tmp_path / "src"  # a copy: the build writes build/ and *.egg-info beside it
    ignore = shutil.ignore_patterns(".*", "__pycache__", "build", "dist", "*.egg-info", "tests")
    shutil.copytree(ROOT, source, ignore=ignore)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(tmp_path)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = tmp_path.glob("aimv-*.whl")
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"aimv_backend", "aimv_blender", "aimv_timeline"}
    assert "aimv_timeline/schema.py" in names and "aimv_backend/orchestrator.py" in names
    assert _testkit_files(archive) == []


@needs_bpy
@pytest.mark.blender
def test_the_extension_zip_has_the_contract_and_no_test_tooling(extension_zip):
    archive = zipfile.ZipFile(extension_zip)
    names = archive.namelist()
    contract = {f"aimv_timeline/{p.name}" for p in (ROOT / "aimv_timeline").glob("*.py")}
    assert {"contract.py", "aimv_timeline/schema.py", "aimv_timeline/reader.py"} <= set(names)
    assert contract <= set(names), sorted(contract - set(names))  # every module of the contract
    assert _testkit_files(archive) == []
    assert not any(n.startswith("aimv_backend/") for n in names)
