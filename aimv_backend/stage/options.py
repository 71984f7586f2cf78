"""Options of the stage stage: how the scene is keyed and rendered to video.

Defaults are the shared ``preview`` preset (:mod:`aimv_timeline.presets`), the same for
``aimv render``, the add-on's panel and the headless script.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from aimv_backend.errors import ParameterError
from aimv_timeline import names
from aimv_timeline.presets import DEFAULT

MAX_WORKERS = 64


@dataclass(frozen=True)
class StageOptions:
    """What the video looks like.

    resolution: (width, height) in pixels, even, within names.MAX_RESOLUTION.
    fps: frames per second. engine: workbench, eevee or cycles. samples: EEVEE/Cycles samples
    per pixel. crossfade: seconds of blending into the next window.
    blender: path of a Blender binary; None renders with the bpy module.
    layers_off: picture layers left out (names of names.PICTURE_LAYERS, --no-LAYER).
    font: font file of the lyrics; None is Blender's built-in font.
    """

    resolution: tuple[int, int] = DEFAULT.resolution
    fps: int = DEFAULT.fps
    engine: str = DEFAULT.engine
    samples: int = DEFAULT.samples
    crossfade: float = DEFAULT.crossfade
    blender: str | None = None
    layers_off: tuple[str, ...] = ()
    font: str | None = None

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
        if not 1 <= self.samples <= names.MAX_SAMPLES:
            raise ParameterError(f"--samples must be 1 to {names.MAX_SAMPLES}, got {self.samples}")
        if not (
            math.isfinite(self.crossfade) and 0.0 <= self.crossfade <= names.MAX_CROSSFADE_SECONDS
        ):
            raise ParameterError(
                f"--crossfade must be 0 to {names.MAX_CROSSFADE_SECONDS:g} seconds, "
                f"got {self.crossfade}"
            )
        for layer in self.layers_off:
            if layer not in names.PICTURE_LAYERS:
                raise ParameterError(
                    f"layers_off must name layers of {', '.join(names.PICTURE_LAYERS)}, "
                    f"got {layer!r}"
                )
        if self.font is not None and not Path(self.font).is_file():
            raise ParameterError(f"--font {self.font!r}: no such file")


@dataclass(frozen=True)
class ScaleOptions:
    """How a render spreads out. workers: Blender processes at once (None: cores capped by
    memory, or the Ray cluster's CPUs). chunks: how many chunks (None: one per worker).
    ray: None (this machine), "auto" or a Ray address. ship: with Ray, send the inputs with
    each task instead of relying on storage every machine shares."""

    workers: int | None = None
    chunks: int | None = None
    ray: str | None = None
    ship: bool = False

    def __post_init__(self) -> None:
        if self.workers is not None and not 1 <= self.workers <= MAX_WORKERS:
            raise ParameterError(f"--workers must be 1 to {MAX_WORKERS}, got {self.workers}")
        if self.chunks is not None and not 1 <= self.chunks <= 100_000:
            raise ParameterError(f"--chunks must be 1 to 100000, got {self.chunks}")
        if self.ray is not None and not self.ray.strip():
            raise ParameterError("--ray must be auto or a Ray address, got ''")
        if self.ship and self.ray is None:
            raise ParameterError("--ray-ship needs --ray")


@dataclass(frozen=True)
class SavedScene:
    """A scene saved from Blender (the panel's Render), rendered as it is, in chunks.

    blend: the .blend file. scene: the scene's name. frames: (first, last), inclusive.
    """

    blend: Path
    scene: str = "Scene"
    frames: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        if not self.scene:
            raise ParameterError("--scene must name a scene of --blend, got ''")
        first, last = self.frames
        if first < 0 or last < first:
            raise ParameterError(
                f"--frames must be START:END with START <= END, got {first}:{last}"
            )
