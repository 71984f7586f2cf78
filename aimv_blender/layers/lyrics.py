"""The lyrics layer: one reusable 3D text object per distinct word (see motion/lyrics.py).

Each text object has its own material: Workbench shows the material's keyed colour and alpha;
EEVEE and Cycles read the object's keyed colour through an Object Info node. What AIMV sets
on every build: the keys (see table.py) and, while the artist has not changed them, the text's
body and font. An artist's edit to a lyric object survives a rebuild: its body (AIMV remembers
the body it set in ``aimv_body``), font (``aimv_font``: also when the panel names a font),
rotation, material, modifiers and any F-curve they edited.
"""

from __future__ import annotations

import math
from pathlib import Path

import bpy

from ..motion.lyrics import NAME_PREFIX, PLATE, LyricSlot
from . import common

LAYER = "AIMV Lyrics"
BODY = "aimv_body"
FONT = "aimv_font"  # the font AIMV last set on a word: another one there is the artist's


def font(path: Path | None) -> bpy.types.VectorFont | None:
    """The font at ``path`` (loaded once), or None for Blender's built-in font."""
    if path is None:
        return None
    return bpy.data.fonts.load(str(path), check_existing=True)


def _material(name: str) -> bpy.types.Material:
    mat = common.material(name)
    nt = mat.node_tree
    if "AIMV Object Colour" not in nt.nodes:
        nt.nodes.clear()
        info = nt.nodes.new("ShaderNodeObjectInfo")
        info.name = info.label = "AIMV Object Colour"
        info.location = (-300, 0)
        # Object Info's Alpha (the keyed object colour's alpha) fades in EEVEE and Cycles
        alpha = info.outputs.get("Alpha")
        common.emission_output(nt, info.outputs["Color"], alpha_socket=alpha)
    common.blended(mat)
    return mat


def build(
    scene: bpy.types.Scene,
    slots: tuple[LyricSlot, ...],
    *,
    enabled: bool,
    font_path: Path | None = None,
) -> dict[str, bpy.types.Object]:
    """Create or update the text objects of ``slots``; remove AIMV's unused lyric objects."""
    coll = common.collection(scene, LAYER)
    common.set_layer_visible(scene, coll, enabled)
    if not enabled:  # its objects, with the artist's edits, wait in the excluded collection
        return {}
    chosen = font(font_path)
    out: dict[str, bpy.types.Object] = {}
    for slot in slots:

        def make(slot=slot):
            curve = bpy.data.curves.new(slot.name, "FONT")
            curve.align_x = "CENTER"
            curve.align_y = "CENTER"
            return curve

        ob, new = common.get_object(coll, slot.name, make, "FONT")
        curve = ob.data
        if new:
            ob.rotation_euler = (math.radians(90), 0.0, 0.0)
            curve.resolution_u = 3  # a light mesh: 600 words stay fast in every engine
        aimv_body = ob.get(BODY)
        if new or aimv_body is None or curve.body == aimv_body:
            curve.body = slot.text  # an artist's correction of the text is kept
            ob[BODY] = slot.text
        current = curve.font.name if curve.font is not None else ""
        if chosen is not None and (new or current == ob.get(FONT, current)):
            curve.font = chosen  # unless the artist gave this word a font of its own
            ob[FONT] = chosen.name
        common.assign_unless_replaced(ob, _material(slot.name))
        out[slot.name] = ob
    if slots:
        plate, _new = common.get_object(
            coll, PLATE, lambda: common.plane_mesh(PLATE, 1.0, 1.0), "MESH"
        )
        common.assign_unless_replaced(plate, _material(PLATE))
        out[PLATE] = plate
    stale = [
        o.name
        for o in coll.objects
        if o.name.startswith(NAME_PREFIX)
        and (common.is_leftover(o, out, legacy_mark=BODY) or (o.name == PLATE and not slots))
    ]
    common.remove_objects(stale)
    return out
