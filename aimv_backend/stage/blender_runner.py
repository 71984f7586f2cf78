"""Run the add-on's headless entry script in Blender: the bpy module or a Blender binary.

bpy is not thread-safe and holds ~1 GB, so staging and rendering always run in a child process:
``python aimv_blender/headless.py -- ...`` with the bpy module, or
``blender -b --factory-startup --python aimv_blender/headless.py -- ...`` with a binary.
The child reports progress as ``AIMV-PROGRESS {json}`` lines on stderr, which are forwarded to
the caller's :class:`Progress`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aimv_backend.errors import Cancelled, ParameterError, RenderError
from aimv_backend.progress import Progress, Task
from aimv_backend.util.procs import child_process_kwargs, stop_process_group
from aimv_timeline import offline

PROGRESS_PREFIX = "AIMV-PROGRESS "


@dataclass(frozen=True)
class RenderSettings:
    """What the video looks like. resolution in pixels, fps in frames per second."""

    resolution: tuple[int, int] = (640, 360)
    fps: int = 24
    engine: str = "workbench"  # workbench | eevee | cycles
    samples: int = 16
    blender: str | None = None  # path of a Blender binary; None = the bpy module
    layers_off: tuple[str, ...] = ()  # picture layers left out (names.PICTURE_LAYERS)
    font: str | None = None  # font file for the lyrics; None = Blender's built-in font

    def check(self) -> RenderSettings:
        w, h = self.resolution
        if not (16 <= w <= 7680 and 16 <= h <= 4320) or w % 2 or h % 2:
            raise ParameterError(
                f"--resolution must be even numbers from 16x16 to 7680x4320, got {w}x{h}"
            )
        if not 1 <= self.fps <= 120:
            raise ParameterError(f"--fps must be 1 to 120, got {self.fps}")
        if self.engine not in ("workbench", "eevee", "cycles"):
            raise ParameterError(
                f"--engine must be workbench, eevee or cycles, got {self.engine!r}"
            )
        if not 1 <= self.samples <= 4096:
            raise ParameterError(f"--samples must be 1 to 4096, got {self.samples}")
        return self


def headless_script() -> Path:
    """The add-on's headless entry script, found without importing the add-on (it needs bpy)."""
    spec = importlib.util.find_spec("aimv_blender")
    if spec is None or not spec.submodule_search_locations:
        raise RenderError("the aimv_blender package is not installed beside the backend")
    script = Path(next(iter(spec.submodule_search_locations))) / "headless.py"
    if not script.is_file():
        raise RenderError(f"the add-on's headless script is missing: {script}")
    return script


def blender_command(settings: RenderSettings) -> list[str]:
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
    settings: RenderSettings,
    progress: Progress,
    env: dict | None = None,
) -> None:
    """Run the headless script with ``arguments``; forward its progress; raise on failure."""
    command = [*blender_command(settings), "--", *arguments, "--progress", "json"]
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    tail: list[str] = []
    tasks: dict[str, _ForwardedTask] = {}
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
            if line.startswith(PROGRESS_PREFIX):
                _forward(line[len(PROGRESS_PREFIX) :], progress, tasks)
            elif line.strip():
                tail = (tail + [line.rstrip()])[-20:]
        code = proc.wait()
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (see util/procs.py)
        stop_process_group(proc)
        raise Cancelled("rendering was interrupted") from None
    finally:
        if proc.poll() is None:
            stop_process_group(proc, grace_s=0.0)
        for forwarded in tasks.values():
            forwarded.task.close()
    if code != 0:
        errors = [t for t in tail if "error" in t.lower()] or tail or ["(no output)"]
        message = errors[-1].removeprefix("aimv: error: ").removeprefix("aimv-blender: error: ")
        raise RenderError(f"Blender failed (exit {code}): {message}")


@dataclass
class _ForwardedTask:
    """A child's progress task mirrored in ours; ``done`` is the child's last count."""

    task: Task
    done: int = 0


def _forward(payload: str, progress: Progress, tasks: dict[str, _ForwardedTask]) -> None:
    try:
        event = json.loads(payload)
    except json.JSONDecodeError:
        return
    name = str(event.get("task", "render"))
    kind = event.get("event")
    if kind == "start":
        tasks[name] = _ForwardedTask(progress.task(name, event.get("total")))
    elif kind == "progress" and name in tasks:
        forwarded = tasks[name]
        done = int(event.get("done", 0))
        forwarded.task.advance(max(0, done - forwarded.done))
        forwarded.done = done
    elif kind == "end" and name in tasks:
        tasks.pop(name).task.close()
    elif kind == "notice":
        progress.notice(str(event.get("message", "")))
