"""The stage stage: a timeline and its textures become a keyed scene and a video, in Blender.

bpy runs in child processes (:mod:`.chunked`: N Blender processes write BMP frames per
chunk, encoded per segment, joined and muxed with the song). The video is written into a private
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
from aimv_backend.stage.options import ScaleOptions, StageOptions
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
    expected_seconds: float | None = None,
    scale: ScaleOptions | None = None,
    work_dir: Path | None = None,
) -> Path:
    """Key ``timeline_path`` (with its textures) in Blender and render ``output`` (an .mp4).

    The video appears under ``output`` only when complete and checked (about
    ``expected_seconds`` long, with video and sound). The caller records it, then saves the
    scene beside it if asked (:mod:`.scene_file`): a run stopped while saving the scene leaves
    a video the next run knows as its own.
    The frames render in chunks (``scale``: workers, chunks, Ray; docs/scale.md), whose
    segments are cached under ``work_dir`` (default: the timeline's folder) for a resumed run.
    """
    from aimv_backend.stage.chunked import ChunkedRequest, render_chunked

    folder = partial_folder(output)  # ours alone: whatever is left in it goes with it
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    video = folder / "video.mp4"
    chunked = ChunkedRequest(
        song=audio.resolve(),
        timeline_path=timeline_path.resolve(),
        work_dir=work_dir if work_dir is not None else timeline_path.parent,
        output=video,
        settings=options,
        seed=seed,
        scale=scale if scale is not None else ScaleOptions(),
    )
    try:
        render_chunked(chunked, progress=progress)  # N Blender processes, then join + mux
        if not video.exists() or video.stat().st_size == 0:
            raise OutputError(f"Blender wrote no video to {str(video)!r}")
        # A full disk can leave a truncated MP4: the previous video stays unless this one checks.
        check_mp4(video, expected_seconds=expected_seconds, min_tracks=2)
        os.replace(video, output)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return output
