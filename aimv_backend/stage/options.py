"""Options of the stage stage: how the scene is keyed and rendered to video.

Defaults are the shared ``preview`` preset (:mod:`aimv_timeline.presets`), the same for
``aimv render``, the add-on's panel and the headless script.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aimv_backend.errors import ParameterError
from aimv_timeline import names
from aimv_timeline.presets import DEFAULT

MAX_SAMPLES = 4096


@dataclass(frozen=True)
class StageOptions:
    """What the video looks like.

    resolution: (width, height) in pixels, even, within names.MAX_RESOLUTION.
    fps: frames per second. engine: workbench, eevee or cycles. samples: EEVEE/Cycles samples
    per pixel. crossfade: seconds of blending into the next window.
    blender: path of a Blender binary; None renders with the bpy module.
    """

    resolution: tuple[int, int] = DEFAULT.resolution
    fps: int = DEFAULT.fps
    engine: str = DEFAULT.engine
    samples: int = DEFAULT.samples
    crossfade: float = DEFAULT.crossfade
    blender: str | None = None

    def __post_init__(self) -> None:
        w, h = self.resolution
        reason = names.check_resolution(w, h)
        if reason:
            raise ParameterError(reason)
        if not names.MIN_FPS <= self.fps <= names.MAX_FPS:
            raise ParameterError(
                f"--fps must be {names.MIN_FPS} to {names.MAX_FPS}, got {self.fps}"
            )
        if self.engine not in names.RENDER_ENGINES:
            raise ParameterError(
                f"--engine must be one of {', '.join(names.RENDER_ENGINES)}, got {self.engine!r}"
            )
        if not 1 <= self.samples <= MAX_SAMPLES:
            raise ParameterError(f"--samples must be 1 to {MAX_SAMPLES}, got {self.samples}")
        if not (math.isfinite(self.crossfade) and 0.0 <= self.crossfade <= 10.0):
            raise ParameterError(f"--crossfade must be 0 to 10 seconds, got {self.crossfade}")

    def check(self) -> StageOptions:
        """Kept for callers of the old API: options validate on construction."""
        return self
