"""The path rule: every path read from a timeline stays inside the timeline's folder.

A timeline is data that may come from anyone. Its window textures and clips are paths relative
to the folder of the timeline file; :func:`resolve_inside` turns one into a real path and
refuses (one line, naming the field) any that is absolute or that leads outside the folder,
through ``..`` or a symbolic link. The reader (``schema.read_timeline``) applies it to every
path of the file, and the places that open those files apply it again (a link can appear
between reading and opening).

Files are placed elsewhere by copying, or by a hard link only to a file AIMV made itself
(listed in the work folder's manifest, see :mod:`.manifest`): a hard link to a user's file would
let a later save through the link rewrite that file.

:func:`read_regular_file` is the bounded reader for files named by users or timelines: regular
files only (a FIFO would hang, ``/dev/zero`` would fill the memory), at most ``limit`` bytes.
Standard library only.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import threading
from pathlib import Path
from typing import Any

from .errors import AimvError
from .names import MAX_JSON_NUMBER_CHARS

__all__ = [
    "UnsafePathError",
    "resolve_inside",
    "is_inside",
    "place_file",
    "read_regular_file",
    "parse_json_bounded",
    "check_paths",
    "song_path",
]


class UnsafePathError(AimvError, ValueError):
    """A path from a timeline leads outside its folder, or names something that is not a file."""


def is_inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (after resolving links) is ``folder`` or lies below it."""
    real = os.path.realpath(path)
    base = os.path.realpath(folder)
    try:
        return os.path.commonpath([real, base]) == base
    except ValueError:  # different drives on Windows
        return False


def song_path(source_path: str, timeline_dir: str | os.PathLike[str]) -> Path:
    """The song a timeline's ``source.path`` names: AIMV writes it absolute; a relative one (a
    hand-made or moved timeline) is relative to the timeline's folder, never to the working
    directory of whoever reads it. It is only read, so it may lie outside the folder."""
    path = Path(source_path).expanduser()
    return path if path.is_absolute() else Path(os.path.abspath(Path(timeline_dir) / path))


def resolve_inside(work_dir: str | os.PathLike[str], relative: str, *, what: str = "path") -> Path:
    """The real path of ``relative`` inside ``work_dir``, or UnsafePathError.

    ``relative`` must be a relative path (``/``- or ``\\``-separated) that, once ``..`` and
    symbolic links are resolved, stays inside ``work_dir``. ``what`` names the field in the
    message, e.g. ``"windows[3].texture"``. The file need not exist.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise UnsafePathError(f"{what}: expected a relative file path, got {relative!r}")
    if "\x00" in relative:
        raise UnsafePathError(f"{what}: {relative!r} contains a NUL character; refused")
    text = relative.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":") or text.startswith("~"):
        raise UnsafePathError(
            f"{what}: {relative!r} is not relative to the timeline's folder; refused "
            f"(paths in a timeline must stay inside {str(work_dir)!r})"
        )
    base = os.path.realpath(work_dir)
    real = os.path.realpath(os.path.join(base, *text.split("/")))
    try:
        inside = os.path.commonpath([real, base]) == base
    except ValueError:
        inside = False
    if not inside or real == base:
        raise UnsafePathError(
            f"{what}: {relative!r} leads outside the timeline's folder {base!r}; refused"
        )
    return Path(real)


def place_file(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], *, may_link: bool = False
) -> Path:
    """Put a copy of the regular file ``src`` at ``dst`` (replacing ``dst`` atomically).

    ``may_link`` (only for files AIMV made, see the manifest) allows a hard link instead of
    a copy. Never follows ``src`` to a device, FIFO or folder. The new file is made under a
    hidden temporary name and renamed over ``dst``, so a process reading ``dst`` meanwhile
    (another chunk's Blender staging the same work folder) sees the old file or the new one,
    never a missing or half-written one.
    """
    source, target = Path(src), Path(dst)
    info = os.stat(source)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(f"{str(source)!r} is not a regular file; refused")
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        linked = False
        if may_link and not source.is_symlink():
            try:
                os.link(source, tmp)
                linked = True
            except OSError:
                pass
        if not linked:
            shutil.copyfile(source, tmp, follow_symlinks=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def read_regular_file(path: str | os.PathLike[str], *, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; OSError-free messages.

    Raises UnsafePathError for a FIFO, device, socket or folder (checked on the opened file, so
    a link swapped in between cannot slip through), a symbolic-link loop, or a file over
    ``limit``; FileNotFoundError for a missing file.
    """
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(f"{what} {str(p)!r} is a loop of symbolic links") from None
        if exc.errno == errno.ENOENT:
            raise FileNotFoundError(errno.ENOENT, "no such file", str(p)) from None
        if exc.errno in (errno.ENXIO, errno.EISDIR):
            raise UnsafePathError(f"{what} {str(p)!r} is not a regular file") from None
        raise
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(p))
        if not stat.S_ISREG(info.st_mode):
            kind = "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
            raise UnsafePathError(f"{what} {str(p)!r} is {kind}, not a regular file")
        if info.st_size > limit:
            raise UnsafePathError(
                f"{what} {str(p)!r} is {info.st_size} bytes, more than the {limit} AIMV reads"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            block = os.read(fd, min(remaining, 1 << 20))
            if not block:
                break
            chunks.append(block)
            remaining -= len(block)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnsafePathError(f"{what} {str(p)!r} grew past the {limit} bytes AIMV reads")
    return data


def _bounded_number(text: str, convert):
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise ValueError(f"a number of {len(text)} characters (at most {MAX_JSON_NUMBER_CHARS})")
    return convert(text)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice (a hand edit pasted in beside the old one) is refused,
    since json would keep the last one without a word."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _DuplicateKey(f"the key {twice!r} appears twice in one object; keep one")
    return data


def parse_json_bounded(text: str) -> Any:
    """``json.loads`` that refuses numbers longer than MAX_JSON_NUMBER_CHARS, NaN/Infinity,
    nesting deeper than the interpreter allows and a key given twice in one object: ValueError
    with a one-line reason."""
    try:
        return json.loads(
            text,
            parse_int=lambda t: _bounded_number(t, int),
            parse_float=lambda t: _bounded_number(t, float),
            parse_constant=_no_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except _DuplicateKey as exc:
        raise ValueError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    except RecursionError:
        raise ValueError("not a timeline (nested too deeply)") from None
    except ValueError as exc:
        raise ValueError(f"not a timeline ({exc})") from None


def check_paths(timeline: Any, folder: str | os.PathLike[str]) -> None:
    """UnsafePathError for the first texture, pictogram or clip path of ``timeline`` (a
    ``schema.Timeline``) that leads outside ``folder``."""
    for w in timeline.windows:
        if w.texture is not None:
            resolve_inside(folder, w.texture, what=f"windows[{w.index}].texture")
        for j, pictogram in enumerate(getattr(w, "pictograms", None) or ()):
            resolve_inside(folder, pictogram.path, what=f"windows[{w.index}].pictograms[{j}]")
    for i, clip in enumerate(getattr(timeline, "clips", ()) or ()):
        resolve_inside(folder, clip.path, what=f"clips[{i}].path")
