"""Child processes that die with their parent (both halves start one: aimv starts Blender,
the add-on starts the backend).

The child gets its own process group (so the whole group can be stopped at once) and, on
Linux, a parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``): the kernel sends it
SIGTERM the moment its parent dies, however it died (SIGKILL, a closed terminal, a crash).
Without it, a backend started from Blender's interface went on after Blender was gone, and a
Blender started by ``aimv render`` went on rendering and raced a re-run.

Linux ties the signal to the thread that started the child: start children from a thread that
outlives them (the main thread, or the thread that waits for them).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from typing import Any

PR_SET_PDEATHSIG = 1


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # loaded in the parent, before fork
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGTERM when the parent dies; exit now if it already has.

    Runs in a child between fork and exec (no imports, no allocation-heavy work), or first
    thing in a worker process that its parent started (a process pool's initializer).
    """
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(143)


def child_process_kwargs() -> dict[str, Any]:
    """Keyword arguments for ``subprocess.Popen``: own process group, and on Linux a
    parent-death signal."""
    if os.name != "posix":
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    kwargs: dict[str, Any] = {"start_new_session": True}
    if _PRCTL is not None:
        parent = os.getpid()
        kwargs["preexec_fn"] = lambda: die_with_parent(parent)
    return kwargs
