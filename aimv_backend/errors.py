"""One exception hierarchy for user-facing failures.

The CLI prints ``str(error)`` as a single line and exits with code 2. Messages name the
parameter (or file) and its value, as librosa's ParameterError does.
"""

from __future__ import annotations

from aimv_timeline.errors import AimvError
from aimv_timeline.schema import TimelineFormatError

__all__ = [
    "AimvError",
    "ParameterError",
    "AudioInputError",
    "OutputError",
    "ModelUnavailableError",
    "TimelineError",
    "RenderError",
    "Cancelled",
    "GpuRequiredError",
]


class ParameterError(AimvError, ValueError):
    """An option has an invalid value: ``ParameterError("--window must be ..., got 0.1")``."""


class AudioInputError(AimvError):
    """The input audio is missing, unreadable, empty, too short or contains NaN/inf."""


class OutputError(AimvError):
    """An output cannot be written: unwritable folder, or it exists and --force was not given."""


class ModelUnavailableError(AimvError):
    """A model's weights are missing and cannot be fetched (offline, bad checksum, ...)."""


class TimelineError(TimelineFormatError):
    """A timeline file is missing, invalid, or does not match the requested operation."""


class RenderError(AimvError):
    """Blender could not build or render the scene."""


class Cancelled(AimvError):
    """The user interrupted the run (Ctrl-C or Cancel in Blender)."""


class GpuRequiredError(AimvError):
    """The step needs a GPU (CUDA or Apple MPS), none is present, and the CPU was not forced."""
