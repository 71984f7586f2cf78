"""Load a PyTorch checkpoint safely: weights only, and one line for anything else.

``torch.load`` on a text file, an HTML error page or a half download raises whatever its
unpickler trips on first (KeyError, IndexError, ...). :func:`load_torch_weights` checks the
first bytes (a zip archive, or the legacy pickle format) before loading, loads with
``weights_only=True`` (no code runs), and turns every failure into ModelUnavailableError.
"""

from __future__ import annotations

import os
import pickle
import stat
import zipfile
from typing import Any

from aimv_backend.errors import ModelUnavailableError

_ZIP = b"PK\x03\x04"
_LEGACY = b"\x80"  # pickle protocol 2+ (torch's legacy format starts with its magic number)


def check_checkpoint_file(path: str | os.PathLike[str], *, what: str) -> None:
    """ModelUnavailableError unless ``path`` is a regular file that looks like a checkpoint."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
        if not stat.S_ISREG(info.st_mode):
            raise ModelUnavailableError(f"{what} {name!r} is not a regular file")
        with open(name, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise ModelUnavailableError(f"{what} {name!r} cannot be read: {exc.strerror}") from None
    if not (head.startswith(_ZIP) or head.startswith(_LEGACY)):
        raise ModelUnavailableError(
            f"{what} {name!r} cannot be loaded: it is not a PyTorch checkpoint (it starts "
            f"with {head!r}, {info.st_size} bytes); the file was left as it is: delete or "
            f"replace it"
        )


def load_torch_weights(path: str | os.PathLike[str], *, what: str, map_location: Any = "cpu"):
    """``torch.load(path, weights_only=True)``, or ModelUnavailableError in one line."""
    import torch

    check_checkpoint_file(path, what=what)
    try:
        return torch.load(os.fspath(path), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise ModelUnavailableError(
            f"{what} {os.fspath(path)!r} cannot be loaded: it holds objects other than "
            f"weights, which AIMV refuses to unpickle (torch.load weights_only=True)"
        ) from None
    except (
        OSError, RuntimeError, EOFError, KeyError, IndexError, TypeError, ValueError,
        AttributeError, UnicodeDecodeError, zipfile.BadZipFile, MemoryError,
    ) as exc:  # fmt: skip
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelUnavailableError(
            f"{what} {os.fspath(path)!r} cannot be loaded ({type(exc).__name__}: {first})"
        ) from None
