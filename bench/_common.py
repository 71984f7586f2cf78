"""Shared helpers for the benchmark scripts: a synthetic test song and memory figures."""

from __future__ import annotations

import os
import platform
import resource
from pathlib import Path

import numpy as np


def machine_line() -> str:
    """One line naming the machine a figure came from."""
    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        mem = "? GiB"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {mem}, "
        f"Python {platform.python_version()}"
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Read from /proc (VmHWM, the high-water mark of this process image) rather than
    getrusage's ru_maxrss, which Linux carries across exec: a child would report its parent's
    peak from before the fork, such as the memory used to generate the test song.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def synthetic_song(path: Path, *, seconds: float = 180.0, sample_rate: int = 44100) -> Path:
    """A stereo 16-bit song of chords, noise drums and a silent gap (numpy only, cached)."""
    if path.exists():
        return path
    import soundfile as sf

    rng = np.random.default_rng(0)
    n = int(seconds * sample_rate)
    out = np.zeros((n, 2), dtype=np.float32)
    beat = int(0.5 * sample_rate)
    chords = [
        (261.63, 329.63, 392.0),
        (220.0, 261.63, 329.63),
        (174.61, 220.0, 261.63),
        (196.0, 246.94, 293.66),
    ]
    t = np.arange(2 * sample_rate) / sample_rate
    for bar, start in enumerate(range(0, n, 2 * sample_rate)):
        chord = chords[bar % len(chords)]
        seg = sum(np.sin(2 * np.pi * f * t) for f in chord) * 0.08
        seg *= 1.0 + 0.8 * (bar % 8 >= 4)  # louder every other 8 s
        end = min(n, start + seg.shape[0])
        out[start:end] += seg[: end - start, None]
    for start in range(0, n - beat, beat):
        hit = rng.standard_normal(beat // 4).astype(np.float32) * np.exp(
            -np.linspace(0, 8, beat // 4)
        )
        out[start : start + hit.shape[0]] += 0.2 * hit[:, None]
    out[int(60 * sample_rate) : int(62 * sample_rate)] = 0.0  # a silent break
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.clip(out, -1, 1), sample_rate, subtype="PCM_16")
    return path
