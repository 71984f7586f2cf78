"""Shared records and small conversions of the motion maths (no bpy).

Frames are 1-based like Blender's default scene: time ``t`` seconds is frame ``1 + t * fps``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..contract import Timeline, Volume, errors, names

# Interpolation names as Blender spells them.
CONSTANT = "CONSTANT"
LINEAR = "LINEAR"
BEZIER = "BEZIER"

Keys = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Channel:
    """One meaningful animated value: ``keys`` are (frame, value) in increasing frame order.

    name: what the value means ("colour", "crossfade", "camera.punch", "lyric.scale", ...);
        the scene builder's table maps it to datablocks and data paths.
    index: the component (0-2 for colours and vectors, 3 for alpha).
    subject: which generated object of a layer it belongs to ("" for the stage's single ones,
        an object name such as "AIMV Lyric hello" for per-object channels).
    """

    name: str
    index: int
    keys: Keys
    interpolation: str = LINEAR
    per_key: tuple[str, ...] = ()  # per-key interpolation, overrides ``interpolation``
    subject: str = ""

    def interpolations(self) -> tuple[str, ...]:
        """The interpolation of each key, in key order."""
        return self.per_key or (self.interpolation,) * len(self.keys)


@dataclass(frozen=True)
class WindowFrames:
    """A window's frame span: ``start`` inclusive, ``end`` exclusive (next window's start)."""

    index: int
    start: int
    end: int

    @property
    def middle(self) -> int:
        return (self.start + self.end - 1) // 2


MAX_NAME_BYTES = 63  # Blender cuts longer datablock names


def fit_name(base: str, suffix: str = "", *, room: int = 0) -> str:
    """``base`` + ``suffix`` cut (in UTF-8 bytes, on a character boundary) so that the name
    plus ``room`` more bytes (e.g. an action's " Material") stays within Blender's 63 bytes:
    names AIMV looks up again must come back exactly as it made them."""
    budget = MAX_NAME_BYTES - room - len(suffix.encode())
    raw = base.encode()[:budget]
    return raw.decode("utf-8", errors="ignore") + suffix


def time_to_frame(seconds: float, fps: int) -> int:
    """The whole frame at which ``seconds`` falls (frame 1 is t = 0)."""
    return 1 + int(round(seconds * fps))


def frame_count(duration: float, fps: int) -> int:
    """Frames that cover ``duration`` seconds (at least 1)."""
    return max(1, int(round(duration * fps)))


def srgb_to_linear(c: float) -> float:
    """One sRGB channel in [0, 1] to linear light (IEC 61966-2-1)."""
    if c <= 0.04045:
        return c / 12.92
    return ((c + 0.055) / 1.055) ** 2.4


def hex_to_srgb(hex_colour: str) -> tuple[float, float, float]:
    """'#rrggbb' to sRGB channels in [0, 1]."""
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"colour must be #rrggbb, got {hex_colour!r}")
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def hex_to_linear_rgb(hex_colour: str) -> tuple[float, float, float]:
    """'#rrggbb' (sRGB) to the linear RGB that Blender's colour properties store."""
    r, g, b = hex_to_srgb(hex_colour)
    return srgb_to_linear(r), srgb_to_linear(g), srgb_to_linear(b)


def volume_drive(volume: Volume) -> float:
    """How hard a window drives the motion, in [0, 2].

    The absolute level maps -60..0 dBFS to 0..1; the level relative to the running average
    scales it by 10^(relative_db / 20), clamped to [0.25, 4], so a window louder than what came
    before moves more. Silent windows give 0.
    """
    if volume.level == "silent":
        return 0.0
    absolute = min(1.0, max(0.0, (volume.rms_dbfs + 60.0) / 60.0))
    relative = min(4.0, max(0.25, 10.0 ** (volume.relative_db / 20.0)))
    return min(2.0, absolute * relative)


def window_frames(timeline: Timeline, fps: int) -> tuple[WindowFrames, ...]:
    """Whole-frame spans of the windows; consecutive spans touch (no gaps, no overlaps).

    Raises FrameRateError (a ValueError) when the windows would last less than a frame
    (keys would run backwards).
    """
    reason = names.check_frames_per_window([w.end - w.start for w in timeline.windows], fps)
    if reason:
        raise errors.FrameRateError(reason)
    spans = []
    n = len(timeline.windows)
    last_frame = frame_count(timeline.source.duration, fps) + 1
    for i, w in enumerate(timeline.windows):
        start = time_to_frame(w.start, fps)
        end = time_to_frame(timeline.windows[i + 1].start, fps) if i + 1 < n else None
        if end is None:
            end = max(time_to_frame(w.end, fps), last_frame)
        spans.append(WindowFrames(index=w.index, start=start, end=max(end, start + 1)))
    return tuple(spans)


def window_at(spans: tuple[WindowFrames, ...], frame: float) -> int:
    """The position in ``spans`` of the window that shows ``frame`` (clamped to the ends)."""
    lo, hi = 0, len(spans) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if spans[mid].start <= frame:
            lo = mid
        else:
            hi = mid - 1
    return lo


def evaluate(keys: Keys, frame: float) -> float:
    """Piecewise-linear value of keys at ``frame`` (what Blender shows with LINEAR keys)."""
    if frame <= keys[0][0]:
        return keys[0][1]
    for (f0, v0), (f1, v1) in zip(keys, keys[1:], strict=False):
        if frame <= f1:
            return v0 if f1 == f0 else v0 + (v1 - v0) * (frame - f0) / (f1 - f0)
    return keys[-1][1]


def dedupe(keys: list[tuple[float, float]], interps: list[str] | None = None):
    """Sort keys by frame; a later key at the same frame replaces an earlier one."""
    order = sorted(range(len(keys)), key=lambda i: (keys[i][0], i))
    out_k: list[tuple[float, float]] = []
    out_i: list[str] = []
    for i in order:
        k = keys[i]
        if out_k and k[0] == out_k[-1][0]:
            out_k[-1] = k
            if interps is not None:
                out_i[-1] = interps[i]
        else:
            out_k.append(k)
            if interps is not None:
                out_i.append(interps[i])
    return (tuple(out_k), tuple(out_i)) if interps is not None else tuple(out_k)


def sampled(keys: Keys, interpolations: tuple[str, ...], frame_end: int) -> list[float]:
    """The values Blender shows on frames 1..frame_end for keys with per-key interpolations
    (a key's own interpolation runs to the next key; BEZIER is taken as LINEAR, which is zero
    exactly where a Bezier segment between its two keys can be)."""
    out: list[float] = []
    i = 0
    for g in range(1, frame_end + 1):
        while i + 1 < len(keys) and keys[i + 1][0] <= g:
            i += 1
        f0, v0 = keys[i]
        if g <= f0 or i + 1 >= len(keys) or interpolations[i] == CONSTANT:
            out.append(v0)
        else:
            f1, v1 = keys[i + 1]
            out.append(v0 + (v1 - v0) * (g - f0) / (f1 - f0))
    return out


def flags_to_keys(hidden: list[bool]) -> Keys:
    """CONSTANT keys (1 = hidden) from one flag per frame, frame 1 first."""
    keys: list[tuple[float, float]] = []
    for k, flag in enumerate(hidden):
        value = 1.0 if flag else 0.0
        if not keys or keys[-1][1] != value:
            keys.append((float(k + 1), value))
    return tuple(keys) or ((1.0, 0.0),)


def idle_keys(keys: Keys, interpolations: tuple[str, ...], frame_end: int) -> Keys:
    """CONSTANT keys (1 = hidden) hiding a transparent plane on the frames 1..frame_end where
    its alpha ``keys`` is 0: it shows nothing there, yet a software renderer would still pay a
    full-frame transparent pass for it."""
    return flags_to_keys([v <= 0.0 for v in sampled(keys, interpolations, frame_end)])


def either_hidden(a: Keys, b: Keys, frame_end: int) -> Keys:
    """CONSTANT hide keys that hide where ``a`` or ``b`` (CONSTANT hide keys) hides."""
    va = sampled(a, (CONSTANT,) * len(a), frame_end)
    vb = sampled(b, (CONSTANT,) * len(b), frame_end)
    return flags_to_keys([x > 0.5 or y > 0.5 for x, y in zip(va, vb, strict=True)])
