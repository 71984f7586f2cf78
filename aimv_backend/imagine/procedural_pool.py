"""Procedural textures on every core: worker processes each render a texture and write its PNG.

Why processes, not threads: the generator's numpy/scipy steps and Pillow's PNG encoder hold
the GIL for most of their time (two threads made 60 textures no faster than one), and each
texture is independent, so the images spread over processes cleanly. On the 2-core dev box
the 180 textures of a 3-minute song took 7.5 s in one process, 60 % rendering, 40 % PNG.

Results never depend on the number of workers: an image depends only on its prompt, seed,
size and style, and each PNG is written atomically (cache.save_png) by the worker that made it.
Workers are forked on Linux, and elsewhere the textures are written in this process. Not
spawned: a spawned worker re-runs the caller's main script, which breaks any script that
calls AIMV without an ``if __name__ == "__main__"`` guard. Forking after torch and
onnxruntime have started their threads is safe here because a worker uses only numpy, scipy's
ndimage and Pillow (no OpenMP), and glibc and Python re-arm their own locks in a fork's child.
Workers ignore Ctrl-C (the parent stops the pool) and die with the parent.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aimv_backend.imagine import procedural
from aimv_backend.imagine.cache import save_png
from aimv_timeline.children import die_with_parent

MAX_WORKERS = 8
# Below this many textures per worker, starting the processes (~0.3 s each) costs more than
# it saves.
MIN_JOBS_PER_WORKER = 6


@dataclass(frozen=True)
class TextureJob:
    """One procedural texture to write: what makes it and where it goes (picklable)."""

    prompt: str
    seed: int
    style: procedural.Style
    path: Path


def worker_count(*, jobs: int) -> int:
    """Processes worth starting for ``jobs`` textures: the usable cores, at most MAX_WORKERS,
    and 1 (no pool) when there are too few textures to pay for the start-up."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_WORKERS, jobs // MIN_JOBS_PER_WORKER))


def write_texture(job: TextureJob, *, size: tuple[int, int]) -> Path:
    """Render ``job`` at ``size`` (width, height in pixels) and write its PNG atomically."""
    image = procedural.render_image(job.prompt, seed=job.seed, size=size, style=job.style)
    return save_png(image, job.path)


def _start_worker(parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, forked along
    die_with_parent(parent_pid)


def write_textures(
    jobs: Sequence[TextureJob], *, size: tuple[int, int], workers: int
) -> Iterator[TextureJob]:
    """Write every job's PNG; yield each job, in order, once its file is complete.

    size: (width, height) in pixels. workers: processes; 1 writes them in this process.
    Closing the iterator early (an error, Ctrl-C) cancels the textures not yet started.
    """
    if workers <= 1 or len(jobs) <= 1 or not sys.platform.startswith("linux"):
        for job in jobs:
            write_texture(job, size=size)
            yield job
        return
    import multiprocessing  # noqa: PLC0415 - only when a pool is worth it

    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    try:
        futures = [pool.submit(write_texture, job, size=size) for job in jobs]
        for job, future in zip(jobs, futures, strict=True):
            future.result()
            yield job
    finally:
        # Textures not started are dropped; the ones being written (one per worker, tens of
        # milliseconds) are waited for, so no worker writes after the stage has returned.
        pool.shutdown(wait=True, cancel_futures=True)
