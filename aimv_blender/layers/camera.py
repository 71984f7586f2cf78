"""The camera: looks along +Y at the background; its sway, push-in and hit punches are keyed."""

from __future__ import annotations

import math

import bpy

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
