"""The shared contract package (``aimv_timeline``), wherever it is.

The built extension zip carries a copy of ``aimv_timeline`` inside the add-on (made by
``tools/build_extension.py``); a source checkout has it beside ``aimv_blender``. There is no
committed copy. Everything the add-on needs of the contract is imported from here.
"""

from __future__ import annotations

try:  # inside the built extension: <extension>/aimv_timeline
    from .aimv_timeline import (
        children,
        events,
        flags,
        manifest,
        names,
        offline,
        paths,
        presets,
        schema,
    )
    from .aimv_timeline.errors import AimvError
except ImportError:  # a source checkout: aimv_timeline sits beside aimv_blender on sys.path
    from aimv_timeline import (
        children,
        events,
        flags,
        manifest,
        names,
        offline,
        paths,
        presets,
        schema,
    )
    from aimv_timeline.errors import AimvError

Timeline = schema.Timeline
TimelineFormatError = schema.TimelineFormatError
Volume = schema.Volume
Window = schema.Window
read_timeline = schema.read_timeline

__all__ = [
    "AimvError",
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
