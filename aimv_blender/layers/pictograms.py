"""The pictograms layer: one reusable image plane per OpenMoji pictogram (see
motion/pictograms.py). The image is the PNG the backend made, relative to the timeline's folder.
Workbench shows the image with its transparency; EEVEE and Cycles emit it. An artist's edits to
a pictogram (its keys, its material, its image) survive a rebuild."""

from __future__ import annotations

from pathlib import Path

import bpy

from ..contract import paths
from ..motion.pictograms import NAME_PREFIX, PictogramSlot
from . import common

LAYER = "AIMV Pictograms"
MADE = "aimv_pictogram"
IMAGE = "aimv_pictogram_image"  # on AIMV's image datablocks: the timeline-relative path


def _image(path: Path, relative: str, material: str) -> bpy.types.Image:
    """The one image datablock of the pictogram at ``relative``, pointed at ``path``: a work
    folder that moved (or a .blend opened elsewhere) repoints it, where loading by path made
    "heart.png.001" beside an image whose file had gone, which the material still showed.
    A scene built before images were marked has the image in its material ``material``,
    unmarked: that one is adopted (an image the artist put there has another file name)."""
    image = next((im for im in bpy.data.images if im.get(IMAGE) == relative), None)
    image = image or _unmarked_image(material, path.name)
    if image is None:
        image = bpy.data.images.load(str(path), check_existing=True)
    elif Path(bpy.path.abspath(image.filepath)).absolute() != path.absolute():
        image.filepath = str(path)
        image.reload()
    image[IMAGE] = relative
    return image


def _unmarked_image(material: str, file_name: str) -> bpy.types.Image | None:
    mat = bpy.data.materials.get(material)
    node = mat.node_tree.nodes.get("AIMV Pictogram") if mat and mat.node_tree else None
    image = getattr(node, "image", None)
    if image is None or image.get(IMAGE) or Path(image.filepath).name != file_name:
        return None
    return image


def _material(name: str, image: bpy.types.Image) -> bpy.types.Material:
    mat = common.material(name)
    nt = mat.node_tree
    if "AIMV Pictogram" not in nt.nodes:
        nt.nodes.clear()
        tex = nt.nodes.new("ShaderNodeTexImage")
        tex.name = tex.label = "AIMV Pictogram"
        tex.location = (-500, 0)
        tex.image = image
        info = nt.nodes.new("ShaderNodeObjectInfo")
        info.location = (-500, -300)
        times = nt.nodes.new("ShaderNodeMath")
        times.operation = "MULTIPLY"
        times.location = (-200, -200)
        nt.links.new(tex.outputs["Alpha"], times.inputs[0])
        if info.outputs.get("Alpha") is not None:
            nt.links.new(info.outputs["Alpha"], times.inputs[1])
        else:
            times.inputs[1].default_value = 1.0
        common.emission_output(nt, tex.outputs["Color"], alpha_socket=times.outputs[0])
        nt.nodes.active = tex
        mat.diffuse_color = (1.0, 1.0, 1.0, 1.0)
    common.blended(mat)
    return mat


def build(
    scene: bpy.types.Scene,
    slots: tuple[PictogramSlot, ...],
    *,
    timeline_dir: Path,
    enabled: bool,
) -> dict[str, bpy.types.Object]:
    """Create or update the image planes of ``slots``; remove AIMV's unused pictogram planes."""
    coll = common.collection(scene, LAYER)
    common.set_layer_visible(scene, coll, enabled)
    if not enabled:  # its objects, with the artist's edits, wait in the excluded collection
        return {}
    out: dict[str, bpy.types.Object] = {}
    for slot in slots:
        try:  # the path rule: a timeline's paths stay inside its folder (docs/security.md)
            path = paths.resolve_inside(timeline_dir, slot.path, what=f"pictogram {slot.word!r}")
        except paths.UnsafePathError:
            continue  # the reader refuses such a timeline; never load a file from outside
        if not path.is_file():
            continue  # a missing pictogram is left out, never replaced by another
        image = _image(path, slot.path, slot.name)
        image.alpha_mode = "STRAIGHT"
        ob, new = common.get_object(
            coll, slot.name, lambda slot=slot: common.plane_mesh(slot.name, 1.0, 1.0), "MESH"
        )
        ob[MADE] = slot.path
        common.assign_unless_replaced(ob, _material(slot.name, image))
        out[slot.name] = ob
    stale = [
        o.name
        for o in coll.objects
        if o.name.startswith(NAME_PREFIX) and common.is_leftover(o, out, legacy_mark=MADE)
    ]
    common.remove_objects(stale)
    return out
