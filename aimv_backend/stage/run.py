"""The stage stage: a timeline and its textures become a keyed scene and a video, in Blender.

bpy runs in a child process (:mod:`.blender_runner`). The child writes its video into a private
folder beside the output (``.NAME.partial-PID/``), which this module owns: the finished, checked
video is renamed over the output, and the folder goes (with whatever temporary files Blender made
in it) however the run ends; a killed run's folder is swept by the next (util/workdir.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from aimv_backend.errors import OutputError
from aimv_backend.progress import Progress
from aimv_backend.stage.blender_runner import run_headless
from aimv_backend.stage.options import StageOptions
from aimv_backend.util.video import check_mp4
from aimv_backend.util.workdir import partial_folder


def run(
    *,
    timeline_path: Path,
    audio: Path,
    output: Path,
    options: StageOptions,
    progress: Progress,
    seed: int = 0,
    blend_out: Path | None = None,
    expected_seconds: float | None = None,
) -> Path:
    """Key ``timeline_path`` (with its textures) in Blender and render ``output`` (an .mp4).

    The video appears under ``output`` only when complete and checked (about
    ``expected_seconds`` long, with video and sound); ``blend_out`` also saves the scene.
    """
    w, h = options.resolution
    folder = partial_folder(output)  # ours alone: whatever Blender leaves in it goes with it
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
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
        # A full disk can leave a truncated MP4: the previous video stays unless this one checks.
        check_mp4(video, expected_seconds=expected_seconds, min_tracks=2)
        os.replace(video, output)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return output
