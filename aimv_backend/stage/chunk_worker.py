"""Render one chunk: a Blender process writes its frames, each finished segment is encoded.

:func:`render_chunk` runs wherever a chunk is sent: a thread of ``aimv render`` (one Blender
child each) or a Ray task on another machine. It skips the segments already in the cache, runs
one Blender (``headless.py --image-sequence``) over the frames still missing, and encodes each
segment as soon as Blender has written its last frame, so at most about two segments of BMPs
sit on disk at a time. A killed chunk leaves its finished segments behind: the next run renders
only the rest.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aimv_backend.errors import RenderError
from aimv_backend.progress import Progress
from aimv_backend.stage.blender_runner import run_headless
from aimv_backend.stage.chunks import (
    FRAME_NAME,
    EncoderSettings,
    FrameRange,
    SegmentCache,
    encode_segment,
)
from aimv_backend.stage.options import StageOptions


@dataclass(frozen=True)
class ChunkJob:
    """One chunk's work. Paths must be readable (and ``cache_dir`` writable) where it runs.

    segments: the chunk's consecutive segments. song: the audio Blender's scene refers to.
    timeline_path: stage it afresh; or blend + scene: render that saved scene as it is.
    """

    index: int
    segments: tuple[FrameRange, ...]
    cache_dir: Path
    timeline_path: Path | None
    song: Path
    settings: StageOptions
    seed: int = 0
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    blend: Path | None = None
    scene: str = ""

    @property
    def frames(self) -> FrameRange:
        return FrameRange(self.segments[0].first, self.segments[-1].last)


@dataclass(frozen=True)
class ChunkResult:
    """rendered / reused: the chunk's segments made now / found done in the cache.
    seconds: wall time of this chunk."""

    index: int
    rendered: tuple[FrameRange, ...]
    reused: tuple[FrameRange, ...]
    seconds: float


def contiguous_runs(segments: list[FrameRange]) -> list[list[FrameRange]]:
    """Group segments into runs of touching frame ranges (one Blender process each)."""
    runs: list[list[FrameRange]] = []
    for seg in segments:
        if runs and runs[-1][-1].last + 1 == seg.first:
            runs[-1].append(seg)
        else:
            runs.append([seg])
    return runs


class _FrameWatcher:
    """A :class:`Progress` for run_headless: counts written frames, encodes full segments.

    Blender writes a range's frames in order, so ``done`` frames written means frames
    ``first .. first + done - 1`` are on disk.
    """

    def __init__(self, run: list[FrameRange], encode: Callable[[FrameRange], None], outer):
        self.run = run
        self.encode = encode
        self.outer = outer
        self.done = 0
        self.next = 0

    # Progress
    def task(self, name: str, total: int | None):
        return self

    def notice(self, message: str) -> None:
        pass

    # Task
    def advance(self, n: int = 1) -> None:
        self.done += n
        self.outer(n)
        written_to = self.run[0].first + self.done - 1
        while self.next < len(self.run) and self.run[self.next].last <= written_to:
            self.encode(self.run[self.next])
            self.next += 1

    def close(self) -> None:
        pass


def render_chunk(
    job: ChunkJob,
    *,
    on_frames: Callable[[int], None] | None = None,
    progress: Progress | None = None,
    env: dict | None = None,
) -> ChunkResult:
    """Render the missing segments of ``job`` into its cache; see the module docstring.

    on_frames(n) is called as n more frames are written (thread-safe callers only).
    """
    t0 = time.perf_counter()
    cache = SegmentCache(Path(job.cache_dir))
    cache.root.mkdir(parents=True, exist_ok=True)
    todo = [s for s in job.segments if not cache.is_done(s)]
    reused = tuple(s for s in job.segments if s not in todo)
    if on_frames is not None and reused:
        on_frames(sum(s.count for s in reused))
    for run in contiguous_runs(todo):
        _render_run(job, run, cache, on_frames or (lambda n: None), env)
    if progress is not None:
        progress.notice(f"chunk {job.index + 1}: frames {job.frames}")
    return ChunkResult(job.index, tuple(todo), reused, time.perf_counter() - t0)


def _arguments(job: ChunkJob) -> list[str]:
    if job.blend is not None:
        source = ["--blend", str(Path(job.blend).absolute()), "--scene", job.scene]
        return [str(job.song), *source, *_video_arguments(job.settings, job.seed)]
    return staging_arguments(
        song=job.song, timeline_path=Path(job.timeline_path), settings=job.settings, seed=job.seed
    )


def staging_arguments(
    *, song: Path, timeline_path: Path, settings: StageOptions, seed: int
) -> list[str]:
    """The headless script's arguments that stage ``timeline_path`` afresh with ``settings``."""
    s = settings
    return [
        str(song),
        *("--timeline", str(Path(timeline_path).absolute())),
        *("--crossfade", f"{s.crossfade:g}"),
        *(f"--no-{layer}" for layer in s.layers_off),
        *(["--font", str(Path(s.font).absolute())] if s.font else []),
        *_video_arguments(s, seed),
    ]


def _video_arguments(settings: StageOptions, seed: int) -> list[str]:
    w, h = settings.resolution
    return [
        *("--resolution", f"{w}x{h}"),
        *("--fps", str(settings.fps)),
        *("--engine", settings.engine),
        *("--samples", str(settings.samples)),
        *("--seed", str(seed)),
        "--force",  # only AIMV's scratch frames (and a scene's temporary file) are written
    ]


def _render_run(
    job: ChunkJob,
    run: list[FrameRange],
    cache: SegmentCache,
    on_frames: Callable[[int], None],
    env: dict | None,
) -> None:
    frames = FrameRange(run[0].first, run[-1].last)
    scratch = cache.root / f".frames-{job.index}-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    pending: list[Future] = []
    encoder_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aimv-encode")

    def encode(segment: FrameRange) -> None:
        def work() -> None:
            encode_segment(
                frames_dir=scratch,
                segment=segment,
                fps=job.settings.fps,
                encoder=job.encoder,
                cache=cache,
            )
            for f in range(segment.first, segment.last + 1):
                (scratch / FRAME_NAME.format(f)).unlink(missing_ok=True)

        pending.append(encoder_pool.submit(work))

    watcher = _FrameWatcher(run, encode, on_frames)
    arguments = [*_arguments(job), "--image-sequence", str(scratch), "--frames", str(frames)]
    try:
        run_headless(arguments, settings=job.settings, progress=watcher, env=env)
        for segment in run[watcher.next :]:  # in case a progress line was lost
            encode(segment)
        for future in pending:
            future.result()
    finally:
        encoder_pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(scratch, ignore_errors=True)
    missing = [s for s in run if not cache.is_done(s)]
    if missing:
        raise RenderError(f"chunk {job.index + 1}: segment {missing[0]} was not encoded")
