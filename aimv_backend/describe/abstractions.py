"""Choose each instrument's abstraction: a seeded pick among its nearest evocative words.

The design maps (crash, splash, synth) to (impact, wave, tech) "by text similarity with
gensim". The nearest word alone would give the same word every second of a song, so each
window draws among the ``top_k`` nearest, the nearer the likelier (weights decay by
``decay`` per rank), with its own seeded random generator: the same seed gives the same
words, neighbouring windows get different ones.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from aimv_backend.describe import lexicon, sung_object
from aimv_backend.describe.vectors import WordSpace


def _query_phrases(word: str, label: str, category: str) -> list[str]:
    """What to look up, in order: the instrument word, the engine's label, the category."""
    out = []
    for phrase in (word, label, category):
        p = " ".join(phrase.split()).lower()
        if p and p not in out:
            out.append(p)
    return out


def choose_abstractions(
    *,
    space: WordSpace,
    instruments: Sequence[tuple[str, str, str]],
    rng: random.Random,
    top_k: int = 8,
    decay: float = 0.7,
) -> tuple[str, ...]:
    """One abstraction per (word, label, category) instrument, two for a single instrument.

    The words differ from each other and from every instrument word of the window (by stem),
    and are never instrument names. When the vectors know nothing about an instrument, the
    category's fallback word is used ("synth" -> "tech").
    """
    if not instruments:
        return ()
    window_words = [w for word, _, _ in instruments for w in sung_object.words_of(word) or [word]]
    slots = list(instruments) if len(instruments) > 1 else [instruments[0], instruments[0]]
    chosen: list[str] = []

    def allowed(candidate: str) -> bool:
        return (
            candidate not in lexicon.INSTRUMENT_NOUNS
            and not any(lexicon.same_family(candidate, w) for w in window_words)
            and not any(lexicon.same_family(candidate, c) for c in chosen)
        )

    for word, label, category in slots:
        pool: list[str] = []
        for phrase in _query_phrases(word, label, category):
            ranked = space.ranked(phrase)
            if ranked:
                pool = [w for w, _ in ranked if allowed(w)][:top_k]
                break
        if pool:
            weights = [decay**i for i in range(len(pool))]
            chosen.append(rng.choices(pool, weights=weights, k=1)[0])
            continue
        fallbacks = [
            lexicon.CATEGORY_FALLBACK_ABSTRACTION.get(category, "echo"),
            *lexicon.CATEGORY_FALLBACK_ABSTRACTION.values(),
            *space.candidates,
        ]
        chosen.append(next(w for w in fallbacks if allowed(w)))
    return tuple(chosen)
