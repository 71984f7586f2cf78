"""Real-time factor and peak memory of the instrument taggers on a 3-minute song.

Goal (issue "Listen, part 2"): the whole analysis at RTF <= 0.25 on a 2-core CPU with the
offline engines, musicnn being a small part of it (~0.05). PANNs is timed with the checkpoint
given by --panns-checkpoint / $AIMV_PANNS_CHECKPOINT, or with --random-panns a Cnn14 with
random weights (the compute is the same as with the real weights). Each engine runs in its
own process so that its peak RSS is its own; model loading is reported separately.

    .venv/bin/python bench/instruments_speed.py [--seconds 180] [--song PATH]
        [--engines musicnn,panns] [--random-panns] [--panns-checkpoint PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine_line  # noqa: E402

CHILD = """
import json, resource, sys, time
from bench._common import current_rss_mb, peak_rss_mb
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
base = current_rss_mb()
from aimv_backend.audio.io import probe_audio
from aimv_backend.listen.instruments import InstrumentOptions, load_engine, tag_instruments
from aimv_backend.listen.windows import make_windows
from aimv_backend.progress import SilentProgress
engine, song, checkpoint = sys.argv[1], sys.argv[2], sys.argv[3] or None
options = InstrumentOptions(engine=engine, panns_checkpoint=checkpoint, allow_download=False)
info = probe_audio(song)
windows = make_windows(frames=info.frames, sample_rate=info.sample_rate, window_seconds=1.0)
t0 = time.perf_counter()
load_engine(options, SilentProgress())
loaded, cpu0 = time.perf_counter(), cpu()
result = tag_instruments(audio_info=info, windows=windows, options=options, progress=SilentProgress())
done, cpu1 = time.perf_counter(), cpu()
print(json.dumps({"engine": result.engine, "load_s": loaded - t0, "tag_s": done - loaded, "cpu_s": cpu1 - cpu0,
                  "duration": info.duration, "windows": len(windows),
                  "confident": sum(any(g.confident for g in w) for w in result.windows),
                  "base_mb": base, "peak_mb": peak_rss_mb()}))
"""


def _song(args: argparse.Namespace) -> Path:
    if args.song:
        return args.song
    from aimv_testkit import render_bench_song

    return render_bench_song(seconds=args.seconds)


def _random_checkpoint(folder: Path) -> Path:
    import torch

    from aimv_backend.listen.instruments import panns_engine as pe

    path = folder / "Cnn14_random.pth"
    torch.save({"model": pe.panns_models_module().Cnn14(**pe.CNN14_KWARGS).state_dict()}, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--song", type=Path, help="tag this file instead of the bench song")
    parser.add_argument("--engines", default="musicnn,panns")
    parser.add_argument("--panns-checkpoint", default=os.environ.get("AIMV_PANNS_CHECKPOINT"))
    parser.add_argument("--random-panns", action="store_true")
    args = parser.parse_args()
    song = _song(args)
    print(f"machine: {machine_line()}")
    print(f"song: {song}")
    with tempfile.TemporaryDirectory(prefix="aimv-bench-") as tmp:
        checkpoint = args.panns_checkpoint or ""
        if args.random_panns and "panns" in args.engines:
            checkpoint = str(_random_checkpoint(Path(tmp)))
        for engine in args.engines.split(","):
            if engine == "panns" and not checkpoint:
                print("panns: skipped (no checkpoint; pass --random-panns or --panns-checkpoint)")
                continue
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, engine, str(song), checkpoint],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                print(f"{engine}: failed\n{proc.stderr.strip()}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"{r['engine']}: RTF {r['tag_s'] / r['duration']:.3f} "
                f"({r['tag_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU for {r['duration']:.0f} s of audio, "
                f"{r['windows']} windows, "
                f"{r['confident']} with a confident instrument); model load {r['load_s']:.1f} s; "
                f"peak RSS {r['peak_mb']:.0f} MB ({r['peak_mb'] - r['base_mb']:.0f} MB above "
                "the interpreter)"
            )


if __name__ == "__main__":
    main()
