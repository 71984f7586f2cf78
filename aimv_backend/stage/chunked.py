"""The chunked render: a timeline and its song become an MP4, rendered by N Blender processes.

plan (chunks.py) -> chunks in parallel (chunk_worker.py: local threads, or Ray tasks with
``--ray``) -> join the cached segments and mux the song's audio (a stream copy) -> check the
frame count with ffprobe. ``aimv render`` and the Blender panel's Render both come here.

Workers: by default one per core, capped by memory: a Blender process peaks at about
``BLENDER_BASE_MB + BLENDER_MB_PER_MEGAPIXEL * megapixels`` plus its textures (measured with
bench/render.py --workers; see docs/scale.md).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from aimv_backend.audio.io import soundtrack_gain_db
from aimv_backend.errors import ParameterError, RenderError
from aimv_backend.progress import Progress
from aimv_backend.stage.chunk_worker import ChunkJob, ChunkResult, render_chunk
from aimv_backend.stage.chunks import (
    ChunkPlan,
    EncoderSettings,
    FrameRange,
    SegmentCache,
    encode_audio,
    inputs_fingerprint,
    join_and_mux,
    plan_chunks,
    probe_video,
    settings_record,
    video_frame_count,
)
from aimv_backend.stage.options import MAX_WORKERS, ScaleOptions, StageOptions
from aimv_backend.stage.record import staging_code
from aimv_timeline.schema import Timeline, read_timeline

# Peak resident memory of one Blender chunk process, measured at 640x360 (590 MB) and
# 1920x1080 (895 MB) with the Workbench engine (bench/render.py --workers); textures add their
# decoded size about twice (the image and its GPU copy).
BLENDER_BASE_MB = 550
BLENDER_MB_PER_MEGAPIXEL = 170
MEMORY_HEADROOM = 0.8  # leave a fifth of the available memory to everything else


@dataclass(frozen=True)
class ChunkedRequest:
    """A chunked render with ``song``'s audio, of ``timeline_path`` (and its textures) staged
    afresh, or of the scene ``scene`` of a saved ``blend`` (the Blender panel's Render) over
    ``frames``. output: the MP4 to write (in place; the caller renames it). The scene itself is
    saved apart (stage/scene_file.py), once the frames are made."""

    song: Path
    timeline_path: Path | None
    work_dir: Path
    output: Path
    settings: StageOptions
    seed: int = 0
    scale: ScaleOptions = field(default_factory=ScaleOptions)
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    blend: Path | None = None
    scene: str = ""
    frames: FrameRange | None = None

    def __post_init__(self) -> None:
        if self.timeline_path is None and self.blend is None:
            raise ParameterError("a chunked render needs a timeline or a .blend file")
        if self.blend is not None:
            if self.frames is None or not self.scene:
                raise ParameterError("rendering a .blend needs --scene and --frames START:END")
            if self.scale.ship:
                raise ParameterError(
                    "--ray-ship cannot send a .blend's linked files; use shared storage"
                )


@dataclass(frozen=True)
class ChunkedResult:
    """frames: the video's frames. chunks: how many. rendered / reused: segments made now /
    taken from the cache. render_seconds: the chunks' wall time; join_seconds: join + mux."""

    output: Path
    frames: int
    workers: int
    chunks: int
    rendered: int
    reused: int
    render_seconds: float
    join_seconds: float


def blender_peak_mb(settings: StageOptions, texture_pixels: int = 0) -> float:
    """Estimated peak memory of one Blender chunk process, in MB."""
    w, h = settings.resolution
    return BLENDER_BASE_MB + BLENDER_MB_PER_MEGAPIXEL * w * h / 1e6 + 8 * texture_pixels / 2**20


def available_memory_mb() -> float:
    """Memory available for new processes (MemAvailable), in MB."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")) / 2**20


def default_workers(settings: StageOptions, *, texture_pixels: int = 0) -> int:
    """One Blender per core, but no more than the available memory holds."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    fit = int(available_memory_mb() * MEMORY_HEADROOM // blender_peak_mb(settings, texture_pixels))
    return max(1, min(cores or 1, fit, MAX_WORKERS))


def stage_frames(timeline: Timeline, fps: int) -> FrameRange:
    """The stage's frame range, exactly as the add-on keys it (aimv_blender.keying)."""
    from aimv_blender import keying  # plain Python: the add-on's maths, no bpy

    keys = keying.build_keys(timeline, keying.KeyingOptions(fps=fps))
    return FrameRange(keys.frame_start, keys.frame_end)


def check_frames_match_audio(frames: FrameRange, timeline: Timeline, fps: int) -> None:
    """The stage's last frame must be the song's: round(samples x fps / rate), +-1 (so the
    video ends with the audio). A timeline whose windows run past its song is refused."""
    source = timeline.source
    if not source.frames or not source.sample_rate:
        return
    expected = video_frame_count(samples=source.frames, sample_rate=source.sample_rate, fps=fps)
    if abs(frames.last - expected) > 1:
        raise RenderError(
            f"the timeline's windows cover {frames.last} frames but its song is {expected} "
            f"frames long at {fps} fps ({source.frames} samples at {source.sample_rate} Hz)"
        )


def _texture_files(timeline: Timeline, timeline_dir: Path) -> list[Path]:
    """Every file the stage reads beside the timeline: window textures and generated clips."""
    files = {timeline_dir / w.texture for w in timeline.windows if w.texture}
    files |= {timeline_dir / c.path for c in getattr(timeline, "clips", ())}
    return sorted(files)


def _texture_pixels(paths: list[Path]) -> int:
    try:
        from PIL import Image
    except ImportError:
        return 0
    total = 0
    for path in paths:
        try:
            with Image.open(path) as im:
                total += im.width * im.height
        except OSError:
            continue
    return total


def _blender_identity(settings: StageOptions) -> str:
    if settings.blender:
        return f"binary:{Path(settings.blender).name}"
    try:
        return f"bpy:{metadata.version('bpy')}"
    except metadata.PackageNotFoundError:
        return "bpy:?"


def fingerprint_for(request: ChunkedRequest, timeline: Timeline | None, plan: ChunkPlan) -> str:
    textures = (
        [] if timeline is None else _texture_files(timeline, Path(request.timeline_path).parent)
    )
    settings = settings_record(
        render=request.settings,
        encoder=request.encoder,
        seed=request.seed,
        segment_frames=plan.segment_frames,
        scene=request.scene,
        frames=str(plan.frames),
    )
    settings["render"].pop("blender", None)  # the path is not the identity; the version is
    code = {"aimv": staging_code(), "blender": _blender_identity(request.settings)}
    source = request.blend if request.blend is not None else request.timeline_path
    return inputs_fingerprint(timeline_path=source, textures=textures, settings=settings, code=code)


class _SharedTask:
    """One progress task advanced from several threads."""

    def __init__(self, task):
        self.task = task
        self.lock = threading.Lock()

    def __call__(self, n: int) -> None:
        with self.lock:
            self.task.advance(n)


def render_chunked(
    request: ChunkedRequest,
    *,
    progress: Progress,
    chunk_runner: Callable[[ChunkJob], ChunkResult] | None = None,
) -> ChunkedResult:
    """Render ``request`` in chunks and join them into ``request.output``.

    chunk_runner replaces :func:`render_chunk` (tests use it to inject faults).
    """
    settings = request.settings
    timeline = None if request.timeline_path is None else read_timeline(request.timeline_path)
    textures = [] if timeline is None else _texture_files(timeline, request.timeline_path.parent)
    if request.scale.ray is not None:
        from aimv_backend.stage import ray_backend

        workers = request.scale.workers or ray_backend.cluster_workers(request.scale.ray)
    else:
        workers = request.scale.workers or default_workers(
            settings, texture_pixels=_texture_pixels(textures)
        )
    frames = request.frames or stage_frames(timeline, settings.fps)
    if timeline is not None and request.frames is None:
        check_frames_match_audio(frames, timeline, settings.fps)
    plan = plan_chunks(frames=frames, fps=settings.fps, chunks=request.scale.chunks or workers)
    fingerprint = fingerprint_for(request, timeline, plan)
    cache = SegmentCache.for_work_dir(request.work_dir, fingerprint).prepare(fingerprint)
    cache.sweep_siblings()
    cache.sweep_scratch()
    jobs = [
        ChunkJob(
            index=i,
            segments=segments,
            cache_dir=cache.root,
            timeline_path=None if timeline is None else Path(request.timeline_path).absolute(),
            blend=None if request.blend is None else Path(request.blend).absolute(),
            scene=request.scene,
            song=Path(request.song).absolute(),
            settings=settings,
            seed=request.seed,
            encoder=request.encoder,
        )
        for i, segments in enumerate(plan.chunks)
    ]
    progress.notice(
        f"rendering {plan.frames.count} frames in {len(jobs)} chunk(s) on {workers} worker(s)"
        + (f" (Ray: {request.scale.ray})" if request.scale.ray else "")
    )
    gain_db = soundtrack_gain_db(request.song)
    if gain_db:
        progress.notice(
            f"the song goes over full scale (float audio): its soundtrack is lowered by "
            f"{-gain_db:.1f} dB so that it does not clip in the video"
        )
    audio = cache.root / ("audio.m4a" if not gain_db else f"audio{gain_db:+.2f}dB.m4a")
    audio_thread = _AudioThread(request.song, audio, request.encoder, gain_db)
    audio_thread.start()
    t0 = time.perf_counter()
    task = progress.task("render", plan.frames.count)
    try:
        if request.scale.ray is not None:
            from aimv_backend.stage import ray_backend

            results = ray_backend.run_chunks(
                jobs,
                address=request.scale.ray,
                ship=request.scale.ship,
                on_frames=_SharedTask(task),
                runner=chunk_runner,
            )
        else:
            results = run_chunks_local(
                jobs,
                workers=workers,
                on_frames=_SharedTask(task),
                runner=chunk_runner,
                notice=progress.notice,
            )
    finally:
        task.close()
        audio_thread.join()
    render_seconds = time.perf_counter() - t0
    audio_thread.raise_error()
    t1 = time.perf_counter()
    missing = [s for s in plan.segments if not cache.is_done(s)]
    if missing:
        raise RenderError(f"segment {missing[0]} is missing from {str(cache.root)!r}")
    join_and_mux(
        segments=[cache.video(s) for s in plan.segments],
        audio=audio,
        fps=settings.fps,
        output=request.output,
    )
    join_seconds = time.perf_counter() - t1
    probe = probe_video(request.output)
    if probe.frames != plan.frames.count:
        raise RenderError(
            f"the joined video has {probe.frames} frames, expected {plan.frames.count}"
        )
    return ChunkedResult(
        output=request.output,
        frames=plan.frames.count,
        workers=workers,
        chunks=len(jobs),
        rendered=sum(len(r.rendered) for r in results),
        reused=sum(len(r.reused) for r in results),
        render_seconds=render_seconds,
        join_seconds=join_seconds,
    )


class _AudioThread(threading.Thread):
    """Encode the song's AAC while the chunks render (reused when already there)."""

    def __init__(self, song: Path, output: Path, encoder: EncoderSettings, gain_db: float):
        super().__init__(name="aimv-audio", daemon=True)
        self.song, self.output, self.encoder, self.gain_db = song, output, encoder, gain_db
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            if not (self.output.is_file() and self.output.stat().st_size > 0):
                encode_audio(
                    song=self.song, output=self.output, encoder=self.encoder, gain_db=self.gain_db
                )
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self.error = exc

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


# A chunk whose Blender failed (it crashed, or lost a frame) gets this many more tries on this
# machine, as a render farm retries a failed task; Ray's task retries do the same with --ray.
LOCAL_RETRIES = 1
RETRY_ON = (RenderError, OSError)


def _retrying(
    run: Callable[..., ChunkResult],
    job: ChunkJob,
    on_frames: Callable[[int], None],
    notice: Callable[[str], None],
    stopping: threading.Event,
) -> ChunkResult:
    """``run(job)``, tried again after a render error unless the render is being stopped
    (Ctrl-C, SIGTERM: its Blender died because it was told to). Frames a failed try reported
    are not counted twice: the retry reuses its finished segments and reports them again."""
    reported = 0
    for attempt in range(LOCAL_RETRIES + 1):
        swallow = reported
        counted = 0

        def count(n: int, swallow: int = swallow) -> None:
            nonlocal counted
            before, counted = counted, counted + n
            fresh = max(0, counted - max(before, swallow))
            if fresh:
                on_frames(fresh)

        try:
            return run(job, on_frames=count)
        except RETRY_ON as exc:
            reported = max(reported, counted)
            if attempt == LOCAL_RETRIES or stopping.is_set():
                raise
            notice(f"chunk {job.index + 1} failed ({exc}); trying it once more")
    raise AssertionError("unreachable")  # pragma: no cover


def run_chunks_local(
    jobs: list[ChunkJob],
    *,
    workers: int,
    on_frames: Callable[[int], None],
    runner: Callable[..., ChunkResult] | None = None,
    notice: Callable[[str], None] = lambda message: None,
) -> list[ChunkResult]:
    """Run the chunks on this machine, ``workers`` Blender processes at a time.

    Each thread waits on its own Blender child. A chunk that fails is tried once more
    (LOCAL_RETRIES); a failure that remains is raised after the running chunks end (their
    finished segments stay cached for the next run).
    """
    from concurrent.futures import ThreadPoolExecutor

    run = runner or render_chunk
    results: list[ChunkResult] = []
    stopping = threading.Event()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aimv-chunk") as pool:
        futures = [pool.submit(_retrying, run, job, on_frames, notice, stopping) for job in jobs]
        try:
            error: BaseException | None = None
            for future in futures:
                try:
                    results.append(future.result())
                except Exception as exc:  # noqa: BLE001 - the first is raised below
                    error = error or exc
                    for other in futures:
                        other.cancel()
            if error is not None:
                raise error
        except KeyboardInterrupt:  # Ctrl-C (or SIGTERM turned into it): stop every chunk now
            stopping.set()  # before the children die: their chunks must not be retried
            for other in futures:
                other.cancel()
            stop_children()
            raise
    return results


def stop_children(sig: int = signal.SIGTERM) -> list[int]:
    """Signal this process's own child processes (the chunks' Blender and ffmpeg processes),
    each with its process group when it leads one. Linux only (reads /proc); returns the pids.

    The chunk threads wait on their children; once those end, the threads end too.
    """
    me, hit = os.getpid(), []
    try:
        entries = [e for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return hit
    for entry in entries:
        try:
            with open(os.path.join(entry.path, "stat")) as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid != me:
            continue
        pid = int(entry.name)
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
            hit.append(pid)
        except OSError:
            continue
    return hit


def render_to_file(
    request: ChunkedRequest, *, output: Path, force: bool, progress: Progress
) -> ChunkedResult:
    """:func:`render_chunked` into ``output``: written beside it and renamed when complete.

    An existing ``output`` is replaced only with ``force``. Used for a saved scene (the
    panel's Render); ``aimv render`` of a song keeps its own stamp of what made the video.
    """
    from dataclasses import replace

    from aimv_backend.errors import OutputError
    from aimv_backend.util.files import ensure_output_dir

    output = Path(output)
    if output.suffix.lower() != ".mp4":
        raise ParameterError(f"--output must name an .mp4 file, got {str(output)!r}")
    if output.exists() and not force:
        raise OutputError(f"{str(output)!r} exists; use --force to overwrite it")
    ensure_output_dir(output.parent if str(output.parent) else Path("."), what="video folder")
    ensure_output_dir(request.work_dir, what="work folder")
    partial = output.with_name(f".{output.stem}.partial.mp4")
    try:
        result = render_chunked(replace(request, output=partial), progress=progress)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return replace(result, output=output)
