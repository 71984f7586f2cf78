"""Fetch a model file safely: temporary file, size and checksum check, then rename.

panns-inference fetches its checkpoint with ``wget -O`` onto the final path, which truncates
an existing file and leaves a broken one behind when the network fails. Here a download can
only ever create a complete, verified file where there was none: it is written to a hidden
temporary file in the same folder, checked, then linked into place (never over an existing
file), and the temporary file is removed whatever happens.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.progress import Progress
from aimv_backend.util.net import check_reachable, host_of, remember_failure
from aimv_timeline.offline import is_local_host

CHUNK_BYTES = 1 << 20
DEFAULT_TIMEOUT_S = 30.0  # between two reads once connected; connecting takes at most 2 s


def _publish(tmp: Path, destination: Path) -> None:
    """Move ``tmp`` to ``destination`` unless something already exists there."""
    try:
        os.link(tmp, destination)  # atomic, and fails instead of replacing an existing file
    except FileExistsError:
        return  # another process finished first; keep its file
    except OSError:
        if destination.exists():
            return
        os.replace(tmp, destination)


def download_file(
    *,
    url: str,
    destination: str | os.PathLike[str],
    expected_size: int | None,
    expected_md5: str | None = None,
    expected_sha256: str | None = None,
    progress: Progress,
    what: str = "model file",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Path:
    """Download ``url`` to ``destination`` if it does not exist yet; return the path.

    Sizes are in bytes, checksums are lowercase hex. Raises ModelUnavailableError naming the
    URL and the reason when the network fails, the server answers an error, or the bytes do
    not match the expected size or checksum. An existing ``destination`` is never touched.
    """
    dest = Path(destination)
    if dest.exists():
        return dest
    if url.startswith(("http://", "https://")):  # 2 s at most, and a remembered failure: 0 s
        check_reachable(url, what=f"could not download the {what}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise ModelUnavailableError(
            f"cannot write the {what} to {str(dest)!r}: {exc.strerror or exc}"
        ) from None
    tmp = Path(tmp_name)
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    received = 0
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout_s) as resp:
                length = resp.headers.get("Content-Length") if resp.headers else None
                total = int(length) if length and length.isdigit() else expected_size
                steps = math.ceil(total / CHUNK_BYTES) if total else None
                task = progress.task(f"downloading {what} (MiB)", steps)
                try:
                    while block := resp.read(CHUNK_BYTES):
                        out.write(block)
                        md5.update(block)
                        sha256.update(block)
                        received += len(block)
                        task.advance(1)
                        if expected_size is not None and received > expected_size:
                            break
                finally:
                    task.close()
                out.flush()
                os.fsync(out.fileno())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            host = host_of(url)[0]
            if isinstance(exc, (urllib.error.URLError, TimeoutError)) and not is_local_host(host):
                remember_failure(host, str(reason))
            hint = "offline? " if isinstance(exc, urllib.error.URLError) else ""
            raise ModelUnavailableError(
                f"could not download the {what} from {url}: {reason} "
                f"({hint}you can place the file at {str(dest)!r} yourself)"
            ) from None
        if expected_size is not None and received != expected_size:
            raise ModelUnavailableError(
                f"download of the {what} from {url} has the wrong size: got {received} bytes "
                f"(or more), expected {expected_size}; nothing was written"
            )
        for name, want, digest in (("md5", expected_md5, md5), ("sha256", expected_sha256, sha256)):
            if want is not None and digest.hexdigest() != want.lower():
                raise ModelUnavailableError(
                    f"download of the {what} from {url} failed its {name} check "
                    f"(got {digest.hexdigest()}, expected {want}); nothing was written"
                )
        _publish(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return dest
