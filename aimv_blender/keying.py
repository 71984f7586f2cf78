"""The keying maths: a timeline becomes lists of (frame, value) keys per channel.

Pure Python (no bpy) so it is unit-tested without Blender and stays fast for long songs. The
bpy side (``scene_build``) only writes these keys into F-curves.

Frames are 1-based like Blender's default scene: time ``t`` seconds is frame ``1 + t * fps``.
Window boundaries are rounded to whole frames. Every per-window value is held through its window
and ramps linearly into the next window's value over the last ``crossfade`` seconds before the
boundary, so the value at a window's middle frame is exactly that window's value.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field

from .contract import Timeline, Volume, Window

# Interpolation names as Blender spells them.
CONSTANT = "CONSTANT"
LINEAR = "LINEAR"
BEZIER = "BEZIER"

MARKER_PREFIX = "AIMV "


@dataclass(frozen=True)
class KeyingOptions:
    """How a timeline is turned into motion.

    fps: frames per second of the scene (1-240).
    crossfade: seconds over which colours, light energy and textures blend into the next window
        (clamped to half of the shorter window; 0 = hard cuts).
    seed: seeds the camera sway phases (same seed, same motion).
    light_energy: light power in watts at a drive of 1 (a loud window).
    camera_distance: metres from the camera to the screen plane at rest.
    push_in: metres the camera moves towards the screen at a drive of 1.
    sway: metres of side/vertical sway at a drive of 1.
    kick: metres of the forward jolt on a loud onset at a drive of 1.
    camera_keys_per_second: density of camera keys (the sway is sampled, then interpolated).
    """

    fps: int = 24
    crossfade: float = 0.25
    seed: int = 0
    light_energy: float = 400.0
    camera_distance: float = 8.5
    push_in: float = 1.2
    sway: float = 0.25
    kick: float = 0.35
    camera_keys_per_second: float = 8.0

    def __post_init__(self) -> None:
        if not isinstance(self.fps, int) or not 1 <= self.fps <= 240:
            raise ValueError(f"fps must be an integer in [1, 240], got {self.fps!r}")
        if not 0.0 <= self.crossfade <= 10.0:
            raise ValueError(f"crossfade must be in [0, 10] seconds, got {self.crossfade!r}")
        if self.camera_keys_per_second <= 0:
            raise ValueError(
                f"camera_keys_per_second must be > 0, got {self.camera_keys_per_second!r}"
            )


@dataclass(frozen=True)
class Channel:
    """One F-curve's worth of keys: ``keys`` are (frame, value) in increasing frame order."""

    target: str  # which generated datablock: "camera", "key_light", "screen_nodes", ...
    data_path: str
    index: int
    keys: tuple[tuple[float, float], ...]
    interpolation: str = LINEAR
    per_key: tuple[str, ...] = ()  # per-key interpolation, overrides ``interpolation``

    def interpolations(self) -> tuple[str, ...]:
        """The interpolation of each key, in key order."""
        return self.per_key or (self.interpolation,) * len(self.keys)


@dataclass(frozen=True)
class Marker:
    name: str
    frame: int


@dataclass(frozen=True)
class WindowFrames:
    """A window's frame span: ``start`` inclusive, ``end`` exclusive (next window's start)."""

    index: int
    start: int
    end: int

    @property
    def middle(self) -> int:
        return (self.start + self.end - 1) // 2


@dataclass(frozen=True)
class SceneKeys:
    """Everything the scene builder writes for one timeline."""

    frame_start: int
    frame_end: int
    fps: int
    windows: tuple[WindowFrames, ...]
    channels: tuple[Channel, ...]
    markers: tuple[Marker, ...]
    drives: tuple[float, ...] = field(default=())

    def channel(self, target: str, data_path: str, index: int = 0) -> Channel:
        for ch in self.channels:
            if ch.target == target and ch.data_path == data_path and ch.index == index:
                return ch
        raise KeyError(f"no channel {target}:{data_path}[{index}]")


# --------------------------------------------------------------------------------------------
# Small conversions


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


def hex_to_linear_rgb(hex_colour: str) -> tuple[float, float, float]:
    """'#rrggbb' (sRGB) to the linear RGB that Blender's colour properties store."""
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"colour must be #rrggbb, got {hex_colour!r}")
    r, g, b = (int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))
    return srgb_to_linear(r), srgb_to_linear(g), srgb_to_linear(b)


def volume_drive(volume: Volume) -> float:
    """How hard a window drives the lights and the camera, in [0, 2].

    The absolute level maps -60..0 dBFS to 0..1; the level relative to the running average
    scales it by 10^(relative_db / 20), clamped to [0.25, 4], so a window louder than what came
    before moves more. Silent windows give 0.
    """
    if volume.level == "silent":
        return 0.0
    absolute = min(1.0, max(0.0, (volume.rms_dbfs + 60.0) / 60.0))
    relative = min(4.0, max(0.25, 10.0 ** (volume.relative_db / 20.0)))
    return min(2.0, absolute * relative)


def is_onset(window: Window, previous: Window | None) -> bool:
    """A loud window that follows a non-loud one, or a jump of 6 dB or more: the camera kicks."""
    if window.volume.level != "loud":
        return False
    if previous is None:
        return True
    jump = window.volume.rms_dbfs - previous.volume.rms_dbfs
    return previous.volume.level != "loud" or jump >= 6.0


# --------------------------------------------------------------------------------------------
# Window spans and held/ramped values


def window_frames(timeline: Timeline, fps: int) -> tuple[WindowFrames, ...]:
    """Whole-frame spans of the windows; consecutive spans touch (no gaps, no overlaps).

    Raises ValueError when a window would last less than a frame (keys would run backwards).
    """
    if timeline.window_seconds * fps < 1.0:
        raise ValueError(
            f"fps {fps} gives less than one frame per {timeline.window_seconds} s window; "
            "raise the frame rate or the window length"
        )
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


def _fade_frames(span: WindowFrames, crossfade: float, fps: int) -> int:
    return max(0, min(int(round(crossfade * fps)), (span.end - span.start) // 2))


def held_keys(
    values: list[float], spans: tuple[WindowFrames, ...], *, crossfade: float, fps: int
) -> tuple[tuple[float, float], ...]:
    """Keys that hold each window's value and ramp into the next one before the boundary."""
    keys: list[tuple[float, float]] = []
    for i, (span, value) in enumerate(zip(spans, values, strict=True)):
        keys.append((float(span.start), value))
        fade = _fade_frames(span, crossfade, fps) if i + 1 < len(spans) else 0
        hold_end = span.end - fade if i + 1 < len(spans) else span.end - 1
        if hold_end > span.start:
            keys.append((float(hold_end), value))
    return tuple(keys)


def crossfade_keys(
    spans: tuple[WindowFrames, ...], *, crossfade: float, fps: int
) -> tuple[tuple[tuple[float, float], ...], tuple[str, ...]]:
    """Mix factor keys (0 = this window's texture, 1 = the next one) and their interpolations.

    Before each boundary b the factor ramps 0 -> (F-1)/F over F frames and holds, then drops to
    0 at b, where the "current" texture switches to the next window's: seamless on whole frames.
    """
    keys: list[tuple[float, float]] = [(float(spans[0].start), 0.0)] if spans else []
    interps: list[str] = [CONSTANT] if spans else []
    for span, nxt in zip(spans, spans[1:], strict=False):
        fade = _fade_frames(span, crossfade, fps)
        b = nxt.start
        if fade >= 2:
            keys.append((float(b - fade), 0.0))
            interps.append(LINEAR)
            keys.append((float(b - 1), (fade - 1) / fade))
            interps.append(CONSTANT)
        keys.append((float(b), 0.0))
        interps.append(CONSTANT)
    # drop duplicates at equal frames (a window shorter than the fade)
    out_k, out_i = [], []
    for k, it in zip(keys, interps, strict=False):
        if out_k and k[0] <= out_k[-1][0]:
            out_k[-1], out_i[-1] = k, it
        else:
            out_k.append(k)
            out_i.append(it)
    return tuple(out_k), tuple(out_i)


def step_keys(
    values: list[float], spans: tuple[WindowFrames, ...]
) -> tuple[tuple[float, float], ...]:
    """CONSTANT keys at window starts (texture numbers)."""
    return tuple((float(s.start), float(v)) for s, v in zip(spans, values, strict=True))


def _interp(keys: tuple[tuple[float, float], ...], frame: float) -> float:
    """Piecewise-linear evaluation of held_keys (what Blender shows with LINEAR keys)."""
    if frame <= keys[0][0]:
        return keys[0][1]
    for (f0, v0), (f1, v1) in zip(keys, keys[1:], strict=False):
        if frame <= f1:
            return v0 + (v1 - v0) * (frame - f0) / (f1 - f0)
    return keys[-1][1]


# --------------------------------------------------------------------------------------------
# The whole scene


def camera_keys(
    timeline: Timeline,
    spans: tuple[WindowFrames, ...],
    drive_keys: tuple[tuple[float, float], ...],
    options: KeyingOptions,
    frame_end: int,
) -> list[Channel]:
    """Camera location (x, y, z) and roll, sampled ``camera_keys_per_second`` times a second.

    Sway amplitude and speed scale with the drive, the camera pushes towards the screen as the
    drive rises, and loud onsets add a forward kick that decays in ~0.2 s.
    """
    fps = options.fps
    rng = random.Random(options.seed)
    phase_x, phase_z, phase_r, phase_j = (rng.uniform(0, 2 * math.pi) for _ in range(4))
    step = max(1, int(round(fps / options.camera_keys_per_second)))
    frames = list(range(1, frame_end + 1, step))
    if frames[-1] != frame_end:
        frames.append(frame_end)
    onsets = [
        spans[i].start
        for i, w in enumerate(timeline.windows)
        if is_onset(w, timeline.windows[i - 1] if i else None)
    ]
    onset_drive = {spans[i].start: volume_drive(w.volume) for i, w in enumerate(timeline.windows)}
    xs, ys, zs, rolls = [], [], [], []
    for f in frames:
        t = (f - 1) / fps
        d = _interp(drive_keys, f)
        # two sines per axis: a slow drift and a faster shake, both scaled by the drive
        x = (
            options.sway
            * d
            * (
                math.sin(2 * math.pi * t / 3.1 + phase_x)
                + 0.5 * math.sin(2 * math.pi * 1.7 * t + phase_j)
            )
        )
        z = (
            0.6
            * options.sway
            * d
            * (
                math.sin(2 * math.pi * t / 2.3 + phase_z)
                + 0.5 * math.sin(2 * math.pi * 2.3 * t + phase_j)
            )
        )
        y = -options.camera_distance + options.push_in * min(d, 1.5)
        # only the onsets of the last second can still be felt (onsets are in frame order)
        for onset in onsets[
            bisect.bisect_left(onsets, f - fps + 1) : bisect.bisect_right(onsets, f)
        ]:
            dt = (f - onset) / fps
            y += options.kick * onset_drive[onset] * math.exp(-dt / 0.2)
        roll = 0.04 * d * math.sin(2 * math.pi * t / 4.7 + phase_r)
        xs.append(x)
        ys.append(y)
        zs.append(z)
        rolls.append(roll)
    fr = [float(f) for f in frames]
    return [
        Channel("camera", "location", 0, tuple(zip(fr, xs, strict=False)), BEZIER),
        Channel("camera", "location", 1, tuple(zip(fr, ys, strict=False)), BEZIER),
        Channel("camera", "location", 2, tuple(zip(fr, zs, strict=False)), BEZIER),
        Channel("camera", "rotation_euler", 1, tuple(zip(fr, rolls, strict=False)), BEZIER),
    ]


def markers(timeline: Timeline, spans: tuple[WindowFrames, ...], fps: int) -> tuple[Marker, ...]:
    """One marker per window ("AIMV 3 teal") and one per lyric word ("AIMV ♪ hello")."""
    out = [
        Marker(f"{MARKER_PREFIX}{w.index} {w.colour.name}", s.start)
        for w, s in zip(timeline.windows, spans, strict=False)
    ]
    out += [
        Marker(f"{MARKER_PREFIX}\u266a {word.text.strip()}", time_to_frame(word.start, fps))
        for word in timeline.words
    ]
    return tuple(out)


def texture_numbers(timeline: Timeline) -> list[int | None]:
    """Per window, the 0-based number of the texture it shows in the image sequence.

    Windows without a texture show the previous window's (or the next one's at the start);
    None everywhere when the timeline has no texture at all.
    """
    numbers: list[int | None] = [w.index if w.texture else None for w in timeline.windows]
    if all(n is None for n in numbers):
        return numbers
    last = next(n for n in numbers if n is not None)
    for i, n in enumerate(numbers):
        if n is None:
            numbers[i] = last
        else:
            last = n
    return numbers


def build_keys(timeline: Timeline, options: KeyingOptions) -> SceneKeys:
    """All channels and markers for a timeline (see the module docstring for the timing rule)."""
    if not timeline.windows:
        raise ValueError("the timeline has no windows")
    fps = options.fps
    spans = window_frames(timeline, fps)
    frame_end = max(frame_count(timeline.source.duration, fps), spans[-1].end - 1)
    hold = dict(crossfade=options.crossfade, fps=fps)
    colours = [hex_to_linear_rgb(w.colour.hex) for w in timeline.windows]
    drives = [volume_drive(w.volume) for w in timeline.windows]
    drive_keys = held_keys(drives, spans, **hold)
    channels: list[Channel] = []
    for c in range(3):
        ck = held_keys([col[c] for col in colours], spans, **hold)
        channels.append(Channel("key_light", "color", c, ck))
        channels.append(Channel("rim_light", "color", c, ck))
        channels.append(Channel("screen_material", "diffuse_color", c, ck))
        channels.append(Channel("backdrop_material", "diffuse_color", c, ck))
        channels.append(
            Channel("screen_nodes", 'nodes["AIMV Colour"].outputs[0].default_value', c, ck)
        )
        channels.append(
            Channel("backdrop_nodes", 'nodes["AIMV Colour"].outputs[0].default_value', c, ck)
        )
    channels.append(
        Channel(
            "key_light",
            "energy",
            0,
            held_keys([options.light_energy * (0.1 + d) for d in drives], spans, **hold),
        )
    )
    channels.append(
        Channel(
            "rim_light",
            "energy",
            0,
            held_keys([0.5 * options.light_energy * (0.05 + d) for d in drives], spans, **hold),
        )
    )
    numbers = texture_numbers(timeline)
    if numbers[0] is not None:
        nxt = numbers[1:] + numbers[-1:]
        channels.append(
            Channel(
                "screen_nodes",
                'nodes["AIMV Texture A"].image_user.frame_offset',
                0,
                step_keys(numbers, spans),
                CONSTANT,
            )
        )
        channels.append(
            Channel(
                "screen_nodes",
                'nodes["AIMV Texture B"].image_user.frame_offset',
                0,
                step_keys(nxt, spans),
                CONSTANT,
            )
        )
        mix, interps = crossfade_keys(spans, **hold)
        channels.append(
            Channel(
                "screen_nodes",
                'nodes["AIMV Crossfade"].inputs[0].default_value',
                0,
                mix,
                LINEAR,
                interps,
            )
        )
        # Workbench (the CPU preview) shows one image per material and ignores the Mix node: a
        # second screen just in front shows the next window's texture, and its material's
        # alpha, which Workbench honours, follows the same crossfade.
        channels.append(
            Channel(
                "fade_nodes",
                'nodes["AIMV Texture B"].image_user.frame_offset',
                0,
                step_keys(nxt, spans),
                CONSTANT,
            )
        )
        channels.append(Channel("fade_material", "diffuse_color", 3, mix, LINEAR, interps))
    channels.extend(camera_keys(timeline, spans, drive_keys, options, frame_end))
    return SceneKeys(
        frame_start=1,
        frame_end=frame_end,
        fps=fps,
        windows=spans,
        channels=tuple(channels),
        markers=markers(timeline, spans, fps),
        drives=tuple(drives),
    )
