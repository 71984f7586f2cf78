"""The command-line flags both entry points share: ``aimv`` and the headless Blender script.

A flag's facts (its spellings, help, value type, metavar, choices and the default --help names)
are written once here. ``aimv_backend/cli/options.py`` binds each to the option field it sets;
``aimv_blender/headless.py``, which cannot import the backend, adds the same flags for the
backend run it starts and for the video it renders. Standard library only: the extension zip
carries this package.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import names, presets

VIDEO = names.VIDEO_ENGINE  # --textures video: procedural stills plus generated clips


def resolution(text: str) -> tuple[int, int]:
    """ "640x360" -> (640, 360) pixels; the range is checked by whoever uses it."""
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 640x360, got {text!r}"
        ) from None
    return w, h


def seed(text: str) -> int:
    """A --seed: an integer 0 to names.MAX_SEED - 1 (one rule for every command)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < names.MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**63), got {text!r}")
    return value


def frame_range(text: str) -> tuple[int, int]:
    """ "1:240" -> (1, 240), frames inclusive; the range is checked by whoever uses it."""
    try:
        first, last = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected START:END such as 1:240, got {text!r}"
        ) from None
    return first, last


@dataclass(frozen=True)
class Flag:
    """One flag. help: what it does (the default is added). type: turns the text into the
    value. default_text: the default --help names, when not the value itself. switch: takes
    no value and sets True. const: takes no value and adds ``const`` to a list."""

    flags: tuple[str, ...]
    help: str
    type: Callable[[str], Any] | None = None
    metavar: str | None = None
    choices: Sequence[str] | None = None
    default_text: str | None = None
    switch: bool = False
    const: str | None = None

    def add_to(self, group: Any, *, dest: str, default: Any = None, shown: Any = None) -> None:
        """Add this flag to an argparse parser or argument group, stored in ``dest``.

        default: the value when the flag is not given (None: "not given"); shown: the default
        --help names (``default_text`` wins; neither: none is named).
        """
        if self.const is not None:
            group.add_argument(
                *self.flags, dest=dest, action="append_const", const=self.const, help=self.help
            )
            return
        if self.switch:
            group.add_argument(
                *self.flags, dest=dest, action="store_const", const=True, help=self.help
            )
            return
        text = self.default_text if self.default_text is not None else shown
        group.add_argument(
            *self.flags,
            dest=dest,
            default=default,
            type=self.type,
            metavar=self.metavar or (None if self.choices else self.flags[0][2:].upper()),
            choices=self.choices,
            help=self.help if text is None else f"{self.help} (default: {text})",
        )


def add_preset(parser: argparse.ArgumentParser | Any) -> None:
    """--preset: the video presets every entry point shares (:mod:`.presets`)."""
    described = "; ".join(f"{p.name}: {p.summary}" for p in presets.PRESETS.values())
    parser.add_argument(
        "--preset",
        choices=sorted(presets.PRESETS),
        default=presets.DEFAULT_PRESET,
        help=f"{described} (default: {presets.DEFAULT_PRESET}, fast on a CPU)",
    )


SEED = Flag(("--seed",), "random seed: the same seed gives the same result", seed)


def beats_per_bar(text: str) -> int | None:
    """``auto`` (None: heard from the song) or a whole number of beats (the options check
    its range)."""
    if text.strip().lower() == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or a whole number, got {text!r}") from None


# What the backend listens and imagines with.
WINDOW = Flag(("--window",), "window length in seconds, 0.25 to 10", float, "SECONDS")
INSTRUMENTS = Flag(
    ("--instruments",),
    "instrument tagger: PANNs if its checkpoint is there, else musicnn; none skips it",
    choices=(*names.INSTRUMENT_ENGINES, "none"),
)
ASR = Flag(
    ("--asr",),
    "speech recogniser; none keeps voice detection only",
    choices=(*names.ASR_ENGINES, "none"),
)
BEATS_PER_BAR = Flag(
    ("--beats-per-bar",),
    "beats in a bar, 2-12; auto hears 3 or 4 from the song",
    beats_per_bar,
    "auto|N",
    default_text="auto",
)
LANGUAGE = Flag(
    ("--language",),
    "language of the lyrics, e.g. en, es or Spanish",
    metavar="CODE|NAME",
    default_text="detect",
)
TEXTURES = Flag(
    ("--textures",),
    "texture engine: diffusers when a GPU is present and the model loads, else procedural; "
    "video: procedural stills plus one generated clip per bar group (GPU)",
    choices=("auto", *names.TEXTURE_ENGINES, VIDEO),
)

# What the video looks like.
RESOLUTION = Flag(
    ("--resolution",),
    f"frame size in pixels, even numbers (H.264 4:2:0), {names.MIN_RESOLUTION}x"
    f"{names.MIN_RESOLUTION} to {names.MAX_RESOLUTION[0]}x{names.MAX_RESOLUTION[1]}",
    resolution,
    "WxH",
    default_text="the preset's",
)
FPS = Flag(
    ("--fps",),
    f"frames per second, a whole number {names.MIN_FPS}-{names.MAX_FPS} (NTSC 29.97 is not offered)",
    int,
    default_text="the preset's",
)
ENGINE = Flag(
    ("--engine",),
    "Blender render engine",
    choices=names.RENDER_ENGINES,
    default_text="the preset's",
)
SAMPLES = Flag(
    ("--samples",),
    f"EEVEE/Cycles samples per pixel, 1-{names.MAX_SAMPLES}",
    int,
    default_text="the preset's",
)
CROSSFADE = Flag(
    ("--crossfade",),
    f"seconds of blending into the next window, 0-{names.MAX_CROSSFADE_SECONDS:g}",
    float,
    "SECONDS",
)
LAYERS = tuple(
    Flag((f"--no-{layer}",), f"leave out {what}", const=layer)
    for layer, what in names.PICTURE_LAYERS.items()
)
FONT = Flag(
    ("--font",), "font file for the lyrics", None, "FILE", default_text="Blender's built-in font"
)

# A saved scene, rendered as it is.
SCENE = Flag(("--scene",), "the scene of --blend", None, "NAME")
FRAMES = Flag(("--frames",), "the frames to render (inclusive)", frame_range, "START:END")
