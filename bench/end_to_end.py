"""Song to video: total and per-stage real-time factor and peak memory of ``aimv render``.

Goal (issue "One command from song to music video"): with the offline engines at 640x360,
24 fps, total RTF <= 3 and peak RSS <= 4 GB on a 2-core CPU.

    .venv/bin/python bench/end_to_end.py                 # the 3-minute benchmark song
    .venv/bin/python bench/end_to_end.py --seconds 30    # a shorter cut, for a quick look

Stages run through the same library functions as ``aimv render``, each timed on its own; the
render stage runs in Blender's child process as always. Peak RSS is the larger of this
process's and the largest child's.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="song length (s)")
    parser.add_argument("--song", type=Path, help="use this file instead of the synth song")
    parser.add_argument("--resolution", default="640x360")
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument("--engine", default="workbench")
    parser.add_argument("--keep", type=Path, help="keep the outputs in this folder")
    args = parser.parse_args()

    from aimv_backend.describe import DescribeOptions, describe_timeline
    from aimv_backend.imagine import TextureOptions, make_textures
    from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
    from aimv_backend.listen.instruments import InstrumentOptions
    from aimv_backend.listen.voice import VoiceOptions
    from aimv_backend.progress import SilentProgress
    from aimv_backend.stage.blender_runner import RenderSettings, run_headless
    from aimv_timeline.schema import write_timeline

    if args.song:
        song = args.song
    else:
        from aimv_testkit import render_bench_song

        song = render_bench_song(seconds=args.seconds)
    work = args.keep or Path(tempfile.mkdtemp(prefix="aimv-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    progress = SilentProgress()
    times: dict[str, float] = {}

    t0 = time.perf_counter()
    options = AnalyzeOptions(
        instruments=InstrumentOptions(allow_download=False),
        voice=VoiceOptions(allow_download=False),
    )
    timeline = analyze_song(song, options=options, progress=progress)
    times["listen"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    timeline = describe_timeline(
        timeline, options=DescribeOptions(allow_download=False), progress=progress
    )
    times["describe"] = time.perf_counter() - t0
    path = work / "timeline.json"
    write_timeline(timeline, path)

    t0 = time.perf_counter()
    timeline = make_textures(
        timeline,
        timeline_dir=work,
        progress=progress,
        timeline_path=path,
        options=TextureOptions(engine="procedural", size=(512, 512)),
    )
    times["textures"] = time.perf_counter() - t0

    w, h = (int(x) for x in args.resolution.split("x"))
    settings = RenderSettings(resolution=(w, h), fps=args.fps, engine=args.engine).check()
    video = work / "video.mp4"
    t0 = time.perf_counter()
    run_headless(
        [
            str(song),
            "--timeline",
            str(path),
            "-o",
            str(video),
            "--resolution",
            args.resolution,
            "--fps",
            str(args.fps),
            "--engine",
            args.engine,
            "--force",
        ],
        settings=settings,
        progress=progress,
    )
    times["stage+render"] = time.perf_counter() - t0

    duration = timeline.source.duration
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"machine: {machine_line()}")
    print(
        f"song: {song} ({duration:.1f} s); video: {video} ({args.resolution}, {args.fps} fps, "
        f"{args.engine})"
    )
    for stage, seconds in times.items():
        print(f"  {stage:<13} {seconds:8.1f} s   RTF {seconds / duration:6.3f}")
    total = sum(times.values())
    print(f"total         {total:8.1f} s   RTF {total / duration:6.3f} (goal <= 3)")
    # A child's figure never reads below the parent's size at fork time (it starts as a copy).
    print(
        f"peak RSS: {max(own, child):.0f} MB (backend {own:.0f} MB, largest child "
        f"{child:.0f} MB; goal <= 4096 MB)"
    )


if __name__ == "__main__":
    main()
