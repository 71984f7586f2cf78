"""The backend runner without Blender: argument lists, JSON progress, failure, cancel."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from aimv_blender import subprocess_runner as sr
from tests.blender import fixtures

FAKE = Path(__file__).parent / "fake_backend.py"


def settings(tmp_path, **kw) -> sr.BackendSettings:
    return sr.BackendSettings(
        command=shlex.join([sys.executable, str(FAKE)]),
        audio=tmp_path / "song.wav",
        work_dir=tmp_path / "work",
        **kw,
    )


def test_steps_are_argument_lists_with_json_progress(tmp_path):
    s = settings(tmp_path, window_seconds=0.5, language="es", textures="none", seed=7)
    steps = sr.backend_steps(s, ["aimv"])
    assert [st.name for st in steps] == ["analyze"]
    argv = list(steps[0].argv)
    assert argv[:5] == ["aimv", "analyze", str(tmp_path / "song.wav"), "-o", str(tmp_path / "work")]
    for flag, value in (
        ("--window", "0.5"),
        ("--language", "es"),
        ("--seed", "7"),
        ("--progress", "json"),
    ):
        assert argv[argv.index(flag) + 1] == value
    assert "--offline" in argv  # Blender's online access is off by default
    online = sr.backend_steps(settings(tmp_path, online=True), ["aimv"])
    assert "--offline" not in online[0].argv and online[1].name == "textures"
    assert sr.backend_env(online=False, base={})["AIMV_OFFLINE"] == "1"
    assert "AIMV_OFFLINE" not in sr.backend_env(online=True, base={})


def test_progress_lines_parse_and_others_are_ignored():
    ev = sr.parse_progress_line(
        'AIMV-PROGRESS {"event": "progress", "task": "voice", "done": 3, "total": 10}'
    )
    assert ev == sr.ProgressEvent(event="progress", task="voice", done=3, total=10)
    assert sr.parse_progress_line("aimv: error: bad") is None
    assert sr.parse_progress_line("AIMV-PROGRESS {not json") is None


def test_missing_command_names_it():
    with pytest.raises(sr.BackendError, match="'no-such-aimv-here' not found"):
        sr.resolve_command("no-such-aimv-here --x")


def test_pipeline_runs_both_steps_and_reports_progress(tmp_path, monkeypatch):
    timeline = fixtures.make_timeline(tmp_path / "fixture", textures=False)
    monkeypatch.setenv("AIMV_FAKE_TIMELINE", str(timeline))
    s = settings(tmp_path, online=True)
    pipe = sr.Pipeline(steps=sr.backend_steps(s, sr.resolve_command(s.command)))
    fractions = []
    while pipe.poll() == "running":
        fractions.append(pipe.fraction)
        time.sleep(0.02)
    assert pipe.state == "done" and pipe.fraction == 1.0
    assert fractions == sorted(fractions) and any(0 < f < 1 for f in fractions)
    assert s.timeline_path.is_file()
    calls = [json.loads(x) for x in (s.work_dir / "calls.jsonl").read_text().splitlines()]
    assert [c[0] for c in calls] == ["analyze", "textures"]


def test_backend_failure_gives_its_error_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AIMV_FAKE_FAIL", "1")
    s = settings(tmp_path)
    pipe = sr.Pipeline(steps=sr.backend_steps(s, sr.resolve_command(s.command)))
    assert pipe.run() == "failed"
    assert pipe.error == (
        "backend analyze failed: aimv: error: --window must be in [0.25, 10], got 99"
    )


def test_cancel_interrupts_a_running_backend_quickly(tmp_path, monkeypatch):
    monkeypatch.setenv("AIMV_FAKE_SLEEP", "30")
    s = settings(tmp_path)
    pipe = sr.Pipeline(steps=sr.backend_steps(s, sr.resolve_command(s.command)))
    t0 = time.monotonic()
    while pipe.poll() == "running" and not (s.work_dir / "calls.jsonl").exists():
        time.sleep(0.02)
    time.sleep(0.3)  # let it reach its sleep
    pipe.cancel()
    while pipe.poll() == "running":
        assert time.monotonic() - t0 < 10
        time.sleep(0.02)
    assert pipe.state == "cancelled"
    assert time.monotonic() - t0 < 5
