"""The lights: a key and a rim light in the window colour, their energy following the volume.
EEVEE and Cycles show them; Workbench ignores lights (the window colour reaches its picture
through the lyrics, the flashes and the textures)."""

from __future__ import annotations

import math

import bpy

from . import common

KEY_LIGHT = "AIMV Key Light"
RIM_LIGHT = "AIMV Rim Light"


def _light(name: str, kind: str) -> bpy.types.Light:
    light = bpy.data.lights.get(name)
    if light is None or light.type != kind:
        light = bpy.data.lights.new(name, kind)
    return light


def build(scene: bpy.types.Scene) -> tuple[bpy.types.Object, bpy.types.Object]:
    """Create (or find) the two lights; placement is set only when AIMV creates them."""
    coll = common.collection(scene)
    key, new = common.get_object(coll, KEY_LIGHT, lambda: _light(KEY_LIGHT, "AREA"), "LIGHT")
    if new:
        key.location = (2.0, -4.0, 2.5)
        key.rotation_euler = (math.radians(60), 0.0, math.radians(25))
        key.data.size = 3.0
    rim, new = common.get_object(coll, RIM_LIGHT, lambda: _light(RIM_LIGHT, "POINT"), "LIGHT")
    if new:
        rim.location = (-3.0, -1.0, 3.0)
    return key, rim
