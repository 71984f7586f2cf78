"""The Blender panel's Render through the backend's chunked render (no bpy here).

The panel saves the scene as the artist left it to ``WORK/render-scene.blend`` and runs
``aimv render SONG --blend WORK/render-scene.blend --scene NAME --frames A:B -o VIDEO.mp4``:
the backend splits the frames into chunks, one Blender process each (as many as the cores and
memory allow), and joins them with the song's audio, exactly as ``aimv render`` does. Blender
stays responsive; progress comes back as JSON lines (see subprocess_runner).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .subprocess_runner import Step

RENDER_BLEND_NAME = "render-scene.blend"


@dataclass(frozen=True)
class ChunkedRender:
    """What the panel's Render asks the backend for. frames: (first, last), inclusive."""

    song: Path
    blend: Path
    scene: str
    frames: tuple[int, int]
    output: Path
    work_dir: Path
    resolution: tuple[int, int]
    fps: int
    engine: str
    samples: int
    overwrite: bool = False
    workers: int | None = None

    def __post_init__(self) -> None:
        first, last = self.frames
        if not 1 <= first <= last:
            raise ValueError(f"frames must be 1 <= first <= last, got {first}:{last}")
        if Path(self.output).suffix.lower() != ".mp4":
            raise ValueError(f"output must be an .mp4 file, got {str(self.output)!r}")


def render_steps(job: ChunkedRender, program: list[str]) -> list[Step]:
    """The one backend step of a chunked panel render (an argument list, never a shell)."""
    w, h = job.resolution
    argv = [
        *program,
        "render",
        str(job.song),
        "-o",
        str(job.output),
        "--work-dir",
        str(job.work_dir),
        "--blend",
        str(job.blend),
        "--scene",
        job.scene,
        "--frames",
        f"{job.frames[0]}:{job.frames[1]}",
        "--resolution",
        f"{w}x{h}",
        "--fps",
        str(job.fps),
        "--engine",
        job.engine,
        "--samples",
        str(job.samples),
        "--progress",
        "json",
    ]
    if job.workers is not None:
        argv += ["--workers", str(job.workers)]
    if job.overwrite:
        argv.append("--force")
    return [Step("render", tuple(argv))]
