"""Build (or rebuild) the AIMV stage in a scene from a timeline: layers, materials, keys.

What AIMV owns, and therefore updates on every build: the collection "AIMV" with its layer
collections ("AIMV Background", "AIMV Lyrics", "AIMV Pictograms", "AIMV Hits"), the objects it
creates there (re-used by name when they exist), their materials' node trees, the images
"AIMV Textures A/B", the F-curves it writes in the actions named "AIMV ..." and the timeline
markers named "AIMV ...". Everything else survives: the artist's own objects and their keys,
placements of AIMV's objects that AIMV does not key, F-curves of properties AIMV does not key,
and any F-curve of AIMV's that the artist edited since (see anim.py).

The keying (``keying.py``, no bpy) says what each channel means; ``layers/table.py`` maps every
meaning to datablocks and data paths; each layer module (``layers/*.py``) makes its objects.
A switched-off layer's collection is excluded from the view layer: it leaves the picture, and
its objects, with the artist's edits, come back when it is switched on again.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import bpy
from mathutils import Vector

from . import anim, clips
from .contract import AimvError, Timeline
from .keying import AIMV_MARKER, Channel, KeyingOptions, SceneKeys, build_keys
from .layers import background, camera, common, hits, lights, lyrics, pictograms
from .layers.table import TABLE
from .motion.background import cover_size, crop_uv, hidden_keys
from .motion.base import CONSTANT, either_hidden, fit_name

COLLECTION = common.COLLECTION
SEQUENCE_FOLDER = background.SEQUENCE_FOLDER
NAMES = {
    "screen": background.SCREEN,
    "fade": background.FADE,
    "key_light": lights.KEY_LIGHT,
    "rim_light": lights.RIM_LIGHT,
    "camera": camera.CAMERA,
    "flash": hits.FLASH,
}
IMAGE_NAMES = background.IMAGE_NAMES
TEXTURE_PATHS = background.TEXTURE_PATHS


class BuildError(AimvError, RuntimeError):
    """The scene cannot be built (missing texture file, empty timeline). One-line message."""


@dataclass(frozen=True)
class BuildOptions:
    """keying: the maths options (fps, crossfade, seed, layers, ...).
    resolution: output size in pixels, sets the scene's render size (the camera's aspect).
    sequence_dir: where the texture sequence is staged (default: beside the timeline).
    font: a font file for the lyrics (None: Blender's built-in font).
    """

    keying: KeyingOptions = field(default_factory=KeyingOptions)
    resolution: tuple[int, int] = (1280, 720)
    sequence_dir: Path | None = None
    font: Path | None = None

    def __post_init__(self) -> None:
        if self.font is not None and not Path(self.font).is_file():
            raise BuildError(f"font: no such file {str(self.font)!r}")


@dataclass(frozen=True)
class BuildResult:
    frame_start: int
    frame_end: int
    fps: int
    windows: int
    textured: bool
    markers: int
    keys: SceneKeys
    objects: int = 0
    kept_fcurves: tuple[str, ...] = ()
    in_the_way: tuple[str, ...] = ()  # the artist's objects between the camera and the screen


def _markers(scene: bpy.types.Scene, keys: SceneKeys) -> int:
    for m in [m for m in scene.timeline_markers if AIMV_MARKER.match(m.name)]:
        scene.timeline_markers.remove(m)
    for m in keys.markers:
        scene.timeline_markers.new(m.name, frame=m.frame)
    return len(keys.markers)


def _action_name(datablock: bpy.types.ID) -> str:
    """The action of one of AIMV's datablocks ("AIMV Lyric hello TextCurve"), within 63 bytes.

    A material's node tree is always called "Shader Nodetree", so it is named after its
    material: one action per tree, never the screen's colour keyed by the flash's. An object
    the artist renamed keeps the action of the name AIMV gave it (and the edits in it).
    """
    name = datablock.name
    if isinstance(datablock, bpy.types.Object):
        name = datablock.get(common.IDENTITY) or name
    if isinstance(datablock, bpy.types.NodeTree):
        owner = next((m for m in bpy.data.materials if m.node_tree == datablock), None)
        if owner is not None:
            name = owner.name
    return fit_name(f"{name} {type(datablock).__name__}")


def apply_table(
    keys: SceneKeys,
    stage: dict[str, bpy.types.ID | None],
    subjects: dict[str, bpy.types.Object],
    *,
    extra: list[Channel] = (),
) -> list[str]:
    """Write every channel (the keying's and ``extra`` ones) through the table; returns the
    F-curves kept as the artist edited them."""
    curves: dict[int, tuple[bpy.types.ID, list[anim.CurveKeys]]] = {}
    channels = [*keys.channels, *extra]
    for ch in channels:
        if ch.subject:
            ob = subjects.get(ch.subject)
            if ob is None:
                continue
            targets = {
                "subject": ob,
                "subject_data": ob.data,
                "subject_material": common.own_material(ob),  # never an artist's
            }
        else:
            targets = stage
        for target, path, index in TABLE[ch.name]:
            block = targets.get(target)
            if block is None:
                continue
            entry = curves.setdefault(id(block), (block, []))
            entry[1].append(_curve(ch, path, ch.index if index is None else index))
    kept: list[str] = []
    for block, items in curves.values():
        kept += [f"{block.name}: {k}" for k in anim.write_curves(block, _action_name(block), items)]
    # channels the keying no longer makes (a layer switched off, no textures): remove their keys
    made = {ch.name for ch in channels}
    for name, bindings in TABLE.items():
        if name in made or name.startswith(("lyric.", "pictogram.")):
            continue
        for target, path, _index in bindings:
            block = stage.get(target)
            if block is not None:
                anim.remove_channels(block, {path})
    return kept


def _curve(ch: Channel, path: str, index: int) -> anim.CurveKeys:
    return anim.CurveKeys(path, index, ch.keys, ch.interpolations())


def _hide_fade_with_screen(keys: SceneKeys, behind: tuple) -> SceneKeys:
    """The fade plane is hidden between crossfades and also while the screen steps aside."""
    channels = []
    for ch in keys.channels:
        if ch.name == "fade.hidden":
            ch = Channel(ch.name, 0, either_hidden(ch.keys, behind, keys.frame_end), CONSTANT)
        channels.append(ch)
    return dataclasses.replace(keys, channels=tuple(channels))


def check_stage_is_this_scenes(scene: bpy.types.Scene) -> None:
    """One AIMV stage per file: its objects are found by name, so building in a second scene
    would re-key (and sweep) the first scene's stage."""
    stage = common.find_collection(COLLECTION)
    if stage is None or stage.name in scene.collection.children:
        return
    owner = next((s for s in bpy.data.scenes if stage.name in s.collection.children), None)
    if owner is not None:
        raise BuildError(
            f"this file's AIMV stage belongs to scene {owner.name!r}: build there, or in a new "
            "file (one AIMV stage per .blend)"
        )


def build_scene(
    scene: bpy.types.Scene,
    timeline: Timeline,
    *,
    timeline_dir: str | os.PathLike[str],
    options: BuildOptions | None = None,
) -> BuildResult:
    """Create or update the AIMV stage in ``scene`` and key it from ``timeline``.

    timeline_dir: the timeline file's folder (textures and pictograms are relative to it).
    Raises BuildError (missing texture, empty timeline) or ValueError (bad options).
    """
    options = options or BuildOptions()
    if not timeline.windows:
        raise BuildError("the timeline has no windows")
    check_stage_is_this_scenes(scene)
    timeline_dir = Path(timeline_dir)
    frame_aspect = options.resolution[0] / options.resolution[1]
    cam = camera.build(scene)
    # the pictograms stay in, and the screen covers, the frame this camera's lens sees
    k = dataclasses.replace(options.keying, aspect=frame_aspect, lens=camera.widest_lens(cam))
    keys = build_keys(timeline, k)
    folder = Path(options.sequence_dir or (timeline_dir / SEQUENCE_FOLDER))
    try:
        source = background.background_source(timeline, timeline_dir, folder)
    except background.MissingTexture as exc:
        raise BuildError(str(exc)) from None

    render = scene.render
    render.fps, render.fps_base = keys.fps, 1.0
    render.resolution_x, render.resolution_y = options.resolution
    render.resolution_percentage = 100
    scene.frame_start, scene.frame_end = keys.frame_start, keys.frame_end

    size = cover_size(
        aspect=frame_aspect,
        distance=k.camera_distance,
        lens=k.lens,
        margin_x=3 * k.sway + 0.3,
        margin_z=1.8 * k.sway + 0.15,
    )
    uv = crop_uv(source.aspect or frame_aspect, size[0] / size[1])
    bg = background.build(scene, source, size=size, uv=uv)
    key_light, rim_light = lights.build(scene)
    flash, flash_mat = hits.build(scene, bg.screen, size, enabled="hits" in keys.layers)
    words = lyrics.build(
        scene, keys.lyrics, enabled="lyrics" in keys.layers, font_path=options.font
    )
    icons = pictograms.build(
        scene, keys.pictograms, timeline_dir=timeline_dir, enabled="pictograms" in keys.layers
    )
    if source.images is None:
        anim.remove_channels(bg.screen_material.node_tree, set(TEXTURE_PATHS))
    stage = {
        "camera": cam,
        "key_light": key_light.data,
        "rim_light": rim_light.data,
        "screen": bg.screen,
        "screen_material": bg.screen_material,
        "screen_nodes": bg.screen_material.node_tree,
        "fade_material": bg.fade_material,
        "fade_nodes": bg.fade_material.node_tree if bg.fade_material else None,
        "flash_material": flash_mat,
        "flash_nodes": flash_mat.node_tree,
    }
    try:  # generated clips play on planes behind the screen, which steps aside for them
        clip_spans = clips.place_clips(
            timeline,
            timeline_dir=timeline_dir,
            collection=common.collection(scene, background.LAYER),
            fps=keys.fps,
            frame_start=keys.frame_start,
            frame_end=keys.frame_end,
            aspect=frame_aspect,
            camera_distance=k.camera_distance,
        )
    except clips.ClipError as exc:
        raise BuildError(str(exc)) from None
    extra = []
    if clip_spans:
        shown = [(s.first, s.last) for s in clip_spans]
        behind = hidden_keys(shown, keys.frame_end)
        extra.append(Channel("background.hidden", 0, behind, CONSTANT))
        keys = _hide_fade_with_screen(keys, behind)
    stage["fade"] = bg.fade
    stage["flash"] = flash
    kept = apply_table(keys, stage, {**words, **icons}, extra=extra)
    n_markers = _markers(scene, keys)
    if scene.frame_current < scene.frame_start or scene.frame_current > scene.frame_end:
        scene.frame_current = scene.frame_start
    return BuildResult(
        frame_start=keys.frame_start,
        frame_end=keys.frame_end,
        fps=keys.fps,
        windows=len(keys.windows),
        textured=source.images is not None or bool(clip_spans),
        markers=n_markers,
        keys=keys,
        objects=len(words) + len(icons) + 6,
        kept_fcurves=tuple(kept),
        in_the_way=objects_in_the_way(scene, camera_y=-k.camera_distance, size=size),
    )


def objects_in_the_way(
    scene: bpy.types.Scene, *, camera_y: float, size: tuple[float, float]
) -> tuple[str, ...]:
    """Rendered objects not AIMV's whose bounds lie between the camera and the screen, inside
    the screen's width and height (say, the start-up file's cube): they hide the picture.

    AIMV keeps the artist's objects, so it only names them.
    """
    scene.view_layers[0].update()  # world matrices of objects added or moved since
    stage = common.find_collection(COLLECTION)
    ours = set()  # objects AIMV made (renamed or copied too); the artist's own count, even
    if stage is not None:  # inside AIMV's collections
        ours = {o.name for o in stage.all_objects if common.IDENTITY in o}
    half_w, half_h = size[0] / 2, size[1] / 2
    found = []
    for ob in scene.objects:
        if ob.name in ours or ob.hide_render or ob.type not in _SOLID or not ob.visible_get():
            continue
        corners = [ob.matrix_world @ Vector(c) for c in ob.bound_box]
        lo = [min(c[i] for c in corners) for i in range(3)]
        hi = [max(c[i] for c in corners) for i in range(3)]
        if hi[1] > camera_y and lo[1] < 0.0 and hi[0] > -half_w and lo[0] < half_w:
            if hi[2] > -half_h and lo[2] < half_h:
                found.append(ob.name)
    return tuple(sorted(found))


_SOLID = {"MESH", "CURVE", "SURFACE", "META", "FONT", "CURVES", "POINTCLOUD", "VOLUME", "GPENCIL"}
