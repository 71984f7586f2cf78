"""From recognised words to per-window Voice records.

Rule: a word belongs to the window that contains its middle ((start + end) / 2), so a word
sung across a boundary is counted once. A window with voice but no intelligible word keeps
``present=True`` with empty text: the design's "hmmmm / oooooo" case. Hums, vocables and the
recognisers' non-speech tags ("[Music]", "(humming)", "♪") are not words.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aimv_backend.listen.windows import WindowSpan
from aimv_backend.timeline_schema import Voice, Word

# Whole-token hums and vowels: hm, hmm, mmm, mhm, ooh, oooo, aah, uh, um, erm, ...
_NON_WORD = re.compile(r"^(?:h*m+h*m*|m+h+m+|o{2,}h*|a{2,}h*|u{2,}h*|uh+|um+|e+r+m*|h+)$")
_TAG = re.compile(r"[\[(<{][^\])>}]*[\])>}]")
_MUSIC = re.compile(r"[♪♫♬♩]")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard: words with times in the audio it was given (seconds)."""

    language: str | None
    words: tuple[Word, ...]


def is_word(text: str) -> bool:
    """Whether a recognised token is an intelligible word (not a hum, tag or punctuation)."""
    t = _MUSIC.sub("", _TAG.sub("", text)).strip()
    core = _EDGE_PUNCT.sub("", t).lower()
    if not core or not any(ch.isalnum() for ch in core):
        return False
    return _NON_WORD.match(core) is None


def clean_words(words: Sequence[Word]) -> list[Word]:
    """Keep intelligible words, text stripped of spaces, times ordered (end >= start)."""
    out = []
    for w in words:
        if not is_word(w.text):
            continue
        text = _MUSIC.sub("", _TAG.sub("", w.text)).strip()
        start = max(0.0, float(w.start))
        end = max(start, float(w.end))
        prob = min(max(float(w.probability), 0.0), 1.0)
        out.append(Word(text=text, start=start, end=end, probability=prob))
    return sorted(out, key=lambda w: (w.start, w.end))


def words_by_window(words: Sequence[Word], windows: Sequence[WindowSpan]) -> list[list[Word]]:
    """Each window's words: those whose middle lies in [start, end) (the last window's end is
    inclusive; middles outside the song go to the first or last window)."""
    out: list[list[Word]] = [[] for _ in windows]
    if not windows:
        return out
    starts = [w.start for w in windows]
    for word in words:
        middle = 0.5 * (word.start + word.end)
        i = bisect.bisect_right(starts, middle) - 1
        i = min(max(i, 0), len(windows) - 1)
        out[i].append(word)
    return out


def build_voices(
    *,
    presence: Sequence[tuple[bool, float]],
    words: Sequence[Sequence[Word]],
    language: str | None,
    transcribed: bool,
) -> tuple[Voice, ...]:
    """One Voice per window.

    presence: (VAD voice present, highest VAD probability) per window.
    words: the window's words (from :func:`words_by_window`).
    language: the transcription language, recorded on windows with voice when ``transcribed``.
    A window holding a word counts as voiced even if the VAD frames there stayed under the
    threshold (the recogniser heard it).
    """
    voices = []
    for (present, prob), ws in zip(presence, words, strict=True):
        voiced = bool(present or ws)
        voices.append(
            Voice(
                present=voiced,
                probability=float(prob),
                text=" ".join(w.text for w in ws),
                words=tuple(ws),
                language=language if (transcribed and voiced) else None,
            )
        )
    return tuple(voices)
