"""The contract between AIMV's backend and its Blender add-on (standard library only).

- :mod:`.schema`: the timeline file: typed records (:mod:`.records`), validating reader
  (:mod:`.reader`), atomic writer (:mod:`.writer`), all imported from ``schema``;
- :mod:`.events`: the event protocol between processes (progress, stage, warning, error);
- :mod:`.names`: file names, stage and engine names, and their limits;
- :mod:`.presets`: the video presets and defaults every entry point shares;
- :mod:`.errors`: the base error class of the one exception hierarchy.

The backend imports this package; the extension build copies it into the add-on's zip, so the
add-on runs with nothing but bpy and this package.
"""

from __future__ import annotations

from . import errors, events, names, presets, schema
from .errors import AimvError

__all__ = ["AimvError", "errors", "events", "names", "presets", "schema"]
