"""Run the add-on's headless entry script in Blender: the bpy module or a Blender binary.

bpy is not thread-safe and holds ~1 GB, so staging and rendering always run in a child process:
``python aimv_blender/headless.py -- ...`` with the bpy module, or
``blender -b --factory-startup --python aimv_blender/headless.py -- ...`` with a binary.
The child reports events (:mod:`aimv_timeline.events`) on stderr; they are forwarded to the
caller's :class:`Progress`, and its ``error`` event is the failure's message.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aimv_backend.errors import Cancelled, ParameterError, RenderError
from aimv_backend.progress import Progress, Task
from aimv_backend.stage.options import StageOptions
from aimv_backend.util.procs import child_process_kwargs, stop_process_group
from aimv_timeline import offline
from aimv_timeline.events import Event, is_noise, parse_line

RenderSettings = StageOptions  # the old name


def headless_script() -> Path:
    """The add-on's headless entry script, found without importing the add-on (it needs bpy)."""
    spec = importlib.util.find_spec("aimv_blender")
    if spec is None or not spec.submodule_search_locations:
        raise RenderError("the aimv_blender package is not installed beside the backend")
    script = Path(next(iter(spec.submodule_search_locations))) / "headless.py"
    if not script.is_file():
        raise RenderError(f"the add-on's headless script is missing: {script}")
    return script


def blender_command(settings: StageOptions) -> list[str]:
    """The command prefix that runs the headless script (before its ``--`` arguments)."""
    script = str(headless_script())
    if settings.blender:
        binary = shutil.which(settings.blender) or settings.blender
        if not Path(binary).is_file() or not os.access(binary, os.X_OK):
            raise ParameterError(
                f"--blender must be a Blender executable, got {settings.blender!r}"
            )
        return [binary, "-b", "--factory-startup", "--python", script]
    if importlib.util.find_spec("bpy") is None:
        raise RenderError(
            "the bpy module is not installed: run scripts/setup.sh (pip install 'aimv[render]') "
            "or pass --blender PATH"
        )
    return [sys.executable, script]


def run_headless(
    arguments: Sequence[str],
    *,
    settings: StageOptions,
    progress: Progress,
    env: dict | None = None,
) -> None:
    """Run the headless script with ``arguments``; forward its events; raise on failure.

    The child's ``error`` event is the failure's message; other stderr lines (Blender's own
    output) are kept only as a fallback, with known noise such as EGL_BAD_MATCH dropped.
    """
    command = [*blender_command(settings), "--", *arguments, "--progress", "json"]
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    tail: list[str] = []
    forwarder = EventForwarder(progress)
    offline.apply_network_policy(child_env, offline=offline.env_flag(child_env, "AIMV_OFFLINE"))
    proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env,
        **child_process_kwargs(),  # Blender dies with us, even on SIGKILL
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            event = parse_line(line.rstrip("\n"))
            if event is not None:
                forwarder.forward(event)
            elif line.strip() and not is_noise(line):
                tail = (tail + [line.rstrip()])[-20:]
        code = proc.wait()
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (see util/procs.py)
        stop_process_group(proc)
        raise Cancelled("rendering was interrupted") from None
    finally:
        if proc.poll() is None:
            stop_process_group(proc, grace_s=0.0)
        forwarder.close()
    if code != 0:
        message = forwarder.error or (tail[-1] if tail else "(no output)")
        raise RenderError(f"Blender failed (exit {code}): {message}")


@dataclass
class _ForwardedTask:
    """A child's progress task mirrored in ours; ``done`` is the child's last count."""

    task: Task
    done: int = 0


class EventForwarder:
    """Mirrors a child's events in the parent's :class:`Progress`; keeps its ``error`` message."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, _ForwardedTask] = {}
        self.error = ""

    def forward(self, event: Event) -> None:
        name = str(event.get("task", "render"))
        if event.kind == "start":
            self.tasks[name] = _ForwardedTask(self.progress.task(name, event.get("total")))
        elif event.kind == "progress" and name in self.tasks:
            forwarded = self.tasks[name]
            done = int(event.get("done", 0))
            forwarded.task.advance(max(0, done - forwarded.done))
            forwarded.done = done
        elif event.kind == "end" and name in self.tasks:
            self.tasks.pop(name).task.close()
        elif event.kind in ("notice", "warning"):
            self.progress.notice(str(event.get("message", "")))
        elif event.kind == "error":
            self.error = str(event.get("message", ""))

    def close(self) -> None:
        for forwarded in self.tasks.values():
            forwarded.task.close()
        self.tasks.clear()
