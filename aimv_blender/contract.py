"""The shared contract package (``aimv_timeline``), wherever it is.

The built extension zip carries a copy of ``aimv_timeline`` inside the add-on (made by
``tools/build_extension.py``); a source checkout has it beside ``aimv_blender``. There is no
committed copy. Everything the add-on needs of the contract is imported from here.
"""

from __future__ import annotations

import importlib

# Inside the built extension the package is <extension>.aimv_timeline; in a source checkout it
# sits beside aimv_blender on sys.path as aimv_timeline.
try:
    _PACKAGE = importlib.import_module(".aimv_timeline", __package__).__name__
except ImportError:
    _PACKAGE = "aimv_timeline"

children, events, flags, manifest, names, offline, paths, presets, schema, errors = (
    importlib.import_module(f"{_PACKAGE}.{module}")
    for module in (
        "children", "events", "flags", "manifest", "names", "offline", "paths", "presets",
        "schema", "errors",
    )
)  # fmt: skip
AimvError = errors.AimvError
Rhythm = schema.Rhythm
Timeline = schema.Timeline
TimelineFormatError = schema.TimelineFormatError
Volume = schema.Volume
Window = schema.Window
read_timeline = schema.read_timeline

__all__ = [
    "AimvError",
    "Rhythm",
    "Timeline",
    "TimelineFormatError",
    "Volume",
    "Window",
    "children",
    "events",
    "flags",
    "manifest",
    "names",
    "offline",
    "paths",
    "presets",
    "read_timeline",
    "schema",
]
