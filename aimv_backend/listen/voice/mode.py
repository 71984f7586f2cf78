"""Spoken or sung: told from the timing and the pitch of the recognised words.

Singing holds its words on steady notes: sung words last longer and come more slowly, and
their pitch stays put, while speech glides (even espeak-ng's flat voice moves ~5 semitones a
second) and runs at two to four words a second. The words are grouped into phrases (a pause
of more than PHRASE_GAP seconds ends one). Without the song's audio each phrase gets a
timing score:

    (1.8 - words per second) + (median word seconds - 0.45)

and a phrase scoring SUNG_SCORE or more is sung. A window takes the mode of the phrase whose
words it holds (the longer overlap when two meet); a voiced window without words takes that
of a phrase within PHRASE_GAP, else none.

With audio, the pitch decides instead: the share of frames of the words within CONTEXT s
of the window that lie on a steady pitch (compared octave-blind: under a band YIN jumps an
octave inside a held note), SUNG_STEADY or more is sung. A frame is steady in a 120 ms stretch
within 0.35 semitone, or in 240 ms of vibrato (no trend, a swing of 0.2-1.2 semitone: a real
singer's held note fails the 120 ms test). On espeak lines over bands (+12..0 dB) sung words
score 0.69-0.73 and spoken ones 0.23-0.32; the timing terms did not separate them (sung 0.55 s
holds vs spoken words of 0.4-0.5 s) and are kept for calls without audio. Pooling the words
of 3 s keeps a phrase from flipping word by word (docs/benchmarks.md, "Sung or spoken").
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from aimv_backend.listen.windows import WindowSpan
from aimv_timeline.schema import Word

PHRASE_GAP = 0.8  # seconds of silence between words that end a phrase
SUNG_SCORE = 0.55
PITCH_RATE = 16_000
PITCH_HOP = 160  # 10 ms
STEADY_FRAMES = 12  # 120 ms
STEADY_SEMITONES = 0.35
# A sung note with vibrato (a swing of +-0.3-1 semitone, 4.5-7 Hz) fails the 120 ms test: it
# is held when 240 ms of it keep no trend (under VIBRATO_SLOPE semitones a second) and swing
# between VIBRATO_SWING semitones around their line (set on synthetic vibrato tones; speech
# glides).
VIBRATO_FRAMES = 24  # 240 ms: more than one cycle at 4.5 Hz
VIBRATO_SLOPE = 1.0
VIBRATO_SWING = (0.2, 1.2)


def _vibrato(seg: np.ndarray) -> np.ndarray:
    """Per frame of a word's pitch track (semitones, 10 ms frames): whether it lies in a
    stretch of VIBRATO_FRAMES with no trend and a vibrato's swing (compared octave-blind)."""
    view = _folded_stretches(seg, VIBRATO_FRAMES)
    x = np.arange(VIBRATO_FRAMES) - (VIBRATO_FRAMES - 1) / 2
    slope = (view * x).sum(axis=1) / (x * x).sum()  # semitones a frame
    resid = view - view.mean(axis=1, keepdims=True) - slope[:, None] * x
    swing = np.abs(resid).max(axis=1)
    low, high = VIBRATO_SWING
    per_second = np.abs(slope) * (PITCH_RATE / PITCH_HOP)
    ok = (per_second < VIBRATO_SLOPE) & (swing >= low) & (swing < high)
    return _covered(ok, VIBRATO_FRAMES, seg.shape[0])


def _folded_stretches(seg: np.ndarray, width: int) -> np.ndarray:
    """Every ``width``-frame stretch of a pitch track (semitones), each moved by octaves next
    to its first frame: YIN's octave jumps inside a held note are no change of pitch."""
    view = np.lib.stride_tricks.sliding_window_view(seg, width)
    return (view - view[:, :1] + 6.0) % 12.0 - 6.0


def _covered(ok: np.ndarray, width: int, frames: int) -> np.ndarray:
    """Per frame: whether it lies in one of the ``width``-frame stretches marked ``ok``."""
    return np.convolve(ok.astype(np.int32), np.ones(width, np.int32))[:frames] > 0


CONTEXT = 3.0  # seconds: a window's mode pools the pitch of the words this close to it
SUNG_STEADY = 0.45  # share of word frames on a steady pitch from which a window is sung


def phrases(words: Sequence[Word]) -> list[list[Word]]:
    """Consecutive words split where a pause longer than PHRASE_GAP falls."""
    out: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.start):
        if out and word.start - out[-1][-1].end <= PHRASE_GAP:
            out[-1].append(word)
        else:
            out.append([word])
    return out


def steady_frames(audio: np.ndarray, phrase: Sequence[Word]) -> list[tuple[int, int]]:
    """(steady frames, frames) of each word of the phrase: a 10 ms frame is steady when it lies
    in a 120 ms stretch whose pitch stays within 0.35 semitone, compared octave-blind (YIN
    jumps an octave, often to the band's bass, inside a held note under music). Words shorter
    than 120 ms give (0, 0). ``audio``: the song, mono 16 kHz."""
    import librosa

    a = max(0, int(phrase[0].start * PITCH_RATE) - 512)
    b = min(audio.shape[0], int(phrase[-1].end * PITCH_RATE) + 512)
    if b - a < 2048:
        return [(0, 0)] * len(phrase)
    f0 = librosa.yin(
        audio[a:b], fmin=70.0, fmax=600.0, sr=PITCH_RATE, frame_length=1024, hop_length=PITCH_HOP
    )
    semis = 12.0 * np.log2(np.maximum(f0, 1.0) / 100.0)
    out = []
    for w in phrase:
        i = int((w.start * PITCH_RATE - a) / PITCH_HOP)
        j = int((w.end * PITCH_RATE - a) / PITCH_HOP)
        seg = semis[max(0, i) : max(0, j)]
        if seg.shape[0] < STEADY_FRAMES:
            out.append((0, 0))
            continue
        view = _folded_stretches(seg, STEADY_FRAMES)
        ok = (view.max(axis=1) - view.min(axis=1)) < STEADY_SEMITONES
        held = _covered(ok, STEADY_FRAMES, seg.shape[0])
        if seg.shape[0] >= VIBRATO_FRAMES:
            held |= _vibrato(seg)
        out.append((int(held.sum()), int(seg.shape[0])))
    return out


def phrase_score(phrase: Sequence[Word]) -> float:
    """The timing score of one phrase (see the module docstring)."""
    median = float(np.median([max(0.0, w.end - w.start) for w in phrase]))
    span = phrase[-1].end - phrase[0].start
    rate = len(phrase) / span if span > 0 else 10.0
    return (1.8 - rate) + (median - 0.45)


def phrase_mode(phrase: Sequence[Word]) -> str:
    """ "sung" or "spoken" for one phrase, from its timing."""
    return "sung" if phrase_score(phrase) >= SUNG_SCORE else "spoken"


class _TimeIndex:
    """Items ``(start, end, ...)`` in start order, and which of them may reach into a span:
    a long song's windows each look at their neighbourhood, not at every word (O(n log n))."""

    def __init__(self, items: Sequence[tuple]) -> None:
        self.items = list(items)
        self.starts = [item[0] for item in self.items]
        self.reach = list(np.maximum.accumulate([item[1] for item in self.items]))

    def near(self, lo: float, hi: float) -> list[tuple]:
        """The items that may lie within [lo, hi] (a superset: callers test each one): none
        before the first whose running latest end reaches ``lo``, none starting after ``hi``."""
        first = bisect.bisect_left(self.reach, lo - 1e-6)  # slack for rounding at the edges
        last = bisect.bisect_right(self.starts, hi + 1e-6)
        return self.items[first:last]


def window_modes(
    *,
    words: Sequence[Word],
    windows: Sequence[WindowSpan],
    voiced: Sequence[bool],
    audio: np.ndarray | None = None,
) -> list[str | None]:
    """The voice mode of each window: "sung", "spoken", or None without voice or evidence.

    audio: the song, mono 16 kHz, for the pitch term (None: timing only).
    """
    groups = phrases(words)
    marked = [(p[0].start, p[-1].end, phrase_mode(p)) for p in groups]
    pitched = []  # (start, end, steady frames, frames) of every word
    if audio is not None:
        for p in groups:
            pitched += [
                (w.start, w.end, s, n) for w, (s, n) in zip(p, steady_frames(audio, p), strict=True)
            ]
    phrase_index, word_index = _TimeIndex(marked), _TimeIndex(pitched)
    out: list[str | None] = []
    for span, has_voice in zip(windows, voiced, strict=True):
        if not has_voice or not marked:
            out.append(None)
            continue
        best, best_key = None, None
        for start, end, mode in phrase_index.near(span.start - PHRASE_GAP, span.end + PHRASE_GAP):
            overlap = min(end, span.end) - max(start, span.start)
            distance = max(0.0, start - span.end, span.start - end)
            if overlap <= 0 and distance > PHRASE_GAP:
                continue
            key = (overlap, -distance)
            if best_key is None or key > best_key:
                best, best_key = mode, key
        # With audio, the pitch of the words within CONTEXT s decides (so neighbouring
        # windows share most of their evidence and a phrase does not flip word by word);
        # the timing score only where no word there is long enough for a pitch.
        near = [
            (s, n)
            for a, b, s, n in word_index.near(span.start - CONTEXT, span.end + CONTEXT)
            if max(a - span.end, span.start - b) <= CONTEXT
        ]
        frames = sum(n for _, n in near)
        if best is not None and frames:
            best = "sung" if sum(s for s, _ in near) / frames >= SUNG_STEADY else "spoken"
        out.append(best)
    return out
