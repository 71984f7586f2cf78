"""The panel's settings: one ``Scene.aimv`` PropertyGroup, snapshotted into frozen dataclasses.

Operators never read properties while they work: they take a :class:`Snapshot` first (Dream
Textures' generate_args style) and hand it to bpy-free or bpy-thin functions, so a setting
changed mid-run cannot change a run, and the functions are testable without the UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy
from bpy.props import (
    BoolProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from .contract import AimvError, names, presets
from .layer_options import LAYERS

DEFAULT = presets.DEFAULT  # the panel starts from the preview preset, as `aimv render` does


class SettingsError(AimvError):
    """A panel setting that cannot be used (no song chosen, no output file...)."""


# The panel's label and tooltip of each choice; the choices themselves are the contract's names
# (aimv_timeline.names). "id:setting" tells a choice apart where settings share an id.
LABELS = {
    "auto": ("Auto", "PANNs if its checkpoint is installed, else musicnn"),
    "musicnn": ("musicnn", "Offline MagnaTagATune tagger"),
    "panns": ("PANNs", "PANNs Cnn14 (AudioSet)"),
    "none:instruments": ("None", "Skip instrument tagging"),
    "none:asr": ("None", "Voice detection only, no words"),
    "faster-whisper": ("faster-whisper", "Whisper through CTranslate2"),
    "openai-whisper": ("openai-whisper", "The original Whisper"),
    "auto:textures": ("Auto", "Diffusion on a GPU, procedural otherwise"),
    "procedural": ("Procedural", "Fast offline textures"),
    "diffusers": ("Diffusion", "Text-to-image model"),
    names.VIDEO_ENGINE: (
        "Generated clips",
        "A text-to-video clip (LTX-Video) per bar group over procedural stills; needs a GPU "
        "and the model in the Hugging Face cache, or online access",
    ),
    "none:textures": ("None", "No textures: planes show the window colours"),
    "workbench": ("Workbench", "Fast preview: flat light, textures or window colours"),
    "eevee": ("EEVEE", "Real-time engine; needs a GPU to be fast"),
    "cycles": ("Cycles", "Path tracer; uses a GPU when one is set up"),
}


def _items(*choices: str) -> tuple[tuple[str, str, str], ...]:
    """EnumProperty items of ``choices`` (the first is the default)."""
    return tuple((c.split(":")[0], *LABELS[c]) for c in choices)


ENGINE_ITEMS = _items(*names.RENDER_ENGINES)


def _path_property(name: str, description: str, *, subtype: str = "FILE_PATH", default=""):
    """A file or folder path setting (Blender shows a file browser button)."""
    return StringProperty(name=name, subtype=subtype, default=default, description=description)


def _frame_side(name: str, axis: int):
    """Width (axis 0) or height (axis 1) of the video in pixels, within the contract's limits."""
    return IntProperty(
        name=name,
        default=DEFAULT.resolution[axis],
        min=names.MIN_RESOLUTION,
        max=names.MAX_RESOLUTION[axis],
        step=2,
    )


class AIMV_PG_settings(bpy.types.PropertyGroup):
    audio_path: _path_property("Song", f"The song ({names.AUDIO_FORMATS}) to turn into a video")
    work_dir: _path_property(
        "Work folder",
        f"Where the backend writes {names.TIMELINE_FILE} and textures "
        "(empty: beside the song, named after it + .aimv)",
        subtype="DIR_PATH",
    )
    timeline_path: _path_property(
        "Timeline", f"{names.TIMELINE_FILE} to key (Generate fills it in)"
    )
    window_seconds: FloatProperty(
        name="Window",
        default=1.0,
        min=names.MIN_WINDOW_SECONDS,
        max=names.MAX_WINDOW_SECONDS,
        unit="TIME_ABSOLUTE",
        description="Length of each analysis window in seconds",
    )
    instruments: EnumProperty(
        name="Instruments",
        default="auto",
        items=_items(*names.INSTRUMENT_ENGINES, "none:instruments"),
    )
    asr: EnumProperty(name="Speech", items=_items(*names.ASR_ENGINES, "none:asr"))
    language: StringProperty(
        name="Language",
        default="",
        description="Lyrics language, e.g. en or Spanish (empty: detect)",
    )
    beats_per_bar: EnumProperty(
        name="Beats per bar",
        default="auto",
        items=[("auto", "Auto", "Heard from the song: 3 (a waltz) or 4")]
        + [(str(n), str(n), f"Bars of {n} beats") for n in (2, 3, 4, 5, 6, 7)],
        description="Beats in a bar, for the downbeats the pictures cut on",
    )
    textures: EnumProperty(
        name="Textures",
        items=_items("auto:textures", *names.TEXTURE_ENGINES, names.VIDEO_ENGINE, "none:textures"),
    )
    seed: IntProperty(name="Seed", default=0, min=0, description="Same seed, same video")
    resolution_x: _frame_side("Width", 0)
    resolution_y: _frame_side("Height", 1)
    fps: IntProperty(name="FPS", default=DEFAULT.fps, min=names.MIN_FPS, max=names.MAX_FPS)
    crossfade: FloatProperty(
        name="Crossfade",
        default=DEFAULT.crossfade,
        min=0.0,
        max=10.0,
        description="Seconds of blending into the next window",
    )
    # the picture's layers (same defaults as --no-<layer> on the command line)
    layer_lyrics: BoolProperty(name="Lyrics", default=True, description=LAYERS["lyrics"])
    layer_pictograms: BoolProperty(
        name="Pictograms", default=True, description=LAYERS["pictograms"]
    )
    layer_hits: BoolProperty(name="Hits", default=True, description=LAYERS["hits"])
    layer_motion: BoolProperty(name="Motion", default=True, description=LAYERS["motion"])
    font_path: _path_property("Font", "Font file for the lyrics (empty: Blender's built-in font)")
    render_engine: EnumProperty(name="Engine", items=ENGINE_ITEMS, default=DEFAULT.engine)
    samples: IntProperty(name="Samples", default=DEFAULT.samples, min=1, max=4096)
    output_path: _path_property("Output", "The MP4 to write", default="//aimv.mp4")
    overwrite: BoolProperty(
        name="Overwrite", default=False, description="Replace the output if it exists"
    )
    # live state of a Generate run (drawn by the panel)
    running: BoolProperty(default=False, options={"SKIP_SAVE"})
    progress: FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR", options={"SKIP_SAVE"})
    status: StringProperty(default="", options={"SKIP_SAVE"})


@dataclass(frozen=True)
class Snapshot:
    """Every setting with paths made absolute, frozen for one operator run."""

    audio: Path | None
    work_dir: Path | None
    timeline: Path | None
    window_seconds: float
    instruments: str
    asr: str
    language: str
    beats_per_bar: str
    textures: str
    seed: int
    resolution: tuple[int, int]
    fps: int
    crossfade: float
    engine: str
    samples: int
    output: Path | None
    overwrite: bool
    layers: frozenset[str] = frozenset(LAYERS)
    font: Path | None = None


# Snapshot fields that are properties of the same name.
SAME_NAMES = (
    "window_seconds",
    "instruments",
    "asr",
    "language",
    "beats_per_bar",
    "textures",
    "seed",
    "fps",
    "crossfade",
    "samples",
    "overwrite",
)


def _path(value: str) -> Path | None:
    value = value.strip()
    return Path(bpy.path.abspath(value)).resolve() if value else None


def snapshot(settings: AIMV_PG_settings) -> Snapshot:
    audio = _path(settings.audio_path)
    work = _path(settings.work_dir)
    if work is None and audio is not None:
        work = audio.with_name(audio.stem + ".aimv")
    timeline = _path(settings.timeline_path)
    if timeline is None and work is not None:
        timeline = work / names.TIMELINE_FILE
    return Snapshot(
        audio=audio,
        work_dir=work,
        timeline=timeline,
        resolution=(settings.resolution_x, settings.resolution_y),
        engine=settings.render_engine,
        output=_path(settings.output_path),
        **{name: getattr(settings, name) for name in SAME_NAMES},
        layers=frozenset(name for name in LAYERS if getattr(settings, f"layer_{name}")),
        font=_path(settings.font_path),
    )


classes = (AIMV_PG_settings,)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.aimv = PointerProperty(type=AIMV_PG_settings)


def unregister() -> None:
    del bpy.types.Scene.aimv
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
