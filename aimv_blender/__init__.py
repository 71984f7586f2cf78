"""AIMV for Blender: key a song's timeline onto a scene and render the music video.

Importing this package does not import bpy: ``keying``, ``contract`` and
``subprocess_runner`` are plain Python (tested without Blender); the bpy modules are imported
by :func:`register`. The add-on never imports the backend (``aimv_backend``): it runs it.
"""

from __future__ import annotations

import importlib

# registration order; unregistered in reverse
_MODULES = ("props", "preferences", "operators", "render_op", "panels")


def _modules():
    return [importlib.import_module(f".{name}", __package__) for name in _MODULES]


def register() -> None:
    for module in _modules():
        module.register()


def unregister() -> None:
    for module in reversed(_modules()):
        module.unregister()
