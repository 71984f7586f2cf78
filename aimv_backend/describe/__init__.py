"""Describe: each window's tuple becomes the original design's sentence and an image prompt.

    from aimv_backend.describe import DescribeOptions, describe_timeline
    timeline = describe_timeline(timeline, options=DescribeOptions(seed=1), progress=progress)

The tuple (volume, transcription, three instruments, colour) comes from the listen stage; the
abstractions come from word vectors (:mod:`.vectors`, :mod:`.abstractions`); the sentence
rules are in :mod:`.sentence` and docs/sentences.md; the prompt in :mod:`.prompt`.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aimv_backend.describe.abstractions import choose_abstractions
from aimv_backend.describe.lexicon import ACTIONS, adjective
from aimv_backend.describe.prompt import (
    DEFAULT_STYLE,
    build_prompt,
    clip_token_count,
    estimate_clip_tokens,
)
from aimv_backend.describe.sentence import (
    SentenceInputs,
    SentenceInstrument,
    build_sentence,
    sentence_parts,
)
from aimv_backend.describe.sung_object import has_words, salient_word
from aimv_backend.describe.vectors import WordSpace, load_space
from aimv_backend.errors import ParameterError, TimelineError
from aimv_backend.listen.colour import neutral_colour_name
from aimv_backend.progress import Progress, SilentProgress
from aimv_backend.util.records import settings_record
from aimv_timeline.schema import (
    Description,
    Timeline,
    TimelineFormatError,
    Window,
    read_timeline,
    write_timeline,
)

__all__ = [
    "DescribeOptions",
    "Options",
    "run",
    "describe_timeline",
    "describe_timeline_file",
    "describe_window",
    "needs_describe",
    "window_inputs",
    "build_sentence",
    "build_prompt",
    "sentence_parts",
    "SentenceInputs",
    "SentenceInstrument",
    "adjective",
    "estimate_clip_tokens",
    "clip_token_count",
    "load_space",
]


# Tagger words that name no sound to stage ("silence"; "other": something unnamed): the
# window's sound is then "music", as when no instrument is known.
NOT_AN_INSTRUMENT = frozenset({"silence", "other"})

# Raised whenever the describe code changes what a window's sentence says. 2: 2026-12-03
# (the sung object's rules and articles, singular foreground nouns, adjectives, colours).
DESCRIBE_REVISION = 2


@dataclass(frozen=True)
class DescribeOptions:
    """How sentences are made.

    seed: the same seed gives the same actions and abstractions.
    vectors: "default" (the shipped offline vectors), a gensim-data name
        (glove-wiki-gigaword-100, word2vec-google-news-300, ...) or a vectors file path.
    style: appended to every prompt ("cinematic, music video still").
    allow_download: let gensim's downloader fetch a named model that is not local.
    top_k: each abstraction is drawn among the instrument's top_k nearest words.
    """

    seed: int = 0
    vectors: str = "default"
    style: str = DEFAULT_STYLE
    allow_download: bool = True
    top_k: int = 8

    def settings(self) -> dict[str, Any]:
        """What decides the sentences (recorded, and compared for caching): not whether a
        download was allowed; and the describe code's revision, so that sentences written by
        an older AIMV are written again (those edited by hand are kept: describe/edits.py)."""
        return {**settings_record(self, "allow_download"), "revision": DESCRIBE_REVISION}

    @classmethod
    def from_record(cls, recorded: dict[str, Any], **overrides: Any) -> DescribeOptions:
        """The options a timeline's ``settings["describe"]`` records (TypeError or
        ParameterError when it is not such a record)."""
        fields_ = {k: v for k, v in recorded.items() if k != "revision"}
        return cls(**{**fields_, **overrides})

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ParameterError(f"--seed must be an integer, got {self.seed!r}")
        if not isinstance(self.top_k, int) or not 1 <= self.top_k <= 64:
            raise ParameterError(f"--top-k must be an integer in [1, 64], got {self.top_k!r}")
        if not isinstance(self.style, str) or len(self.style) > 300:
            raise ParameterError(
                f"--style must be text of at most 300 characters, got {str(self.style)[:40]!r}..."
            )
        if not isinstance(self.vectors, str) or not self.vectors.strip():
            raise ParameterError(f"--vectors must name a source, got {self.vectors!r}")


Options = DescribeOptions
UNKNOWN_INSTRUMENT = "music"


def _rng(seed: int, index: int) -> random.Random:
    """The window's own generator: independent of the other windows and of hash seeds."""
    return random.Random(f"aimv-describe:{seed}:{index}")


def window_inputs(
    window: Window, *, options: DescribeOptions, space: WordSpace, carried: str = ""
) -> SentenceInputs:
    """The design's tuple of one window, with its action and abstractions chosen.

    carried: the last sung object of the windows before (see :func:`describe_timeline`): it
    stays the object of a window whose words hold no noun.
    """
    guesses = list(window.instruments or ())
    seen: set[str] = set()
    unique = []
    for g in sorted(guesses, key=lambda g: -g.score):  # stable: ties keep the file's order
        key = " ".join(g.word.split()).lower()
        if key in NOT_AN_INSTRUMENT:  # "Silence plays ... a quiet silence silent"
            continue
        if key and key not in seen:
            seen.add(key)
            unique.append(g)
    picked = [(" ".join(g.word.split()), g.label, g.category) for g in unique[:3]]
    if not picked and window.volume.level != "silent":
        # Sound without a known instrument (no tagger run, or nothing confident enough): the
        # silence sentence would be wrong, so the window's instrument is "music".
        picked = [(UNKNOWN_INSTRUMENT, UNKNOWN_INSTRUMENT, "other")]
    rng = _rng(options.seed, window.index)
    action = rng.choice(ACTIONS)
    abstractions = choose_abstractions(
        space=space, instruments=picked, rng=rng, top_k=options.top_k
    )
    voice = window.voice
    return SentenceInputs(
        volume=window.volume.level,
        relative_db=window.volume.relative_db,
        colour=neutral_colour_name(window.colour.name),  # a name edited by hand too
        instruments=tuple(SentenceInstrument(word, category) for word, _, category in picked),
        abstractions=abstractions,
        transcription=_object_word(voice, carried),
        voice=bool(voice is not None and voice.present),
        action=action,
        words_sung=bool(voice is not None and has_words(voice.text)),
        spoken=bool(voice is not None and voice.mode == "spoken"),
    )


def _object_word(voice, carried: str) -> str:
    """The window's sung object: its own noun, else the carried one when words were sung."""
    if voice is None:
        return ""
    word = salient_word(voice.text, language=voice.language)
    if not word and carried and has_words(voice.text):
        return carried
    return word


def describe_window(
    window: Window,
    *,
    options: DescribeOptions | None = None,
    space: WordSpace | None = None,
    carried: str = "",
) -> Description:
    """The Description (sentence, prompt, abstractions, action) of one window.

    carried: the last sung noun before this window (used when the window's words hold none).
    """
    options = options or DescribeOptions()
    if space is None:
        space = load_space(options.vectors, allow_download=options.allow_download)
    inputs = window_inputs(window, options=options, space=space, carried=carried)
    parts = sentence_parts(inputs)
    return Description(
        sentence=parts.sentence,
        prompt=build_prompt(parts, inputs, style=options.style),
        abstractions=inputs.abstractions,
        action=inputs.action if inputs.transcription else None,
    )


CARRY_BREAK_WINDOWS = 2  # windows in a row without words after which no object is carried


def describe_timeline(
    timeline: Timeline,
    *,
    options: DescribeOptions | None = None,
    progress: Progress | None = None,
) -> Timeline:
    """A new Timeline with every window's description set (all other fields unchanged).

    Records the options in ``settings["describe"]`` and the vector source in
    ``engines["description"]``.
    """
    options = options or DescribeOptions()
    progress = progress or SilentProgress()
    space = load_space(options.vectors, allow_download=options.allow_download)
    windows = []
    task = progress.task("describe", len(timeline.windows))
    try:
        carried = ""  # the last sung noun: a window whose words hold none keeps it
        wordless = 0  # windows in a row without words: a silence or a break ends the line
        for window in timeline.windows:
            sung = window.voice is not None and has_words(window.voice.text)
            wordless = 0 if sung else wordless + 1
            if wordless >= CARRY_BREAK_WINDOWS or (not sung and window.volume.level == "silent"):
                carried = ""
            description = describe_window(window, options=options, space=space, carried=carried)
            windows.append(replace(window, description=description))
            if window.voice is not None:
                carried = salient_word(window.voice.text, language=window.voice.language) or carried
            task.advance()
    finally:
        task.close()
    settings = {**timeline.settings, "describe": options.settings()}
    engines = {**timeline.engines, "description": f"gensim:{space.name}"}
    return replace(timeline, windows=tuple(windows), settings=settings, engines=engines)


def needs_describe(timeline: Timeline, *, options: DescribeOptions | None = None) -> bool:
    """True when a window lacks its description or the timeline was described otherwise.

    The pipeline's caching rule (docs/architecture.md): describe again only then. The CLI's
    ``aimv describe`` always refreshes (after a hand edit the settings are unchanged).
    """
    options = options or DescribeOptions()
    if timeline.settings.get("describe") != options.settings():
        return True
    return any(w.description is None for w in timeline.windows)


def describe_timeline_file(
    path: str | os.PathLike[str],
    *,
    options: DescribeOptions | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> Timeline:
    """Describe a timeline file in place (atomic rewrite) and return the new timeline.

    Sentences edited by hand are kept unless ``force`` (see :mod:`.edits`)."""
    options = options or DescribeOptions()
    p = Path(path)
    try:
        timeline = read_timeline(p)
    except TimelineFormatError as exc:
        raise TimelineError(str(exc)) from None
    from aimv_backend.describe.edits import describe_keeping_edits, kept_notice

    described, kept = describe_keeping_edits(
        timeline, options=options, progress=progress or SilentProgress(), force=force
    )
    if kept and progress is not None:
        progress.notice(kept_notice(kept))
    try:
        write_timeline(described, p)
    except OSError as exc:
        raise TimelineError(f"timeline {str(p)!r}: cannot be written ({exc.strerror})") from None
    return described


run = describe_timeline  # the stage's one entry point: a timeline in, a described timeline out
