"""Is a sung word a noun? Part of speech from WordNet's sense-tagged counts.

The sung object ("holding a heart") must be a thing: "holding a burning", "drawing a towards"
and "chasing a carries" were the bugs. No part-of-speech tagger's model ships in a package
registry (spaCy's and NLTK's are downloads), so the decision is a lexicon look-up: WordNet 3.0
(``aimv_backend/data/wordnet_pos.tsv.gz``, built by tools/build_pos_lexicon.py) gives, for each
lemma, how often it was tagged as a noun, verb, adjective or adverb in a sense-tagged corpus.
A surface form is reduced to its lemmas with WordNet's own detachment rules and exception
lists (morphy: "carries" -> carry, "burning" -> burn, "men" -> man).

A word is **noun-first** when its noun evidence (count + 1) is at least half its strongest
other part of speech: "fire" (noun 6, verb 8) and "light" are nouns; "carries" (verb 17),
"burning" (burn: verb 12) and "drawing" (draw: verb 20) are not. Words WordNet does not hold
(pronouns, prepositions such as "towards", words of other languages) are never nouns here.
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources

POS = ("noun", "verb", "adj", "adv")
NOUN_SHARE = 0.5  # noun evidence needed, as a share of the strongest other part of speech

# WordNet's morphy detachment rules: (suffix, replacement) per part of speech.
_RULES = {
    "noun": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"),
             ("shes", "sh"), ("men", "man"), ("ies", "y")),
    "verb": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
             ("ing", "e"), ("ing", "")),
    "adj": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "adv": (),
}  # fmt: skip


@functools.lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, tuple[int, ...]], dict[tuple[str, str], tuple[str, ...]]]:
    data = resources.files("aimv_backend.data").joinpath("wordnet_pos.tsv.gz").read_bytes()
    counts: dict[str, tuple[int, ...]] = {}
    exceptions: dict[tuple[str, str], tuple[str, ...]] = {}
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        f = line.split("\t")
        if line.startswith("="):
            key = (f[0][1:], f[1])
            exceptions[key] = (*exceptions.get(key, ()), f[2])
        else:
            counts[f[0]] = tuple(int(x) for x in f[1:5])
    return counts, exceptions


def lemmas(word: str, pos: str) -> set[str]:
    """The lemmas of ``word`` as part of speech ``pos`` that WordNet holds (morphy)."""
    counts, exceptions = _lexicon()
    k = POS.index(pos)
    w = word.lower()
    found = {w} if w in counts and counts[w][k] >= 0 else set()
    for lemma in exceptions.get((w, pos), ()):
        if lemma in counts and counts[lemma][k] >= 0:
            found.add(lemma)
    for suffix, repl in _RULES[pos]:
        if w.endswith(suffix) and len(w) > len(suffix) + 1:
            base = w[: len(w) - len(suffix)] + repl
            if base in counts and counts[base][k] >= 0:
                found.add(base)
            # "running" -> "run": a doubled consonant before -ing / -ed.
            if pos == "verb" and suffix in ("ing", "ed") and not repl and len(base) > 2:
                if base[-1] == base[-2] and base[:-1] in counts and counts[base[:-1]][k] >= 0:
                    found.add(base[:-1])
    return found


def pos_evidence(word: str) -> dict[str, int]:
    """Per part of speech, the best sense-tagged count + 1 of the word's lemmas (0: not it)."""
    counts, _ = _lexicon()
    out = {}
    for k, pos in enumerate(POS):
        out[pos] = max((counts[lemma][k] + 1 for lemma in lemmas(word, pos)), default=0)
    return out


def is_english_word(word: str) -> bool:
    """Whether WordNet knows the word in any part of speech (after morphy)."""
    return any(pos_evidence(word).values())


def is_noun(word: str) -> bool:
    """Whether the word is noun-first (see the module docstring)."""
    evidence = pos_evidence(word)
    noun = evidence.pop("noun")
    return noun > 0 and noun >= NOUN_SHARE * max(evidence.values())


def is_noun_first(word: str) -> bool:
    """Whether the word is mainly a noun: its noun evidence beats every other part of speech,
    or ties it from three up. "rain" (noun 3, verb 2) and "dust" (3, 3) are; "purple" (noun
    2, adjective 2: as rare a tie) and "bites" (noun 3, verb 4) are not. The object prefers
    these ("purple rain": rain)."""
    evidence = pos_evidence(word)
    noun = evidence.pop("noun")
    return noun > 0 and noun > max(evidence.values()) - (1 if noun >= 3 else 0)


# Nouns used only in the plural, which WordNet lists as lemmas of their own
PLURAL_ONLY = frozenset(
    {"clothes", "scissors", "trousers", "pants", "shorts", "pyjamas", "pajamas", "jeans",
     "tongs", "people", "cattle", "police", "stairs", "goods", "riches", "thanks", "dice",
     "bacteria", "graffiti", "confetti", "media"}
)  # fmt: skip


def is_plural_noun(word: str) -> bool:
    """Whether the word is a noun's plural ("mountains", "children", "hearts", "teeth",
    "clothes"; not "news", "glass", "grass" or "boss"): it takes no article. WordNet also lists
    many plurals as nouns of their own ("hands": workers), so a singular lemma beside the word
    is what counts."""
    w = word.lower()
    if w in PLURAL_ONLY:
        return True
    found = lemmas(w, "noun")
    return bool(found - {w}) and not w.endswith("ss")


def singular(word: str) -> str:
    """A plural noun's singular ("echoes" -> "echo", "sparks" -> "spark"); any other word as
    it is. The foreground's nouns are singular, so none reads as a verb."""
    if " " in word or not is_plural_noun(word):
        return word
    found = sorted(lemmas(word.lower(), "noun") - {word.lower()}, key=len)
    return found[0] if found else word
