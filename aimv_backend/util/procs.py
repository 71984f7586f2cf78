"""Child processes that die with their parent, and SIGTERM handled like Ctrl-C.

``aimv render`` runs Blender as a child. If ``aimv`` is killed (SIGTERM from a job manager,
SIGKILL, a closed terminal), Blender must not go on rendering and race a re-run. Two measures:

- the child gets its own process group (so the whole group can be stopped at once) and, on
  Linux, a parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``): the kernel sends it
  SIGTERM the moment its parent dies, however it died (``aimv_timeline.children``, which the
  add-on uses for the backend it starts);
- the parent turns SIGTERM into ``KeyboardInterrupt``, so a terminated run cleans up (stops the
  child, removes partial files) exactly as an interrupted one does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading

from aimv_timeline.children import child_process_kwargs

__all__ = ["child_process_kwargs", "install_sigterm_handler", "stop_process_group"]


def stop_process_group(proc: subprocess.Popen, *, grace_s: float = 10.0) -> int:
    """SIGTERM the child's process group, wait ``grace_s`` seconds, then SIGKILL it."""
    if proc.poll() is not None:
        return proc.returncode
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 30.0)):
        try:
            if os.name == "posix":
                os.killpg(proc.pid, sig)
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError):
            pass
        with contextlib.suppress(subprocess.TimeoutExpired):
            return proc.wait(timeout=wait_s)
    return proc.wait()


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install_sigterm_handler() -> bool:
    """Make SIGTERM raise KeyboardInterrupt in the main thread (False if not possible here)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        signal.signal(signal.SIGTERM, _raise_interrupt)
    except (ValueError, OSError):
        return False
    return True


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (on this machine)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
