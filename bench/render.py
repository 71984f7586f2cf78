"""Render speed of the AIMV stage: seconds per frame per engine and size, and AIMV's overhead.

    python bench/render.py                                  # all engines, 640x360 and 1280x720
    python bench/render.py --engines workbench --frames 12  # just the fast path
    python bench/render.py --engines cycles --samples 4 --sizes 640x360
    python bench/render.py --workers 1 2                    # the chunked render's scaling

With ``--workers`` it renders one synthetic song (``--song-seconds``, 1 s windows, 512x512
textures) through the chunked render (aimv_backend/stage/chunked.py) once per worker count
and prints the render time, the speed-up, the join + mux time and its share of the render,
and the peak memory of all processes together (PSS, shared pages counted once; RSS sum as an
upper bound) and of the largest Blender process.

Each engine runs in its own bpy process (bpy is not re-entrant). For each size it renders a
short range of frames of (a) the AIMV stage built from a synthetic 12-window timeline with
512x512 textures and (b) an empty scene with only a camera, both through the same Video
Sequencer -> MP4 (H.264 + AAC) path the add-on uses, and prints seconds per frame and the
AIMV overhead (a - b). EEVEE without a GPU runs through Mesa's software OpenGL: slow.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_timeline(folder: Path, *, windows: int = 12, side: int = 512) -> Path:
    """A synthetic song + timeline + 512x512 gradient textures (numpy/soundfile/Pillow)."""
    import numpy as np
    import soundfile as sf
    from PIL import Image

    from aimv_timeline import schema as ts

    folder.mkdir(parents=True, exist_ok=True)
    sr = 22050
    t = np.arange(windows * sr) / sr
    sf.write(folder / "song.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    (folder / "textures").mkdir(exist_ok=True)
    ramp = np.linspace(0, 1, side)[None, :, None]
    out = []
    for i in range(windows):
        hue = np.array([(i * 97) % 256, (i * 53 + 80) % 256, (i * 31 + 160) % 256], float)
        img = (hue * (0.4 + 0.6 * ramp) * np.ones((side, 1, 1))).astype(np.uint8)
        Image.fromarray(img).save(folder / "textures" / f"{i:03d}.png")
        loud = i % 3 == 0
        out.append(
            ts.Window(
                index=i,
                start=float(i),
                end=float(i + 1),
                volume=ts.Volume(
                    rms_dbfs=-8.0 if loud else -25.0,
                    peak_dbfs=-3.0,
                    relative_db=6.0 if loud else -3.0,
                    level="loud" if loud else "normal",
                ),
                colour=ts.Colour(
                    hex="#{:02x}{:02x}{:02x}".format(*hue.astype(int)),
                    name="c",
                    hue=0.0,
                    saturation=1.0,
                    value=1.0,
                    frequency_hz=220.0,
                    source="pitch",
                ),
                texture=f"textures/{i:03d}.png",
            )
        )
    timeline = ts.Timeline(
        source=ts.Source(
            path=str(folder / "song.wav"),
            sha256="0",
            duration=float(windows),
            sample_rate=sr,
            channels=1,
            frames=windows * sr,
        ),
        window_seconds=1.0,
        windows=tuple(out),
    )
    return ts.write_timeline(timeline, folder / "timeline.json")


def child(args: argparse.Namespace) -> None:
    """Inside bpy: time each size for the AIMV stage and for an empty scene."""
    import bpy

    from aimv_blender import keying, render, scene_build
    from aimv_timeline import schema as ts

    timeline_path = Path(args.timeline)
    timeline = ts.read_timeline(timeline_path)
    audio = Path(timeline.source.path)
    results = []
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        for kind in ("aimv", "empty"):
            bpy.ops.wm.read_factory_settings(use_empty=True)
            stage = bpy.context.scene
            textured = True
            if kind == "aimv":
                scene_build.build_scene(
                    stage,
                    timeline,
                    timeline_dir=timeline_path.parent,
                    options=scene_build.BuildOptions(
                        keying=keying.KeyingOptions(fps=24), resolution=(w, h)
                    ),
                )
            else:
                cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
                stage.collection.objects.link(cam)
                stage.camera = cam
                stage.render.fps = 24
                stage.frame_start, stage.frame_end = 1, 24 * len(timeline.windows)
                textured = False
            render.configure_engine(
                stage, engine=args.engine, samples=args.samples, textured=textured
            )
            # frames in the middle of the song (past the first window's shader warm-up)
            frames = (25, 24 + args.frames)
            out = Path(args.tmp) / f"{args.engine}-{kind}-{size}.mp4"
            options = render.RenderOptions(
                output=out,
                resolution=(w, h),
                engine=args.engine,
                samples=args.samples,
                frames=frames,
                overwrite=True,
            )
            rs = render.render_scene(stage, audio=audio, options=options)
            # one warm-up frame (shader compilation, texture upload) not counted
            rs.frame_start = rs.frame_end = 24
            warm = render.RenderOptions(
                output=Path(args.tmp) / "warm.mp4",
                resolution=(w, h),
                engine=args.engine,
                overwrite=True,
            )
            render.render_video(rs, options=warm)
            rs.frame_start, rs.frame_end = frames
            t0 = time.perf_counter()
            render.render_video(rs, options=options)
            seconds = (time.perf_counter() - t0) / args.frames
            results.append(
                {"engine": args.engine, "size": size, "kind": kind, "s_per_frame": seconds}
            )
    print("BENCH " + json.dumps(results), flush=True)


def child_build(args: argparse.Namespace) -> None:
    """Inside bpy: how long keying a long song takes (the scene must stay light)."""
    import bpy

    from aimv_blender import keying, scene_build
    from aimv_timeline import schema as ts

    timeline_path = Path(args.timeline)
    timeline = ts.read_timeline(timeline_path)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    t0 = time.perf_counter()
    result = scene_build.build_scene(
        bpy.context.scene,
        timeline,
        timeline_dir=timeline_path.parent,
        options=scene_build.BuildOptions(keying=keying.KeyingOptions(fps=24)),
    )
    seconds = time.perf_counter() - t0
    keys = sum(len(c.keys) for c in result.keys.channels)
    print(
        "BENCH "
        + json.dumps(
            {
                "windows": result.windows,
                "frames": result.frame_end,
                "keys": keys,
                "seconds": seconds,
                "objects": len(bpy.data.objects),
                "materials": len(bpy.data.materials),
            }
        ),
        flush=True,
    )


class MemorySampler:
    """Samples this process tree's memory every ``interval`` seconds in a thread."""

    def __init__(self, interval: float = 0.5):
        import threading

        import psutil

        self.psutil = psutil
        self.interval = interval
        self.peak_pss = self.peak_rss = self.peak_one = 0.0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = self.psutil.Process()
        while not self.stop_event.wait(self.interval):
            pss = rss = 0.0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    info = proc.memory_full_info()
                except self.psutil.Error:
                    continue
                pss += info.pss / 2**20
                rss += info.rss / 2**20
                if proc.pid != me.pid:
                    self.peak_one = max(self.peak_one, info.rss / 2**20)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)

    def __enter__(self) -> MemorySampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join()


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and its waited-for children so far."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def workers_bench(args: argparse.Namespace) -> None:
    """The chunked render of one song with each worker count in ``args.workers``."""
    from _common import machine_line

    from aimv_backend.progress import SilentProgress
    from aimv_backend.stage.blender_runner import RenderSettings
    from aimv_backend.stage.chunked import ChunkedRequest, ScaleOptions, render_chunked
    from aimv_backend.stage.chunks import decoded_frame_hashes

    w, h = (int(v) for v in args.sizes[0].split("x"))
    engine = args.engines[0] if args.engines else "workbench"
    with tempfile.TemporaryDirectory(prefix="aimv-bench-workers-") as tmp:
        os.environ.setdefault("BLENDER_USER_RESOURCES", str(Path(tmp) / "blender"))
        timeline = make_timeline(Path(tmp) / "song", windows=args.song_seconds)
        print(
            f"# {machine_line()}; load {os.getloadavg()[0]:.2f}; {args.song_seconds} s song, "
            f"{w}x{h}, 24 fps, {engine}"
        )
        print(
            f"{'workers':>7} {'render s':>9} {'s/frame':>8} {'speed-up':>8} {'join+mux s':>10} "
            f"{'share':>6} {'peak PSS MB':>11} {'peak RSS sum':>12} {'1 Blender MB':>12}"
        )
        base = None
        reference = None
        for workers in args.workers:
            work = Path(tmp) / f"work-{workers}"
            request = ChunkedRequest(
                song=timeline.parent / "song.wav",
                timeline_path=timeline,
                work_dir=work,
                output=work / "video.mp4",
                settings=RenderSettings(resolution=(w, h), fps=24, engine=engine),
                scale=ScaleOptions(workers=workers),
            )
            work.mkdir()
            cpu0 = _cpu_seconds()
            load0 = os.getloadavg()[0]
            with MemorySampler() as mem:
                result = render_chunked(request, progress=SilentProgress())
            cpu = _cpu_seconds() - cpu0
            base = base or result.render_seconds
            frames = decoded_frame_hashes(result.output)
            reference = reference or frames
            same = "same frames" if frames == reference else "FRAMES DIFFER"
            print(
                f"{workers:>7} {result.render_seconds:>9.1f} "
                f"{result.render_seconds / result.frames:>8.3f} "
                f"{base / result.render_seconds:>7.2f}x {result.join_seconds:>10.2f} "
                f"{100 * result.join_seconds / result.render_seconds:>5.1f}% "
                f"{mem.peak_pss:>11.0f} {mem.peak_rss:>12.0f} {mem.peak_one:>12.0f}  {same}; "
                f"CPU {cpu:.0f} s ({cpu / result.render_seconds:.2f} cores busy); "
                f"load {load0:.2f} -> {os.getloadavg()[0]:.2f}",
                flush=True,
            )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engines", nargs="*", default=["workbench", "eevee", "cycles"])
    p.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    p.add_argument("--frames", type=int, default=6, help="frames timed per case (default: 6)")
    p.add_argument("--samples", type=int, default=4, help="EEVEE/Cycles samples (default: 4)")
    p.add_argument(
        "--long-song",
        type=int,
        default=240,
        metavar="WINDOWS",
        help="also time Build scene for a song of this many 1 s windows (default: 240)",
    )
    p.add_argument(
        "--workers",
        type=int,
        nargs="+",
        metavar="N",
        help="time the chunked render with these worker counts (e.g. 1 2)",
    )
    p.add_argument(
        "--song-seconds",
        type=int,
        default=60,
        help="song length for --workers, in 1 s windows (default: 60)",
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--child-build", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--engine", help=argparse.SUPPRESS)
    p.add_argument("--timeline", help=argparse.SUPPRESS)
    p.add_argument("--tmp", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return 0
    if args.child_build:
        child_build(args)
        return 0
    sys.path.insert(0, str(ROOT / "bench"))
    if args.workers:
        workers_bench(args)
        return 0
    from _common import machine_line

    with tempfile.TemporaryDirectory(prefix="aimv-bench-render-") as tmp:
        env = dict(os.environ, BLENDER_USER_RESOURCES=str(Path(tmp) / "blender"))
        timeline = make_timeline(Path(tmp) / "song")
        print(f"# {machine_line()}; {args.frames} frames per case, samples {args.samples}")
        if args.long_song:
            long_tl = make_timeline(Path(tmp) / "long", windows=args.long_song, side=64)
            cmd = [sys.executable, __file__, "--child-build", "--timeline", str(long_tl)]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True)
            line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
            if line is None:
                print(f"build: failed: {done.stderr.strip().splitlines()[-1:]}")
            else:
                r = json.loads(line[6:])
                print(
                    f"build scene: {r['windows']} windows ({r['frames']} frames at 24 fps), "
                    f"{r['keys']} keys, {r['objects']} objects, {r['materials']} materials "
                    f"in {r['seconds']:.2f} s"
                )
        print(
            f"{'engine':<10} {'size':>9} {'AIMV s/frame':>13} {'empty s/frame':>14} {'overhead':>9}"
        )
        for engine in args.engines:
            cmd = [
                sys.executable,
                __file__,
                "--child",
                "--engine",
                engine,
                "--timeline",
                str(timeline),
                "--tmp",
                tmp,
                "--frames",
                str(args.frames),
                "--samples",
                str(args.samples),
                "--sizes",
                *args.sizes,
            ]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True)
            line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
            if done.returncode != 0 or line is None:
                print(f"{engine:<10} failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            rows = json.loads(line[6:])
            for size in args.sizes:
                a = next(r for r in rows if r["size"] == size and r["kind"] == "aimv")
                b = next(r for r in rows if r["size"] == size and r["kind"] == "empty")
                print(
                    f"{engine:<10} {size:>9} {a['s_per_frame']:>13.3f} "
                    f"{b['s_per_frame']:>14.3f} {a['s_per_frame'] - b['s_per_frame']:>+9.3f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
