"""The event protocol between AIMV processes: one JSON object a line on stderr.

A child process (the backend run by the add-on, or the headless Blender script run by the
backend) writes ``AIMV-PROGRESS {json}`` lines; the parent parses them with :func:`parse_line`.
Events: ``start`` / ``progress`` / ``end`` of a task, ``stage`` (a stage begins), ``notice`` and
``warning`` (one line for the user), ``error`` (``type`` and a one-line ``message``), so that
errors cross the boundary as data rather than by searching stderr for the word "error", and
``cancelled`` (the run stopped on Ctrl-C, SIGTERM or Cancel; ``message`` says why when known).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

PREFIX = "AIMV-PROGRESS "
ERROR_PREFIX = "aimv: error: "  # the backend CLI's one line for a person when a run fails
KINDS = ("start", "progress", "end", "stage", "notice", "warning", "error", "cancelled")
# Lines bpy prints that mean nothing to a user: Mesa's software EGL reports the configs it
# rejects while Blender probes for a GPU context (EEVEE/Workbench on a machine without one).
_NOISE = re.compile(r"EGL_BAD_MATCH|^EGL Error|eglCreateContext|^Unable to open a display")


@dataclass(frozen=True)
class Event:
    """One event. ``fields`` holds the kind's own keys (task, done, total, message, type...)."""

    kind: str
    fields: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


def format_event(kind: str, **fields: Any) -> str:
    """The line (without newline) that carries one event."""
    if kind not in KINDS:
        raise ValueError(f"event kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return PREFIX + json.dumps({"event": kind, **fields}, ensure_ascii=False)


def error_line(error: BaseException) -> str:
    """The ``error`` event of an exception: its class name and its message on one line."""
    return format_event("error", type=type(error).__name__, message=" ".join(str(error).split()))


def parse_line(line: str) -> Event | None:
    """The event a line carries, or None for any other line (or a malformed event)."""
    if not line.startswith(PREFIX):
        return None
    try:
        data = json.loads(line[len(PREFIX) :])
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.get("event") not in KINDS:
        return None
    kind = data.pop("event")
    return Event(kind=kind, fields=data)


def is_noise(line: str) -> bool:
    """Whether a child's output line is known noise to keep from the user's terminal."""
    return bool(_NOISE.search(line))
