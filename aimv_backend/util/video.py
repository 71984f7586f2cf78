"""Check that an MP4 is complete before it takes the user's file name.

A full disk during the encode leaves a truncated MP4 that Blender may still report as written.
:func:`check_mp4` reads the file's box structure (standard library only): the top-level boxes
must cover the file exactly, a ``moov`` box with ``mvhd`` and at least ``min_tracks`` ``trak``
boxes must be there, and the movie's duration must be close to the expected one. When ffprobe
is on PATH it must also decode the stream list. Any failure raises OutputError and the caller
keeps the previous video.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from aimv_backend.errors import OutputError


def _boxes(fh, start: int, end: int):
    """(type, payload offset, payload end) of the boxes in [start, end); ValueError if broken."""
    offset = start
    while offset < end:
        fh.seek(offset)
        head = fh.read(8)
        if len(head) < 8:
            raise ValueError(f"a box header at byte {offset} is cut off")
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:
            big = fh.read(8)
            if len(big) < 8:
                raise ValueError(f"a box header at byte {offset} is cut off")
            size = struct.unpack(">Q", big)[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise ValueError(f"box {kind!r} at byte {offset} runs past the end of the file")
        yield kind, offset + header, offset + size
        offset += size


def mp4_facts(path: Path) -> tuple[float, int]:
    """(duration in seconds, number of tracks) of a complete MP4; ValueError otherwise."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        top = {kind: (a, b) for kind, a, b in _boxes(fh, 0, size)}
        if b"moov" not in top or b"mdat" not in top:
            raise ValueError(
                "no movie header (moov) or media data (mdat): the encode did not finish"
            )
        a, b = top[b"moov"]
        inner = list(_boxes(fh, a, b))
        mvhd = next(((x, y) for kind, x, y in inner if kind == b"mvhd"), None)
        if mvhd is None:
            raise ValueError("the movie header has no mvhd box")
        fh.seek(mvhd[0])
        version = fh.read(1)[0]
        if version == 1:
            fh.seek(mvhd[0] + 4 + 16)
            timescale, duration = struct.unpack(">IQ", fh.read(12))
        else:
            fh.seek(mvhd[0] + 4 + 8)
            timescale, duration = struct.unpack(">II", fh.read(8))
        tracks = sum(1 for kind, _, _ in inner if kind == b"trak")
    if not timescale:
        raise ValueError("the movie header has a time scale of 0")
    return duration / timescale, tracks


def check_mp4(
    path: str | Path,
    *,
    expected_seconds: float | None,
    min_tracks: int = 1,
    tolerance_s: float = 1.0,
) -> float:
    """Raise OutputError unless ``path`` is a complete MP4 of about ``expected_seconds``
    (within ``tolerance_s``) with ``min_tracks`` tracks; returns its duration in seconds."""
    p = Path(path)
    try:
        seconds, tracks = mp4_facts(p)
    except (OSError, ValueError, IndexError, struct.error) as exc:
        raise OutputError(f"Blender's video {str(p)!r} is incomplete ({exc}); disk full?") from None
    if tracks < min_tracks:
        raise OutputError(f"Blender's video {str(p)!r} has {tracks} tracks, expected {min_tracks}")
    if expected_seconds is not None and abs(seconds - expected_seconds) > tolerance_s:
        raise OutputError(
            f"Blender's video {str(p)!r} lasts {seconds:.2f} s, expected {expected_seconds:.2f} s"
        )
    ffprobe = shutil.which("ffprobe")
    if ffprobe:
        try:
            probe = subprocess.run(
                [
                    ffprobe,
                    "-v",
                    "error",
                    "-show_entries",
                    "stream=codec_type",
                    "-of",
                    "csv=p=0",
                    str(p),
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            return seconds
        streams = [s for s in probe.stdout.split() if s]
        if probe.returncode != 0 or len(streams) < min_tracks:
            reason = " ".join(probe.stderr.split())[:160] or f"{len(streams)} streams"
            raise OutputError(f"Blender's video {str(p)!r} does not decode ({reason})")
    return seconds
