"""A stop signal (SIGTERM, Ctrl-C) during Blender's blocking render ends the process at once.

Blender's blocking render swallows the KeyboardInterrupt a signal raises in Python (it is seen
inside a render handler and printed), so the render would go on to its last frame. No bpy here:
the headless script registers its hook before it imports Blender.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable

from .contract import names

STOP_SIGNALS = ("SIGTERM", "SIGINT")
# What the process that owns this Blender does before a stop signal ends it mid-render (the
# headless script: say "cancelled", hand its stderr filter's last lines on). Last added, first run.
_HOOKS: list[Callable[[], None]] = []


def add_hook(hook: Callable[[], None]) -> Callable[[], None]:
    """Run ``hook`` when a stop signal ends the process during a render; returns its remover."""
    _HOOKS.append(hook)
    return lambda: _HOOKS.remove(hook) if hook in _HOOKS else None


@contextlib.contextmanager
def exit_on_stop_signal(on_stop: Callable[[], None] | None):
    """While Blender renders, SIGTERM or Ctrl-C ends the process at the next frame.

    Blender's blocking render swallows the KeyboardInterrupt a signal raises in Python (it is
    seen inside a render handler and printed), so the render would go on to its last frame.
    Here the signal runs ``on_stop`` (remove the partial output), then the process's stop hooks
    (:func:`add_hook`), and exits with EXIT_CANCELLED at once. Only in the main
    thread (where Python runs signal handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        if on_stop is not None:
            on_stop()
        for hook in reversed(_HOOKS):
            hook()
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(names.EXIT_CANCELLED)

    sigs = [getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)]
    before = {sig: signal.signal(sig, stop) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
