"""Build (or rebuild) the AIMV stage in a scene from a timeline: objects, materials, keys.

What AIMV owns, and therefore replaces on every build: the collection "AIMV" and the objects it
creates there (screen, backdrop, two lights, camera; re-used by name when they exist), the
materials "AIMV Screen"/"AIMV Backdrop" (node trees rebuilt), the images "AIMV Textures A/B", the
F-curves it writes in the actions named "AIMV ..." and the timeline markers named "AIMV ...".
Everything else survives: the artist's own objects and their keys, objects the artist moved into
the AIMV collection, and F-curves of properties AIMV does not key, even on AIMV's own objects.

Textures are shown through ONE image sequence: each window's texture is linked (hard link, or
copied) into ``<timeline folder>/aimv_sequence/aimv_00001.png ...`` and the Image Texture
nodes' ``image_user.frame_offset`` is keyed with constant keys, so the scene stays light for long
songs (two image nodes, one material) and the swap is an ordinary, editable F-curve.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import bpy

from . import anim, clips
from .contract import Timeline, manifest, paths
from .keying import MARKER_PREFIX, KeyingOptions, SceneKeys, build_keys, texture_numbers

COLLECTION = "AIMV"
SEQUENCE_FOLDER = "aimv_sequence"
SEQUENCE_STEM = "aimv_"
NAMES = {
    "screen": "AIMV Screen",
    "backdrop": "AIMV Backdrop",
    "key_light": "AIMV Key Light",
    "rim_light": "AIMV Rim Light",
    "camera": "AIMV Camera",
    "fade": "AIMV Screen Fade",
}
# two images over the same files: each Image holds one GPU texture (one frame) at a time, so the
# crossfade's "this window" and "next window" nodes need one each
IMAGE_NAMES = ("AIMV Textures A", "AIMV Textures B")
SCREEN_HEIGHT = 2.4  # metres
TEXTURE_PATHS = (
    'nodes["AIMV Texture A"].image_user.frame_offset',
    'nodes["AIMV Texture B"].image_user.frame_offset',
    'nodes["AIMV Crossfade"].inputs[0].default_value',
)


class BuildError(RuntimeError):
    """The scene cannot be built (missing texture file, empty timeline). One-line message."""


@dataclass(frozen=True)
class BuildOptions:
    """keying: the maths options (fps, crossfade, seed, ...).
    resolution: output size in pixels, sets the scene's render size (the camera's aspect).
    sequence_dir: where the texture sequence is staged (default: beside the timeline).
    """

    keying: KeyingOptions = field(default_factory=KeyingOptions)
    resolution: tuple[int, int] = (1280, 720)
    sequence_dir: Path | None = None


@dataclass(frozen=True)
class BuildResult:
    frame_start: int
    frame_end: int
    fps: int
    windows: int
    textured: bool
    markers: int
    keys: SceneKeys


# --------------------------------------------------------------------------------------------
# Objects


def _collection(scene: bpy.types.Scene) -> bpy.types.Collection:
    coll = bpy.data.collections.get(COLLECTION)
    if coll is None:
        coll = bpy.data.collections.new(COLLECTION)
    if coll.name not in scene.collection.children:
        scene.collection.children.link(coll)
    return coll


def _object(coll, name: str, make_data, kind: str) -> tuple[bpy.types.Object, bool]:
    """The object ``name`` (created when missing, linked into ``coll``) and whether it is new."""
    ob = bpy.data.objects.get(name)
    created = ob is None or ob.type != kind
    if created:
        ob = bpy.data.objects.new(name, make_data())
    if ob.name not in coll.objects:
        coll.objects.link(ob)
    return ob, created


def _plane_mesh(name: str, width: float, height: float) -> bpy.types.Mesh:
    """A vertical plane facing -Y (towards the camera) with a 0..1 UV map."""
    w, h = width / 2, height / 2
    verts = [(-w, 0.0, -h), (w, 0.0, -h), (w, 0.0, h), (-w, 0.0, h)]
    mesh = bpy.data.meshes.get(name)
    if mesh is None or len(mesh.vertices) != 4:
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(verts, [], [(0, 1, 2, 3)])
        mesh.uv_layers.new(name="UVMap")
        mesh.uv_layers[0].data.foreach_set("uv", [0, 0, 1, 0, 1, 1, 0, 1])
    else:
        mesh.vertices.foreach_set("co", [c for v in verts for c in v])
    mesh.update()
    return mesh


def _light(name: str, kind: str) -> bpy.types.Light:
    light = bpy.data.lights.get(name)
    if light is None or light.type != kind:
        light = bpy.data.lights.new(name, kind)
    return light


def _camera_data(name: str) -> bpy.types.Camera:
    cam = bpy.data.cameras.get(name) or bpy.data.cameras.new(name)
    cam.lens = 50.0
    cam.sensor_fit = "AUTO"
    return cam


# --------------------------------------------------------------------------------------------
# Materials


def _material(name: str) -> bpy.types.Material:
    mat = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    if hasattr(mat, "use_nodes") and not mat.use_nodes:
        mat.use_nodes = True  # needed before 5.0, where node trees are always on
    return mat


def _principled(nt, colour_socket, emission: float):
    bsdf = nt.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.location = (200, 0)
    nt.links.new(colour_socket, bsdf.inputs["Base Color"])
    emit = bsdf.inputs.get("Emission Color") or bsdf.inputs.get("Emission")
    nt.links.new(colour_socket, emit)
    bsdf.inputs["Emission Strength"].default_value = emission
    bsdf.inputs["Roughness"].default_value = 0.6
    out = nt.nodes.new("ShaderNodeOutputMaterial")
    out.location = (500, 0)
    nt.links.new(bsdf.outputs[0], out.inputs["Surface"])
    return bsdf


def _screen_material(images: list[bpy.types.Image] | None) -> bpy.types.Material:
    """Crossfading textures (A = this window, B = the next) or, without textures, the colour."""
    mat = _material(NAMES["screen"])
    nt = mat.node_tree
    nt.nodes.clear()
    rgb = nt.nodes.new("ShaderNodeRGB")
    rgb.name = rgb.label = "AIMV Colour"
    rgb.location = (-500, -300)
    if not images:
        _principled(nt, rgb.outputs[0], emission=0.6)
        return mat
    textures = [
        _image_node(nt, label, image, (-500, 300 - 300 * i))
        for i, (label, image) in enumerate(zip(("A", "B"), images, strict=True))
    ]
    mix = nt.nodes.new("ShaderNodeMix")
    mix.name = mix.label = "AIMV Crossfade"
    mix.data_type = "RGBA"
    mix.location = (-150, 100)
    nt.links.new(textures[0].outputs["Color"], mix.inputs[6])
    nt.links.new(textures[1].outputs["Color"], mix.inputs[7])
    _principled(nt, mix.outputs[2], emission=0.6)
    nt.nodes.active = textures[0]  # what Workbench and the viewport's texture mode show
    return mat


def _image_node(nt, label: str, image: bpy.types.Image, location: tuple[float, float]):
    tex = nt.nodes.new("ShaderNodeTexImage")
    tex.name = tex.label = f"AIMV Texture {label}"
    tex.location = location
    tex.image = image
    user = tex.image_user
    user.frame_start = 1
    user.frame_duration = 1  # the shown file is 1 + frame_offset, whatever the frame
    user.use_auto_refresh = True
    user.use_cyclic = False
    return tex


def _fade_material(image: bpy.types.Image) -> bpy.types.Material:
    """The Workbench crossfade: the next window's texture, faded in by the material's alpha.

    Workbench shows a material's active image node whether or not it is linked, blended by
    ``diffuse_color``'s alpha; EEVEE and Cycles see only a Transparent BSDF, so there the
    screen's own Mix node does the crossfade and this plane is invisible.
    """
    mat = _material(NAMES["fade"])
    nt = mat.node_tree
    nt.nodes.clear()
    tex = _image_node(nt, "B", image, (-300, 100))
    clear = nt.nodes.new("ShaderNodeBsdfTransparent")
    out = nt.nodes.new("ShaderNodeOutputMaterial")
    out.location = (200, 0)
    nt.links.new(clear.outputs[0], out.inputs["Surface"])
    nt.nodes.active = tex
    mat.diffuse_color = (1.0, 1.0, 1.0, 0.0)
    if hasattr(mat, "surface_render_method"):  # 4.2+
        mat.surface_render_method = "BLENDED"
    if hasattr(mat, "blend_method"):
        mat.blend_method = "BLEND"
    return mat


def _fade_screen(coll, screen: bpy.types.Object, image: bpy.types.Image | None, size):
    """The fade plane (its own mesh, the screen's size), parented to the screen just in front
    of it so it follows the artist's moves of the screen; removed when there are no textures."""
    existing = bpy.data.objects.get(NAMES["fade"])
    if image is None:
        if existing is not None:
            bpy.data.objects.remove(existing)
        return None
    fade, new = _object(coll, NAMES["fade"], lambda: _plane_mesh(NAMES["fade"], *size), "MESH")
    _plane_mesh(fade.data.name, *size)
    if new:
        fade.parent = screen
        fade.location = (0.0, -0.002, 0.0)  # towards the camera
    mat = _fade_material(image)
    _assign(fade, mat)
    return fade, mat


def _backdrop_material() -> bpy.types.Material:
    mat = _material(NAMES["backdrop"])
    nt = mat.node_tree
    nt.nodes.clear()
    rgb = nt.nodes.new("ShaderNodeRGB")
    rgb.name = rgb.label = "AIMV Colour"
    rgb.location = (-300, 0)
    _principled(nt, rgb.outputs[0], emission=0.25)
    return mat


def _assign(ob: bpy.types.Object, mat: bpy.types.Material) -> None:
    if len(ob.data.materials) == 0:
        ob.data.materials.append(mat)
    else:
        ob.data.materials[0] = mat


# --------------------------------------------------------------------------------------------
# Texture sequence


def _png_aspect(path: Path) -> float | None:
    """Width/height of a PNG from its header (None for other formats)."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or len(head) < 24:
        return None
    w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return w / h if w and h else None


def stage_sequence(
    timeline: Timeline, timeline_dir: Path, folder: Path
) -> tuple[Path | None, float | None]:
    """Link each used texture as ``folder/aimv_NNNNN.ext`` (NNNNN = window index + 1).

    Returns the first file of the sequence (None without textures) and the textures'
    width/height ratio when known. Stale files of an earlier build are removed first.
    """
    numbers = texture_numbers(timeline)
    if numbers[0] is None:
        return None, None
    used = sorted({n for n in numbers if n is not None})
    try:  # the path rule: a timeline's paths stay inside its folder (docs/security.md)
        sources = {
            n: paths.resolve_inside(
                timeline_dir, timeline.windows[n].texture, what=f"windows[{n}].texture"
            )
            for n in used
        }
    except paths.UnsafePathError as exc:
        raise BuildError(str(exc)) from None
    ext = sources[used[0]].suffix.lower()
    for n, src in sources.items():
        if not src.is_file():
            raise BuildError(f"windows[{n}].texture: no such file {str(src)!r}")
        if src.suffix.lower() != ext:
            raise BuildError(
                f"windows[{n}].texture: {src.name!r} is not a {ext} file like the others"
            )
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{SEQUENCE_STEM}*"):
        old.unlink()
    for n, src in sources.items():
        dst = folder / f"{SEQUENCE_STEM}{n + 1:05d}{ext}"  # a copy; a link only to AIMV's own
        paths.place_file(src, dst, may_link=manifest.owns(timeline_dir, src))
    first = folder / f"{SEQUENCE_STEM}{used[0] + 1:05d}{ext}"
    return first, _png_aspect(first)


def _sequence_image(name: str, first: Path) -> bpy.types.Image:
    image = bpy.data.images.get(name)
    if image is None:
        image = bpy.data.images.load(str(first), check_existing=False)
        image.name = name
    else:
        image.filepath = str(first)
    image.source = "SEQUENCE"
    image.reload()
    return image


# --------------------------------------------------------------------------------------------
# The build


def _markers(scene: bpy.types.Scene, keys: SceneKeys) -> int:
    for m in [m for m in scene.timeline_markers if m.name.startswith(MARKER_PREFIX)]:
        scene.timeline_markers.remove(m)
    for m in keys.markers:
        scene.timeline_markers.new(m.name, frame=m.frame)
    return len(keys.markers)


def build_scene(
    scene: bpy.types.Scene,
    timeline: Timeline,
    *,
    timeline_dir: str | os.PathLike[str],
    options: BuildOptions | None = None,
) -> BuildResult:
    """Create or update the AIMV stage in ``scene`` and key it from ``timeline``.

    timeline_dir: the timeline file's folder (window textures are relative to it).
    Raises BuildError (missing texture) or ValueError (bad options).
    """
    options = options or BuildOptions()
    if not timeline.windows:
        raise BuildError("the timeline has no windows")
    timeline_dir = Path(timeline_dir)
    keys = build_keys(timeline, options.keying)
    folder = options.sequence_dir or (timeline_dir / SEQUENCE_FOLDER)
    first, aspect = stage_sequence(timeline, timeline_dir, Path(folder))
    images = [_sequence_image(n, first) for n in IMAGE_NAMES] if first is not None else None
    if aspect is None:
        aspect = options.resolution[0] / options.resolution[1]

    render = scene.render
    render.fps, render.fps_base = keys.fps, 1.0
    render.resolution_x, render.resolution_y = options.resolution
    render.resolution_percentage = 100
    scene.frame_start, scene.frame_end = keys.frame_start, keys.frame_end

    coll = _collection(scene)
    screen, _new = _object(
        coll,
        NAMES["screen"],
        lambda: _plane_mesh(NAMES["screen"], SCREEN_HEIGHT * aspect, SCREEN_HEIGHT),
        "MESH",
    )
    _plane_mesh(screen.data.name, SCREEN_HEIGHT * aspect, SCREEN_HEIGHT)  # the textures' aspect
    # placement is set only when AIMV creates an object: where the artist moved it stays
    backdrop, new = _object(
        coll, NAMES["backdrop"], lambda: _plane_mesh(NAMES["backdrop"], 40, 24), "MESH"
    )
    if new:
        backdrop.location = (0.0, 1.5, 0.0)
    key_light, new = _object(
        coll, NAMES["key_light"], lambda: _light(NAMES["key_light"], "AREA"), "LIGHT"
    )
    if new:
        key_light.location = (2.0, -4.0, 2.5)
        key_light.rotation_euler = (math.radians(60), 0.0, math.radians(25))
        key_light.data.size = 3.0
    rim_light, new = _object(
        coll, NAMES["rim_light"], lambda: _light(NAMES["rim_light"], "POINT"), "LIGHT"
    )
    if new:
        rim_light.location = (-3.0, -1.0, 3.0)
    camera, new = _object(coll, NAMES["camera"], lambda: _camera_data(NAMES["camera"]), "CAMERA")
    if new:
        camera.rotation_euler = (math.radians(90), 0.0, 0.0)
    scene.camera = camera

    screen_mat = _screen_material(images)
    backdrop_mat = _backdrop_material()
    _assign(screen, screen_mat)
    _assign(backdrop, backdrop_mat)
    if images is None:
        anim.remove_channels(screen_mat.node_tree, set(TEXTURE_PATHS))

    fade = _fade_screen(
        coll, screen, images[1] if images else None, (SCREEN_HEIGHT * aspect, SCREEN_HEIGHT)
    )
    targets = {
        "camera": (camera, "AIMV Camera"),
        "key_light": (key_light.data, "AIMV Key Light"),
        "rim_light": (rim_light.data, "AIMV Rim Light"),
        "screen_material": (screen_mat, "AIMV Screen Material"),
        "backdrop_material": (backdrop_mat, "AIMV Backdrop Material"),
        "screen_nodes": (screen_mat.node_tree, "AIMV Screen Nodes"),
        "backdrop_nodes": (backdrop_mat.node_tree, "AIMV Backdrop Nodes"),
    }
    if fade is not None:
        targets["fade_material"] = (fade[1], "AIMV Screen Fade Material")
        targets["fade_nodes"] = (fade[1].node_tree, "AIMV Screen Fade Nodes")
    by_target: dict[str, list] = {}
    for ch in keys.channels:
        by_target.setdefault(ch.target, []).append(ch)
    for target, channels in by_target.items():
        datablock, action_name = targets[target]
        anim.write_channels(datablock, action_name, channels)

    n_markers = _markers(scene, keys)
    n_clips = clips.place_clips(
        timeline,
        timeline_dir=timeline_dir,
        collection=coll,
        fps=keys.fps,
        frame_start=keys.frame_start,
        frame_end=keys.frame_end,
        aspect=options.resolution[0] / options.resolution[1],
        camera_distance=options.keying.camera_distance,
    )
    if scene.frame_current < scene.frame_start or scene.frame_current > scene.frame_end:
        scene.frame_current = scene.frame_start
    return BuildResult(
        frame_start=keys.frame_start,
        frame_end=keys.frame_end,
        fps=keys.fps,
        windows=len(keys.windows),
        textured=images is not None or n_clips > 0,
        markers=n_markers,
        keys=keys,
    )
