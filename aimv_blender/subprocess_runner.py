"""Run the AIMV backend (the user's own ``aimv`` program) as a subprocess, without blocking.

The backend lives in its own Python environment with heavy dependencies Blender must never
import, so the add-on only starts it with an argument list (never a shell): ONE command,
``aimv render SONG --work-dir DIR --until imagine --progress json``, whose events
(:mod:`aimv_timeline.events`: stage, progress, notice, error) are read from stderr on a reader
thread. The UI polls :meth:`Pipeline.poll` from a timer, so Blender stays responsive; Cancel
sends SIGINT (the backend turns it into a clean "cancelled" exit), then terminates and finally
kills a process that does not stop. A failure's message is the backend's ``error`` event.

No bpy here: the operators and ``headless.py`` share this module, and tests run it directly.
"""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .contract import AimvError, events, names, presets

PROGRESS_PREFIX = events.PREFIX
CANCEL_GRACE_S = 3.0


class BackendError(AimvError, RuntimeError):
    """The backend could not be started or failed. The message is one line for the user."""


@dataclass(frozen=True)
class BackendSettings:
    """A snapshot of what to ask the backend for (taken from the panel or the command line).

    command: how to start the backend: ``aimv``, a path to it, or an interpreter plus
        ``-m aimv_backend`` (parsed with shlex, run without a shell).
    audio: the song. work_dir: the backend's output folder (timeline.json, textures/).
    textures: "auto", "procedural", "diffusers", or "none" to skip the imagine stage.
    online: Blender's "Allow Online Access"; False makes the backend stay offline.
    Defaults are the shared preview preset's (:mod:`aimv_timeline.presets`).
    """

    command: str
    audio: Path
    work_dir: Path
    window_seconds: float = 1.0
    instruments: str = "auto"
    asr: str = "faster-whisper"
    language: str = ""
    beats_per_bar: str = "auto"
    textures: str = "auto"
    texture_size: tuple[int, int] = (presets.DEFAULT.texture_size,) * 2
    seed: int = 0
    force: bool = False
    online: bool = False

    @property
    def timeline_path(self) -> Path:
        return self.work_dir / names.TIMELINE_FILE

    @classmethod
    def from_choices(cls, choices, **given) -> BackendSettings:
        """Settings from ``choices`` (the panel's Snapshot or the headless script's arguments:
        anything with window_seconds, instruments, asr, language, beats_per_bar, textures and
        seed; None keeps the default here) plus ``given`` (command, audio, work_dir, force,
        online)."""
        values = {name: getattr(choices, name) for name in CHOICES}
        picked = {name: value for name, value in values.items() if value is not None}
        return cls(**picked, **given)


CHOICES = ("window_seconds", "instruments", "asr", "language", "beats_per_bar", "textures", "seed")


@dataclass(frozen=True)
class Step:
    name: str
    argv: tuple[str, ...]


PREFERENCES_HINT = "set it in the AIMV add-on preferences (Backend command)"


def resolve_command(command: str, *, hint: str = PREFERENCES_HINT) -> list[str]:
    """Split the configured command and check that its program exists.

    Raises BackendError naming the command when it cannot be found; ``hint`` says where the
    user sets it (the add-on preferences, or the headless script's --aimv).
    """
    try:
        argv = shlex.split(command.strip())
    except ValueError as exc:
        raise BackendError(
            f"backend command {command!r} cannot be parsed ({exc}); {hint}"
        ) from None
    if not argv:
        raise BackendError(f"backend command is empty; {hint}")
    program = argv[0]
    found = (
        shutil.which(program)
        if os.sep not in program
        else (program if os.access(program, os.X_OK) else None)
    )
    if found is None:
        raise BackendError(
            f"backend command {program!r} not found; install AIMV's backend (scripts/setup.sh) "
            f"or {hint}"
        )
    return [found, *argv[1:]]


def backend_steps(settings: BackendSettings, program: list[str]) -> list[Step]:
    """The one backend run for ``settings``: listen, describe and (unless textures are
    "none") imagine, through ``aimv render --until``; the stage stage is Blender's own."""
    until = "describe" if settings.textures == "none" else "imagine"
    argv = [
        *program,
        "render",
        str(settings.audio),
        "--work-dir",
        str(settings.work_dir),
        "--until",
        until,
        "--window",
        f"{settings.window_seconds:g}",
        "--instruments",
        settings.instruments,
        "--asr",
        settings.asr,
        "--seed",
        str(settings.seed),
        "--progress",
        "json",
    ]
    if settings.language.strip():
        argv += ["--language", settings.language.strip()]
    if str(settings.beats_per_bar) != "auto":  # auto is the backend's default: not recorded apart
        argv += ["--beats-per-bar", str(settings.beats_per_bar)]
    if settings.textures != "none":
        w, h = settings.texture_size
        argv += ["--textures", settings.textures, "--texture-size", f"{w}x{h}"]
    if not settings.online:
        argv.append("--offline")
    if settings.force:  # replace a timeline made from another song or settings
        argv.append("--force")
    return [Step("backend", tuple(argv))]


def backend_env(*, online: bool, base: dict[str, str] | None = None) -> dict[str, str]:
    """The backend's environment: unbuffered output, and offline unless Blender allows online."""
    from .contract import offline  # noqa: PLC0415 - keeps this module importable alone

    env = dict(os.environ if base is None else base)
    env["PYTHONUNBUFFERED"] = "1"
    offline.apply_network_policy(env, offline=not online)  # docs/security.md
    return env


class BackendProcess:
    """One backend subprocess whose stderr/stdout lines are collected by reader threads."""

    def __init__(
        self,
        argv: list[str] | tuple[str, ...],
        *,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ):
        self.argv = list(argv)
        self._lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self._cancel_at: float | None = None
        self.stderr_tail: list[str] = []
        from .contract import children  # noqa: PLC0415 - keeps this module importable alone

        # its own process group, and (Linux) it dies with Blender, however Blender ends
        kwargs = children.child_process_kwargs()
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                env=env,
                cwd=cwd,
                **kwargs,
            )
        except OSError as exc:
            raise BackendError(f"cannot start {self.argv[0]!r}: {exc.strerror or exc}") from None
        self._threads = [
            threading.Thread(target=self._read, args=(self._proc.stderr, "err"), daemon=True),
            threading.Thread(target=self._read, args=(self._proc.stdout, "out"), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _read(self, stream, name: str) -> None:
        for line in stream:
            self._lines.put((name, line.rstrip("\n")))
        stream.close()

    def lines(self) -> list[tuple[str, str]]:
        """Lines read since the last call, as (stream, text); never blocks."""
        out = []
        while True:
            try:
                item = self._lines.get_nowait()
            except queue.Empty:
                return out
            text = item[1]
            if item[0] == "err" and not text.startswith(PROGRESS_PREFIX):
                if text.strip() and not events.is_noise(text):
                    self.stderr_tail = (self.stderr_tail + [text])[-20:]
            out.append(item)

    @property
    def returncode(self) -> int | None:
        """None while running; escalates a pending cancel to terminate/kill as time passes."""
        rc = self._proc.poll()
        if rc is None and self._cancel_at is not None:
            waited = time.monotonic() - self._cancel_at
            if waited > 2 * CANCEL_GRACE_S:
                self._proc.kill()
            elif waited > CANCEL_GRACE_S:
                self._proc.terminate()
        if rc is not None:
            for t in self._threads:
                t.join(timeout=1.0)
        return rc

    def cancel(self) -> None:
        """Ask the backend to stop (SIGINT, like Ctrl-C); returncode escalates if it ignores it."""
        if self._proc.poll() is not None or self._cancel_at is not None:
            return
        self._cancel_at = time.monotonic()
        try:
            if os.name == "nt":
                self._proc.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                self._proc.send_signal(signal.SIGINT)
        except OSError:
            pass

    def wait(self, timeout: float | None = None) -> int:
        return self._proc.wait(timeout)

    def last_line(self) -> str:
        """The backend's last stderr line that is neither an event nor known noise."""
        return self.stderr_tail[-1].strip() if self.stderr_tail else ""


@dataclass
class StageTasks:
    """The tasks of the running stage, from their start/progress/end events.

    Listening runs two tasks side by side (instruments and voice); the status names every
    unfinished one ("instruments + voice") instead of whichever spoke last, and the stage's
    progress is the slowest unfinished task's (the latest task's once all are done).
    """

    tasks: dict[str, float] = field(default_factory=dict)  # task -> fraction done, 0-1
    latest: str = ""

    def update(self, kind: str, task: str, done, total) -> None:
        fraction = self.tasks.get(task, 0.0)
        if isinstance(total, (int, float)) and total > 0:
            fraction = min(1.0, float(done or 0) / total)
        if kind == "end":
            fraction = 1.0
        self.tasks[task] = fraction
        self.latest = task

    def running(self) -> list[str]:
        return [t for t, f in self.tasks.items() if f < 1.0]

    def label(self) -> str:
        return " + ".join(self.running()) or self.latest

    def fraction(self) -> float:
        running = self.running()
        if running:
            return min(self.tasks[t] for t in running)
        return self.tasks.get(self.latest, 0.0)


@dataclass
class Pipeline:
    """Runs the backend steps one after the other; :meth:`poll` advances it without blocking.

    fraction: overall progress in [0, 1] (stages done, plus the running task's share of the
    current stage); status: a short text for the UI. state: "running", "done", "failed" or
    "cancelled". error: one line when failed (the backend's ``error`` event when it sent one).
    """

    steps: list[Step]
    env: dict[str, str] | None = None
    on_line: Callable[[str, str], None] | None = None
    fraction: float = 0.0
    status: str = "starting"
    state: str = "running"
    error: str = ""
    _index: int = -1
    _proc: BackendProcess | None = None
    _task_fraction: float = 0.0
    _tasks: StageTasks = field(default_factory=StageTasks)
    _stage: tuple[int, int] = (0, 1)  # stages done, stages in the run
    _stage_name: str = ""
    _error_event: str = ""
    _cancelled: bool = False
    notices: list[str] = field(default_factory=list)

    def _start_next(self) -> None:
        self._index += 1
        self._task_fraction, self._stage, self._error_event = 0.0, (0, 1), ""
        self._tasks = StageTasks()
        if self._index >= len(self.steps):
            self.state, self.fraction, self.status = "done", 1.0, "done"
            self._proc = None
            return
        step = self.steps[self._index]
        self.status = step.name
        self._proc = BackendProcess(step.argv, env=self.env)

    def _read_lines(self) -> None:
        for stream, line in self._proc.lines():
            if self.on_line is not None:
                self.on_line(stream, line)
            event = events.parse_line(line)
            if event is None:
                continue
            message = str(event.get("message", ""))
            if event.kind in ("notice", "warning") and message:
                self.notices.append(message)
            elif event.kind == "error":
                self._error_event = message
            elif event.kind == "cancelled":  # stopped by a signal, not by this panel's Cancel
                self._cancelled = True
            elif event.kind == "stage":
                index, total = int(event.get("index", 1)), int(event.get("total", 1))
                self._stage, self._task_fraction = (index - 1, max(1, total)), 0.0
                self._stage_name = self.status = str(event.get("stage", ""))
                self._tasks = StageTasks()
            elif event.kind in ("start", "progress", "end"):
                stage = self._stage_name or self.steps[self._index].name
                task = str(event.get("task", ""))
                self._tasks.update(event.kind, task, event.get("done"), event.get("total"))
                self.status = f"{stage}: {self._tasks.label()}"
                self._task_fraction = self._tasks.fraction()

    def poll(self) -> str:
        """Read pending output, advance to the next step when one ends; returns ``state``."""
        if self.state != "running":
            return self.state
        if self._proc is None:
            try:
                self._start_next()
            except BackendError as exc:
                self.state, self.error = "failed", str(exc)
            return self.state
        self._read_lines()
        rc = self._proc.returncode
        n = max(1, len(self.steps))
        done, total = self._stage
        within = (done + self._task_fraction) / total
        self.fraction = max(self.fraction, min(1.0, (self._index + within) / n))
        if rc is None:
            return self.state
        self._read_lines()  # what the reader threads got after the last poll
        if self._cancelled:
            self.state, self.status = "cancelled", "cancelled"
        elif rc != 0:
            detail = self._error_event or self._proc.last_line() or f"exit code {rc}"
            self.state, self.error = "failed", f"AIMV backend failed: {detail}"
        else:
            try:
                self._start_next()
            except BackendError as exc:
                self.state, self.error = "failed", str(exc)
        return self.state

    def cancel(self) -> None:
        self._cancelled = True
        if self._proc is not None:
            self._proc.cancel()
        else:
            self.state, self.status = "cancelled", "cancelled"

    def run(self, *, interval: float = 0.05) -> str:
        """Block until the pipeline ends (headless use). Ctrl-C cancels the backend too."""
        try:
            while self.poll() == "running":
                time.sleep(interval)
        except KeyboardInterrupt:
            self.cancel()
            while self.poll() == "running":
                time.sleep(interval)
        return self.state
