"""The music pass: sung words that silero-vad does not hear under a band.

silero-vad is trained on speech. Singing mixed 0 to +6 dB over a band (the usual level in a
real song) mostly stays under its threshold, so the voiced-regions pass never sends it to the
recogniser. The music pass sends the *rest* of the song (everything outside the padded voiced
regions) to the same recogniser, in chunks of at most 28 s, and keeps a word only when:

- its segment shows none of Whisper's failure signs (gzip compression ratio <= 2.4, average
  log-probability >= -1.4, no-speech probability <= 0.6, no 1-3 word loop);
- the segment is not one of Whisper's known inventions on music ("Thank you.", "Thanks for
  watching", subtitle credits, ...), matched on its whole text;
- the word's own probability is at least ``MIN_WORD_PROBABILITY`` (an invented word on a band
  rarely gets over 0.1-0.2; a sung word heard through the band mostly does);
- its segment keeps at least ``MIN_SEGMENT_WORDS`` such words (a lone word is most often a
  guess).

Speech is unchanged: the voiced regions are recognised exactly as before, and the music pass
never covers them. Figures (what was tuned on, what was held out): docs/benchmarks.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from aimv_backend.listen.voice.assign import (
    MAX_COMPRESSION_RATIO,
    Transcript,
    is_loop,
    is_word,
)
from aimv_timeline.schema import Word

MIN_GAP_SECONDS = 1.0  # stretches outside the voiced regions shorter than this are skipped
AUDIBLE_DBFS = -50.0  # 0.5 s frames quieter than this (RMS) are not sent to the recogniser
FRAME_SECONDS = 0.5
MIN_AVG_LOGPROB = -1.4  # sung lines through a band decode at -1.0 to -1.3
MAX_NO_SPEECH_PROB = 0.6
MIN_WORD_PROBABILITY = 0.25
MIN_SEGMENT_WORDS = 2

# Whole-segment texts Whisper writes on music or silence (from its subtitle training data),
# lower-case, punctuation removed. A segment whose text is one of these is dropped.
_INVENTED = frozenset(
    {
        "thank you",
        "thank you very much",
        "thank you so much",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thank you for watching this video",
        "thanks for watching and see you next time",
        "please subscribe",
        "subscribe",
        "bye",
        "bye bye",
        "you",
        "oh",
        "music",
        "applause",
        "laughter",
        "silence",
        "the end",
        "see you next time",
        "i'll see you next time",
        "see you in the next video",
        "subtitles by the amaraorg community",
        "transcription by castingwords",
        "gracias",
        "gracias por ver",
        "gracias por ver el video",
        "subtítulos realizados por la comunidad de amaraorg",
        "sous-titrage st' 501",
        "merci",
        "danke",
        "vielen dank",
    }
)
_INVENTED_PART = re.compile(
    r"(subtitle|subtítulo|amara\.org|castingwords|thanks for watching|please subscribe|"
    r"like and subscribe|copyright|www\.|\.com)",
    re.IGNORECASE,
)


def _segment_text(words: Sequence[Word]) -> str:
    text = " ".join(w.text for w in words).lower()
    return " ".join("".join(c if c.isalnum() or c in " '" else " " for c in text).split())


def is_invented(words: Sequence[Word]) -> bool:
    """Whether a segment's words are one of Whisper's known inventions on music."""
    raw = " ".join(w.text for w in words)
    return _segment_text(words) in _INVENTED or _INVENTED_PART.search(raw) is not None


def remainder_spans(
    voiced: Sequence[tuple[float, float]],
    *,
    duration: float,
    min_seconds: float = MIN_GAP_SECONDS,
) -> list[tuple[float, float]]:
    """The stretches of [0, duration] (seconds) outside the ``voiced`` spans (sorted, merged),
    those shorter than ``min_seconds`` left out."""
    out = []
    t = 0.0
    for a, b in sorted(voiced):
        if a - t >= min_seconds:
            out.append((t, a))
        t = max(t, b)
    if duration - t >= min_seconds:
        out.append((t, duration))
    return out


def audible_spans(
    audio: np.ndarray, *, sample_rate: int, threshold_dbfs: float = AUDIBLE_DBFS
) -> list[tuple[float, float]]:
    """Stretches (seconds) of ``audio`` (mono float) whose 0.5 s frames reach ``threshold_dbfs``
    RMS: silence and near-silence cost no recognition and invent no words."""
    hop = int(FRAME_SECONDS * sample_rate)
    n = audio.shape[0] // hop + (1 if audio.shape[0] % hop else 0)
    level = 10.0 ** (threshold_dbfs / 20.0)
    out: list[list[float]] = []
    for k in range(n):
        frame = audio[k * hop : (k + 1) * hop]
        if frame.size == 0 or float(np.sqrt(np.mean(np.square(frame, dtype=np.float64)))) < level:
            continue
        a, b = k * FRAME_SECONDS, min((k + 1) * hop, audio.shape[0]) / sample_rate
        if out and a - out[-1][1] < 1e-9:
            out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def music_spans(
    heard: Sequence[tuple[float, float]],
    audible: Sequence[tuple[float, float]],
    *,
    duration: float,
    min_seconds: float = MIN_GAP_SECONDS,
) -> list[tuple[float, float]]:
    """What the music pass recognises: the ``audible`` stretches outside the ``heard`` spans
    (seconds), pieces shorter than ``min_seconds`` left out."""
    rest = remainder_spans(heard, duration=duration, min_seconds=0.0)
    out = []
    for a, b in rest:
        for c, d in audible:
            lo, hi = max(a, c), min(b, d)
            if hi - lo >= min_seconds:
                out.append((lo, hi))
    return out


def sung_words(transcript: Transcript) -> list[Word]:
    """The words of a music-pass transcript that pass every rule in the module docstring."""
    out: list[Word] = []
    for seg in transcript.segments:
        if seg.compression_ratio > MAX_COMPRESSION_RATIO or seg.avg_logprob < MIN_AVG_LOGPROB:
            continue
        if seg.no_speech_prob > MAX_NO_SPEECH_PROB or is_loop(seg.words):
            continue
        if is_invented(seg.words):
            continue
        kept = [w for w in seg.words if w.probability >= MIN_WORD_PROBABILITY and is_word(w.text)]
        if len(kept) >= MIN_SEGMENT_WORDS:
            out.extend(kept)
    return out
