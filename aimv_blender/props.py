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

from .layer_options import LAYERS

ENGINE_ITEMS = (
    ("workbench", "Workbench", "Fast preview: flat light, textures or window colours"),
    ("eevee", "EEVEE", "Real-time engine; needs a GPU to be fast"),
    ("cycles", "Cycles", "Path tracer; uses a GPU when one is set up"),
)


class AIMV_PG_settings(bpy.types.PropertyGroup):
    audio_path: StringProperty(
        name="Song", subtype="FILE_PATH", description="The song (.wav) to turn into a video"
    )
    work_dir: StringProperty(
        name="Work folder",
        subtype="DIR_PATH",
        description="Where the backend writes timeline.json and textures "
        "(empty: beside the song, named after it + .aimv)",
    )
    timeline_path: StringProperty(
        name="Timeline",
        subtype="FILE_PATH",
        description="timeline.json to key (Generate fills it in)",
    )
    window_seconds: FloatProperty(
        name="Window",
        default=1.0,
        min=0.25,
        max=10.0,
        unit="TIME_ABSOLUTE",
        description="Length of each analysis window in seconds",
    )
    instruments: EnumProperty(
        name="Instruments",
        default="auto",
        items=(
            ("auto", "Auto", "PANNs if its checkpoint is installed, else musicnn"),
            ("musicnn", "musicnn", "Offline MagnaTagATune tagger"),
            ("panns", "PANNs", "PANNs Cnn14 (AudioSet)"),
            ("none", "None", "Skip instrument tagging"),
        ),
    )
    asr: EnumProperty(
        name="Speech",
        default="faster-whisper",
        items=(
            ("faster-whisper", "faster-whisper", "Whisper through CTranslate2"),
            ("openai-whisper", "openai-whisper", "The original Whisper"),
            ("none", "None", "Voice detection only, no words"),
        ),
    )
    language: StringProperty(
        name="Language",
        default="",
        description="Lyrics language, e.g. en or Spanish (empty: detect)",
    )
    textures: EnumProperty(
        name="Textures",
        default="auto",
        items=(
            ("auto", "Auto", "Diffusion on a GPU, procedural otherwise"),
            ("procedural", "Procedural", "Fast offline textures"),
            ("diffusers", "Diffusion", "Text-to-image model"),
            ("none", "None", "No textures: planes show the window colours"),
        ),
    )
    seed: IntProperty(name="Seed", default=0, min=0, description="Same seed, same video")
    resolution_x: IntProperty(name="Width", default=1280, min=16, max=8192, step=2)
    resolution_y: IntProperty(name="Height", default=720, min=16, max=8192, step=2)
    fps: IntProperty(name="FPS", default=24, min=1, max=240)
    crossfade: FloatProperty(
        name="Crossfade",
        default=0.5,
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
    font_path: StringProperty(
        name="Font",
        subtype="FILE_PATH",
        description="Font file for the lyrics (empty: Blender's built-in font)",
    )
    render_engine: EnumProperty(name="Engine", items=ENGINE_ITEMS, default="workbench")
    samples: IntProperty(name="Samples", default=16, min=1, max=4096)
    output_path: StringProperty(
        name="Output", subtype="FILE_PATH", default="//aimv.mp4", description="The MP4 to write"
    )
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
        timeline = work / "timeline.json"
    return Snapshot(
        audio=audio,
        work_dir=work,
        timeline=timeline,
        window_seconds=settings.window_seconds,
        instruments=settings.instruments,
        asr=settings.asr,
        language=settings.language,
        textures=settings.textures,
        seed=settings.seed,
        resolution=(settings.resolution_x, settings.resolution_y),
        fps=settings.fps,
        crossfade=settings.crossfade,
        engine=settings.render_engine,
        samples=settings.samples,
        output=_path(settings.output_path),
        overwrite=settings.overwrite,
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
