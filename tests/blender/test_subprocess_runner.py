"""The backend runner without Blender: argument lists, JSON progress, failure, cancel."""

from __future__ import annotations

import io
import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from aimv_blender import subprocess_runner as sr
from aimv_timeline import AimvError
from tests.blender import fixtures

FAKE = Path(__file__).parent / "fake_backend.py"


def settings(tmp_path, **kw) -> sr.BackendSettings:
    return sr.BackendSettings(
        command=shlex.join([sys.executable, str(FAKE)]),
        audio=tmp_path / "song.wav",
        work_dir=tmp_path / "work",
        **kw,
    )


def test_one_backend_command_with_json_events(tmp_path):
    s = settings(tmp_path, window_seconds=0.5, language="es", textures="none", seed=7)
    steps = sr.backend_steps(s, ["aimv"])
    assert len(steps) == 1  # one command streams every stage's events
    argv = list(steps[0].argv)
    assert argv[:3] == ["aimv", "render", str(tmp_path / "song.wav")]
    for flag, value in (
        ("--work-dir", str(tmp_path / "work")),
        ("--until", "describe"),  # textures "none": no imagine stage
        ("--window", "0.5"),
        ("--language", "es"),
        ("--seed", "7"),
        ("--progress", "json"),
    ):
        assert argv[argv.index(flag) + 1] == value
    assert "--offline" in argv  # Blender's online access is off by default
    online = sr.backend_steps(settings(tmp_path, online=True), ["aimv"])[0].argv
    assert "--offline" not in online and online[online.index("--until") + 1] == "imagine"
    assert online[online.index("--texture-size") + 1] == "512x512"  # the preset's
    assert sr.backend_env(online=False, base={})["AIMV_OFFLINE"] == "1"
    assert "AIMV_OFFLINE" not in sr.backend_env(online=True, base={})


def test_the_generate_command_parses_in_the_real_cli(tmp_path):
    """The add-on's command line is one the backend accepts (no flag drifted apart)."""
    from aimv_backend.cli.main import build_parser
    from aimv_backend.cli.render_cmd import request_from_args

    s = settings(tmp_path, window_seconds=0.5, language="es", seed=7, force=True)
    argv = list(sr.backend_steps(s, ["aimv"])[0].argv[1:])
    request = request_from_args(build_parser(load="render").parse_args(argv))
    assert request.output is None and request.stages() == ("listen", "describe", "imagine")
    assert request.listen.window_seconds == 0.5 and request.listen.voice.language == "es"
    assert request.imagine.size == (512, 512) and request.force and request.seed == 7
    assert request.listen.rhythm.beats_per_bar is None  # the panel's Auto: the backend's auto
    four = settings(tmp_path, beats_per_bar="4")  # the panel's "Beats per bar" set to 4
    argv = list(sr.backend_steps(four, ["aimv"])[0].argv[1:])
    request = request_from_args(build_parser(load="render").parse_args(argv))
    assert request.listen.rhythm.beats_per_bar == 4


def test_the_panels_generated_clips_choice_asks_the_backend_for_clips(tmp_path):
    """Textures "Generated clips" in the panel: the backend makes stills and an LTX-Video clip
    per bar group (issue 15), through the same flag the command line has."""
    from aimv_backend.cli.main import build_parser
    from aimv_backend.cli.render_cmd import request_from_args

    s = settings(tmp_path, textures="video")
    argv = list(sr.backend_steps(s, ["aimv"])[0].argv[1:])
    assert argv[argv.index("--textures") + 1] == "video"
    request = request_from_args(build_parser(load="render").parse_args(argv))
    assert request.stages() == ("listen", "describe", "imagine")
    assert request.clips is not None and request.clips.model == "Lightricks/LTX-Video"
    assert request.imagine is not None  # the stills under the clips


def test_missing_command_names_it_and_where_to_set_it():
    with pytest.raises(sr.BackendError, match="'no-such-aimv-here' not found.*preferences"):
        sr.resolve_command("no-such-aimv-here --x")
    with pytest.raises(sr.BackendError, match="--aimv"):
        sr.resolve_command("no-such-aimv-here", hint="pass --aimv CMD")
    assert issubclass(sr.BackendError, AimvError)


def test_pipeline_runs_the_stages_and_reports_progress(tmp_path, monkeypatch):
    timeline = fixtures.make_timeline(tmp_path / "fixture", textures=False)
    monkeypatch.setenv("AIMV_FAKE_TIMELINE", str(timeline))
    monkeypatch.setenv("AIMV_FAKE_SLEEP", "0.05")
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
    assert [c[0] for c in calls] == ["render"]
    assert pipe.status == "done"


def test_backend_failure_gives_its_error_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AIMV_FAKE_FAIL", "1")
    s = settings(tmp_path)
    pipe = sr.Pipeline(steps=sr.backend_steps(s, sr.resolve_command(s.command)))
    assert pipe.run() == "failed"
    # the error event, not the EGL noise before it, nor a search for the word "error"
    assert pipe.error == "AIMV backend failed: --window must be in [0.25, 10], got 99"


def test_a_backend_stopped_from_outside_is_cancelled_not_failed(tmp_path, monkeypatch):
    """A job manager's SIGTERM stops the backend with a ``cancelled`` event and exit 130: the
    panel (and the headless script, which exits 130 then) says cancelled, not failed."""
    monkeypatch.setenv("AIMV_FAKE_STOPPED", "1")
    s = settings(tmp_path)
    pipe = sr.Pipeline(steps=sr.backend_steps(s, sr.resolve_command(s.command)))
    assert pipe.run() == "cancelled" and pipe.status == "cancelled" and not pipe.error


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


PARENT_SCRIPT = """
import sys, time
sys.path.insert(0, ROOT)
from aimv_blender import subprocess_runner as sr
child = sr.BackendProcess([sys.executable, "-c", "import time; time.sleep(120)"])
print(child._proc.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_the_backend_dies_with_blender_however_blender_ends(tmp_path):
    """Blender killed (or crashed) while the backend works: the backend stops too, rather than
    listening and rendering on for nobody."""
    import os
    import signal
    import subprocess

    script = tmp_path / "blender_standin.py"
    script.write_text(PARENT_SCRIPT.replace("ROOT", repr(str(Path(__file__).parents[2]))))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    backend = int(parent.stdout.readline())
    os.kill(backend, 0)  # running
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(backend, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(backend, signal.SIGKILL)
    pytest.fail("the backend went on after Blender was killed")


def test_the_status_names_both_listening_parts_while_they_run_side_by_side():
    """Instruments and voice report from two threads; the panel's status names both and the
    stage's bar follows the slower one, instead of jumping between the two."""
    from aimv_backend.progress import JsonLinesProgress
    from aimv_timeline.events import parse_line

    stream = io.StringIO()
    progress = JsonLinesProgress(stream)
    instruments, voice = progress.task("instruments", 10), progress.task("voice", 20)
    instruments.advance(8)
    voice.advance(5)
    instruments.close()
    voice.advance(15)
    voice.close()
    tasks, seen = sr.StageTasks(), []
    for line in stream.getvalue().splitlines():
        event = parse_line(line)
        tasks.update(event.kind, event.get("task"), event.get("done"), event.get("total"))
        seen.append((tasks.label(), round(tasks.fraction(), 2)))
    assert ("instruments + voice", 0.25) in seen  # instruments at 8/10, voice at 5/20
    assert seen[-2] == ("voice", 1.0) and seen[-1] == ("voice", 1.0)
    assert ("voice", 0.25) in seen  # instruments done: voice alone
    assert all(label != "instruments" for label, _ in seen[2:])  # voice is never forgotten
