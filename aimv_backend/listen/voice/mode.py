"""Spoken or sung: told from the timing and the pitch of the recognised words.

Singing holds its words on steady notes: sung words last longer and come more slowly, and
their pitch stays put, while speech glides (even espeak-ng's flat voice moves ~5 semitones a
second) and runs at two to four words a second. The words are grouped into phrases (a pause
of more than PHRASE_GAP seconds ends one), and each phrase gets a score:

    2 x steady + (1.8 - words per second) + (median word seconds - 0.45)

where ``steady`` is the share of 120 ms stretches inside its words whose pitch (YIN, 70-600
Hz) stays within 0.35 semitone. A phrase scoring SUNG_SCORE or more is sung. Measured here on
the demo song (sung, +12 dB over the band) and the benchmark song (spoken lines, +6 dB): sung
phrases scored 0.65 and up, spoken ones at most 0.45 (docs/voice.md). Word times come from the
recogniser, so timing holds under music; the pitch term is what music disturbs, and it only
adds. A window takes the mode of the phrase whose words it holds (the longer overlap when two
meet); a voiced window without words takes that of a phrase within PHRASE_GAP, else none.
"""

from __future__ import annotations

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


def phrases(words: Sequence[Word]) -> list[list[Word]]:
    """Consecutive words split where a pause longer than PHRASE_GAP falls."""
    out: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.start):
        if out and word.start - out[-1][-1].end <= PHRASE_GAP:
            out[-1].append(word)
        else:
            out.append([word])
    return out


def steadiness(audio: np.ndarray | None, phrase: Sequence[Word]) -> float:
    """Share of 120 ms stretches within the phrase's words whose pitch stays within 0.35
    semitone (0 without audio). ``audio``: the song, mono 16 kHz."""
    if audio is None or not phrase:
        return 0.0
    import librosa

    a = max(0, int(phrase[0].start * PITCH_RATE) - 512)
    b = min(audio.shape[0], int(phrase[-1].end * PITCH_RATE) + 512)
    if b - a < 2048:
        return 0.0
    f0 = librosa.yin(
        audio[a:b], fmin=70.0, fmax=600.0, sr=PITCH_RATE, frame_length=1024, hop_length=PITCH_HOP
    )
    semis = 12.0 * np.log2(np.maximum(f0, 1.0) / 100.0)
    steady, total = 0, 0
    for w in phrase:
        i = int((w.start * PITCH_RATE - a) / PITCH_HOP)
        j = int((w.end * PITCH_RATE - a) / PITCH_HOP)
        seg = semis[max(0, i) : max(0, j)]
        if seg.shape[0] < STEADY_FRAMES:
            continue
        view = np.lib.stride_tricks.sliding_window_view(seg, STEADY_FRAMES)
        spread = view.max(axis=1) - view.min(axis=1)
        steady += int((spread < STEADY_SEMITONES).sum())
        total += spread.shape[0]
    return steady / total if total else 0.0


def phrase_score(phrase: Sequence[Word], steady: float = 0.0) -> float:
    """The sung score of one phrase (see the module docstring)."""
    median = float(np.median([max(0.0, w.end - w.start) for w in phrase]))
    span = phrase[-1].end - phrase[0].start
    rate = len(phrase) / span if span > 0 else 10.0
    return 2.0 * steady + (1.8 - rate) + (median - 0.45)


def phrase_mode(phrase: Sequence[Word], steady: float = 0.0) -> str:
    """ "sung" or "spoken" for one phrase."""
    return "sung" if phrase_score(phrase, steady) >= SUNG_SCORE else "spoken"


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
    marked = [(p[0].start, p[-1].end, phrase_mode(p, steadiness(audio, p))) for p in phrases(words)]
    out: list[str | None] = []
    for span, has_voice in zip(windows, voiced, strict=True):
        if not has_voice or not marked:
            out.append(None)
            continue
        best, best_key = None, None
        for start, end, mode in marked:
            overlap = min(end, span.end) - max(start, span.start)
            distance = max(0.0, start - span.end, span.start - end)
            if overlap <= 0 and distance > PHRASE_GAP:
                continue
            key = (overlap, -distance)
            if best_key is None or key > best_key:
                best, best_key = mode, key
        out.append(best)
    return out
