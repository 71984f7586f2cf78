"""Atomic writes and hashing: an interrupted run never leaves a half-written output."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aimv_backend.errors import OutputError
from aimv_timeline.schema import preserved_file_mode


def sha256_file(path: str | os.PathLike[str], *, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks (bounded memory for long songs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    ``suffix`` keeps the extension for writers that choose a format by it (".png").
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, preserved_file_mode(target))  # mkstemp makes 0600
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write bytes through a temporary file and a rename."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def ensure_output_dir(path: str | os.PathLike[str], *, what: str = "output folder") -> Path:
    """Create ``path`` if needed and check it is a writable folder (OutputError otherwise)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{what} {str(folder)!r} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{what} {str(folder)!r} cannot be created: {exc.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {str(folder)!r} is not writable")
    try:  # permissions are not the whole story (root, read-only mounts, /sys): try it
        fd, probe = tempfile.mkstemp(prefix=".aimv-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(f"{what} {str(folder)!r} is not writable: {exc.strerror}") from None
    os.close(fd)
    os.unlink(probe)
    return folder


@contextlib.contextmanager
def output_dir(path: str | os.PathLike[str], *, what: str = "output folder") -> Iterator[Path]:
    """:func:`ensure_output_dir`, and remove the folder again if this run created it and fails
    before writing anything into it (a failed run leaves no empty folders behind)."""
    folder = Path(path)
    existed = folder.exists()
    yield_value = ensure_output_dir(folder, what=what)
    try:
        yield yield_value
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds while it is empty
        raise
