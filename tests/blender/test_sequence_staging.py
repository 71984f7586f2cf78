"""The chunks of one render stage the same work folder at the same time.

Each chunk's Blender links the window textures into ``aimv_sequence/`` while the others read
them. A rebuild must never leave a moment where a texture of the sequence is missing or half
written: that made a chunk fail with "Cannot read '.../aimv_00001.png'" now and then (an album
lost a song's video to it).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.blender import fixtures
from tests.blender.conftest import ROOT, needs_bpy

pytestmark = [pytest.mark.blender, pytest.mark.slow, needs_bpy]

RESTAGE_SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, ROOT)
from aimv_blender.layers import background
from aimv_timeline.schema import read_timeline

timeline_path, seconds = Path(sys.argv[1]), float(sys.argv[2])
timeline = read_timeline(timeline_path)
folder = timeline_path.parent
print("ready", flush=True)
stop = time.monotonic() + seconds
builds = 0
while time.monotonic() < stop:
    background.stage_sequence(timeline, folder, folder / background.SEQUENCE_FOLDER)
    builds += 1
print("builds", builds, flush=True)
"""


def _complete_png(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    return data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")


def test_a_sequence_being_restaged_is_always_readable(tmp_path, blender_env):
    timeline = fixtures.make_timeline(tmp_path / "work", textures=True)
    script = tmp_path / "restage.py"
    script.write_text(RESTAGE_SCRIPT.replace("ROOT", repr(str(ROOT))))
    sequence = timeline.parent / "aimv_sequence"
    restager = subprocess.Popen(
        [sys.executable, str(script), str(timeline), "4"],
        env=blender_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert restager.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while not sequence.is_dir() or len(list(sequence.glob("aimv_*.png"))) < 4:
        assert time.monotonic() < deadline and restager.poll() is None
        time.sleep(0.01)
    files = sorted(sequence.glob("aimv_*.png"))
    reads = broken = 0
    while restager.poll() is None:  # read every texture, over and over, while it restages
        for f in files:
            reads += 1
            broken += not _complete_png(f)
    out, err = restager.communicate(timeout=60)
    builds = int(out.split("builds")[-1])
    assert restager.returncode == 0, err[-2000:]
    assert builds > 20 and reads > 200, (builds, reads)  # the two really overlapped
    assert broken == 0, f"{broken} of {reads} reads found a missing or partial texture"
    assert not list(sequence.glob(".*.tmp"))  # no temporary file left behind
