"""The timeline's validating reader: JSON (a file or a dict) to typed records.

Part of :mod:`aimv_timeline.schema`. Every refusal is a :class:`TimelineFormatError` whose
message names the JSON path of the bad field.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from . import records as rec
from .names import (
    MAX_LINE_CHARS,
    MAX_SONG_SECONDS,
    MAX_TIMELINE_BYTES,
    MAX_WINDOW_SECONDS,
    MAX_WORD_CHARS,
    MIN_WINDOW_SECONDS,
)
from .paths import UnsafePathError, check_paths, parse_json_bounded, read_regular_file
from .records import TimelineFormatError

__all__ = ["read_timeline", "timeline_from_dict"]


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
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # "\ud800": JSON allows it, no file can hold it
                raise TimelineFormatError(
                    f"{self._where(key)}: not valid Unicode (a lone surrogate escape)"
                ) from None
        return value

    def text(self, key: str, *, most: int, optional: bool = False) -> str | None:
        """A string of at most ``most`` characters (a lyric is set in 3D, letter by letter)."""
        value = self.get(key, str, optional=optional)
        if value is not None and len(value) > most:
            raise TimelineFormatError(
                f"{self._where(key)}: {len(value)} characters, at most {most}"
            )
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


def _volume(r: _Reader) -> rec.Volume:
    return rec.Volume(
        rms_dbfs=r.number("rms_dbfs", lo=-200.0, hi=60.0),
        peak_dbfs=r.number("peak_dbfs", lo=-200.0, hi=60.0),
        relative_db=r.number("relative_db", lo=-300.0, hi=300.0),
        level=r.choice("level", rec.VOLUME_LEVELS),
    )


def _colour(r: _Reader) -> rec.Colour:
    return rec.Colour(
        hex=_hex(r, "hex"),
        name=r.get("name", str),
        hue=r.number("hue", lo=0.0, hi=360.0),
        saturation=r.number("saturation", lo=0.0, hi=1.0),
        value=r.number("value", lo=0.0, hi=1.0),
        frequency_hz=r.number("frequency_hz", optional=True, lo=0.0),
        source=r.choice("source", rec.COLOUR_SOURCES),
    )


def _instrument(r: _Reader) -> rec.InstrumentGuess:
    return rec.InstrumentGuess(
        label=r.get("label", str),
        word=r.get("word", str),
        category=r.choice("category", rec.INSTRUMENT_CATEGORIES),
        score=r.number("score", lo=0.0, hi=1.0),
        confident=r.get("confident", bool),
    )


def _word(r: _Reader) -> rec.Word:
    return rec.Word(
        text=r.text("text", most=MAX_WORD_CHARS),
        start=r.number("start", lo=0.0),
        end=r.number("end", lo=0.0),
        probability=r.number("probability", lo=0.0, hi=1.0),
    )


def _voice(r: _Reader) -> rec.Voice:
    words = r.items("words", optional=True) or []
    return rec.Voice(
        present=r.get("present", bool),
        probability=r.number("probability", lo=0.0, hi=1.0),
        text=r.text("text", most=MAX_LINE_CHARS, optional=True) or "",
        words=tuple(_word(_Reader(w, r.item_path("words", i))) for i, w in enumerate(words)),
        language=r.get("language", str, optional=True),
        mode=r.choice("mode", rec.VOICE_MODES) if r.data.get("mode") is not None else None,
    )


def _hit(r: _Reader) -> rec.Hit:
    return rec.Hit(
        time=r.number("time", lo=0.0),
        piece=r.choice("piece", rec.DRUM_PIECES),
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


def _rhythm(r: _Reader) -> rec.Rhythm:
    return rec.Rhythm(
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


def _pictogram(r: _Reader) -> rec.Pictogram:
    return rec.Pictogram(
        word=r.get("word", str),
        role=r.choice("role", rec.PICTOGRAM_ROLES),
        path=_relative_path(r, "path"),
        code=r.get("code", str, optional=True) or "",
        score=r.number("score", optional=True, lo=0.0, hi=1.0) if "score" in r.data else 1.0,
    )


def _clip(r: _Reader) -> rec.Clip:
    clip = rec.Clip(
        path=r.get("path", str),
        start=r.number("start", lo=0.0),
        end=r.number("end", lo=0.0),
        prompt=r.get("prompt", str, optional=True) or "",
        seed=r.get("seed", int, optional=True),
    )
    if clip.end <= clip.start:
        raise TimelineFormatError(f"{r.path}: end {clip.end} is not after start {clip.start}")
    return clip


def _description(r: _Reader) -> rec.Description:
    abstractions = r.items("abstractions", optional=True) or []
    for i, a in enumerate(abstractions):
        if not isinstance(a, str):
            raise TimelineFormatError(f"{r.item_path('abstractions', i)}: expected string")
    return rec.Description(
        sentence=r.get("sentence", str),
        prompt=r.get("prompt", str),
        abstractions=tuple(abstractions),
        action=r.get("action", str, optional=True),
    )


def _window(r: _Reader) -> rec.Window:
    instruments = r.items("instruments", optional=True)
    voice = r.child("voice", optional=True)
    description = r.child("description", optional=True)
    hits = r.items("hits", optional=True)
    pictograms = r.items("pictograms", optional=True)
    window = rec.Window(
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
        if i and hit.time < window.hits[i - 1].time:
            raise TimelineFormatError(
                f"{r.item_path('hits', i)}.time: {hit.time} is before the hit above it "
                f"({window.hits[i - 1].time}); hits are in time order"
            )
        if not window.start - 1e-6 <= hit.time <= window.end + 1e-6:
            raise TimelineFormatError(
                f"{r.item_path('hits', i)}.time: {hit.time} is outside the window "
                f"[{window.start}, {window.end}]"
            )
    return window


def timeline_from_dict(data: Any) -> rec.Timeline:
    """Validate a parsed JSON document and build the typed :class:`Timeline`.

    Raises TimelineFormatError naming the first offending field (e.g. "windows[3].volume.level").
    """
    r = _Reader(data, "")
    version = r.get("schema_version", str)
    parts = rec.schema_version_parts(version)
    if parts is None:
        raise TimelineFormatError(f"schema_version: {version!r} is not MAJOR.MINOR") from None
    if parts[0] != rec.SCHEMA_MAJOR:
        raise TimelineFormatError(
            f"schema_version: {version!r} is not supported (this reader reads {rec.SCHEMA_MAJOR}.x)"
        )
    s = r.child("source")
    source = rec.Source(
        path=s.get("path", str),
        sha256=s.get("sha256", str),
        duration=s.number("duration", lo=0.0, hi=float(MAX_SONG_SECONDS)),
        sample_rate=s.get("sample_rate", int),
        channels=s.get("channels", int),
        frames=s.get("frames", int),
    )
    window_seconds = r.number("window_seconds", lo=MIN_WINDOW_SECONDS, hi=MAX_WINDOW_SECONDS)
    raw_windows = r.items("windows")
    # The song bounds the windows: a timeline cannot plan hours of frames for a short song.
    # Beat and bar windows (--windows beats|bars) span whole beats, about window_seconds but
    # down to two thirds of it, with part-windows before the first beat and after the last:
    # allow twice the seconds grid's count.
    most = math.ceil(2 * source.duration / window_seconds) + 3
    if not raw_windows:
        raise TimelineFormatError("windows: a timeline needs at least one window, got none")
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
    return rec.Timeline(
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


def read_timeline(path: str | os.PathLike[str]) -> rec.Timeline:
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
