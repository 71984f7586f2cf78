"""Spoken or sung: told from the timing of the recognised words.

Singing holds its words: sung syllables last longer than spoken ones and come more slowly,
while speech runs at 2.5-4 words a second with words of 0.2-0.35 s. The words are grouped
into phrases (a pause of more than PHRASE_GAP seconds ends one); a phrase whose words last
SUNG_WORD_SECONDS on average, or that runs slower than SUNG_WORDS_PER_SECOND, is sung. Word
times come from the recogniser, so this holds under music, where a pitch tracker would follow
the instruments. A window takes the mode of the phrases whose words it holds (the longer one
when two meet); a voiced window without words takes that of the phrase nearest in time
within PHRASE_GAP, else none.
"""

from __future__ import annotations

from collections.abc import Sequence

from aimv_backend.listen.windows import WindowSpan
from aimv_timeline.schema import Word

PHRASE_GAP = 0.8  # seconds of silence between words that end a phrase
SUNG_WORD_SECONDS = 0.42  # mean word length from which a phrase is sung
SUNG_WORDS_PER_SECOND = 1.6  # a phrase slower than this is sung


def phrases(words: Sequence[Word]) -> list[list[Word]]:
    """Consecutive words split where a pause longer than PHRASE_GAP falls."""
    out: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.start):
        if out and word.start - out[-1][-1].end <= PHRASE_GAP:
            out[-1].append(word)
        else:
            out.append([word])
    return out


def phrase_mode(phrase: Sequence[Word]) -> str:
    """ "sung" or "spoken" for one phrase (see the module docstring)."""
    durations = [max(0.0, w.end - w.start) for w in phrase]
    mean = sum(durations) / len(durations)
    span = phrase[-1].end - phrase[0].start
    rate = len(phrase) / span if span > 0 else float("inf")
    if mean >= SUNG_WORD_SECONDS or (len(phrase) >= 3 and rate < SUNG_WORDS_PER_SECOND):
        return "sung"
    return "spoken"


def window_modes(
    *, words: Sequence[Word], windows: Sequence[WindowSpan], voiced: Sequence[bool]
) -> list[str | None]:
    """The voice mode of each window: "sung", "spoken", or None without voice or evidence."""
    marked = [(p[0].start, p[-1].end, phrase_mode(p)) for p in phrases(words)]
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
