"""Score what a listener heard against the generator's truth (used by bench/listen_accuracy.py).

The project's taggers answer with instrument *words* (timeline InstrumentGuess.word: "piano",
"drums", "cymbal"); the generator knows *parts* ("piano", "drum_kit", "crash"). ``EXPECTED_WORDS``
says which words name each part exactly, ``ACCEPTABLE_WORDS`` adds the broader family words a
listener would still accept (a snare heard as "drums"). The pseudo-part ``"vocal"`` stands
for a voice (truth windows with ``voice: true``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

EXPECTED_WORDS: dict[str, frozenset[str]] = {
    k: frozenset(v)
    for k, v in {
        "piano": {"piano", "electric piano", "keyboard"},
        "electric_piano": {"electric piano", "piano", "keyboard"},
        "acoustic_guitar": {"guitar", "acoustic guitar"},
        "electric_guitar": {"guitar", "electric guitar"},
        "distortion_guitar": {"guitar", "electric guitar"},
        "harp": {"harp"},
        "violin": {"violin"},
        "cello": {"cello"},
        "strings": {"strings", "orchestra"},
        "flute": {"flute"},
        "synth_pad": {"synth", "sampler"},
        "synth_lead": {"synth", "sampler"},
        "bass": {"bass", "double bass"},
        "organ": {"organ"},
        "choir": {"choir"},
        "trumpet": {"trumpet"},
        "brass": {"brass", "trumpet", "trombone", "french horn"},
        "saxophone": {"saxophone"},
        "drum_kit": {"drums", "drum machine"},
        "kick": {"kick"},
        "snare": {"snare"},
        "hihat": {"hi-hat"},
        "crash": {"cymbal", "crash"},
        "splash": {"cymbal", "splash"},
        "ride": {"cymbal", "ride"},
        "tom": {"tom", "drums"},
        "rimshot": {"rimshot"},
    }.items()
}
# A voice in the song (truth window "voice": true), as a tagger would name it.
VOCAL = "vocal"
EXPECTED_WORDS = {
    **EXPECTED_WORDS,
    VOCAL: frozenset({"vocal", "female vocal", "male vocal", "child vocal", "choir", "rap"}),
}
_FAMILY_EXTRA = {
    "violin": {"strings"},
    "cello": {"strings", "double bass"},
    "strings": {"violin", "cello"},
    "trumpet": {"brass"},
    "saxophone": {"woodwind"},
    "flute": {"woodwind"},
    "harp": {"plucked strings", "harpsichord"},
    "bass": {"guitar"},
    "kick": {"drums", "percussion"},
    "snare": {"drums", "percussion"},
    "hihat": {"drums", "cymbal", "percussion"},
    "crash": {"drums", "percussion"},
    "splash": {"drums", "percussion"},
    "ride": {"drums", "percussion"},
    "tom": {"percussion"},
    "rimshot": {"drums", "snare", "percussion"},
    "drum_kit": {"percussion", "kick", "snare", "hi-hat", "cymbal"},
    "choir": {"vocal", "female vocal", "male vocal"},
}
ACCEPTABLE_WORDS = {k: v | frozenset(_FAMILY_EXTRA.get(k, ())) for k, v in EXPECTED_WORDS.items()}


def part_heard(part: str, guesses: Sequence[str], *, top: int = 3, lenient: bool = False) -> bool:
    """Whether one of the first ``top`` guessed words names ``part``."""
    table = ACCEPTABLE_WORDS if lenient else EXPECTED_WORDS
    ok = table[part]
    return any(g.lower() in ok for g in guesses[:top])


_PUNCT = re.compile(r"[^\w\s']")


def normalise_text(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces (for WER and word matching)."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


@dataclass(frozen=True)
class WordScore:
    """recall: share of true words heard (same text, middle within ``slack`` s of the truth);
    precision: share of heard words that match a true word; start_error: mean |start| error (s)
    of the matches."""

    truth: int
    heard: int
    matched: int
    recall: float
    precision: float
    start_error: float | None


def score_words(
    truth: Sequence[tuple[str, float, float]],
    heard: Sequence[tuple[str, float, float]],
    *,
    slack: float = 0.5,
) -> WordScore:
    """Greedy one-to-one matching of heard (text, start, end) words to true ones."""
    used: set[int] = set()
    errors = []
    for text, start, end in truth:
        want = normalise_text(text)
        for j, (h_text, h_start, h_end) in enumerate(heard):
            if j in used or normalise_text(h_text) != want:
                continue
            mid = (h_start + h_end) / 2
            if start - slack <= mid <= end + slack:
                used.add(j)
                errors.append(abs(h_start - start))
                break
    n_t, n_h, m = len(truth), len(heard), len(used)
    return WordScore(
        n_t,
        n_h,
        m,
        m / n_t if n_t else 1.0,
        m / n_h if n_h else 1.0,
        sum(errors) / len(errors) if errors else None,
    )
