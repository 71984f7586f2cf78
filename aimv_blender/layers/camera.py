"""The camera: looks along +Y at the background; its sway, push-in and hit punches are keyed."""

from __future__ import annotations

import math

import bpy

from .. import anim
from ..motion.background import SENSOR_WIDTH
from ..motion.camera import LENS
from . import common

CAMERA = "AIMV Camera"


def _camera_data(name: str) -> bpy.types.Camera:
    cam = bpy.data.cameras.get(name) or bpy.data.cameras.new(name)
    return cam


def build(scene: bpy.types.Scene) -> bpy.types.Object:
    coll = common.collection(scene)
    camera, new = common.get_object(coll, CAMERA, lambda: _camera_data(CAMERA), "CAMERA")
    if new:
        camera.rotation_euler = (math.radians(90), 0.0, 0.0)
        camera.data.lens = LENS
        camera.data.sensor_fit = "AUTO"
    scene.camera = camera
    return camera


def widest_lens(camera: bpy.types.Object) -> float:
    """The camera's focal length (mm, as on AIMV's 36 mm sensor), the shortest of its keys when
    the artist animated it: the screen must cover the widest view."""
    data = camera.data
    lens = data.lens
    adt = data.animation_data
    if adt is not None and adt.action is not None and getattr(adt, "action_slot", True):
        curve = anim.fcurve_collection(data, adt.action).find("lens")
        if curve is not None and len(curve.keyframe_points):
            lens = min(lens, *(k.co[1] for k in curve.keyframe_points))
    sensor = data.sensor_width if data.sensor_fit in ("AUTO", "HORIZONTAL") else data.sensor_height
    return max(1.0, min(5000.0, lens * SENSOR_WIDTH / max(sensor, 1e-3)))
