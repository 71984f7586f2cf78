#!/usr/bin/env python3
"""Render the bundled demo song, examples/demo.wav, and its ground truth demo.truth.json.

26.4 s at 100 bpm in D major (Bm-G-D-A): a quiet piano/pad/choir intro, a verse with bass,
drums and strings ("the ocean", "a city of light"), a loud chorus with electric guitar ("my heart
is on fire"), a quiet breakdown (pad, cello, flute: "the moon"), a loud outro and an ending on
the tonic that fades out; crash cymbals mark the chorus and outro. The vocal is espeak-ng sung
onto chord tones, so every word's time is known exactly. Needs fluidsynth, fluid-soundfont-gm
and espeak-ng; the result is deterministic for given fluidsynth and espeak-ng versions.

    python examples/make_demo.py [--out PATH.wav|.flac|.ogg [--force]] [--sample-rate 44100]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from aimv_backend.errors import AimvError  # noqa: E402
from aimv_testkit import demo_spec, render_song, write_audio  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "demo.wav", help="WAV/FLAC/OGG path")
    parser.add_argument("--sample-rate", type=int, default=44100, help="Hz (default 44100)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    args = parser.parse_args(argv)
    default = args.out.resolve() == (HERE / "demo.wav").resolve()
    if args.out.exists() and not (default or args.force):
        print(f"make_demo: {args.out} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    try:
        song = render_song(demo_spec(), sample_rate=args.sample_rate)
        wav = write_audio(args.out, song.audio, args.sample_rate)
        truth = song.truth.save(args.out.with_suffix(".truth.json"))
    except AimvError as exc:
        print(f"make_demo: {exc}", file=sys.stderr)
        return 2
    voiced = sum(w.voice for w in song.truth.windows)
    print(
        f"wrote {wav} ({song.truth.duration:g} s, {wav.stat().st_size / 1e6:.2f} MB, "
        f"{voiced}/{len(song.truth.windows)} seconds with voice) and {truth}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
