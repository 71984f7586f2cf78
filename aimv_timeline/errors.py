"""The root of AIMV's one exception hierarchy, shared by the backend and the Blender add-on.

Every error a user can fix derives from :class:`AimvError`. Its message is one line that names
the parameter or file and its value (as librosa's ``ParameterError`` does); entry points print it
and exit with code 2. Across a process boundary it travels as an ``error`` event
(:mod:`aimv_timeline.events`), never by searching stderr for words.
"""

from __future__ import annotations


class AimvError(Exception):
    """Base class of every error the user can fix (bad input, missing model, existing output)."""


class FrameRateError(AimvError, ValueError):
    """The frame rate cannot show the timeline's windows (less than a frame each)."""
