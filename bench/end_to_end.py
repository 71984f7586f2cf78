"""Song to video: total and per-stage real-time factor and peak memory of ``aimv render``.

Goals: with the offline engines at 640x360, 24 fps on a 2-core CPU, total RTF <= 1.5 (was 3),
peak memory <= 2 GB with 2 workers, join + mux <= 3 % of the render.

    .venv/bin/python bench/end_to_end.py                 # the 3-minute benchmark song
    .venv/bin/python bench/end_to_end.py --seconds 30    # a shorter cut, for a quick look

Stages run through the same library functions as ``aimv render``, each timed on its own; the
render stage is the chunked render (``--workers N`` Blender processes, default: the cores
capped by memory), then the join + mux. Peak memory is sampled over the whole process tree
(PSS: pages shared between the Blender processes counted once).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402
from bench.render import MemorySampler  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="song length (s)")
    parser.add_argument("--song", type=Path, help="use this file instead of the synth song")
    parser.add_argument("--resolution", default="640x360")
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument("--engine", default="workbench")
    parser.add_argument("--keep", type=Path, help="keep the outputs in this folder")
    parser.add_argument("--workers", type=int, help="Blender processes (default: cores, memory)")
    args = parser.parse_args()

    from aimv_backend import describe, imagine, listen, stage
    from aimv_backend.listen.instruments import InstrumentOptions
    from aimv_backend.listen.voice import VoiceOptions
    from aimv_backend.progress import SilentProgress
    from aimv_backend.stage.chunked import ChunkedRequest, ScaleOptions, render_chunked
    from aimv_timeline.names import TIMELINE_FILE
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
    load_before = os.getloadavg()[0]

    t0 = time.perf_counter()
    options = listen.Options(
        instruments=InstrumentOptions(allow_download=False),
        voice=VoiceOptions(allow_download=False),
    )
    timeline = listen.run(song, options=options, progress=progress)
    times["listen"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    timeline = describe.run(
        timeline, options=describe.Options(allow_download=False), progress=progress
    )
    times["describe"] = time.perf_counter() - t0
    path = work / TIMELINE_FILE
    write_timeline(timeline, path)

    t0 = time.perf_counter()
    timeline = imagine.run(
        timeline,
        timeline_dir=work,
        progress=progress,
        timeline_path=path,
        options=imagine.Options(engine="procedural", size=(512, 512)),
    )
    times["imagine"] = time.perf_counter() - t0

    w, h = (int(x) for x in args.resolution.split("x"))
    video = work / "video.mp4"
    t0 = time.perf_counter()
    with MemorySampler() as mem:
        result = render_chunked(
            ChunkedRequest(
                song=song,
                timeline_path=path,
                work_dir=work,
                output=video,
                settings=stage.Options(resolution=(w, h), fps=args.fps, engine=args.engine),
                scale=ScaleOptions(workers=args.workers),
            ),
            progress=progress,
        )
    times["stage+render"] = time.perf_counter() - t0 - result.join_seconds
    times["join+mux"] = result.join_seconds

    duration = timeline.source.duration
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"machine: {machine_line()}; 1-minute load {load_before:.2f} before the run, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    print(
        f"song: {song} ({duration:.1f} s); video: {video} ({args.resolution}, {args.fps} fps, "
        f"{args.engine}, {result.workers} workers, {result.chunks} chunks)"
    )
    for name, seconds in times.items():
        print(f"  {name:<13} {seconds:8.1f} s   RTF {seconds / duration:6.3f}")
    total = sum(times.values())
    print(f"total         {total:8.1f} s   RTF {total / duration:6.3f} (goal <= 1.5)")
    share = 100 * result.join_seconds / result.render_seconds
    print(f"join + mux: {result.join_seconds:.2f} s = {share:.1f} % of the render (goal <= 3 %)")
    print(
        f"peak memory, all processes: {mem.peak_pss:.0f} MB PSS ({mem.peak_rss:.0f} MB RSS "
        f"sum); backend {own:.0f} MB; largest child {mem.peak_one:.0f} MB"
    )


if __name__ == "__main__":
    main()
