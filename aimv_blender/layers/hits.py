"""The hits layer's flash: a plane over the background (parented to it, 4 mm in front, its
size) whose alpha jumps on snares, claps, crashes and hi-hats and whose colour is a pale tint
of the window's. The lyrics and pictograms stay in front of it, so a flash never hides a word.
Workbench shows it through the material's alpha, EEVEE and Cycles through its node tree. The
camera punch and the background pulse are keys on those objects (see table.py).

Why not in front of the lens: Workbench blends transparent surfaces order-independently,
weighting near ones far more, so a flash plane near the camera washed out the background's
crossfade plane behind it; at the background's depth the two blend as they should."""

from __future__ import annotations

import bpy

from . import common
from .table import NODE_AMOUNT, NODE_COLOUR

FLASH = "AIMV Flash"
LAYER = "AIMV Hits"


def _flash_material() -> bpy.types.Material:
    mat = common.material(FLASH)
    nt = mat.node_tree
    if common.has_nodes(nt, {NODE_COLOUR: "ShaderNodeRGB", NODE_AMOUNT: "ShaderNodeValue"}):
        return mat  # kept, with any keys the artist edited
    nt.nodes.clear()
    rgb = nt.nodes.new("ShaderNodeRGB")
    rgb.name = rgb.label = NODE_COLOUR
    rgb.location = (-300, 0)
    amount = nt.nodes.new("ShaderNodeValue")
    amount.name = amount.label = NODE_AMOUNT
    amount.location = (-300, 200)
    common.emission_output(nt, rgb.outputs[0], alpha_socket=amount.outputs[0])
    mat.diffuse_color = (1.0, 1.0, 1.0, 0.0)
    common.blended(mat)
    return mat


def build(
    scene: bpy.types.Scene,
    screen: bpy.types.Object,
    size: tuple[float, float],
    enabled: bool,
) -> tuple[bpy.types.Object, bpy.types.Material]:
    coll = common.collection(scene, LAYER)
    flash, new = common.get_object(coll, FLASH, lambda: common.plane_mesh(FLASH, *size), "MESH")
    common.plane_mesh(flash.data.name, *size)
    if new:
        flash.parent = screen
        flash.location = (0.0, -0.004, 0.0)  # towards the camera, in front of the fade plane
    mat = _flash_material()
    common.assign(flash, mat)
    common.set_layer_visible(scene, coll, enabled)
    return flash, mat
