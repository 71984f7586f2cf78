"""Compile librosa's numba kernels once, in one process, right after setup.

numba caches compiled kernels beside librosa. When several processes (Ray workers, the chunked
render's helpers, tests) compile the same kernel for the first time at once, they can overwrite
each other's cache entries, and a later process loads a mismatched entry and dies with a
segmentation fault (seen on a fresh setup). Compiling, serially, every kernel AIMV and its tests
reach, for float32 and float64 input, leaves a complete cache that later processes only read.

Usage: ``python tools/warm_numba_cache.py`` (scripts/setup.sh runs it).
"""

from __future__ import annotations

import warnings

import numpy as np


def main() -> int:
    import librosa

    rate = 22050
    rng = np.random.default_rng(0)
    # chroma_cqt's lowest octaves see a 2 s signal downsampled below n_fft: harmless here
    warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)
    for dtype in (np.float32, np.float64):
        y = (0.1 * rng.standard_normal(rate * 2)).astype(dtype)
        librosa.feature.chroma_cqt(y=y, sr=rate)  # cqt, estimate_tuning, piptrack
        librosa.feature.zero_crossing_rate(y)
        librosa.zero_crossings(y)
        librosa.istft(librosa.stft(y))
        librosa.onset.onset_strength(y=y, sr=rate)
        librosa.beat.beat_track(y=y, sr=rate)
        librosa.yin(y, fmin=80, fmax=800, sr=rate)
    print("setup: numba kernels compiled")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
