"""Progress reporting shared by every stage.

Stages call ``progress.task(name, total)`` and ``task.advance(n)``; the CLI chooses how that is
shown: a tqdm bar on a terminal, JSON lines on stderr for the Blender add-on (``--progress json``),
or nothing (``--quiet``). Cancellation (Blender's Cancel button sends SIGINT) surfaces as
KeyboardInterrupt, which the CLI turns into :class:`aimv_backend.errors.Cancelled`.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any, Protocol

from aimv_timeline.events import error_line, format_event


class Task(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def close(self) -> None: ...


class Progress(Protocol):
    def task(self, name: str, total: int | None) -> Task: ...

    def notice(self, message: str) -> None: ...


class _NullTask:
    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _NullTask:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SilentProgress:
    """No output at all (``--quiet``, library use, tests)."""

    def task(self, name: str, total: int | None) -> _NullTask:
        return _NullTask()

    def notice(self, message: str) -> None:
        pass


class _TqdmTask(_NullTask):
    def __init__(self, name: str, total: int | None, stream: IO[str]):
        from tqdm import tqdm

        # Redraw at most twice a second: logs of non-terminal runs stay readable.
        self._bar = tqdm(
            total=total,
            desc=name,
            unit="step",
            file=stream,
            leave=True,
            dynamic_ncols=True,
            mininterval=0.5,
        )

    def advance(self, n: int = 1) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


class TqdmProgress:
    """A tqdm progress bar per task on stderr."""

    def __init__(self, stream: IO[str] | None = None):
        self._stream = stream or sys.stderr

    def task(self, name: str, total: int | None) -> _TqdmTask:
        return _TqdmTask(name, total, self._stream)

    def notice(self, message: str) -> None:
        from tqdm import tqdm

        tqdm.write(f"aimv: {message}", file=self._stream)  # above any bar that is running


class _JsonTask(_NullTask):
    def __init__(self, owner: JsonLinesProgress, name: str, total: int | None):
        self._owner, self._name, self._total, self._done = owner, name, total, 0
        self._last = 0.0
        owner.emit("start", task=name, total=total)

    def advance(self, n: int = 1) -> None:
        self._done += n
        now = time.monotonic()
        if now - self._last >= 0.1 or (self._total and self._done >= self._total):
            self._last = now
            self._owner.emit("progress", task=self._name, done=self._done, total=self._total)

    def close(self) -> None:
        self._owner.emit("end", task=self._name, done=self._done)


class JsonLinesProgress:
    """The event protocol of :mod:`aimv_timeline.events`, one event a line on stderr."""

    def __init__(self, stream: IO[str] | None = None):
        self._stream = stream or sys.stderr
        self._lock = threading.Lock()  # parts of a stage may report from two threads

    def emit(self, kind: str, **fields: Any) -> None:
        self._write(format_event(kind, **fields))

    def _write(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def task(self, name: str, total: int | None) -> _JsonTask:
        return _JsonTask(self, name, total)

    def notice(self, message: str) -> None:
        self.emit("notice", message=message)

    def stage(self, *, name: str, index: int, total: int, message: str) -> None:
        self.emit("stage", stage=name, index=index, total=total, message=message)

    def error(self, error: BaseException) -> None:
        """The ``error`` event the parent process reads (type and one-line message)."""
        self._write(error_line(error))


def announce_stage(progress: Progress, *, name: str, index: int, total: int, doing: str) -> None:
    """Say that stage ``name`` (``index`` of ``total``, from 1) begins: a ``stage`` event for
    tools, a ``[1/4] listening`` line on a terminal."""
    stage = getattr(progress, "stage", None)
    if stage is not None:
        stage(name=name, index=index, total=total, message=doing)
    else:
        progress.notice(f"[{index}/{total}] {doing}")
