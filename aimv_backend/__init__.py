"""AIMV backend: listen to a song, describe each second, imagine a texture for it.

The stages meet in the timeline file (``aimv_timeline.schema``) and a folder of textures.
"""

import os as _os

from aimv_timeline.offline import TELEMETRY_OFF as _TELEMETRY_OFF

__version__ = "0.1.0"

for _name, _value in _TELEMETRY_OFF.items():  # AIMV never reports usage (docs/security.md)
    _os.environ.setdefault(_name, _value)
