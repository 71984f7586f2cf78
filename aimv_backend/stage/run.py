"""The stage stage: a timeline and its textures become a keyed scene and a video, in Blender.

bpy runs in a child process (:mod:`.blender_runner`). The child writes its video into a private
folder beside the output, which this module owns: the finished video is renamed over the output,
and the folder goes (with whatever temporary files Blender made in it) however the run ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from aimv_backend.errors import OutputError
from aimv_backend.progress import Progress
from aimv_backend.stage.blender_runner import run_headless
from aimv_backend.stage.options import StageOptions


def run(
    *,
    timeline_path: Path,
    audio: Path,
    output: Path,
    options: StageOptions,
    progress: Progress,
    seed: int = 0,
    blend_out: Path | None = None,
) -> Path:
    """Key ``timeline_path`` (with its textures) in Blender and render ``output`` (an .mp4).

    The video appears under ``output`` only when complete; ``blend_out`` also saves the scene.
    """
    w, h = options.resolution
    folder = Path(tempfile.mkdtemp(prefix=f".{output.stem}.aimv-render-", dir=output.parent))
    video = folder / "video.mp4"
    arguments = [
        str(audio.resolve()),
        *("--timeline", str(timeline_path.resolve()), "-o", str(video.resolve())),
        *("--resolution", f"{w}x{h}", "--fps", str(options.fps), "--engine", options.engine),
        *("--samples", str(options.samples), "--crossfade", f"{options.crossfade:g}"),
        *("--seed", str(seed), "--force"),  # only our folder and AIMV's scene.blend are written
        *(("--blend-out", str(blend_out.resolve())) if blend_out is not None else ()),
    ]
    try:
        run_headless(arguments, settings=options, progress=progress)
        if not video.exists() or video.stat().st_size == 0:
            raise OutputError(f"Blender wrote no video to {str(video)!r}")
        os.replace(video, output)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return output
