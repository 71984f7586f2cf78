"""Run the chunks (and an album's listening and textures) as tasks on an existing Ray cluster.

``aimv render --ray auto`` (or ``--ray ray://head:10001``, or ``--ray 10.0.0.5:6379``)
connects to a running cluster; AIMV starts no scheduler of its own. Each chunk is a Ray task
(1 CPU) that runs :func:`aimv_backend.stage.chunk_worker.render_chunk` on some machine:

- **shared storage** (default): the work folder has the same path on every machine (NFS, a
  cluster file system); tasks read the timeline and textures there and write their segments
  into the work folder's cache.
- **shipped** (``--ray-ship``): the timeline, its textures and the song travel with the task
  through Ray's object store (put once, shared by all tasks); the task renders in a temporary
  folder and returns the encoded segments, which the driver stores in its cache.

A task whose worker dies (killed, out of memory, machine lost) is run again by Ray
(``max_retries``); one that raises a render error is retried too (``retry_exceptions``).
Segments already in the cache are never sent out again, so a killed run resumes where it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from aimv_backend.errors import ParameterError, RenderError
from aimv_backend.stage.chunk_worker import ChunkJob, ChunkResult, render_chunk
from aimv_backend.stage.chunks import FrameRange, SegmentCache

MAX_RETRIES = 3
RETRY_ON = (RenderError, OSError)


def _ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports to anyscale.com
    try:
        import ray
    except ImportError:
        raise ParameterError(
            "--ray needs the ray package: pip install 'aimv[ray]' (scripts/setup.sh --dev)"
        ) from None
    return ray


def connect(address: str):
    """Connect to the cluster at ``address`` ("auto": the one RAY_ADDRESS or `ray start` names),
    unless this process is already connected (tests start a local cluster themselves)."""
    ray = _ray()
    if not ray.is_initialized():
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except ConnectionError as exc:
            raise ParameterError(
                f"--ray {address!r}: cannot connect to a Ray cluster there (none running, or it "
                f"refused this client: {exc})"
            ) from None
    return ray


def cluster_workers(address: str) -> int:
    """How many chunks the cluster can render at once: its CPUs."""
    ray = connect(address)
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _task(job: ChunkJob, bundle: dict | None, runner: Callable[..., ChunkResult]):
    """Inside a Ray worker: render the chunk; shipped inputs come in ``bundle``."""
    if bundle is None:
        return runner(job), {}
    with tempfile.TemporaryDirectory(prefix="aimv-chunk-") as tmp:
        root = Path(tmp)
        for name, data in bundle.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        local = replace(
            job,
            timeline_path=root / "work" / "timeline.json",
            song=root / bundle_song_name(job.song),
            cache_dir=root / "cache",
        )
        result = runner(local)
        cache = SegmentCache(local.cache_dir)
        encoded = {str(s): cache.video(s).read_bytes() for s in result.rendered}
    return result, encoded


def bundle_song_name(song: Path) -> str:
    return "song" + Path(song).suffix.lower()


def make_bundle(job: ChunkJob) -> dict[str, bytes]:
    """The files a shipped chunk needs: timeline.json, its textures and clips, the song."""
    from aimv_timeline.schema import read_timeline

    timeline_path = Path(job.timeline_path)
    work = timeline_path.parent
    bundle = {"work/timeline.json": timeline_path.read_bytes()}
    timeline = read_timeline(timeline_path)
    names = [w.texture for w in timeline.windows if w.texture]
    names += [c.path for c in getattr(timeline, "clips", ())]
    for name in names:
        source = (work / name).resolve()
        if not source.is_relative_to(work.resolve()):
            raise RenderError(f"{name!r}: a file outside the work folder is not shipped")
        bundle[f"work/{name}"] = source.read_bytes()
    bundle[bundle_song_name(job.song)] = Path(job.song).read_bytes()
    return bundle


def run_chunks(
    jobs: Sequence[ChunkJob],
    *,
    address: str,
    ship: bool = False,
    on_frames: Callable[[int], None] | None = None,
    runner: Callable[..., ChunkResult] | None = None,
) -> list[ChunkResult]:
    """Run ``jobs`` as Ray tasks; returns their results (chunks found done are not sent)."""
    ray = connect(address)
    results: list[ChunkResult] = []
    pending: dict = {}
    remote = ray.remote(_task).options(
        num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=list(RETRY_ON)
    )
    bundle_ref = None
    for job in jobs:
        cache = SegmentCache(Path(job.cache_dir))
        todo = tuple(s for s in job.segments if not cache.is_done(s))
        reused = tuple(s for s in job.segments if s not in todo)
        if reused and on_frames is not None:
            on_frames(sum(s.count for s in reused))
        if not todo:
            results.append(ChunkResult(job.index, (), reused, 0.0))
            continue
        sent = replace(job, segments=todo)
        if ship and bundle_ref is None:
            bundle_ref = ray.put(make_bundle(job))
        ref = remote.remote(sent, bundle_ref if ship else None, runner or render_chunk)
        pending[ref] = (job, reused)
    error: RenderError | None = None
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            ref = done[0]
            job, reused = pending.pop(ref)
            try:
                result, encoded = ray.get(ref)
            except ray.exceptions.RayError as exc:
                # The others run on: what they finish stays cached for the next run.
                error = error or RenderError(
                    f"chunk {job.index + 1} failed on the cluster: {_cause(exc)}"
                )
                continue
            cache = SegmentCache(Path(job.cache_dir))
            for segment in result.rendered:
                data = encoded.get(str(segment))
                if data is not None:
                    _store_bytes(cache, segment, data)
            results.append(replace(result, reused=reused + result.reused))
            if on_frames is not None:
                on_frames(sum(s.count for s in result.rendered))
    finally:
        for ref in pending:  # only when interrupted (Ctrl-C): stop the cluster's work too
            ray.cancel(ref, force=True)
    if error is not None:
        raise error
    return sorted(results, key=lambda r: r.index)


def _cause(exc: BaseException) -> str:
    """One line for a task's failure: the exception the task raised, or Ray's reason."""
    as_cause = getattr(exc, "as_instanceof_cause", None)
    cause = as_cause() if as_cause is not None else exc
    text = str(cause).strip().splitlines()
    last = next((line for line in reversed(text) if line.strip()), type(cause).__name__)
    return " ".join(last.split())[:300]


def _store_bytes(cache: SegmentCache, segment: FrameRange, data: bytes) -> None:
    partial = cache.video(segment).with_name(f".{cache.video(segment).name}.shipped")
    try:
        partial.write_bytes(data)
        cache.store(segment, partial)
    finally:
        partial.unlink(missing_ok=True)


def prepare_songs(requests: list, *, address: str) -> dict[int, str]:
    """Listen, describe and make textures of every song as parallel Ray tasks.

    Returns {song index: one-line error} for the songs that failed. The work folders must be
    on storage the workers share.
    """
    ray = connect(address)
    from aimv_backend.album import prepare_song

    remote = ray.remote(prepare_song).options(num_cpus=1, max_retries=MAX_RETRIES)
    refs = [remote.remote(request) for request in requests]
    errors: dict[int, str] = {}
    for i, ref in enumerate(refs):
        try:
            error = ray.get(ref)
        except ray.exceptions.RayError as exc:
            error = " ".join(str(exc).split())[:300]
        if error is not None:
            errors[i] = error
    return errors
