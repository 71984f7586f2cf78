"""The add-on's timeline reader is a verbatim copy of the backend's (tools/sync_schema.py)."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.blender.conftest import ROOT


def test_timeline_schema_copy_is_byte_identical():
    backend = (ROOT / "aimv_backend" / "timeline_schema.py").read_bytes()
    addon = (ROOT / "aimv_blender" / "timeline_schema.py").read_bytes()
    assert addon == backend, "run: python tools/sync_schema.py"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "sync_schema.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "up to date" in done.stdout


def test_addon_never_imports_the_backend_or_heavy_packages():
    banned = {"aimv_backend", "numpy", "torch", "librosa", "soundfile", "scipy"}
    for path in (ROOT / "aimv_blender").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"
