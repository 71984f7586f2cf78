"""Content-addressed cache of rendered clips, so repeated test runs skip fluidsynth/espeak-ng.

A clip's key is the sha256 of everything that decides its samples (parameters, tool versions,
the soundfont's identity and this package's CACHE_VERSION). Entries are float32 ``.npy`` files
written atomically: a killed run never leaves a half-written entry that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from aimv_backend.util.files import atomic_path

#: Bump when the rendering code changes what a given parameter set sounds like.
CACHE_VERSION = 7
ENV_CACHE_DIR = "AIMV_CACHE_DIR"
ENV_NO_CACHE = "AIMV_SYNTH_NO_CACHE"


def cache_dir() -> Path:
    """``$AIMV_CACHE_DIR/synth``, else ``$XDG_CACHE_HOME/aimv/synth``, else ``~/.cache/aimv/synth``.

    Same root as the models' cache (aimv_backend.listen.voice.models.cache_root).
    """
    root = os.environ.get(ENV_CACHE_DIR)
    if root:
        return Path(root).expanduser() / "synth"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "aimv" / "synth"


def cache_key(kind: str, params: dict) -> str:
    """Stable hex digest of ``kind`` and JSON-able ``params``."""
    blob = json.dumps({"kind": kind, "v": CACHE_VERSION, **params}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def cached_array(kind: str, params: dict, make: Callable[[], np.ndarray]) -> np.ndarray:
    """Return the cached array for (kind, params), or ``make()`` it and store it.

    Set AIMV_SYNTH_NO_CACHE=1 to bypass the cache (used to check cached == fresh). A corrupt
    entry is ignored and rewritten; an unwritable cache folder only costs speed.
    """
    if os.environ.get(ENV_NO_CACHE):
        return np.asarray(make(), dtype=np.float32)
    folder = cache_dir()
    key = cache_key(kind, params)
    path = folder / key[:2] / f"{kind}-{key[:40]}.npy"
    if path.is_file():
        try:
            arr = np.load(path, allow_pickle=False)
            if arr.dtype == np.float32:
                return arr
        except (OSError, ValueError):
            pass
    arr = np.ascontiguousarray(make(), dtype=np.float32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".npy") as tmp:
            np.save(tmp, arr, allow_pickle=False)
    except OSError:
        pass
    return arr
