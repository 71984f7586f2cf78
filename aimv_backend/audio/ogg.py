"""Chained Ogg files: several streams one after another (``cat a.ogg b.ogg``, or an internet
radio recording). libsndfile, and ffmpeg too, read only the first link, so the song would end
early without a word. The page headers say where each link starts; they are walked here.
"""

from __future__ import annotations

import struct
from pathlib import Path

CAPTURE = b"OggS"
_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, seq, crc, segs
BEGINNING_OF_STREAM = 0x02
MAX_PAGES = 2_000_000  # 255 * 255 bytes at most a page: far past any song


def links(path: str | Path) -> int:
    """How many chained streams the Ogg file holds (1 for an ordinary file; streams that begin
    together, as in a multiplexed file, are one link). Stops at the first damaged page: what
    follows it is not read by anyone either."""
    count, in_header = 0, False
    with open(path, "rb") as fh:
        for _ in range(MAX_PAGES):
            head = fh.read(_HEADER.size)
            if len(head) < _HEADER.size:
                break
            capture, _version, flags, _granule, _serial, _seq, _crc, segments = _HEADER.unpack(head)
            table = fh.read(segments)
            if capture != CAPTURE or len(table) < segments:
                break
            begins = bool(flags & BEGINNING_OF_STREAM)
            if begins and not in_header:
                count += 1
            in_header = begins
            fh.seek(sum(table), 1)
    return max(count, 1)
