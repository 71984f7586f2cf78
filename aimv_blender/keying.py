"""The keying maths: a timeline becomes meaningful channels of (frame, value) keys.

Pure Python (no bpy) so it is unit-tested without Blender and stays fast for long songs. Each
channel is named by what it means ("colour", "energy.key", "texture.current", "crossfade",
"background.zoom", "camera.punch", "flash", "lyric.scale", ...); the bpy side has ONE table
(``aimv_blender/layers/table.py``) that maps every meaning to datablocks and data paths.

Frames are 1-based like Blender's default scene: time ``t`` seconds is frame ``1 + t * fps``.
Window boundaries are rounded to whole frames. Per-window values hold through their window and
blend into the next window's value over ``crossfade`` seconds starting AT the boundary (or cut
on a downbeat, see ``motion/background.py``), so a window's middle frame shows its own value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .contract import Timeline, names
from .layer_options import DEFAULT_LAYERS, check_layers
from .motion import background, camera, hits, lyrics, pictograms
from .motion.background import texture_numbers
from .motion.base import (
    BEZIER,
    CONSTANT,
    LINEAR,
    Channel,
    WindowFrames,
    frame_count,
    hex_to_linear_rgb,
    idle_keys,
    srgb_to_linear,
    time_to_frame,
    volume_drive,
    window_frames,
)

MARKER_PREFIX = "AIMV "
# The names of the markers AIMV makes ("AIMV 3 teal", "AIMV ♪ hello"); "AIMV chorus" is not one.
AIMV_MARKER = re.compile(r"^AIMV (\d+ |\u266a )")

__all__ = [
    "BEZIER",
    "CONSTANT",
    "LINEAR",
    "AIMV_MARKER",
    "MARKER_PREFIX",
    "Channel",
    "KeyingOptions",
    "Marker",
    "SceneKeys",
    "WindowFrames",
    "build_keys",
    "frame_count",
    "hex_to_linear_rgb",
    "markers",
    "srgb_to_linear",
    "texture_numbers",
    "time_to_frame",
    "volume_drive",
    "window_frames",
]


@dataclass(frozen=True)
class KeyingOptions:
    """How a timeline is turned into motion.

    fps: frames per second of the scene (1-240).
    crossfade: seconds over which colours, light energy and textures blend into the next window,
        starting at the boundary (clamped to half of the next window; 0 = hard cuts).
    seed: seeds the camera sway phases (same seed, same motion).
    light_energy: light power in watts at a drive of 1 (a loud window).
    camera_distance: metres from the camera to the background plane at rest.
    push_in: metres the camera moves towards the background at a drive of 1.
    sway: metres of side/vertical sway at a drive of 1.
    hit_strength: scales every hit event (camera punch, pulse, flash); 0 = none.
    camera_keys_per_second: density of camera and background motion keys.
    background_speed: how much the volume speeds up the background's push-in and drift.
    layers: the layers to build (see ``layer_options.LAYERS``); all by default.
    aspect: the frame's width over its height (Build scene sets it from the resolution); the
        pictograms are placed inside it.
    lens: the camera's focal length (mm, on a 36 mm sensor); Build scene sets it from the
        camera, whose lens an artist may change: the background covers, and the pictograms
        stay inside, what that lens sees.
    """

    fps: int = 24
    crossfade: float = 0.5
    seed: int = 0
    light_energy: float = 400.0
    camera_distance: float = 8.5
    push_in: float = 1.0
    sway: float = 0.12
    hit_strength: float = 1.0
    camera_keys_per_second: float = 8.0
    background_speed: float = 1.0
    layers: frozenset[str] = DEFAULT_LAYERS
    aspect: float = 16 / 9
    lens: float = camera.LENS

    def __post_init__(self) -> None:
        if not (isinstance(self.lens, int | float) and 1.0 <= self.lens <= 5000.0):
            raise ValueError(f"lens must be a focal length in [1, 5000] mm, got {self.lens!r}")
        if not (isinstance(self.aspect, int | float) and 0.05 <= self.aspect <= 20.0):
            raise ValueError(f"aspect must be a width/height in [0.05, 20], got {self.aspect!r}")
        if not isinstance(self.fps, int) or not names.MIN_FPS <= self.fps <= names.MAX_FPS:
            raise ValueError(
                f"fps must be an integer in [{names.MIN_FPS}, {names.MAX_FPS}], got {self.fps!r}"
            )
        if not 0.0 <= self.crossfade <= names.MAX_CROSSFADE_SECONDS:
            raise ValueError(
                f"crossfade must be in [0, {names.MAX_CROSSFADE_SECONDS:g}] seconds, "
                f"got {self.crossfade!r}"
            )
        if self.camera_keys_per_second <= 0:
            raise ValueError(
                f"camera_keys_per_second must be > 0, got {self.camera_keys_per_second!r}"
            )
        if not 0.0 <= self.hit_strength <= 10.0:
            raise ValueError(f"hit_strength must be in [0, 10], got {self.hit_strength!r}")
        object.__setattr__(self, "layers", check_layers(self.layers))


@dataclass(frozen=True)
class Marker:
    name: str
    frame: int


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
    transitions: tuple[background.Transition, ...] = ()
    lyrics: tuple[lyrics.LyricSlot, ...] = ()
    pictograms: tuple[pictograms.PictogramSlot, ...] = ()
    events: tuple[hits.Event, ...] = ()
    layers: frozenset[str] = DEFAULT_LAYERS

    def channel(self, name: str, index: int = 0, subject: str = "") -> Channel:
        for ch in self.channels:
            if ch.name == name and ch.index == index and ch.subject == subject:
                return ch
        raise KeyError(f"no channel {name}[{index}] {subject}".rstrip())

    def subject_channels(self, subject: str) -> list[Channel]:
        return [ch for ch in self.channels if ch.subject == subject]


def markers(timeline: Timeline, spans: tuple[WindowFrames, ...], fps: int) -> tuple[Marker, ...]:
    """One marker per window ("AIMV 3 teal") and one per lyric word ("AIMV ♪ hello")."""
    out = [
        Marker(f"{MARKER_PREFIX}{w.index} {w.colour.name}", s.start)
        for w, s in zip(timeline.windows, spans, strict=False)
    ]
    out += [
        Marker(f"{MARKER_PREFIX}\u266a {shown}", time_to_frame(word.start, fps))
        for word in timeline.words
        if (shown := lyrics.shown_text(word.text))  # as the lyric shows it: "fire", not "fire,"
    ]
    return tuple(out)


def _flash_colour(hex_colour: str) -> tuple[float, float, float]:
    """A pale tint of the window colour: flashes light the picture in the song's palette."""
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return tuple(srgb_to_linear(0.45 * c + 0.55) for c in (r, g, b))  # type: ignore[return-value]


def build_keys(timeline: Timeline, options: KeyingOptions) -> SceneKeys:
    """All channels and markers for a timeline (see the module docstring for the timing rule)."""
    if not timeline.windows:
        raise ValueError("the timeline has no windows")
    fps = options.fps
    layers = options.layers
    spans = window_frames(timeline, fps)
    # The song's frames (to the windows' end, for a timeline whose windows run past it); a
    # last window shorter than half a frame (7.25-7.30 s at 4 fps) has no frame of its own.
    frame_end = max(
        frame_count(timeline.source.duration, fps),
        time_to_frame(timeline.windows[-1].end, fps) - 1,
    )
    rhythm = timeline.rhythm
    trans = background.transitions(
        spans,
        crossfade=options.crossfade,
        fps=fps,
        downbeats=rhythm.downbeats if rhythm is not None else (),
        beats=rhythm.beats if rhythm is not None else (),
        quiet=tuple(w.volume.level in ("quiet", "silent") for w in timeline.windows),
    )

    def held(values: list[float]):
        return background.held_keys(values, spans, trans)

    colours = [hex_to_linear_rgb(w.colour.hex) for w in timeline.windows]
    flashes = [_flash_colour(w.colour.hex) for w in timeline.windows]
    drives = [volume_drive(w.volume) for w in timeline.windows]
    drive_keys = held(drives)
    channels: list[Channel] = []
    for c in range(3):
        channels.append(Channel("colour", c, held([col[c] for col in colours])))
        channels.append(Channel("flash.colour", c, held([col[c] for col in flashes])))
    energy = options.light_energy
    channels.append(Channel("energy.key", 0, held([energy * (0.1 + d) for d in drives])))
    channels.append(Channel("energy.rim", 0, held([0.5 * energy * (0.05 + d) for d in drives])))
    channels.append(Channel("drive", 0, drive_keys))

    numbers = texture_numbers(timeline)
    if numbers[0] is not None:
        current, coming, mix, interps = background.texture_keys(numbers, spans, trans)
        channels.append(Channel("texture.current", 0, current, CONSTANT))
        channels.append(Channel("texture.next", 0, coming, CONSTANT))
        channels.append(Channel("crossfade", 0, mix, LINEAR, interps))
        # the fade plane leaves the picture between crossfades (no transparent pass to draw)
        channels.append(Channel("fade.hidden", 0, idle_keys(mix, interps, frame_end), CONSTANT))

    moving = "motion" in layers
    if moving:
        channels += background.motion_channels(
            drive_keys,
            frame_end,
            fps=fps,
            speed=options.background_speed,
            keys_per_second=options.camera_keys_per_second / 2,
            seed=options.seed,
        )
    channels += camera.camera_channels(
        drive_keys,
        frame_end,
        fps=fps,
        seed=options.seed,
        sway=options.sway if moving else 0.0,
        push_in=options.push_in if moving else 0.0,
        distance=options.camera_distance,
        keys_per_second=options.camera_keys_per_second if moving else 1.0 / 3600,
        pulse=camera.sway_pulse(rhythm),
    )
    events: tuple[hits.Event, ...] = ()
    if "hits" in layers and options.hit_strength > 0:
        hit_chs, events = hits.hit_channels(
            timeline, spans, fps=fps, frame_end=frame_end, strength=options.hit_strength
        )
        channels += hit_chs
    lyric_slots: tuple[lyrics.LyricSlot, ...] = ()
    if "lyrics" in layers:
        lyric_chs, lyric_slots = lyrics.lyric_channels(
            timeline, spans, fps=fps, frame_end=frame_end
        )
        channels += lyric_chs
    picto_slots: tuple[pictograms.PictogramSlot, ...] = ()
    if "pictograms" in layers:
        shown = [a for s in lyric_slots for a in s.appearances]
        picto_chs, picto_slots = pictograms.pictogram_channels(
            timeline,
            spans,
            fps=fps,
            frame_end=frame_end,
            lyrics=shown,
            view=pictograms.View(
                aspect=options.aspect,
                distance=options.camera_distance,
                lens=options.lens,
                # the camera at its closest: pushed in at the loudest, and a kick's punch
                closest=options.camera_distance
                - (camera.PUSH_DRIVE_MAX * options.push_in if moving else 0.0)
                - (hits.EFFECTS["kick"][0] * options.hit_strength if "hits" in layers else 0.0),
            ),
        )
        channels += picto_chs
    return SceneKeys(
        frame_start=1,
        frame_end=frame_end,
        fps=fps,
        windows=spans,
        channels=tuple(channels),
        markers=markers(timeline, spans, fps),
        drives=tuple(drives),
        transitions=trans,
        lyrics=lyric_slots,
        pictograms=picto_slots,
        events=events,
        layers=layers,
    )
