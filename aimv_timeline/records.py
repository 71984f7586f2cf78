"""The timeline's typed records (frozen dataclasses), its vocabularies and its version.

Part of :mod:`aimv_timeline.schema` (which re-exports everything here); standard library only.
The format is documented in ``docs/timeline.md``. Readers accept any file whose major
``schema_version`` equals :data:`SCHEMA_MAJOR`; writers always write :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import AimvError

SCHEMA_VERSION = "1.1"
SCHEMA_MAJOR = 1


def schema_version_parts(version: str) -> tuple[int, int] | None:
    """``"1.1"`` -> ``(1, 1)``; None when ``version`` is not ``"MAJOR.MINOR"`` (two integers)."""
    major, dot, minor = version.partition(".")
    if not (dot and major.isdigit() and minor.isdigit() and major.isascii() and minor.isascii()):
        return None
    return int(major), int(minor)


VOLUME_LEVELS = ("silent", "quiet", "normal", "loud")
COLOUR_SOURCES = ("pitch", "centroid", "silence")
VOICE_MODES = ("sung", "spoken")
# Drum kit pieces a hit can be (schema 1.1); see docs/timeline.md.
DRUM_PIECES = (
    "kick",
    "snare",
    "rimshot",
    "hihat_closed",
    "hihat_open",
    "crash",
    "splash",
    "ride",
    "tom_high",
    "tom_mid",
    "tom_floor",
    "clap",
)
# What a pictogram stands for (schema 1.1): see docs/timeline.md.
PICTOGRAM_ROLES = ("object", "instrument", "abstraction")
INSTRUMENT_CATEGORIES = (
    "drum",
    "guitar",
    "strings",
    "vocal",
    "keys",
    "bass",
    "synth",
    "brass",
    "woodwind",
    "other",
)


class TimelineFormatError(AimvError, ValueError):
    """A timeline file or dict does not follow the schema. The message names the field."""


@dataclass(frozen=True)
class Volume:
    """Loudness of one window.

    rms_dbfs: RMS level in dB relative to full scale, floored at -120 dBFS (digital silence).
    peak_dbfs: sample peak in dBFS, floored the same way.
    relative_db: rms_dbfs minus the running average level of the preceding seconds (dB).
    level: "silent", "quiet", "normal" or "loud" (thresholds in docs/timeline.md).
    """

    rms_dbfs: float
    peak_dbfs: float
    relative_db: float
    level: str


@dataclass(frozen=True)
class Colour:
    """The window's colour from its frequency content.

    hex: "#rrggbb". name: nearest XKCD colour name (CIELAB distance).
    hue: degrees in [0, 360). saturation, value: in [0, 1].
    frequency_hz: the pitch (or spectral centroid) that gave the hue; None when silent.
    source: "pitch", "centroid" or "silence".
    """

    hex: str
    name: str
    hue: float
    saturation: float
    value: float
    frequency_hz: float | None
    source: str


@dataclass(frozen=True)
class InstrumentGuess:
    """One instrument chosen for a window by the design's selection rule.

    label: the engine's own label ("Crash cymbal", "piano").
    word: the project's instrument word ("crash", "piano"); see docs/instruments.md.
    category: one of INSTRUMENT_CATEGORIES; it picks the sentence's verb.
    score: the engine's probability in [0, 1].
    confident: score >= the confidence threshold (default 0.70); False for runner-up fills.
    """

    label: str
    word: str
    category: str
    score: float
    confident: bool


@dataclass(frozen=True)
class Word:
    """One transcribed word with its absolute time in the song (seconds)."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Voice:
    """Whether a voice sounds in the window and what it says.

    present: voice activity detected in the window.
    probability: the highest voice-activity probability in the window, in [0, 1].
    text: the words said in this window joined by spaces; "" for voice without words
        (the design's "hmmmm / oooooo" case) or no voice.
    words: the words whose middle falls in this window.
    language: ISO 639-1 code of the transcription language, or None when not transcribed.
    mode: "sung" or "spoken" when a voice was heard and classified (schema 1.1), else None.
    """

    present: bool
    probability: float
    text: str = ""
    words: tuple[Word, ...] = ()
    language: str | None = None
    mode: str | None = None


@dataclass(frozen=True)
class Description:
    """The design's sentence for the window and the text-to-image prompt made from it."""

    sentence: str
    prompt: str
    abstractions: tuple[str, ...] = ()
    action: str | None = None


@dataclass(frozen=True)
class Hit:
    """One drum hit: its absolute time in the song (s), the kit piece and the classifier's score."""

    time: float
    piece: str
    score: float


@dataclass(frozen=True)
class Rhythm:
    """The song's pulse (schema 1.1): tempo in beats per minute, beat and downbeat times (s).

    onsets: note onset times (s) when only onsets are known (no drum hits); they drive the
        picture's hit events then.
    onset_strengths: one strength in [0, 1] per onset (empty: all equal).
    """

    tempo_bpm: float | None
    beats: tuple[float, ...] = ()
    downbeats: tuple[float, ...] = ()
    onsets: tuple[float, ...] = ()
    onset_strengths: tuple[float, ...] = ()


@dataclass(frozen=True)
class Pictogram:
    """A pictogram for one of the window's nouns (schema 1.1).

    word: the noun it shows ("heart", "guitar", "wave").
    role: "object" (the sung object, shown beside its lyric), "instrument" (background) or
        "abstraction" (foreground); see PICTOGRAM_ROLES.
    path: the image (PNG), relative to the timeline file's folder and inside it.
    code: the emoji's code points as OpenMoji names its file ("2764", "1F3B8").
    score: how well the word matched the emoji's name, in [0, 1].
    """

    word: str
    role: str
    path: str
    code: str = ""
    score: float = 1.0


@dataclass(frozen=True)
class Clip:
    """A generated video clip covering [start, end) of the song (schema 1.1).

    path: relative to the timeline file's folder, like a window's texture.
    """

    path: str
    start: float
    end: float
    prompt: str = ""
    seed: int | None = None


@dataclass(frozen=True)
class Window:
    """One time window of the song. Optional fields are None until their stage has run."""

    index: int
    start: float
    end: float
    volume: Volume
    colour: Colour
    instruments: tuple[InstrumentGuess, ...] | None = None
    voice: Voice | None = None
    description: Description | None = None
    texture: str | None = None  # path relative to the timeline file's folder
    hits: tuple[Hit, ...] | None = None  # drum hits whose time falls in the window (1.1)
    pictograms: tuple[Pictogram, ...] | None = None  # pictograms of its nouns (1.1)

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def middle(self) -> float:
        return 0.5 * (self.start + self.end)


@dataclass(frozen=True)
class Source:
    """The analysed audio file. path is absolute; sha256 is of the file's bytes."""

    path: str
    sha256: str
    duration: float
    sample_rate: int
    channels: int
    frames: int


@dataclass(frozen=True)
class Timeline:
    """A whole analysed song.

    settings: per stage, the options that produced the fields ({"listen": {...}, "describe":
        {...}, "imagine": {...}}; timelines made before schema 1.1 say "analyze" and "textures").
    engines: per field, the engine that produced it ({"instruments": "musicnn:MTT_musicnn"}).
    """

    source: Source
    window_seconds: float
    windows: tuple[Window, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    engines: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    rhythm: Rhythm | None = None
    clips: tuple[Clip, ...] = ()
    created_by: str = "aimv"
    schema_version: str = SCHEMA_VERSION

    @property
    def words(self) -> list[Word]:
        """All transcribed words of the song in time order (for lyric markers)."""
        out: list[Word] = []
        for window in self.windows:
            if window.voice is not None:
                out.extend(window.voice.words)
        return sorted(out, key=lambda w: w.start)
