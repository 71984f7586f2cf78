"""The video presets and defaults every entry point shares (CLI, add-on panel, headless script).

One table, so ``aimv render``, Generate in Blender and ``headless.py`` make the same video from
the same song unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """resolution in pixels; fps in frames per second; engine: a names.RENDER_ENGINES entry;
    samples per pixel (EEVEE/Cycles); texture_size in pixels (square); crossfade in seconds."""

    name: str
    resolution: tuple[int, int]
    fps: int
    engine: str
    samples: int
    texture_size: int
    crossfade: float = 0.5
    summary: str = ""


PRESETS = {
    "preview": Preset(
        "preview", (640, 360), 24, "workbench", 8, 512, summary="640x360, 24 fps, Workbench"
    ),
    "final": Preset("final", (1280, 720), 30, "eevee", 32, 768, summary="1280x720, 30 fps, EEVEE"),
}
DEFAULT_PRESET = "preview"
DEFAULT = PRESETS[DEFAULT_PRESET]
# The fast alternative named when a slow engine runs on a CPU.
FAST_ENGINE = "workbench"
