"""The background layer: one plane that fills the whole frame with the window textures.

Textures are shown through ONE image sequence: each window's texture is linked (hard link, or
copied) into ``<timeline folder>/aimv_sequence/aimv_00001.png ...`` and the Image Texture nodes'
``image_user.frame_offset`` is keyed with constant keys, so the scene stays light for long songs
(two image nodes, one material) and the swap is an ordinary, editable F-curve. The plane is
sized to cover the camera's view with a margin for its motion, and its UVs crop the texture's
centre to the frame's aspect, so the picture never shows a backdrop or a stretched texture.

Movie backgrounds: the timeline's generated clips play on their own planes behind the screen
(``aimv_blender/clips.py``); the scene builder hides the screen over their spans
(``background.hidden``). :func:`background_source` is the one place that decides what the
screen itself shows: a :class:`BackgroundSource` may carry ``MOVIE`` images as well.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..contract import Timeline, manifest, names, paths
from ..motion import background as maths
from . import common
from .table import NODE_COLOUR, NODE_CROSSFADE, NODE_TEXTURE_A, NODE_TEXTURE_B

SEQUENCE_FOLDER = names.SEQUENCE_DIR
SEQUENCE_STEM = "aimv_"
LAYER = "AIMV Background"
SCREEN = "AIMV Screen"
FADE = "AIMV Screen Fade"
# two images over the same files: each Image holds one GPU texture (one frame) at a time, so the
# crossfade's "this window" and "next window" nodes need one each
IMAGE_NAMES = ("AIMV Textures A", "AIMV Textures B")
TEXTURE_PATHS = (
    f'nodes["{NODE_TEXTURE_A}"].image_user.frame_offset',
    f'nodes["{NODE_TEXTURE_B}"].image_user.frame_offset',
    f'nodes["{NODE_CROSSFADE}"].inputs[0].default_value',
)


class MissingTexture(RuntimeError):
    """A window's texture file is missing or of another format than the others."""


@dataclass(frozen=True)
class BackgroundSource:
    """What the background plane shows.

    images: the "current" and "next" images (None: the window colour only). Image sequences
        are keyed by ``frame_offset``; a MOVIE image may be given as well (its image user then
        plays it: ``frame_duration`` = the movie's frames, ``use_auto_refresh``).
    aspect: the images' width/height (None: unknown, the frame's aspect is assumed).
    keyed_offsets: whether ``texture.current``/``texture.next`` pick the frames (sequences).
    """

    images: tuple[bpy.types.Image, bpy.types.Image] | None
    aspect: float | None
    keyed_offsets: bool = True


def _png_aspect(path: Path) -> float | None:
    """Width/height of a PNG from its header (None for other formats)."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or len(head) < 24:
        return None
    w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return w / h if w and h else None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def stage_sequence(
    timeline: Timeline, timeline_dir: Path, folder: Path
) -> tuple[Path | None, float | None]:
    """Link each used texture as ``folder/aimv_NNNNN.ext`` (NNNNN = window index + 1).

    Returns the first file of the sequence (None without textures) and the textures'
    width/height ratio when known. Stale files of an earlier build are removed. The chunks of
    a render stage the same folder at the same time, so a wanted file is never removed: it is
    replaced atomically (or left alone when it already is the same file).
    """
    numbers = maths.texture_numbers(timeline)
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
        raise MissingTexture(str(exc)) from None
    ext = sources[used[0]].suffix.lower()
    for n, src in sources.items():
        if not src.is_file():
            raise MissingTexture(f"windows[{n}].texture: no such file {str(src)!r}")
        if src.suffix.lower() != ext:
            raise MissingTexture(
                f"windows[{n}].texture: {src.name!r} is not a {ext} file like the others"
            )
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {n: folder / f"{SEQUENCE_STEM}{n + 1:05d}{ext}" for n in used}
    keep = set(wanted.values())
    for old in folder.glob(f"{SEQUENCE_STEM}*"):
        if old not in keep:
            old.unlink(missing_ok=True)
    for n, src in sources.items():
        dst = wanted[n]  # a copy; a link only to AIMV's own
        may_link = manifest.owns(timeline_dir, src)
        if not (may_link and _same_file(src, dst)):
            paths.place_file(src, dst, may_link=may_link)
    first = wanted[used[0]]
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


def background_source(timeline: Timeline, timeline_dir: Path, folder: Path) -> BackgroundSource:
    """The window textures as one image sequence (None images without textures)."""
    first, aspect = stage_sequence(timeline, timeline_dir, folder)
    if first is None:
        return BackgroundSource(images=None, aspect=None)
    images = tuple(_sequence_image(n, first) for n in IMAGE_NAMES)
    return BackgroundSource(images=images, aspect=aspect)  # type: ignore[arg-type]


def _image_node(nt, name: str, image: bpy.types.Image, location, sequence: bool):
    tex = nt.nodes.new("ShaderNodeTexImage")
    tex.name = tex.label = name
    tex.location = location
    _show_image(tex, image, sequence)
    return tex


def _show_image(tex, image: bpy.types.Image, sequence: bool) -> None:
    tex.image = image
    user = tex.image_user
    user.frame_start = 1
    user.use_auto_refresh = True
    user.use_cyclic = False
    if sequence:
        user.frame_duration = 1  # the shown file is 1 + frame_offset, whatever the frame
    elif image.source == "MOVIE":
        user.frame_duration = max(1, image.frame_duration)


def _screen_material(source: BackgroundSource) -> bpy.types.Material:
    """Crossfading images (A = this window, B = the next) or, without images, the colour."""
    mat = common.material(SCREEN)
    nt = mat.node_tree
    textures = (NODE_TEXTURE_A, NODE_TEXTURE_B)
    if source.images is None:
        if common.has_nodes(nt, {NODE_COLOUR: "ShaderNodeRGB"}) and textures[0] not in nt.nodes:
            return mat
    elif common.has_nodes(
        nt,
        {NODE_COLOUR: "ShaderNodeRGB", NODE_CROSSFADE: "ShaderNodeMix"}
        | dict.fromkeys(textures, "ShaderNodeTexImage"),
    ):  # kept, with the keys an artist edited: only the images are set again
        for name, image in zip(textures, source.images, strict=True):
            _show_image(nt.nodes[name], image, source.keyed_offsets)
        return mat
    nt.nodes.clear()
    rgb = nt.nodes.new("ShaderNodeRGB")
    rgb.name = rgb.label = NODE_COLOUR
    rgb.location = (-500, -300)
    if source.images is None:
        common.emission_output(nt, rgb.outputs[0])
        return mat
    textures = [
        _image_node(nt, name, image, (-500, 300 - 300 * i), source.keyed_offsets)
        for i, (name, image) in enumerate(
            zip((NODE_TEXTURE_A, NODE_TEXTURE_B), source.images, strict=True)
        )
    ]
    mix = nt.nodes.new("ShaderNodeMix")
    mix.name = mix.label = NODE_CROSSFADE
    mix.data_type = "RGBA"
    mix.location = (-150, 100)
    nt.links.new(textures[0].outputs["Color"], mix.inputs[6])
    nt.links.new(textures[1].outputs["Color"], mix.inputs[7])
    common.emission_output(nt, mix.outputs[2])
    nt.nodes.active = textures[0]  # what Workbench and the viewport's texture mode show
    return mat


def _fade_material(image: bpy.types.Image, sequence: bool) -> bpy.types.Material:
    """The Workbench crossfade: the next window's texture, faded in by the material's alpha.

    Workbench shows a material's active image node whether or not it is linked, blended by
    ``diffuse_color``'s alpha; EEVEE and Cycles see only a Transparent BSDF, so there the
    screen's own Mix node does the crossfade and this plane is invisible.
    """
    mat = common.material(FADE)
    nt = mat.node_tree
    if common.has_nodes(nt, {NODE_TEXTURE_B: "ShaderNodeTexImage"}):
        _show_image(nt.nodes[NODE_TEXTURE_B], image, sequence)
    else:
        nt.nodes.clear()
        tex = _image_node(nt, NODE_TEXTURE_B, image, (-300, 100), sequence)
        clear = nt.nodes.new("ShaderNodeBsdfTransparent")
        out = nt.nodes.new("ShaderNodeOutputMaterial")
        out.location = (200, 0)
        nt.links.new(clear.outputs[0], out.inputs["Surface"])
        nt.nodes.active = tex
    mat.diffuse_color = (1.0, 1.0, 1.0, 0.0)
    common.blended(mat)
    return mat


@dataclass
class Background:
    screen: bpy.types.Object
    screen_material: bpy.types.Material
    fade: bpy.types.Object | None
    fade_material: bpy.types.Material | None
    source: BackgroundSource


def build(
    scene: bpy.types.Scene,
    source: BackgroundSource,
    *,
    size: tuple[float, float],
    uv: tuple[float, float, float, float],
) -> Background:
    """Create or update the screen (and Workbench's fade plane) for ``source``."""
    coll = common.collection(scene, LAYER)
    screen, _new = common.get_object(
        coll, SCREEN, lambda: common.plane_mesh(SCREEN, *size, uv), "MESH"
    )
    common.plane_mesh(screen.data.name, *size, uv)
    screen_mat = _screen_material(source)
    common.assign(screen, screen_mat)
    fade = fade_mat = None
    existing = bpy.data.objects.get(FADE)
    if source.images is None:
        if existing is not None:
            bpy.data.objects.remove(existing)
    else:
        fade, new = common.get_object(
            coll, FADE, lambda: common.plane_mesh(FADE, *size, uv), "MESH"
        )
        common.plane_mesh(fade.data.name, *size, uv)
        if new:
            fade.parent = screen
            fade.location = (0.0, -0.002, 0.0)  # towards the camera
        fade_mat = _fade_material(source.images[1], source.keyed_offsets)
        common.assign(fade, fade_mat)
    return Background(screen, screen_mat, fade, fade_mat, source)
