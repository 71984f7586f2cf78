"""The .blend saved beside a video (``--blend-out``, a work folder's scene.blend).

Why apart from the frames: the scene an artist opens must cover the whole song and render to
the video's path, while each render process stages only its chunk's frames (and a shipped Ray
chunk has no place to save to). So once the video is made, one more headless Blender stages
the timeline and saves the scene to a temporary file beside the target, which then replaces
it; the file it replaces is kept as FILE.blend1, as Blender's own Save does. Whether a file there
may be replaced at all is decided before any work (:func:`aimv_backend.stage.record.check_scene_out`).
"""

from __future__ import annotations

import os
from pathlib import Path

from aimv_backend.progress import Progress
from aimv_backend.stage.blender_runner import run_headless
from aimv_backend.stage.chunk_worker import staging_arguments
from aimv_backend.stage.options import StageOptions
from aimv_backend.stage.record import write_record
from aimv_backend.util.workdir import encoding_partial, sweep_partials_of


def save_scene(
    *,
    timeline_path: Path,
    song: Path,
    settings: StageOptions,
    seed: int,
    scene: Path,
    video: Path,
    progress: Progress,
    record_path: Path,
    fingerprint: str,
) -> Path:
    """Stage ``timeline_path`` in Blender and save it as ``scene`` (rendering to ``video``),
    then note it in ``record_path`` (render.json) beside the video as AIMV's own. Called once
    the video is recorded: a run stopped while saving the scene loses no video."""
    timeline_path, song, scene = timeline_path.resolve(), song.resolve(), scene.absolute()
    sweep_partials_of(scene)  # a killed save's temporary file
    temporary = encoding_partial(scene, suffix=".blend")
    arguments = [
        *staging_arguments(song=song, timeline_path=timeline_path, settings=settings, seed=seed),
        *("--blend-out", str(temporary)),
        *("--video-path", str(video.absolute())),
    ]
    task = progress.task("scene (.blend)", 1)
    try:
        run_headless(arguments, settings=settings, progress=_NoticesOnly(progress), env=None)
        if scene.exists():
            os.replace(scene, scene.with_name(scene.name + "1"))
        os.replace(temporary, scene)
        task.advance()
    finally:
        task.close()
        temporary.unlink(missing_ok=True)
        temporary.with_name(temporary.name + "1").unlink(missing_ok=True)
    write_record(record_path, video, fingerprint=fingerprint, options=settings, scene=scene)
    return scene


class _NoticesOnly:
    """The headless run's warnings reach the user; its tasks (staging) are this one task."""

    def __init__(self, progress: Progress):
        self._progress = progress

    def task(self, name: str, total: int | None):
        return self

    def notice(self, message: str) -> None:
        self._progress.notice(message)

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass
