"""The hits layer's flash: a plane just in front of the camera (parented to it) whose alpha
jumps on snares, claps, crashes and hi-hats and whose colour is a pale tint of the window's.
Workbench shows it through the material's alpha, EEVEE and Cycles through its node tree. The
camera punch and the background pulse are keys on those objects (see table.py)."""

from __future__ import annotations

import bpy

from . import common
from .table import NODE_AMOUNT, NODE_COLOUR

FLASH = "AIMV Flash"
LAYER = "AIMV Hits"


def _flash_material() -> bpy.types.Material:
    mat = common.material(FLASH)
    nt = mat.node_tree
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
    scene: bpy.types.Scene, camera: bpy.types.Object, enabled: bool
) -> tuple[bpy.types.Object, bpy.types.Material]:
    coll = common.collection(scene, LAYER)
    flash, new = common.get_object(coll, FLASH, lambda: common.plane_mesh(FLASH, 1.0, 1.0), "MESH")
    if new:
        flash.parent = camera
        # 0.3 m in front of the lens, facing it: 1 m covers the view of any lens over 11 mm
        flash.location = (0.0, 0.0, -0.3)
        flash.rotation_euler = (1.5707963, 0.0, 0.0)
    mat = _flash_material()
    common.assign(flash, mat)
    common.set_layer_visible(scene, coll, enabled)
    return flash, mat
