"""Render the 3-minute benchmark song (stereo 44.1 kHz, ~30 % voiced) and print where it is.

Other benchmarks (RTF of analyze, voice, the whole pipeline) need a realistic song with known
content; this one is rendered with fluidsynth and espeak-ng (aimv_testkit.songs) and
cached, so only the first call pays (~10-20 s on 2 cores). Beside the WAV lies
``<name>.truth.json`` with the per-second ground truth (parts, drum hits, words, sections).

    .venv/bin/python bench/make_song.py [--seconds 180] [--seed 0] [--out PATH]

From Python: ``from aimv_testkit import render_bench_song; path = render_bench_song()``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aimv_backend.errors import AimvError  # noqa: E402
from aimv_testkit import render_bench_song  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--out", type=Path, help="WAV path (default: in the synth cache)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    args = parser.parse_args(argv)
    if args.out is not None and args.out.exists() and not args.force:
        print(f"make_song: {args.out} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        path = render_bench_song(
            args.out, seconds=args.seconds, seed=args.seed, sample_rate=args.sample_rate
        )
    except AimvError as exc:
        print(f"make_song: {exc}", file=sys.stderr)
        return 2
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    voiced = sum(w["voice"] for w in truth["windows"]) / len(truth["windows"])
    spoken = sum(w["end"] - w["start"] for w in truth["words"]) / truth["duration"]
    print(
        f"{path}  ({truth['duration']:g} s, {voiced:.0%} of seconds with voice, "
        f"{spoken:.0%} of the time speaking, {time.perf_counter() - t0:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
