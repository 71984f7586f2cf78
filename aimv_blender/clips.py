"""The generated clips (timeline ``clips``) as movie textures on the background layer.

Each clip gets a plane "AIMV Clip NNN" behind the screen, sized to fill the camera's frame,
with an emission material whose Image Texture plays the MP4 from the clip's first frame,
trimmed or looped to its span (clip_keys), and keyed hidden outside that span. Only one
clip plane renders at any frame. AIMV owns these objects, materials and images: a rebuild
removes them and makes them again; everything else in the scene is left alone.
"""

from __future__ import annotations

from pathlib import Path

import bpy

from . import anim
from .clip_keys import LAYER_DEPTH, clip_spans, layer_size, visibility_channel
from .contract import Timeline, paths
from .layers.table import TABLE

PREFIX = "AIMV Clip "
MESH = "AIMV Clip Layer"


class ClipError(ValueError):
    """A clip of the timeline cannot be placed (missing or unreadable movie). One line."""


def _remove_old() -> None:
    for ob in [ob for ob in bpy.data.objects if ob.name.startswith(PREFIX)]:
        bpy.data.objects.remove(ob, do_unlink=True)
    for coll in (bpy.data.materials, bpy.data.images, bpy.data.actions):
        for block in [b for b in coll if b.name.startswith(PREFIX) and b.users == 0]:
            coll.remove(block)
    mesh = bpy.data.meshes.get(MESH)
    if mesh is not None and mesh.users == 0:
        bpy.data.meshes.remove(mesh)


def _layer_mesh(width: float, height: float) -> bpy.types.Mesh:
    """A vertical plane facing -Y with a 0..1 UV map, shared by every clip object."""
    w, h = width / 2, height / 2
    mesh = bpy.data.meshes.new(MESH)
    mesh.from_pydata([(-w, 0.0, -h), (w, 0.0, -h), (w, 0.0, h), (-w, 0.0, h)], [], [(0, 1, 2, 3)])
    mesh.uv_layers.new(name="UVMap")
    mesh.uv_layers[0].data.foreach_set("uv", [0, 0, 1, 0, 1, 1, 0, 1])
    mesh.materials.append(None)  # one slot; each clip object links its own material
    mesh.update()
    return mesh


def _inside(timeline_dir, relative: str, i: int) -> Path:
    """The path rule (docs/security.md): a clip stays inside the timeline's folder."""
    try:
        return paths.resolve_inside(timeline_dir, relative, what=f"clips[{i}].path")
    except paths.UnsafePathError as exc:
        raise ClipError(str(exc)) from None


def _movie(name: str, path: Path) -> bpy.types.Image:
    if not path.is_file():
        raise ClipError(f"clip {str(path)!r}: no such file")
    try:
        image = bpy.data.images.load(str(path), check_existing=False)
    except RuntimeError as exc:
        raise ClipError(f"clip {str(path)!r} cannot be read: {exc}") from None
    image.name = name
    if image.source != "MOVIE" or image.frame_duration < 1:
        raise ClipError(f"clip {str(path)!r} is not a movie Blender can play")
    return image


def _material(name: str, image: bpy.types.Image, span) -> bpy.types.Material:
    mat = bpy.data.materials.new(name)
    if hasattr(mat, "use_nodes") and not mat.use_nodes:
        mat.use_nodes = True  # needed before 5.0, where node trees are always on
    nt = mat.node_tree
    nt.nodes.clear()
    tex = nt.nodes.new("ShaderNodeTexImage")
    tex.name = tex.label = "AIMV Clip"
    tex.image = image
    user = tex.image_user
    user.frame_start = span.first  # movie frame 1 shows at the clip's first scene frame
    user.frame_duration = span.duration  # trimmed to the span, or the whole movie looped
    user.frame_offset = 0
    user.use_cyclic = span.cyclic
    user.use_auto_refresh = True
    emit = nt.nodes.new("ShaderNodeEmission")  # the video as it is, whatever the lights do
    emit.location = (300, 0)
    out = nt.nodes.new("ShaderNodeOutputMaterial")
    out.location = (500, 0)
    nt.links.new(tex.outputs["Color"], emit.inputs["Color"])
    nt.links.new(emit.outputs[0], out.inputs["Surface"])
    nt.nodes.active = tex  # what Workbench's texture colour mode shows
    return mat


def place_clips(
    timeline: Timeline,
    *,
    timeline_dir: Path,
    collection: bpy.types.Collection,
    fps: int,
    frame_start: int,
    frame_end: int,
    camera_distance: float,
    aspect: float,
) -> list:
    """Make one background plane per clip of ``timeline``; return the ClipSpans that play
    (the scene builder hides the full-frame screen over them).

    timeline_dir: the folder clip paths are relative to. camera_distance: metres from the
    camera to the screen at rest (the layer sits LAYER_DEPTH metres behind the screen).
    aspect: the render's width / height. Raises ClipError for a missing or unreadable movie.
    """
    _remove_old()
    if not timeline.clips:
        return []
    images = [
        _movie(f"{PREFIX}{i + 1:03d}", _inside(timeline_dir, clip.path, i))
        for i, clip in enumerate(timeline.clips)
    ]
    spans = clip_spans(
        timeline.clips,
        fps=fps,
        frame_end=frame_end,
        movie_frames=[img.frame_duration for img in images],
    )
    mesh = _layer_mesh(*layer_size(distance=camera_distance + LAYER_DEPTH, aspect=aspect))
    for span in spans:
        name = f"{PREFIX}{span.index + 1:03d}"
        ob = bpy.data.objects.new(name, mesh)
        collection.objects.link(ob)
        ob.location = (0.0, LAYER_DEPTH, 0.0)
        mat = _material(name, images[span.index], span)
        ob.material_slots[0].link = "OBJECT"  # one shared mesh, a material per object
        ob.material_slots[0].material = mat
        hidden = visibility_channel(span, frame_start=frame_start, frame_end=frame_end)
        anim.write_curves(
            ob,
            name,
            [
                anim.CurveKeys(path, index, hidden.keys, hidden.interpolations())
                for _target, path, index in TABLE[hidden.name]
            ],
        )
    for image in images:  # a clip cut away entirely by the next one: its movie is unused
        if image.users == 0:
            bpy.data.images.remove(image)
    return spans
