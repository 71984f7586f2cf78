"""Writing keys into F-curves, for Blender 5.0's layered actions and 4.2's legacy actions.

Keys are written in bulk (``keyframe_points.add`` + ``foreach_set``) so a long song's tens of
thousands of keys take milliseconds. Only the F-curves AIMV writes are replaced: any other
F-curve in the same action (a channel the artist keyed by hand) is left alone.
"""

from __future__ import annotations

import bpy

from .keying import Channel

_INTERPOLATION = {"CONSTANT": 0, "LINEAR": 1, "BEZIER": 2}


def _id_type(datablock: bpy.types.ID) -> str:
    """The ID type code an action slot needs ('OBJECT', 'LIGHT', 'MATERIAL', 'NODETREE')."""
    if isinstance(datablock, bpy.types.NodeTree):
        return "NODETREE"
    return datablock.id_type


def ensure_action(datablock: bpy.types.ID, name: str) -> bpy.types.Action:
    """Assign (creating if needed) the action ``name`` to ``datablock`` and return it."""
    adt = datablock.animation_data or datablock.animation_data_create()
    action = bpy.data.actions.get(name)
    if action is None:
        action = bpy.data.actions.new(name)
    action.use_fake_user = False
    if adt.action != action:
        adt.action = action
    if hasattr(action, "slots"):  # Blender 4.4+: slotted actions
        slot = adt.action_slot
        if slot is None or slot not in action.slots[:]:
            id_type = _id_type(datablock)
            slot = next((s for s in action.slots if s.target_id_type == id_type), None)
            if slot is None:
                slot = action.slots.new(id_type=id_type, name=datablock.name)
            adt.action_slot = slot
    return action


def fcurve_collection(datablock: bpy.types.ID, action: bpy.types.Action):
    """The F-curve collection of ``action`` for ``datablock`` (channelbag in 4.4+)."""
    if not hasattr(action, "slots"):
        return action.fcurves
    from bpy_extras import anim_utils

    slot = datablock.animation_data.action_slot
    ensure = getattr(anim_utils, "action_ensure_channelbag_for_slot", None)
    if ensure is not None:
        return ensure(action, slot).fcurves
    if not action.layers:
        action.layers.new("Layer").strips.new(type="KEYFRAME")
    return action.layers[0].strips[0].channelbag(slot, ensure=True).fcurves


def write_channels(
    datablock: bpy.types.ID, action_name: str, channels: list[Channel]
) -> bpy.types.Action:
    """Replace the F-curves of ``channels`` on ``datablock`` with fresh keys."""
    action = ensure_action(datablock, action_name)
    fcurves = fcurve_collection(datablock, action)
    for ch in channels:
        old = fcurves.find(ch.data_path, index=ch.index)
        if old is not None:
            fcurves.remove(old)
        fc = fcurves.new(ch.data_path, index=ch.index)
        n = len(ch.keys)
        fc.keyframe_points.add(n)
        flat = [v for key in ch.keys for v in key]
        fc.keyframe_points.foreach_set("co", flat)
        interps = [_INTERPOLATION[i] for i in ch.interpolations()]
        fc.keyframe_points.foreach_set("interpolation", interps)
        fc.update()
    return action


def remove_channels(datablock: bpy.types.ID, data_paths: set[str]) -> None:
    """Remove AIMV's F-curves of ``data_paths`` (e.g. texture keys when textures are gone)."""
    adt = datablock.animation_data
    if adt is None or adt.action is None:
        return
    fcurves = fcurve_collection(datablock, adt.action)
    for fc in [fc for fc in fcurves if fc.data_path in data_paths]:
        fcurves.remove(fc)


def find_fcurve(datablock: bpy.types.ID, data_path: str, index: int = 0):
    """The F-curve animating ``data_path[index]`` on ``datablock``, or None (tests, tools)."""
    adt = datablock.animation_data
    if adt is None or adt.action is None:
        return None
    return fcurve_collection(datablock, adt.action).find(data_path, index=index)
