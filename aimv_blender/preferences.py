"""Add-on preferences: how to start the backend, which lives in its own Python environment."""

from __future__ import annotations

import shlex

import bpy
from bpy.props import StringProperty


class AIMV_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    backend_command: StringProperty(
        name="Backend command",
        default="aimv",
        description="The aimv command of the backend's environment (a name on PATH or a path)",
    )
    python: StringProperty(
        name="Backend Python",
        subtype="FILE_PATH",
        default="",
        description="Instead of the command: the Python interpreter of the backend's "
        "environment (runs 'python -m aimv_backend')",
    )

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "backend_command")
        layout.prop(self, "python")
        layout.label(text="The backend runs as a separate program; Blender never imports it.")
        if not bpy.app.online_access:
            layout.label(
                text="Online access is off: the backend is told to stay offline.", icon="INFO"
            )


def backend_command(context) -> str:
    """The configured backend command line (a string parsed with shlex, never a shell)."""
    addon = context.preferences.addons.get(__package__)
    if addon is None:
        return "aimv"
    prefs = addon.preferences
    if prefs.python.strip():
        return shlex.join([bpy.path.abspath(prefs.python.strip()), "-m", "aimv_backend"])
    return prefs.backend_command.strip() or "aimv"


classes = (AIMV_AP_preferences,)

register, unregister = bpy.utils.register_classes_factory(classes)
