"""Which audio the recogniser hears: voiced regions, padded, merged and packed end to end.

Whisper pays for every 30 s it encodes, voiced or not. Packing only the voiced regions (as
faster-whisper's own ``vad_filter`` does) keeps a 3-minute song with a minute of singing at a
minute of recognition; :class:`OffsetMap` maps times in the packed audio back to song time.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aimv_backend.listen.voice.vad import SpeechRegion
from aimv_timeline.schema import Word

PAD_SECONDS = 0.4  # context kept around each region (Whisper cuts words at hard edges)
MERGE_GAP_SECONDS = 1.0  # regions closer than this are recognised as one
CHUNK_SECONDS = 28.0  # one recogniser call: under Whisper's 30 s window, so one decode each
CUT_CONTEXT_SECONDS = 1.0  # a span cut to fill a group is heard this far past the cut each side
JOIN_MARGIN_SECONDS = 0.5  # both calls keep a word this close past a cut; join_at_cuts picks one
MIN_PIECE_SECONDS = 3.0  # no span is cut into a piece shorter than this


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


def group_spans(
    spans: Sequence[tuple[float, float]], *, max_seconds: float = CHUNK_SECONDS
) -> list[list[tuple[float, float]]]:
    """Consecutive spans grouped so each group's total length stays within ``max_seconds``.

    A span longer than ``max_seconds`` is cut into pieces of at most that length. Each group
    becomes one recogniser call, whose token budget then follows its length (see __init__).
    """
    groups: list[list[tuple[float, float]]] = []
    total = max_seconds + 1.0
    for a, b in spans:
        while b - a > max_seconds + 1e-9:
            groups.append([(a, a + max_seconds)])
            a += max_seconds
            total = max_seconds
        if total + (b - a) > max_seconds:
            groups.append([])
            total = 0.0
        groups[-1].append((a, b))
        total += b - a
    return groups


@dataclass(frozen=True)
class RecogniserCall:
    """One recogniser call: the spans it hears (seconds of song, packed end to end) and the
    parts of them it answers for (the same, less the context heard past a cut: see
    :func:`fill_groups`)."""

    heard: tuple[tuple[float, float], ...]
    owned: tuple[tuple[float, float], ...]

    @property
    def seconds(self) -> float:
        """Seconds of audio the call hears."""
        return sum(b - a for a, b in self.heard)

    @classmethod
    def of(cls, spans: Sequence[tuple[float, float]]) -> RecogniserCall:
        """A call that answers for all it hears."""
        return cls(tuple(spans), tuple(spans))

    def keeps(self, t: float, *, margin: float = JOIN_MARGIN_SECONDS) -> bool:
        """Whether a word whose middle is at song time ``t`` (s) is kept from this call: not
        in the context heard past a cut, except within ``margin`` of the cut (the two calls
        time a word at the cut a little differently; :func:`join_at_cuts` keeps one)."""
        for (h0, h1), (o0, o1) in zip(self.heard, self.owned, strict=True):
            if h0 <= t < o0 - margin or o1 + margin <= t < h1:
                return False
        return True

    def depth(self, t: float) -> float:
        """Seconds from song time ``t`` to the nearest end of this call's audio that is a cut
        (inf where the piece holding ``t`` was not cut): how much context the call heard on
        that side of a word."""
        for (h0, h1), (o0, o1) in zip(self.heard, self.owned, strict=True):
            if h0 <= t <= h1:
                ends = [e for e, cut in ((h0, h0 < o0), (h1, o1 < h1)) if cut]
                return min((abs(t - e) for e in ends), default=math.inf)
        return math.inf


def join_at_cuts(calls: Sequence[RecogniserCall], words: Sequence[Sequence[Word]]) -> list[Word]:
    """The words of every call (``words[i]``: call i's, song time), where two calls heard the
    same word across a cut kept once: two words from different calls near a cut are one when
    they overlap by at least half the shorter; the one its call heard with more context around
    it stays. A word dropped so never removes another."""
    entries = [
        (w, i, calls[i].depth(0.5 * (w.start + w.end))) for i, ws in enumerate(words) for w in ws
    ]
    entries.sort(key=lambda e: e[0].start)
    dropped: set[int] = set()
    for k, (w, i, d) in enumerate(entries):
        if math.isinf(d) or k in dropped:  # not by a cut, or already gone
            continue
        for m in range(k + 1, len(entries)):
            v, j, e = entries[m]
            if v.start >= w.end:
                break
            if i == j or math.isinf(e) or m in dropped:
                continue
            shorter = max(min(w.end - w.start, v.end - v.start), 1e-3)
            if min(w.end, v.end) - v.start >= 0.5 * shorter:
                if d < e:
                    dropped.add(k)
                    break  # a dropped word removes no other
                dropped.add(m)
    return [e[0] for k, e in enumerate(entries) if k not in dropped]


def fill_groups(
    spans: Sequence[tuple[float, float]],
    *,
    max_seconds: float = CHUNK_SECONDS,
    context: float = CUT_CONTEXT_SECONDS,
    min_piece: float = MIN_PIECE_SECONDS,
) -> list[RecogniserCall]:
    """``spans`` packed into recogniser calls of ``max_seconds``, each filled by cutting the span
    that does not fit (``group_spans`` starts a new group instead): fewer recogniser calls, each
    one encoder run, for the music pass's many stretches between the voiced ones.

    A cut span is heard ``context`` seconds past the cut on both sides, so a word across the
    cut is heard whole by one side; each side answers only for its own part. No piece is
    shorter than ``min_piece`` seconds of its own.
    """
    calls: list[RecogniserCall] = []
    heard: list[tuple[float, float]] = []
    owned: list[tuple[float, float]] = []
    total = 0.0

    def close() -> None:
        nonlocal heard, owned, total
        if heard:
            calls.append(RecogniserCall(tuple(heard), tuple(owned)))
        heard, owned, total = [], [], 0.0

    for a, b in spans:
        start = a  # what the next piece answers for, from here
        lead = 0.0  # context heard before ``start`` (after a cut)
        while b > start:
            room = max_seconds - total
            if lead + (b - start) <= room + 1e-9:
                heard.append((start - lead, b))
                owned.append((start, b))
                total += lead + b - start
                break
            cut = min(start + room - lead - context, b - min_piece)
            if cut - start >= min_piece:
                heard.append((start - lead, cut + context))
                owned.append((start, cut))
                start, lead = cut, context
            close()
    close()
    return calls


def pack_calls(spans: Sequence[tuple[float, float]]) -> list[RecogniserCall]:
    """The recogniser calls for ``spans``: :func:`fill_groups`'s where they are fewer than
    :func:`group_spans`'s (its context costs 2 s a cut, so one long stretch takes fewer calls
    cut plainly at 28 s), else those."""
    filled = fill_groups(spans)
    plain = group_spans(spans)
    return filled if len(filled) < len(plain) else [RecogniserCall.of(g) for g in plain]


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

    def span_to_song(self, a: float, b: float) -> tuple[float, float]:
        """Song (start, end) of the packed span [a, b] (s).

        A span that straddles the joint of two pieces (Whisper stretches a word's start back
        over the joint) is kept in the piece that holds most of it, so it does not spread over
        the song's silence between the pieces.
        """
        if not self.packed_starts:
            return a, b
        best, best_len = None, -1.0
        for k, (p0, n) in enumerate(zip(self.packed_starts, self.lengths, strict=True)):
            overlap = min(b, p0 + n) - max(a, p0)
            if overlap > best_len:
                best, best_len = k, overlap
            if p0 > b:
                break
        p0, n = self.packed_starts[best], self.lengths[best]
        lo = min(max(a, p0), p0 + n)
        hi = min(max(b, lo), p0 + n)
        s0 = self.song_starts[best]
        return s0 + (lo - p0), s0 + (hi - p0)


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
    """Trim a word's (start, end) to the speech region it overlaps most.

    Whisper tends to stretch a word back over the silence before it (into the padding, or
    across a pause); the VAD knows better where the voice is. A word overlapping no region is
    unchanged.
    """
    best, best_overlap = None, 0.0
    for r in regions:
        overlap = min(end, r.end) - max(start, r.start)
        if overlap > best_overlap:
            best, best_overlap = r, overlap
    if best is None:
        return start, end
    return max(start, best.start), min(end, best.end)
