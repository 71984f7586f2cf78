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
from aimv_timeline.schema import Voice, Word

# Whole-token hums and held vowels: hm, hmm, mmm, mhm, ooh, oh, aah, ah, uh, umm, erm, ...
# (Short words that are real in some language, such as "a", "o", "er", "um", "la", stay.)
_NON_WORD = re.compile(
    r"^(?:h*m{2,}|hm+|m+h+m+|o{2,}h*|oh+|a{2,}h*|ah+|u{2,}h*|uh+|um{2,}|erm+|h+)$"
)
# Stutters the recognisers write for a held vowel: "H-h-h-h", "I-I-I-I", "la-la-la".
_STUTTER = re.compile(r"^(\w{1,3})(?:-\1){2,}-?$", re.IGNORECASE)
_TAG = re.compile(r"[\[(<{][^\])>}]*[\])>}]")
_MUSIC = re.compile(r"[♪♫♬♩]")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)

# Whisper's own failure signs (it retries at a higher temperature past these; AIMV drops the
# segment instead, which is cheaper and turns a hum's hallucination into voice without words).
MAX_COMPRESSION_RATIO = 2.4
MIN_AVG_LOGPROB = -1.0
# Stricter than Whisper's own no-speech rule (> 0.6 with log-probability < -1): on hums it
# lets through short confident inventions ("BAM BAM"); on the benchmark song it drops no word.
NO_SPEECH_PROB = 0.6
NO_SPEECH_LOGPROB = -0.5
LOOP_REPEATS = 4  # the same 1-3 words this many times in a row is a decoding loop


@dataclass(frozen=True)
class AsrSegment:
    """One decoded stretch with Whisper's quality figures (log-probability per token, gzip
    compression ratio of the text, probability that the stretch holds no speech)."""

    words: tuple[Word, ...]
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0
    no_speech_prob: float = 0.0


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard: segments whose word times are seconds into its audio."""

    language: str | None
    segments: tuple[AsrSegment, ...]


def is_word(text: str) -> bool:
    """Whether a recognised token is an intelligible word (not a hum, tag or punctuation)."""
    t = _MUSIC.sub("", _TAG.sub("", text)).strip()
    core = _EDGE_PUNCT.sub("", t).lower()
    if not core or not any(ch.isalnum() for ch in core):
        return False
    return _NON_WORD.match(core) is None and _STUTTER.match(core) is None


def _norm(text: str) -> str:
    return _EDGE_PUNCT.sub("", text.strip()).lower()


def is_loop(words: Sequence[Word], *, repeats: int = LOOP_REPEATS) -> bool:
    """Whether the words hold a run of the same 1-3 word phrase ``repeats`` times in a row."""
    tokens = [_norm(w.text) for w in words]
    for n in (1, 2, 3):
        need = n * repeats
        for i in range(0, len(tokens) - need + 1):
            unit = tokens[i : i + n]
            if all(tokens[i + k] == unit[k % n] for k in range(need)):
                return True
    return False


def usable_words(transcript: Transcript, *, min_avg_logprob: float = MIN_AVG_LOGPROB) -> list[Word]:
    """The words of the segments that show none of Whisper's failure signs, loops removed.

    min_avg_logprob: the lowest average token log-probability a segment may have (-1.0, as
    Whisper's own fallback rule; the caller relaxes it to -1.2 when the language is given).
    """
    out: list[Word] = []
    for seg in transcript.segments:
        if seg.compression_ratio > MAX_COMPRESSION_RATIO or seg.avg_logprob < min_avg_logprob:
            continue
        if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < NO_SPEECH_LOGPROB:
            continue
        if is_loop(seg.words):
            continue
        out.extend(seg.words)
    return out


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
