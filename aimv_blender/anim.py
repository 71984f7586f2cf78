"""Writing keys into F-curves, for Blender 5.0's layered actions and 4.2's legacy actions.

Keys are written in bulk (``keyframe_points.add`` + ``foreach_set``) so a long song's tens of
thousands of keys take milliseconds. Only the F-curves AIMV writes are replaced: any other
F-curve in the same action (a channel the artist keyed by hand) is left alone. AIMV remembers a
fingerprint of every F-curve it wrote (in the action's ``aimv_written`` property): an F-curve
whose keys the artist has since edited no longer matches it and is kept as the artist left it.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import bpy

_INTERPOLATION = {"CONSTANT": 0, "LINEAR": 1, "BEZIER": 2}
WRITTEN = "aimv_written"


@dataclass(frozen=True)
class CurveKeys:
    """The keys of one F-curve: (frame, value) pairs and one interpolation name per key."""

    data_path: str
    index: int
    keys: tuple[tuple[float, float], ...]
    interpolations: tuple[str, ...]


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


def _fingerprint(fc) -> str:
    """What an artist may change on an F-curve AIMV wrote: its keys (frame, value, interpolation,
    handles, easing) and the curve's mute, modifiers and extrapolation ("2:" + 16 hex digits)."""
    n = len(fc.keyframe_points)
    floats = []
    for prop in ("co", "handle_left", "handle_right"):
        values = [0.0] * (2 * n)
        fc.keyframe_points.foreach_get(prop, values)
        floats += values
    ints = [0] * n
    fc.keyframe_points.foreach_get("interpolation", ints)
    raw = struct.pack(f"{len(floats)}f{n}i", *floats, *ints)
    raw += repr(
        (
            fc.mute,
            fc.extrapolation,
            [k.easing for k in fc.keyframe_points],
            [m.type for m in fc.modifiers],
        )
    ).encode()
    return "2:" + hashlib.sha1(raw).hexdigest()[:16]


def _fingerprint_v1(fc) -> str:
    """The fingerprint files saved before AIMV 0.1's F-curve edits counted handles and mutes:
    keys and interpolation only (an unprefixed 16 hex digits)."""
    n = len(fc.keyframe_points)
    co = [0.0] * (2 * n)
    fc.keyframe_points.foreach_get("co", co)
    interp = [0] * n
    fc.keyframe_points.foreach_get("interpolation", interp)
    raw = struct.pack(f"{2 * n}f{n}i", *co, *interp) if n else b""
    return hashlib.sha1(raw).hexdigest()[:16]


def edited(fc, fingerprint: str) -> bool:
    """Whether an F-curve AIMV wrote with ``fingerprint`` has since been changed by hand."""
    if fingerprint.startswith("2:"):
        return fingerprint != _fingerprint(fc)
    return fingerprint != _fingerprint_v1(fc)


def _key(data_path: str, index: int) -> str:
    return f"{data_path}[{index}]"


def write_curves(datablock: bpy.types.ID, action_name: str, curves: list[CurveKeys]) -> list[str]:
    """Replace AIMV's F-curves of ``curves`` on ``datablock`` with fresh keys.

    A property is kept whole: when the artist edited one of its F-curves (the red of a light's
    colour), its other channels (green, blue) keep their keys too, so the three never run on
    two timings after a rebuild at another fps or for another song.
    Returns the F-curves kept because the artist edited them ("data_path[index]").
    """
    action = ensure_action(datablock, action_name)
    fcurves = fcurve_collection(datablock, action)
    written = dict(action.get(WRITTEN, {}))
    olds = {(ch.data_path, ch.index): fcurves.find(ch.data_path, index=ch.index) for ch in curves}
    edited_paths = {
        path
        for (path, index), old in olds.items()
        if old is not None
        and _key(path, index) in written
        and edited(old, written[_key(path, index)])
    }
    kept = []
    for ch in curves:
        key = _key(ch.data_path, ch.index)
        old = olds[(ch.data_path, ch.index)]
        if ch.data_path in edited_paths and old is not None:
            kept.append(key)
            continue
        if old is not None:
            fcurves.remove(old)
        fc = fcurves.new(ch.data_path, index=ch.index)
        n = len(ch.keys)
        fc.keyframe_points.add(n)
        flat = [v for k in ch.keys for v in k]
        fc.keyframe_points.foreach_set("co", flat)
        fc.keyframe_points.foreach_set(
            "interpolation", [_INTERPOLATION[i] for i in ch.interpolations]
        )
        fc.update()
        written[key] = _fingerprint(fc)
    action[WRITTEN] = written
    return kept


def remove_channels(datablock: bpy.types.ID, data_paths: set[str]) -> None:
    """Remove AIMV's F-curves of ``data_paths`` (e.g. texture keys when textures are gone)."""
    adt = datablock.animation_data
    if adt is None or adt.action is None:
        return
    fcurves = fcurve_collection(datablock, adt.action)
    written = dict(adt.action.get(WRITTEN, {}))
    for fc in [fc for fc in fcurves if fc.data_path in data_paths]:
        written.pop(_key(fc.data_path, fc.array_index), None)
        fcurves.remove(fc)
    adt.action[WRITTEN] = written


def find_fcurve(datablock: bpy.types.ID, data_path: str, index: int = 0):
    """The F-curve animating ``data_path[index]`` on ``datablock``, or None (tests, tools)."""
    adt = datablock.animation_data
    if adt is None or adt.action is None:
        return None
    return fcurve_collection(datablock, adt.action).find(data_path, index=index)
