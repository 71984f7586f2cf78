"""The original design's sentence, built from one window's tuple with its abstractions given.

Pure string work (no vectors, no randomness): the caller chooses the abstractions and the
action, so the design's worked examples can be checked word for word. The rules and every
place where we had to choose between the design's template and its examples are in
docs/sentences.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aimv_backend.describe import lexicon, pos
from aimv_backend.describe.sung_object import object_phrase
from aimv_backend.errors import ParameterError
from aimv_timeline.schema import INSTRUMENT_CATEGORIES, VOLUME_LEVELS

# relative_db beyond these turns singing into screaming / whispering (intensity from volume).
SCREAM_DB = 10.0
WHISPER_DB = -10.0


@dataclass(frozen=True)
class SentenceInstrument:
    """One instrument of the tuple: its word ("crash") and category ("drum")."""

    word: str
    category: str


@dataclass(frozen=True)
class SentenceInputs:
    """The design's tuple for one window, abstractions included.

    volume: one of VOLUME_LEVELS. relative_db: the window's level against the running
    average (dB), or None; it only sharpens the intensity (screams / whispers).
    transcription: the object word ("heart"), "" when nothing intelligible was sung.
    voice: a voice sounds in the window (used for the "hums" form when there are no words).
    instruments: most likely first, at most three are used.
    abstractions: one per instrument in the same order; two when there is one instrument.
    action: the person's action ("holding"), used only with a transcription.
    words_sung: words were sung but none can be the object ("you and me"): the person sings
        without an action.
    colour: the colour name ("teal").
    spoken: the voice speaks rather than sings (Voice.mode "spoken"): "Person speaks",
        "Person says a few words" instead of "sings".
    """

    volume: str
    colour: str
    instruments: tuple[SentenceInstrument, ...] = ()
    abstractions: tuple[str, ...] = ()
    transcription: str = ""
    voice: bool = False
    action: str = "holding"
    relative_db: float | None = None
    words_sung: bool = False
    spoken: bool = False


@dataclass(frozen=True)
class SentenceParts:
    """The pieces of the sentence, reused by the prompt builder.

    person: "Person loudly sings, holding a heart" or "" without a singer.
    background: "Crash and Splash hit" style phrase ("" in silence).
    foreground: "techy synth wave impact" ("" in silence).
    colour: "teal".
    """

    person: str
    background: str
    foreground: str
    colour: str
    sentence: str


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _is_kick(inst: SentenceInstrument) -> bool:
    return inst.word.strip().lower() in lexicon.KICK_WORDS


def _words(category: str) -> lexicon.CategoryWords:
    return lexicon.CATEGORY_WORDS.get(category, lexicon.CATEGORY_WORDS["other"])


def person_phrase(
    *, volume: str, relative_db: float | None, sung: bool, spoken: bool = False
) -> str:
    """ "Person loudly sings" / "Person softly hums" ...: volume picks adverb and intensity.

    The design: "loudly" or "softly" by the volume, and screaming / whispering at the
    extremes. "normal" windows get no adverb (the design has only loud and quiet).
    ``spoken``: speech rather than song: "speaks" ("shouts" and "whispers" at the extremes).
    """
    db = relative_db if relative_db is not None else 0.0
    if spoken:
        if volume == "loud":
            return "Person loudly shouts" if db >= SCREAM_DB else "Person loudly speaks"
        if volume in ("quiet", "silent"):
            whisper = volume == "silent" or db <= WHISPER_DB
            return "Person softly whispers" if whisper else "Person softly speaks"
        return "Person speaks"
    if volume == "loud":
        if not sung:
            return "Person loudly wails"
        return "Person loudly screams" if db >= SCREAM_DB else "Person loudly sings"
    if volume in ("quiet", "silent"):
        if not sung:
            return "Person softly hums"
        whisper = volume == "silent" or db <= WHISPER_DB
        return "Person softly whispers" if whisper else "Person softly sings"
    return "Person sings" if sung else "Person hums"


def _by_hand(inst: SentenceInstrument) -> tuple[str, str] | None:
    """The own verbs (one, several) of a percussion instrument played by hand (no drum stick
    strikes it) or of a voice that does not sing ("Rap flows", "Humming drifts")."""
    word = " ".join(inst.word.lower().split())
    style = lexicon.VOCAL_STYLES.get(word)
    return style[:2] if style is not None else lexicon.HAND_PERCUSSION.get(word)


def _verbs(inst: SentenceInstrument) -> tuple[str, str]:
    """An instrument's verb for one and for several: its own if played by hand, else its
    category's."""
    words = _words(inst.category)
    return _by_hand(inst) or (words.verb, words.plural)


def _background_clause(instruments: Sequence[SentenceInstrument]) -> str:
    """The design's "Kick hits and Bass plays" for the instruments in the background.

    A drum other than the kick takes "drum stick strikes the <Drum>", unless it is played by
    hand ("Maracas shake", "Tambourine jingles"); two instruments that share a verb share it in
    the plural ("Cello and Violin play").
    """
    names = [_cap(i.word.strip()) for i in instruments]
    sticks = [not _is_kick(i) and i.category == "drum" and _by_hand(i) is None for i in instruments]
    if len(instruments) == 2 and all(sticks):
        return f"{_cap(lexicon.DRUM_STICK)} the {names[0]} and {names[1]}"
    verbs = [_verbs(i) for i in instruments]  # (one, several): "Bass plays", "Maracas shake"
    if len(instruments) == 2 and not any(sticks) and verbs[0] == verbs[1]:
        return f"{names[0]} and {names[1]} {verbs[0][1]}"
    parts = []
    for inst, name, stick, (one, several) in zip(instruments, names, sticks, verbs, strict=True):
        verb = several if lexicon.is_plural_instrument(inst.word) else one
        parts.append(f"{lexicon.DRUM_STICK} the {name}" if stick else f"{name} {verb}")
    # The stick's clause last: "Kick hits and drum stick strikes the Snare", where the other
    # order read as if the stick struck the Kick too.
    order = sorted(range(len(parts)), key=lambda k: sticks[k])
    return _cap(" and ".join(parts[k] for k in order))


def _background_noun_phrase(instruments: Sequence[SentenceInstrument]) -> str:
    """The sung form's "a Crash and Splash hit": instruments with the noun of their sound."""
    groups: list[tuple[str, list[str]]] = []
    for inst in instruments:
        style = lexicon.VOCAL_STYLES.get(" ".join(inst.word.lower().split()))
        noun = style[2] if style is not None else _words(inst.category).noun
        name = _cap(inst.word.strip())
        if lexicon.same_family(noun, name.split()[-1]):
            noun = ""  # "a Chant", not "a Chant chant"
        if groups and groups[-1][0] == noun:
            groups[-1][1].append(name)
        else:
            groups.append((noun, [name]))
    phrases = [
        lexicon.with_article(" ".join(filter(None, (" and ".join(names), noun))))
        for noun, names in groups
    ]
    return " and ".join(phrases)


def foreground_phrase(
    instruments: Sequence[SentenceInstrument], abstractions: Sequence[str]
) -> str:
    """The design's "(a3)(t3)(a2)(a1)": the least likely instrument after the adjective of
    the last abstraction, then the other abstractions from last to first.

    "techy synth wave impact" for (crash, splash, synth) and (impact, wave, tech).
    """
    if not instruments or not abstractions:
        return ""
    last = instruments[-1].word.strip().lower()
    others = [pos.singular(a) for a in reversed(abstractions[:-1])]  # "echo", not "echoes"
    words = [lexicon.adjective(abstractions[-1]), last, *others]
    return " ".join(w for w in words if w)


def _check(inputs: SentenceInputs) -> None:
    if inputs.volume not in VOLUME_LEVELS:
        raise ParameterError(
            f"volume must be one of {', '.join(VOLUME_LEVELS)}, got {inputs.volume!r}"
        )
    for inst in inputs.instruments:
        if inst.category not in INSTRUMENT_CATEGORIES:
            raise ParameterError(
                f"instrument {inst.word!r}: category {inst.category!r} is not "
                f"one of {', '.join(INSTRUMENT_CATEGORIES)}"
            )
        if not inst.word.strip():
            raise ParameterError("instrument word must not be empty")
    n = min(len(inputs.instruments), 3)
    need = 2 if n == 1 else n
    if len(inputs.abstractions) < need or any(not a.strip() for a in inputs.abstractions):
        raise ParameterError(
            f"abstractions: {need} non-empty words needed for {n} "
            f"instrument(s), got {list(inputs.abstractions)!r}"
        )


def sentence_parts(inputs: SentenceInputs) -> SentenceParts:
    """Build the sentence and keep its parts (see :func:`build_sentence`)."""
    _check(inputs)
    instruments = tuple(inputs.instruments[:3])
    n = len(instruments)
    abstractions = tuple(a.strip().lower() for a in inputs.abstractions[: (2 if n == 1 else n)])
    colour = " ".join(inputs.colour.split()) or "neutral"
    palette = f"the scene has {lexicon.with_article(colour)} color palette"
    background_set = instruments[:-1] if n >= 2 else instruments
    foreground = foreground_phrase(instruments, abstractions)

    word = " ".join(inputs.transcription.split())
    has_vocal_instrument = any(i.category == "vocal" for i in instruments)
    sung = bool(word)
    person = ""
    spoken = inputs.spoken
    if sung:
        action = " ".join(inputs.action.split()) or "holding"
        who = person_phrase(
            volume=inputs.volume, relative_db=inputs.relative_db, sung=True, spoken=spoken
        )
        thing = object_phrase(word)  # "a heart", "mountains", "love", "London"
        person = f"{who}, {action} {thing}"
    elif inputs.words_sung:
        person = person_phrase(
            volume=inputs.volume, relative_db=inputs.relative_db, sung=True, spoken=spoken
        )
        if spoken:  # words, but none an object: "Person says a few words", "shouts a few"
            person = (
                person.replace("speaks", "says a few words")
                if person.endswith("speaks")
                else f"{person} a few words"
            )
    elif inputs.voice and not has_vocal_instrument:  # a voice without words: hums, or speaks
        person = person_phrase(
            volume=inputs.volume, relative_db=inputs.relative_db, sung=False, spoken=spoken
        )

    if person:
        if n == 0:
            body = f"{person}, alone in the silence, {palette}."
            background = ""
        else:
            background = _background_noun_phrase(background_set)
            body = f"{person}, alongside {background} with a foreground {foreground}, {palette}."
    elif n == 0:
        background = ""
        body = f"Nothing plays in the background. In the foreground a still silence, {palette}."
    else:
        background = _background_clause(background_set)
        body = (
            f"{background} in the background. In the foreground "
            f"{lexicon.with_article(foreground)}, {palette}."
        )
    return SentenceParts(
        person=person, background=background, foreground=foreground, colour=colour, sentence=body
    )


def build_sentence(inputs: SentenceInputs) -> str:
    """The design's sentence for one window.

    With words sung: "Person loudly sings, holding a heart, alongside a Crash and Splash hit
    with a foreground techy synth wave impact, the scene has a teal color palette."
    Without: "Kick hits and Bass plays in the background. In the foreground a bouncy tom deep
    canon, the scene has a teal color palette."
    """
    return sentence_parts(inputs).sentence
