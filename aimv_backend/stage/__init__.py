"""Stage: key a timeline and its textures onto a Blender scene and render the video.

from aimv_backend import stage
stage.run(timeline_path=..., audio=..., output=..., options=stage.Options(), progress=...)
"""

from aimv_backend.stage.options import StageOptions
from aimv_backend.stage.run import run

Options = StageOptions

__all__ = ["Options", "StageOptions", "run"]
