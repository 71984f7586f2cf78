"""The text-to-image prompt made from a window's sentence, sized for a CLIP text encoder.

CLIP (Stable Diffusion's text encoder) reads at most 77 tokens, start and end included;
anything after is cut off silently. The sentence's fillers ("in the background", "the scene
has") cost tokens and carry no image, so the prompt keeps the image-bearing parts, most
important first, and drops the least important ones until it fits. Tokens are counted with
CLIP's own BPE (:mod:`.clip_tokens`); should its merges file be missing, a pessimistic
estimate (:func:`estimate_clip_tokens`) is used instead. See docs/sentences.md.
"""

from __future__ import annotations

import math
import re

from aimv_backend.describe import clip_tokens, lexicon
from aimv_backend.describe.sentence import SentenceInputs, SentenceParts

CLIP_MAX_TOKENS = 77  # including the start and end tokens
DEFAULT_STYLE = "cinematic, music video still"

_PIECE = re.compile(r"[^\W\d_]+|\d|[^\w\s]", re.UNICODE)
_ING = {
    "sings": "singing",
    "screams": "screaming",
    "whispers": "whispering",
    "hums": "humming",
    "wails": "wailing",
    "speaks": "speaking",
    "shouts": "shouting",
    "says": "saying",
}
_MOOD = {
    "loud": "intense, dramatic",
    "normal": "vivid",
    "quiet": "soft, calm",
    "silent": "still, hushed",
}


def estimate_clip_tokens(text: str) -> int:
    """A pessimistic count of CLIP BPE tokens in ``text``, start and end tokens included.

    Each punctuation mark and digit is one token; an ASCII word costs one token per five
    letters (rounded up), a non-ASCII word one per UTF-8 byte pair.
    """
    total = 2
    for piece in _PIECE.findall(text):
        if not piece[0].isalpha():
            total += 1
        elif piece.isascii():
            total += math.ceil(len(piece) / 5)
        else:
            total += math.ceil(len(piece.encode("utf-8")) / 2)
    return total


def clip_token_count(text: str) -> int:
    """CLIP tokens of ``text`` including start and end: exact, or the pessimistic estimate."""
    if clip_tokens.available():
        return len(clip_tokens.clip_token_ids(text))
    return estimate_clip_tokens(text)


def _person(parts: SentenceParts) -> str:
    """ "Person loudly sings, holding a heart" -> "a person loudly singing, holding a heart";
    "Person says a few words" -> "a person saying a few words"."""
    if not parts.person:
        return ""
    head, sep, rest = parts.person.partition(",")
    words = head.split()
    verb = next((i for i, w in enumerate(words) if w in _ING), len(words) - 1)  # "says a few words"
    words[verb] = _ING.get(words[verb], words[verb])
    return "a " + " ".join(w.lower() for w in words) + sep + rest


def build_prompt(
    parts: SentenceParts,
    inputs: SentenceInputs,
    *,
    style: str = DEFAULT_STYLE,
    max_tokens: int = CLIP_MAX_TOKENS,
) -> str:
    """A comma-separated prompt of at most ``max_tokens`` CLIP tokens (:func:`clip_token_count`).

    Order of importance: the foreground image, the singer, the colour palette, the style,
    the background instruments, the mood of the volume. The least important go first when
    the estimate is over; then the style loses words from its end; then the foreground.
    """
    subject = lexicon.with_article(parts.foreground) if parts.foreground else "a still silence"
    background = ""
    instruments = [i.word.strip().lower() for i in inputs.instruments[:3]]
    if len(instruments) >= 2:
        background = "with " + " and ".join(instruments[:-1])
    pieces = {
        "subject": subject,
        "person": _person(parts),
        "colour": f"{parts.colour} color palette",
        "style": " ".join(style.split()),
        "background": background,
        "mood": _MOOD.get(inputs.volume, ""),
    }
    order = ["subject", "person", "background", "colour", "mood", "style"]

    def text() -> str:
        return ", ".join(pieces[k] for k in order if pieces[k])

    for drop in ("mood", "background"):
        if clip_token_count(text()) <= max_tokens:
            break
        pieces[drop] = ""
    for key in ("style", "person", "subject"):
        words = pieces[key].split()
        while words and clip_token_count(text()) > max_tokens:
            words.pop()
            pieces[key] = " ".join(words).rstrip(",")
    return text()
