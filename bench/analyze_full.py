"""Real-time factor and peak memory of the whole listening stage with the offline engines.

Goal (issue 11, "Listen, part 3"): RTF <= 0.15 and peak RSS <= 1.5 GB for a 3-minute song with
the default offline engines (beats, basic-pitch notes for the colour, musicnn, silero-vad +
faster-whisper base) on a 2-core CPU. (Part 2's goal was 0.25 and 3 GB.)

    .venv/bin/python bench/analyze_full.py [--seconds 180] [--song PATH] [--language en]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402

CHILD = """
import json, sys, time
from bench._common import current_rss_mb, peak_rss_mb
from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
from aimv_backend.listen.instruments import InstrumentOptions
from aimv_backend.listen.voice import VoiceOptions
base = current_rss_mb()
import faster_whisper.transcribe as fwt
runs = [0]
_encode = fwt.WhisperModel.encode
def counted(self, features):  # the encoder, the recogniser's dearest step
    runs[0] += 1
    return _encode(self, features)
fwt.WhisperModel.encode = counted
language = sys.argv[2] or None
options = AnalyzeOptions(instruments=InstrumentOptions(allow_download=False),
                         voice=VoiceOptions(language=language, allow_download=False))
t0, c0 = time.perf_counter(), time.process_time()
timeline = analyze_song(sys.argv[1], options=options)
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
voiced = sum(1 for w in timeline.windows if w.voice and w.voice.present)
print(json.dumps({"elapsed": elapsed, "cpu": cpu, "duration": timeline.source.duration, "voiced": voiced,
                  "windows": len(timeline.windows), "words": len(timeline.words),
                  "engines": timeline.engines, "base_mb": base, "peak_mb": peak_rss_mb(),
                  "encoder_runs": runs[0]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--song", type=Path, help="analyse this file instead of the synth song")
    parser.add_argument("--language", default="", help="give the language (default: detect)")
    args = parser.parse_args()
    if args.song:
        song = args.song
    else:
        from aimv_testkit import render_bench_song

        song = render_bench_song(seconds=args.seconds)
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(song), args.language],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"machine: {machine_line()}")
    print(
        f"song: {song} ({r['duration']:.1f} s, {r['windows']} windows, {r['voiced']} with "
        f"voice, {r['words']} words)"
    )
    print(f"engines: {r['engines']}")
    print(f"analysis time (models loaded once, included): {r['elapsed']:.1f} s")
    print(f"real-time factor: {r['elapsed'] / r['duration']:.3f} (goal <= 0.15)")
    print(
        f"CPU time (all threads): {r['cpu']:.1f} s, {r['cpu'] / r['duration']:.3f} CPU-s per "
        "s of song (steadier than wall time on a loaded machine)"
    )
    print(f"Whisper encoder runs (30 s windows): {r['encoder_runs']}")
    print(f"peak RSS: {r['peak_mb']:.0f} MB (goal <= 1536 MB; baseline {r['base_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
