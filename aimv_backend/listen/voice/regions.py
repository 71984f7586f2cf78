"""Which audio the recogniser hears: voiced regions, padded, merged and packed end to end.

Whisper pays for every 30 s it encodes, voiced or not. Packing only the voiced regions (as
faster-whisper's own ``vad_filter`` does) keeps a 3-minute song with a minute of singing at a
minute of recognition; :class:`OffsetMap` maps times in the packed audio back to song time.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aimv_backend.listen.voice.vad import SpeechRegion

PAD_SECONDS = 0.4  # context kept around each region (Whisper cuts words at hard edges)
MERGE_GAP_SECONDS = 1.0  # regions closer than this are recognised as one


def plan_regions(
    regions: Sequence[SpeechRegion],
    *,
    duration: float,
    pad: float = PAD_SECONDS,
    merge_gap: float = MERGE_GAP_SECONDS,
) -> list[tuple[float, float]]:
    """Pad each region by ``pad`` seconds, clip to [0, duration], merge overlaps and near gaps."""
    out: list[list[float]] = []
    for region in sorted(regions, key=lambda r: r.start):
        a = max(0.0, region.start - pad)
        b = min(duration, region.end + pad)
        if b <= a:
            continue
        if out and a - out[-1][1] <= merge_gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


@dataclass(frozen=True)
class OffsetMap:
    """Maps a time in the packed audio to the song: piece i starts at packed[i] and song[i]."""

    packed_starts: tuple[float, ...]
    song_starts: tuple[float, ...]
    lengths: tuple[float, ...]

    def to_song(self, t: float) -> float:
        """Song time (s) of packed time ``t`` (s); times past a piece's end clamp to that end."""
        if not self.packed_starts:
            return t
        i = max(0, bisect.bisect_right(self.packed_starts, t) - 1)
        offset = min(max(t - self.packed_starts[i], 0.0), self.lengths[i])
        return self.song_starts[i] + offset


def pack_regions(
    audio: np.ndarray, spans: Sequence[tuple[float, float]], *, sample_rate: int
) -> tuple[np.ndarray, OffsetMap]:
    """The samples of ``spans`` (seconds) joined end to end, and the map back to song time."""
    pieces = []
    packed_starts, song_starts, lengths = [], [], []
    n = 0
    for a, b in spans:
        i, j = int(round(a * sample_rate)), int(round(b * sample_rate))
        piece = audio[i:j]
        if piece.shape[0] == 0:
            continue
        packed_starts.append(n / sample_rate)
        song_starts.append(i / sample_rate)
        lengths.append(piece.shape[0] / sample_rate)
        pieces.append(piece)
        n += piece.shape[0]
    packed = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    mapping = OffsetMap(tuple(packed_starts), tuple(song_starts), tuple(lengths))
    return np.ascontiguousarray(packed, dtype=np.float32), mapping


def snap_to_regions(
    start: float, end: float, regions: Sequence[SpeechRegion]
) -> tuple[float, float]:
    """Trim a word's (start, end) to the speech regions it overlaps.

    Whisper tends to stretch a region's first word back into the padding before it; the VAD
    knows better where the voice begins and ends. A word overlapping no region is unchanged.
    """
    hits = [r for r in regions if r.start < end and r.end > start]
    if not hits:
        return start, end
    a = max(start, hits[0].start)
    b = min(end, hits[-1].end)
    return (a, b) if b > a else (start, end)
