"""The timeline's writer: typed records to JSON, written atomically (never a half file).

Part of :mod:`aimv_timeline.schema`. A timeline is checked by the reader before it is written.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .reader import timeline_from_dict
from .records import SCHEMA_VERSION, Timeline, TimelineFormatError, schema_version_parts

__all__ = [
    "check_rewritable",
    "preserved_file_mode",
    "timeline_to_dict",
    "write_json_atomic",
    "write_timeline",
]


def _clean(value: Any) -> Any:
    """Turn tuples into lists and refuse non-finite floats (JSON has no NaN)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TimelineFormatError(f"non-finite number {value!r} cannot be written")
        return value
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return value


def timeline_to_dict(timeline: Timeline) -> dict[str, Any]:
    """The JSON-ready dict of a timeline (keys in schema order)."""
    data = asdict(timeline)
    data.pop("schema_version")  # a writer always writes the version it knows
    data = {"schema_version": SCHEMA_VERSION, **data}
    return _clean(data)


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask is process-wide, not thread-safe to probe later


def preserved_file_mode(path: Path) -> int:
    """The permissions a rewritten file should have: its current ones, else 0666 - umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def write_json_atomic(data: Any, path: str | os.PathLike[str]) -> Path:
    """Write JSON to a temporary file beside ``path`` and rename it over: never a half file."""
    p = Path(path)
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, preserved_file_mode(p))  # mkstemp makes 0600; keep the file's own permissions
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def check_rewritable(timeline: Timeline, path: str | os.PathLike[str]) -> None:
    """TimelineFormatError when ``timeline`` came from a file of a newer minor version, whose
    fields this version does not know: rewriting it would drop them without a word."""
    newer = schema_version_parts(timeline.schema_version) or (0, 0)
    if newer > schema_version_parts(SCHEMA_VERSION):
        raise TimelineFormatError(
            f"timeline {str(path)!r}: schema_version {timeline.schema_version!r} was written by "
            f"a newer AIMV; this one writes {SCHEMA_VERSION} and would drop what it does not "
            "know, so the file is left as it is (update AIMV, or make a new timeline)"
        )


def write_timeline(timeline: Timeline, path: str | os.PathLike[str]) -> Path:
    """Validate and atomically write a timeline to ``path`` (not one of a newer minor version:
    :func:`check_rewritable`; docs/timeline.md, Versioning)."""
    check_rewritable(timeline, path)
    data = timeline_to_dict(timeline)
    timeline_from_dict(data)  # never write a file the reader would refuse
    return write_json_atomic(data, path)
