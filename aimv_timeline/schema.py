"""The AIMV timeline file: typed records, a validating JSON reader and an atomic writer.

This module is the heart of the contract between the backend (which writes timelines) and the
Blender add-on (which keys them onto a scene). It uses the Python standard library only, because
the add-on runs inside Blender's own Python; the extension build copies the whole
``aimv_timeline`` package into the zip, so there is one source and no copy to keep in sync.

It is one name for three modules, and every name is imported from here:

- :mod:`.records`: the typed records, the vocabularies and the schema version;
- :mod:`.reader`: the validating reader (``read_timeline``, ``timeline_from_dict``);
- :mod:`.writer`: the atomic writer (``write_timeline``, ``timeline_to_dict``).

The format is documented in ``docs/timeline.md``. Readers accept any file whose major
``schema_version`` equals :data:`SCHEMA_MAJOR`; writers always write :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

from dataclasses import replace

from .reader import read_timeline, timeline_from_dict
from .records import (
    COLOUR_SOURCES,
    DRUM_PIECES,
    INSTRUMENT_CATEGORIES,
    PICTOGRAM_ROLES,
    SCHEMA_MAJOR,
    SCHEMA_VERSION,
    VOICE_MODES,
    VOLUME_LEVELS,
    Clip,
    Colour,
    Description,
    Hit,
    InstrumentGuess,
    Pictogram,
    Rhythm,
    Source,
    Timeline,
    TimelineFormatError,
    Voice,
    Volume,
    Window,
    Word,
)
from .writer import (
    check_rewritable,
    preserved_file_mode,
    timeline_to_dict,
    write_json_atomic,
    write_timeline,
)

__all__ = [
    "SCHEMA_VERSION",
    "SCHEMA_MAJOR",
    "VOLUME_LEVELS",
    "COLOUR_SOURCES",
    "VOICE_MODES",
    "DRUM_PIECES",
    "INSTRUMENT_CATEGORIES",
    "PICTOGRAM_ROLES",
    "TimelineFormatError",
    "Volume",
    "Colour",
    "InstrumentGuess",
    "Word",
    "Voice",
    "Description",
    "Window",
    "Hit",
    "Rhythm",
    "Pictogram",
    "Clip",
    "Source",
    "Timeline",
    "timeline_to_dict",
    "timeline_from_dict",
    "read_timeline",
    "write_timeline",
    "check_rewritable",
    "write_json_atomic",
    "preserved_file_mode",
    "replace",
]
