"""Real-time factor and peak memory of the core listening stage (volume + colour).

Goal (issue "Listen, part 1"): RTF <= 0.01 and peak RSS <= 300 MB above the interpreter's
baseline for a 3-minute stereo 44.1 kHz song on a 2-core machine. This measures the streaming
volume + colour pass alone (``--beats none --colour spectrum``); ``--with-beats-and-notes``
adds issue 11's beat tracking and basic-pitch notes (the defaults of ``aimv analyze``), which
hold the song once in memory at 22 050 Hz mono (5.3 MB a minute).

    .venv/bin/python bench/analyze_core.py [--seconds 180] [--song PATH] [--with-beats-and-notes]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line, synthetic_song  # noqa: E402

CHILD = """
import json, sys, time
from bench._common import current_rss_mb, peak_rss_mb
from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
base = current_rss_mb()
t0 = time.perf_counter()
full = sys.argv[2] == "1"
options = AnalyzeOptions() if full else AnalyzeOptions(rhythm=None, colour="spectrum")
timeline = analyze_song(sys.argv[1], options=options)
elapsed = time.perf_counter() - t0
print(json.dumps({"elapsed": elapsed, "duration": timeline.source.duration,
                  "windows": len(timeline.windows), "base_mb": base, "peak_mb": peak_rss_mb()}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--song", type=Path, help="analyse this file instead of a synthetic song")
    parser.add_argument("--with-beats-and-notes", action="store_true")
    args = parser.parse_args()
    song = args.song or synthetic_song(
        Path(tempfile.gettempdir()) / f"aimv-bench-song-{int(args.seconds)}s.wav",
        seconds=args.seconds,
    )
    root = Path(__file__).resolve().parent.parent
    # A fresh process, so the peak memory is the analysis's and not the song generator's.
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(song), "1" if args.with_beats_and_notes else "0"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    rtf = r["elapsed"] / r["duration"]
    print(f"machine: {machine_line()}")
    print(f"song: {song} ({r['duration']:.1f} s, {r['windows']} windows)")
    print(f"analysis time: {r['elapsed']:.3f} s")
    print(f"real-time factor: {rtf:.4f} (goal <= 0.01)")
    print(
        f"peak RSS above baseline: {r['peak_mb'] - r['base_mb']:.1f} MB (goal <= 300 MB; "
        f"baseline {r['base_mb']:.1f} MB)"
    )


if __name__ == "__main__":
    main()
