"""One AIMV run per work folder: an advisory lock file, taken without waiting.

Two renders into one work folder (or one output) would overwrite each other's timeline and
delete each other's temporary files. The second run refuses at once with one line naming the
process that holds the folder. The lock is ``fcntl.flock`` on ``.aimv.lock`` (``msvcrt`` on
Windows): the kernel releases it when the holder exits, however it exits, so a killed run never
leaves a stale lock. The file is removed when the lock is released (a killed run leaves an
empty, unlocked one, which the next run takes). Re-entrant within one process (render takes
it, then listen takes it again).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from aimv_backend.errors import OutputError

LOCK_FILE = ".aimv.lock"
_held: dict[str, tuple[int, int]] = {}  # real folder path -> (fd, depth)
_guard = threading.Lock()

try:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


def _acquire(path: Path, base: Path, what: str) -> int:
    """Open and lock ``path``; retry when the file was removed and made again meanwhile."""
    for _ in range(5):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                f"{what} {str(base)!r}: cannot create its lock file ({exc.strerror})"
            ) from None
        if not _try_lock(fd):
            os.close(fd)
            raise OutputError(
                f"{what} {str(base)!r} is in use by another AIMV run{_holder(path)}; wait for "
                f"it to finish, or use another --work-dir"
            )
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except OSError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder removed it as we opened it: lock the new one
    raise OutputError(f"{what} {str(base)!r}: its lock file keeps changing; try again")


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], *, what: str = "work folder") -> Iterator[Path]:
    """Hold ``folder``'s lock for the block; OutputError at once if another process holds it."""
    base = Path(folder)
    key = os.path.realpath(base)
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield base
        finally:
            with _guard:
                fd, depth = _held[key]
                _held[key] = (fd, depth - 1)
        return
    path = base / LOCK_FILE
    fd = _acquire(path, base, what)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
    except OSError:
        pass
    with _guard:
        _held[key] = (fd, 1)
    try:
        yield base
    finally:
        with _guard:
            _held.pop(key, None)
        with contextlib.suppress(OSError):
            path.unlink()  # safe: a run that locked a removed file notices and retries
        with contextlib.suppress(OSError):
            _unlock(fd)
        os.close(fd)
