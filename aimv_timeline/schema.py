"""The AIMV timeline file: typed records, a validating JSON reader and an atomic writer.

This module is the heart of the contract between the backend (which writes timelines) and the
Blender add-on (which keys them onto a scene). It uses the Python standard library only, because
the add-on runs inside Blender's own Python; the extension build copies the whole
``aimv_timeline`` package into the zip, so there is one source and no copy to keep in sync.

The format is documented in ``docs/timeline.md``. Readers accept any file whose major
``schema_version`` equals :data:`SCHEMA_MAJOR`; writers always write :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import AimvError
from .names import MAX_SONG_SECONDS, MAX_TIMELINE_BYTES
from .paths import UnsafePathError, check_paths, parse_json_bounded, read_regular_file

SCHEMA_VERSION = "1.1"
SCHEMA_MAJOR = 1

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

__all__ = [
    "SCHEMA_VERSION",
    "SCHEMA_MAJOR",
    "VOLUME_LEVELS",
    "COLOUR_SOURCES",
    "VOICE_MODES",
    "DRUM_PIECES",
    "INSTRUMENT_CATEGORIES",
    "PICTOGRAM_ROLES",
    "TimelineFormatError",
    "Volume",
    "Colour",
    "InstrumentGuess",
    "Word",
    "Voice",
    "Description",
    "Window",
    "Hit",
    "Rhythm",
    "Pictogram",
    "Clip",
    "Source",
    "Timeline",
    "timeline_to_dict",
    "timeline_from_dict",
    "read_timeline",
    "write_timeline",
    "write_json_atomic",
    "replace",
]


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

    settings: per stage, the options that produced the fields ({"listen": {...}, "describe": {...}, "imagine": {...}};
        timelines made before schema 1.1 say "analyze" and "textures").
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


# --------------------------------------------------------------------------------------------
# Serialisation


def _clean(value: Any) -> Any:
    """Turn tuples into lists and refuse non-finite floats (JSON has no NaN)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TimelineFormatError(f"non-finite number {value!r} cannot be written")
        return value
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return value


def timeline_to_dict(timeline: Timeline) -> dict[str, Any]:
    """The JSON-ready dict of a timeline (keys in schema order)."""
    data = asdict(timeline)
    data.pop("schema_version")  # a writer always writes the version it knows
    data = {"schema_version": SCHEMA_VERSION, **data}
    return _clean(data)


class _Reader:
    """Typed field access that reports the JSON path of what is wrong."""

    def __init__(self, data: Any, path: str):
        if not isinstance(data, dict):
            raise TimelineFormatError(
                f"{path or 'timeline'}: expected an object, got {_kind(data)}"
            )
        self.data = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
        if key not in self.data:
            if optional:
                return None
            raise TimelineFormatError(f"{self._where(key)}: missing")
        value = self.data[key]
        if value is None and optional:
            return None
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and kind is not bool:
            raise TimelineFormatError(f"{self._where(key)}: expected {_name(kind)}, got bool")
        if not isinstance(value, kind):
            raise TimelineFormatError(
                f"{self._where(key)}: expected {_name(kind)}, got {_kind(value)}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise TimelineFormatError(f"{self._where(key)}: not a finite number")
        return value

    def number(
        self, key: str, *, optional: bool = False, lo: float | None = None, hi: float | None = None
    ) -> float | None:
        value = self.get(key, float, optional=optional)
        if value is None:
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise TimelineFormatError(f"{self._where(key)}: {value} is outside [{lo}, {hi}]")
        return value

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self.get(key, str)
        if value not in options:
            raise TimelineFormatError(
                f"{self._where(key)}: {value!r} is not one of {', '.join(options)}"
            )
        return value

    def child(self, key: str, *, optional: bool = False) -> _Reader | None:
        value = self.get(key, dict, optional=optional)
        return None if value is None else _Reader(value, self._where(key))

    def items(self, key: str, *, optional: bool = False) -> list[Any] | None:
        return self.get(key, list, optional=optional)

    def item_path(self, key: str, i: int) -> str:
        return f"{self._where(key)}[{i}]"


def _name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        float: "number",
        int: "integer",
        str: "string",
        bool: "boolean",
        dict: "object",
        list: "array",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _kind(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _hex(reader: _Reader, key: str) -> str:
    value = reader.get(key, str)
    ok = (
        len(value) == 7
        and value[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in value[1:])
    )
    if not ok:
        raise TimelineFormatError(f"{reader._where(key)}: {value!r} is not a #rrggbb colour")
    return value.lower()


def _volume(r: _Reader) -> Volume:
    return Volume(
        rms_dbfs=r.number("rms_dbfs", lo=-200.0, hi=60.0),
        peak_dbfs=r.number("peak_dbfs", lo=-200.0, hi=60.0),
        relative_db=r.number("relative_db", lo=-300.0, hi=300.0),
        level=r.choice("level", VOLUME_LEVELS),
    )


def _colour(r: _Reader) -> Colour:
    return Colour(
        hex=_hex(r, "hex"),
        name=r.get("name", str),
        hue=r.number("hue", lo=0.0, hi=360.0),
        saturation=r.number("saturation", lo=0.0, hi=1.0),
        value=r.number("value", lo=0.0, hi=1.0),
        frequency_hz=r.number("frequency_hz", optional=True, lo=0.0),
        source=r.choice("source", COLOUR_SOURCES),
    )


def _instrument(r: _Reader) -> InstrumentGuess:
    return InstrumentGuess(
        label=r.get("label", str),
        word=r.get("word", str),
        category=r.choice("category", INSTRUMENT_CATEGORIES),
        score=r.number("score", lo=0.0, hi=1.0),
        confident=r.get("confident", bool),
    )


def _word(r: _Reader) -> Word:
    return Word(
        text=r.get("text", str),
        start=r.number("start", lo=0.0),
        end=r.number("end", lo=0.0),
        probability=r.number("probability", lo=0.0, hi=1.0),
    )


def _voice(r: _Reader) -> Voice:
    words = r.items("words", optional=True) or []
    return Voice(
        present=r.get("present", bool),
        probability=r.number("probability", lo=0.0, hi=1.0),
        text=r.get("text", str, optional=True) or "",
        words=tuple(_word(_Reader(w, r.item_path("words", i))) for i, w in enumerate(words)),
        language=r.get("language", str, optional=True),
        mode=r.choice("mode", VOICE_MODES) if r.data.get("mode") is not None else None,
    )


def _hit(r: _Reader) -> Hit:
    return Hit(
        time=r.number("time", lo=0.0),
        piece=r.choice("piece", DRUM_PIECES),
        score=r.number("score", lo=0.0, hi=1.0),
    )


def _times(r: _Reader, key: str) -> tuple[float, ...]:
    values = r.items(key, optional=True) or []
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise TimelineFormatError(f"{r.item_path(key, i)}: expected a time >= 0, got {v!r}")
        if out and v < out[-1]:
            raise TimelineFormatError(f"{r.item_path(key, i)}: times must not decrease")
        out.append(float(v))
    return tuple(out)


def _rhythm(r: _Reader) -> Rhythm:
    return Rhythm(
        tempo_bpm=r.number("tempo_bpm", optional=True, lo=1.0, hi=1000.0),
        beats=_times(r, "beats"),
        downbeats=_times(r, "downbeats"),
        onsets=_times(r, "onsets"),
        onset_strengths=_strengths(r, "onset_strengths", len(r.data.get("onsets") or ())),
    )


def _strengths(r: _Reader, key: str, count: int) -> tuple[float, ...]:
    values = r.items(key, optional=True) or []
    if values and len(values) != count:
        raise TimelineFormatError(f"{r._where(key)}: {len(values)} values for {count} onsets")
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise TimelineFormatError(f"{r.item_path(key, i)}: expected a number in [0, 1]")
    return tuple(float(v) for v in values)


def _relative_path(r: _Reader, key: str) -> str:
    """A path relative to the timeline's folder that stays inside it (no "..", not absolute)."""
    value = r.get(key, str)
    parts = value.replace("\\", "/").split("/")
    if not value or value.startswith("/") or ":" in parts[0] or ".." in parts:
        raise TimelineFormatError(
            f"{r._where(key)}: {value!r} must be a path inside the timeline's folder"
        )
    return value


def _pictogram(r: _Reader) -> Pictogram:
    return Pictogram(
        word=r.get("word", str),
        role=r.choice("role", PICTOGRAM_ROLES),
        path=_relative_path(r, "path"),
        code=r.get("code", str, optional=True) or "",
        score=r.number("score", optional=True, lo=0.0, hi=1.0) if "score" in r.data else 1.0,
    )


def _clip(r: _Reader) -> Clip:
    clip = Clip(
        path=r.get("path", str),
        start=r.number("start", lo=0.0),
        end=r.number("end", lo=0.0),
        prompt=r.get("prompt", str, optional=True) or "",
        seed=r.get("seed", int, optional=True),
    )
    if clip.end <= clip.start:
        raise TimelineFormatError(f"{r.path}: end {clip.end} is not after start {clip.start}")
    return clip


def _description(r: _Reader) -> Description:
    abstractions = r.items("abstractions", optional=True) or []
    for i, a in enumerate(abstractions):
        if not isinstance(a, str):
            raise TimelineFormatError(f"{r.item_path('abstractions', i)}: expected string")
    return Description(
        sentence=r.get("sentence", str),
        prompt=r.get("prompt", str),
        abstractions=tuple(abstractions),
        action=r.get("action", str, optional=True),
    )


def _window(r: _Reader) -> Window:
    instruments = r.items("instruments", optional=True)
    voice = r.child("voice", optional=True)
    description = r.child("description", optional=True)
    hits = r.items("hits", optional=True)
    pictograms = r.items("pictograms", optional=True)
    window = Window(
        index=r.get("index", int),
        start=r.number("start", lo=0.0),
        end=r.number("end", lo=0.0),
        volume=_volume(r.child("volume")),
        colour=_colour(r.child("colour")),
        instruments=None
        if instruments is None
        else tuple(
            _instrument(_Reader(x, r.item_path("instruments", i)))
            for i, x in enumerate(instruments)
        ),
        voice=None if voice is None else _voice(voice),
        description=None if description is None else _description(description),
        texture=r.get("texture", str, optional=True),
        hits=None
        if hits is None
        else tuple(_hit(_Reader(x, r.item_path("hits", i))) for i, x in enumerate(hits)),
        pictograms=None
        if pictograms is None
        else tuple(
            _pictogram(_Reader(x, r.item_path("pictograms", i))) for i, x in enumerate(pictograms)
        ),
    )
    if window.end <= window.start:
        raise TimelineFormatError(f"{r.path}: end {window.end} is not after start {window.start}")
    for i, hit in enumerate(window.hits or ()):
        if not window.start - 1e-6 <= hit.time <= window.end + 1e-6:
            raise TimelineFormatError(
                f"{r.item_path('hits', i)}.time: {hit.time} is outside the window "
                f"[{window.start}, {window.end}]"
            )
    return window


def timeline_from_dict(data: Any) -> Timeline:
    """Validate a parsed JSON document and build the typed :class:`Timeline`.

    Raises TimelineFormatError naming the first offending field (e.g. "windows[3].volume.level").
    """
    r = _Reader(data, "")
    version = r.get("schema_version", str)
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise TimelineFormatError(f"schema_version: {version!r} is not MAJOR.MINOR") from None
    if major != SCHEMA_MAJOR:
        raise TimelineFormatError(
            f"schema_version: {version!r} is not supported (this reader reads {SCHEMA_MAJOR}.x)"
        )
    s = r.child("source")
    source = Source(
        path=s.get("path", str),
        sha256=s.get("sha256", str),
        duration=s.number("duration", lo=0.0, hi=float(MAX_SONG_SECONDS)),
        sample_rate=s.get("sample_rate", int),
        channels=s.get("channels", int),
        frames=s.get("frames", int),
    )
    window_seconds = r.number("window_seconds", lo=1e-3, hi=float(MAX_SONG_SECONDS))
    raw_windows = r.items("windows")
    # The song bounds the windows: a timeline cannot plan hours of frames for a short song.
    most = math.ceil(source.duration / window_seconds) + 1
    if len(raw_windows) > most:
        raise TimelineFormatError(
            f"windows: {len(raw_windows)} windows of {window_seconds} s do not fit a song of "
            f"{source.duration} s (at most {most})"
        )
    windows = tuple(
        _window(_Reader(w, r.item_path("windows", i))) for i, w in enumerate(raw_windows)
    )
    for i, w in enumerate(windows):
        if w.index != i:
            raise TimelineFormatError(f"windows[{i}].index: expected {i}, got {w.index}")
        if i and w.start < windows[i - 1].end - 1e-6:
            raise TimelineFormatError(f"windows[{i}].start: overlaps the previous window")
        if w.end > source.duration + window_seconds + 1e-6:
            raise TimelineFormatError(
                f"windows[{i}].end: {w.end} s is past the end of the song ({source.duration} s)"
            )
    settings = r.get("settings", dict, optional=True) or {}
    engines = r.get("engines", dict, optional=True) or {}
    for key, value in engines.items():
        if not isinstance(value, str):
            raise TimelineFormatError(f"engines.{key}: expected string, got {_kind(value)}")
    rhythm = r.child("rhythm", optional=True)
    clips = r.items("clips", optional=True) or []
    return Timeline(
        schema_version=version,
        source=source,
        window_seconds=window_seconds,
        windows=windows,
        settings=settings,
        engines=engines,
        language=r.get("language", str, optional=True),
        rhythm=None if rhythm is None else _rhythm(rhythm),
        clips=tuple(_clip(_Reader(c, r.item_path("clips", i))) for i, c in enumerate(clips)),
        created_by=r.get("created_by", str, optional=True) or "aimv",
    )


def read_timeline(path: str | os.PathLike[str]) -> Timeline:
    """Read and validate a timeline JSON file.

    Raises TimelineFormatError for a missing file, something that is not a regular file (FIFO,
    device), a file over :data:`~aimv_timeline.names.MAX_TIMELINE_BYTES`, invalid or unbounded
    JSON (huge numbers, deep nesting), a schema violation, or a path (texture, clip) that leads
    outside the timeline's folder (see :mod:`aimv_timeline.paths`).
    """
    p = Path(path)
    try:
        raw = read_regular_file(p, limit=MAX_TIMELINE_BYTES, what="timeline")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise TimelineFormatError(f"timeline {str(p)!r}: no such file") from None
    except IsADirectoryError:
        raise TimelineFormatError(f"timeline {str(p)!r}: is a directory") from None
    except UnsafePathError as exc:
        raise TimelineFormatError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TimelineFormatError(f"timeline {str(p)!r}: cannot be read ({exc})") from None
    try:
        data = parse_json_bounded(text)
    except ValueError as exc:
        raise TimelineFormatError(f"timeline {str(p)!r}: {exc}") from None
    try:
        timeline = timeline_from_dict(data)
        check_paths(timeline, p.absolute().parent)
    except UnsafePathError as exc:
        raise TimelineFormatError(f"timeline {str(p)!r}: {exc}") from None
    except TimelineFormatError as exc:
        raise TimelineFormatError(f"timeline {str(p)!r}: {exc}") from None
    return timeline


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask is process-wide, not thread-safe to probe later


def preserved_file_mode(path: Path) -> int:
    """The permissions a rewritten file should have: its current ones, else 0666 - umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def write_json_atomic(data: Any, path: str | os.PathLike[str]) -> Path:
    """Write JSON to a temporary file beside ``path`` and rename it over: never a half file."""
    p = Path(path)
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, preserved_file_mode(p))  # mkstemp makes 0600; keep the file's own permissions
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def write_timeline(timeline: Timeline, path: str | os.PathLike[str]) -> Path:
    """Validate and atomically write a timeline to ``path``."""
    data = timeline_to_dict(timeline)
    timeline_from_dict(data)  # never write a file the reader would refuse
    return write_json_atomic(data, path)
