"""The manifest of a work folder: which files in it AIMV made.

A work folder may be one the user already had (``--work-dir ~/Videos``). AIMV overwrites or
deletes a file there only when the manifest says AIMV made it; anything else is left alone
unless ``--force`` is given. The manifest is ``.aimv-manifest.json`` in the folder: a sorted
list of paths relative to it (``/``-separated; a trailing ``/`` marks a folder AIMV made,
whose ``aimv_*`` files are AIMV's). It is also what decides whether a file may be hard-linked
(see :func:`aimv_timeline.paths.place_file`). Standard library only: the add-on reads it too.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .paths import is_inside

MANIFEST_FILE = ".aimv-manifest.json"
OWNED_PREFIX = "aimv_"  # files AIMV names in a folder it made (aimv_sequence/aimv_00001.png)
_LIMIT = 64 * 1024 * 1024


def _folder(folder: str | os.PathLike[str]) -> Path:
    """The folder as an absolute path: a relative ``path`` argument is relative to it, so
    ``base / name`` must not depend on the working directory (``--work-dir out/song``)."""
    return Path(os.path.abspath(folder))


def _key(folder: Path, path: str | os.PathLike[str]) -> str | None:
    p = Path(path)
    if not p.is_absolute():
        p = folder / p
    try:
        rel = os.path.relpath(os.path.abspath(p), os.path.abspath(folder))
    except ValueError:
        return None
    if rel == "." or rel.startswith(".."):
        return None
    return Path(rel).as_posix()


def entries(folder: str | os.PathLike[str]) -> set[str]:
    """The recorded paths (empty when there is no readable manifest)."""
    path = Path(folder) / MANIFEST_FILE
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _LIMIT:
            return set()
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return set()
    files = data.get("files") if isinstance(data, dict) else None
    return {f for f in files if isinstance(f, str)} if isinstance(files, list) else set()


def _write(folder: Path, names: set[str]) -> None:
    from .schema import write_json_atomic  # noqa: PLC0415 - schema imports paths, not this

    write_json_atomic(
        {"about": "files AIMV made in this folder (docs/security.md)", "files": sorted(names)},
        folder / MANIFEST_FILE,
    )


def record(folder: str | os.PathLike[str], paths: Iterable[str | os.PathLike[str]]) -> None:
    """Add ``paths`` (files, or folders given with a trailing ``/``) to the manifest.

    Each path is absolute or relative to ``folder`` (not to the working directory)."""
    base = _folder(folder)
    names = entries(base)
    before = len(names)
    for p in paths:
        text = os.fspath(p)
        key = _key(base, text)
        if key is not None:
            names.add(key + "/" if text.endswith(("/", os.sep)) else key)
    if len(names) != before or not (base / MANIFEST_FILE).exists():
        _write(base, names)


def forget(folder: str | os.PathLike[str], paths: Iterable[str | os.PathLike[str]]) -> None:
    base = _folder(folder)
    names = entries(base)
    drop = {_key(base, p) for p in paths}
    if names & drop:
        _write(base, names - drop)


def owns(folder: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Whether AIMV made ``path`` (a regular file, not a link, inside ``folder``; absolute or
    relative to ``folder``)."""
    base = _folder(folder)
    p = Path(path) if Path(path).is_absolute() else base / path
    try:
        info = os.lstat(p)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or not is_inside(p, base):
        return False
    key = _key(base, p)
    if key is None:
        return False
    names = entries(base)
    parent = key.rsplit("/", 1)[0] + "/" if "/" in key else None
    return key in names or (
        parent is not None and parent in names and p.name.startswith(OWNED_PREFIX)
    )


def foreign(folder: str | os.PathLike[str], candidates: Iterable[str]) -> list[str]:
    """Those of ``candidates`` (relative names; ``name/`` for a folder) that exist in
    ``folder`` but that AIMV did not make: what a run would overwrite or delete."""
    base = _folder(folder)
    names = entries(base)
    out = []
    for name in candidates:
        p = base / name.rstrip("/")
        if not os.path.lexists(p):
            continue
        if name.endswith("/"):
            mine = name in names
            if not mine and any(c.name.startswith(OWNED_PREFIX) for c in _children(p)):
                out.append(name)
        elif not owns(base, p):
            out.append(name)
    return out


def _children(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []
