"""Resumable listening: finished parts of the analysis are kept on disk until it completes.

Listening to a 60-minute song takes tens of minutes, almost all of it in the speech recogniser.
While ``aimv analyze``/``aimv render`` listens, each finished block is saved to
``.listen-checkpoint.json`` beside the timeline: the instrument tags (one block), the song's
language once detected, and every group of voiced spans the recogniser has transcribed. An
interrupted run resumes from there; the file is removed when the timeline is written. The checkpoint is keyed by the song's sha256
and the listening settings, so a checkpoint of another song or other settings is ignored.

The stages find the active checkpoint through :func:`current` (set by :func:`active`), so no
stage signature carries it.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHECKPOINT_FILE = ".listen-checkpoint.json"
WRITE_EVERY_S = 5.0  # a block finishing sooner than this after the last write waits for the next

_current: contextvars.ContextVar[Checkpoint | None] = contextvars.ContextVar(
    "aimv_listen_checkpoint", default=None
)


class Checkpoint:
    """Parts of one analysis (JSON values by name), saved atomically as they finish.

    Thread-safe: the instrument and voice parts put their blocks from two threads
    (:mod:`aimv_backend.listen.overlap`).
    """

    def __init__(self, path: Path, key: str):
        self.path = Path(path)
        self.key = key
        self.parts: dict[str, Any] = {}
        self.resumed: set[str] = set()
        self._last_write = 0.0
        self._dirty = False
        self._lock = threading.RLock()
        with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if (
                isinstance(data, dict)
                and data.get("key") == key
                and isinstance(data.get("parts"), dict)
            ):
                self.parts = data["parts"]

    def get(self, name: str) -> Any | None:
        value = self.parts.get(name)
        if value is not None:
            self.resumed.add(name)
        return value

    def put(self, name: str, value: Any, *, flush: bool = False) -> None:
        with self._lock:
            self.parts[name] = value
            self._dirty = True
            if flush or time.monotonic() - self._last_write >= WRITE_EVERY_S:
                self.save()

    def save(self) -> None:
        from aimv_timeline.schema import write_json_atomic

        with self._lock:
            if not self._dirty:
                return
            with contextlib.suppress(OSError, ValueError, TypeError):
                write_json_atomic({"key": self.key, "parts": self.parts}, self.path)
                self._dirty = False
                self._last_write = time.monotonic()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def current() -> Checkpoint | None:
    """The checkpoint of the analysis running in this context, if any."""
    return _current.get()


@contextlib.contextmanager
def active(folder: Path | None, key: str) -> Iterator[Checkpoint | None]:
    """Make a checkpoint in ``folder`` current for the block; kept on failure, removed on
    success (the caller writes its result first)."""
    if folder is None:
        yield None
        return
    cp = Checkpoint(Path(folder) / CHECKPOINT_FILE, key)
    token = _current.set(cp)
    try:
        yield cp
    except BaseException:
        cp.save()  # an interrupted run keeps every finished block
        raise
    finally:
        _current.reset(token)
    cp.remove()
