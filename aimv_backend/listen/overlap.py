"""Two independent parts of the listening stage at the same time: one in a side thread.

Why: the instrument taggers and the voice recogniser read the same song and share nothing
else, and neither keeps two cores busy: each loads its libraries and model on one core (torch
and musicnn; silero-vad, CTranslate2 and Whisper) and silero-vad runs on one. On the 2-core
dev box the listening stage of a 3-minute song took 22 s one after the other; the figures are
in docs/benchmarks.md. The heavy work is native code (torch, onnxruntime, CTranslate2), which
releases the GIL.

Stopping: Ctrl-C and SIGTERM reach the main thread only, while it runs its part or waits for
the side's. Each part gets a progress whose tasks raise :class:`Cancelled` at their next step
once the other part has failed or been interrupted; the main thread waits for the side to
stop, then raises the error that came first (the side's, when the side failed). The side part
runs in a copy of the caller's context, so it sees the same listening checkpoint.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aimv_backend.errors import Cancelled
from aimv_backend.progress import Progress

S = TypeVar("S")
M = TypeVar("M")


def _raise_if_stopped(stop: threading.Event) -> None:
    if stop.is_set():
        raise Cancelled("stopped because the other part of the listening stage stopped")


class _StoppableTask:
    def __init__(self, task, stop: threading.Event):
        self._task, self._stop = task, stop

    def advance(self, n: int = 1) -> None:
        _raise_if_stopped(self._stop)
        self._task.advance(n)

    def close(self) -> None:
        self._task.close()


class StoppableProgress:
    """``progress`` whose tasks raise Cancelled at their next step once ``stop`` is set."""

    def __init__(self, progress: Progress, stop: threading.Event):
        self._progress, self._stop = progress, stop

    def task(self, name: str, total: int | None) -> _StoppableTask:
        _raise_if_stopped(self._stop)
        return _StoppableTask(self._progress.task(name, total), self._stop)

    def notice(self, message: str) -> None:
        self._progress.notice(message)


def run_together(
    *,
    side: Callable[[Progress], S],
    main: Callable[[Progress], M],
    progress: Progress,
) -> tuple[S, M]:
    """(side(progress), main(progress)), with ``side`` run in a thread while ``main`` runs here.

    An error of either is raised once both have ended (the main part's first); the side part's
    result is never half-used.
    """
    stop = threading.Event()  # the main part failed or was interrupted: the side stops
    side_failed = threading.Event()  # the side part failed: the main part stops
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()

    def run_side() -> None:
        try:
            outcome["value"] = context.run(side, StoppableProgress(progress, stop))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            outcome["error"] = exc
            side_failed.set()

    thread = threading.Thread(target=run_side, name="aimv-listen-side", daemon=True)
    thread.start()
    try:
        main_value = main(StoppableProgress(progress, side_failed))
        thread.join()  # Ctrl-C here too stops the side part (below)
    except BaseException:
        side_first = side_failed.is_set()  # then the side's failure stopped the main part
        stop.set()
        thread.join()
        if side_first:
            raise outcome["error"] from None
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"], main_value
