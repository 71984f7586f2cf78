#!/usr/bin/env python3
"""Describe-stage speed: milliseconds per window (target < 5 ms) and the vectors' load time.

    python bench/describe_speed.py [--windows 600] [--vectors default]

Builds a synthetic timeline (a 10-minute song at 1 s windows by default) with varied
instruments, words and volumes, then times: loading the vectors (once per process),
describing every window the first time (neighbour lists not yet cached) and again (cached).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aimv_timeline.schema import (  # noqa: E402
    INSTRUMENT_CATEGORIES,
    Colour,
    InstrumentGuess,
    Source,
    Timeline,
    Voice,
    Volume,
    Window,
)

WORDS = [
    ("crash", "drum"),
    ("kick", "drum"),
    ("snare", "drum"),
    ("hi-hat", "drum"),
    ("tom", "drum"),
    ("guitar", "guitar"),
    ("electric guitar", "guitar"),
    ("bass", "bass"),
    ("cello", "strings"),
    ("violin", "strings"),
    ("vocal", "vocal"),
    ("piano", "keys"),
    ("organ", "keys"),
    ("synth", "synth"),
    ("trumpet", "brass"),
    ("flute", "woodwind"),
    ("theremin", "other"),
]
LYRICS = ["", "", "heart", "fly me to the moon", "corazón", "ooh ooh", "fire in the sky", ""]
COLOURS = ["teal", "orange", "dark blue", "crimson", "pale green"]


def synthetic_timeline(n: int, seed: int = 0) -> Timeline:
    rng = random.Random(seed)
    windows = []
    for i in range(n):
        picks = rng.sample(WORDS, rng.randint(0, 3))
        text = rng.choice(LYRICS)
        windows.append(
            Window(
                index=i,
                start=float(i),
                end=float(i + 1),
                volume=Volume(
                    rms_dbfs=-20.0,
                    peak_dbfs=-6.0,
                    relative_db=rng.uniform(-15, 15),
                    level=rng.choice(("silent", "quiet", "normal", "loud")),
                ),
                colour=Colour(
                    hex="#336699",
                    name=rng.choice(COLOURS),
                    hue=210.0,
                    saturation=0.5,
                    value=0.6,
                    frequency_hz=220.0,
                    source="pitch",
                ),
                instruments=tuple(
                    InstrumentGuess(
                        label=w.title(), word=w, category=c, score=0.9 - 0.2 * k, confident=k == 0
                    )
                    for k, (w, c) in enumerate(picks)
                ),
                voice=Voice(present=bool(text) or rng.random() < 0.2, probability=0.8, text=text),
            )
        )
    assert all(c in INSTRUMENT_CATEGORIES for _, c in WORDS)
    return Timeline(
        source=Source(
            path="/tmp/x.wav",
            sha256="0" * 64,
            duration=float(n),
            sample_rate=16000,
            channels=1,
            frames=16000 * n,
        ),
        window_seconds=1.0,
        windows=tuple(windows),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=600)
    parser.add_argument("--vectors", default="default")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from aimv_backend.describe import DescribeOptions, describe_timeline, load_space

    space = load_space(args.vectors, allow_download=False)
    load_s = time.perf_counter() - t0
    timeline = synthetic_timeline(args.windows)
    options = DescribeOptions(vectors=args.vectors, allow_download=False)

    t1 = time.perf_counter()
    describe_timeline(timeline, options=options)
    first = time.perf_counter() - t1
    runs = []
    for seed in range(3):
        t2 = time.perf_counter()
        describe_timeline(
            timeline, options=DescribeOptions(seed=seed, vectors=args.vectors, allow_download=False)
        )
        runs.append(time.perf_counter() - t2)
    warm = min(runs)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"vectors: {space.name} ({len(space.candidates)} candidate words)")
    print(f"import + load vectors: {load_s:.2f} s")
    print(
        f"describe {args.windows} windows, first pass: {first:.3f} s "
        f"= {1000 * first / args.windows:.3f} ms/window"
    )
    print(
        f"describe {args.windows} windows, warm:       {warm:.3f} s "
        f"= {1000 * warm / args.windows:.3f} ms/window (target < 5 ms)"
    )
    print(f"peak RSS: {rss_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
