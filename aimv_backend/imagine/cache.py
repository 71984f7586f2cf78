"""Texture cache: a PNG named by the hash of everything that made it.

Why: re-running a stage must regenerate nothing, and an interrupted run must resume where it
stopped. Each PNG is written atomically as soon as it is made, so a file that exists and is a
complete PNG of the right size is a finished texture.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from pathlib import Path
from typing import Any

from PIL import Image

from aimv_backend.util.files import atomic_path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def cache_key(**parts: Any) -> str:
    """sha1 hex of the JSON of the parts (engine, model, prompt, seed, size, ...)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def texture_path(out_dir: Path, key: str) -> Path:
    """textures/<first 16 hex digits of the key>.png"""
    return Path(out_dir) / f"{key[:16]}.png"


_TEXTURE_NAME = re.compile(r"^[0-9a-f]{16}\.png$")


def is_texture_name(name: str) -> bool:
    """Whether ``name`` is one :func:`texture_path` gives (an image AIMV names by its key)."""
    return _TEXTURE_NAME.match(name) is not None


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a complete PNG file, or None when missing, truncated or not a PNG.

    Reads the header and the last 12 bytes only, so checking a large cache stays fast.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
            if len(head) < 24 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
                return None
            fh.seek(-12, 2)
            if fh.read(12) != _IEND:
                return None
    except OSError:
        return None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def is_cached(path: Path, size: tuple[int, int]) -> bool:
    """True when ``path`` is a complete PNG of ``size`` (width, height)."""
    return png_size(path) == tuple(size)


def save_png(image: Image.Image, path: Path) -> Path:
    """Write an RGB PNG atomically (temporary file beside it, then a rename)."""
    with atomic_path(path, suffix=".png") as tmp:
        image.convert("RGB").save(tmp, format="PNG", compress_level=1)
    return Path(path)


class TextureLedger:
    """The sha256 of every texture AIMV wrote in a folder (``.FOLDER.sha256.json`` beside it).

    A cached PNG is reused only when its bytes still hash to what was recorded when it was
    made: a file damaged in the middle (a bad sector, a bad copy, a hand edit) is remade,
    which a check of the header and the last bytes would miss.
    """

    def __init__(self, folder: Path):
        folder = Path(folder).absolute()
        self.path = folder.parent / f".{folder.name}.sha256.json"
        self.hashes: dict[str, str] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            data = {}
        if isinstance(data, dict) and isinstance(data.get("sha256"), dict):
            self.hashes = {k: v for k, v in data["sha256"].items() if isinstance(v, str)}
        self._dirty = False

    def verify(self, path: Path, size: tuple[int, int]) -> bool:
        """True when ``path`` is a complete PNG of ``size`` whose bytes match the record."""
        want = self.hashes.get(Path(path).name)
        if want is None or not is_cached(path, size):
            return False
        from aimv_backend.util.files import sha256_file

        try:
            return sha256_file(path) == want
        except OSError:
            return False

    def add(self, path: Path) -> None:
        from aimv_backend.util.files import sha256_file

        self.hashes[Path(path).name] = sha256_file(path)
        self._dirty = True

    def save(self) -> None:
        if self._dirty:
            from aimv_timeline.schema import write_json_atomic

            write_json_atomic({"sha256": dict(sorted(self.hashes.items()))}, self.path)
            self._dirty = False
