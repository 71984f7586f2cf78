"""Where a Workbench preview frame's time goes: CPU and wall milliseconds per frame of one
chunk's Blender process, with and without each of the render-speed measures.

    python bench/frame_profile.py                      # 96 frames per case, 2 rounds
    python bench/frame_profile.py --timeline work/timeline.json --first 200 --frames 96

Each case renders the same frames of the same stage (by default a synthetic song with words on
every second, kicks and snares, 256x256 noise textures: bench/picture.py's) in its own bpy
process, the way a chunk does (``aimv_blender.frames_out.render_images``), and prints the
median over ``--rounds`` rounds, run in alternation so each case sees the same machine load.
CPU time is the process's, all threads (Mesa's llvmpipe threads included): on a shared
machine it moves far less than the wall time. The cases:

- ``shipped``: what AIMV does (compositor anti-aliasing without a GPU, idle planes hidden,
  BMP frames straight from the stage scene);
- ``workbench-aa``: Workbench's own anti-aliasing pass (SMAA through llvmpipe) instead;
- ``no-aa``: no anti-aliasing at all (what the compositor pass costs);
- ``planes-drawn``: the fade plane and the flash drawn on every frame (no hide keys);
- ``png``: uncompressed PNG frames instead of BMP;
- ``sequencer``: frames through the "AIMV Render" sequencer scene (the MP4 path's route).

The x264 encode of the segments runs in the backend, outside Blender: ``--encode`` also times
ffmpeg on the shipped case's frames for each x264 preset.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CASES = ("shipped", "workbench-aa", "no-aa", "planes-drawn", "png", "sequencer")


def child(args: argparse.Namespace) -> None:
    """Inside bpy: build the stage, apply one case, render the frames, print the times."""
    import bpy

    from aimv_blender import frames_out, keying, render, scene_build
    from aimv_timeline import schema as ts

    path = Path(args.timeline)
    timeline = ts.read_timeline(path)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    stage = bpy.context.scene
    stage.name = "AIMV Stage"
    built = scene_build.build_scene(
        stage,
        timeline,
        timeline_dir=path.parent,
        options=scene_build.BuildOptions(
            keying=keying.KeyingOptions(fps=24), resolution=(640, 360)
        ),
    )
    render.configure_engine(stage, engine="workbench", samples=1, textured=built.textured)
    case = args.case
    if case in ("workbench-aa", "no-aa"):
        render.remove_compositor_antialiasing(stage)
        stage.display.render_aa = "FXAA" if case == "workbench-aa" else "OFF"
    if case == "planes-drawn":
        for name in ("AIMV Screen Fade", "AIMV Flash"):
            ob = bpy.data.objects.get(name)
            if ob is not None:
                ob.animation_data_clear()
                ob.hide_render = ob.hide_viewport = False
    first, last = args.first, args.first + args.frames - 1
    options = render.RenderOptions(
        output=Path(args.tmp) / "unused.mp4", resolution=(640, 360), frames=(first, last)
    )
    rs = render.render_scene(stage, audio=None, options=options)
    out = Path(args.tmp) / f"frames-{case}"
    frames_out.render_images(stage, frames=(first, first), folder=out)  # warm-up frame
    t0, c0 = time.perf_counter(), time.process_time()
    if case in ("png", "sequencer"):
        scene = rs if case == "sequencer" else stage
        r = scene.render
        if hasattr(r.image_settings, "media_type"):
            r.image_settings.media_type = "IMAGE"
        r.image_settings.file_format = "PNG"
        r.image_settings.color_mode = "RGB"
        r.image_settings.compression = 0
        r.use_sequencer = case == "sequencer"
        r.filepath = str(out / "f_######")
        scene.frame_start, scene.frame_end = first, last
        bpy.ops.render.render(animation=True, scene=scene.name)
    else:
        frames_out.render_images(stage, frames=(first, last), folder=out)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        "BENCH "
        + json.dumps({"wall_ms": 1000 * wall / args.frames, "cpu_ms": 1000 * cpu / args.frames})
    )


def encode_times(frames: Path, first: int, count: int) -> dict[str, dict[str, float]]:
    """Per x264 preset: CPU ms per frame of the backend's segment encode (BMP -> H.264), the
    segment's size in kB and its PSNR (dB) against the BMP frames."""
    import re
    import resource

    from aimv_backend.stage.chunks import EncoderSettings, FrameRange, encode_segment_command

    out = {}
    for preset in ("medium", "faster", "veryfast", "superfast", "ultrafast"):
        segment = frames / f"seg-{preset}.h264"
        command = encode_segment_command(
            frames_dir=frames,
            segment=FrameRange(first, first + count - 1),
            fps=24,
            encoder=EncoderSettings(preset=preset),
            output=segment,
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        source = command[command.index("-framerate") : command.index("-frames:v") + 2]
        psnr = subprocess.run(
            ["ffmpeg", "-nostdin", "-hide_banner", *source, "-i", str(segment)]
            + ["-lavfi", "[1:v][0:v]psnr", "-f", "null", "-"],
            capture_output=True,
            text=True,
        )
        found = re.search(r"PSNR .*average:([0-9.inf]+)", psnr.stderr)
        out[preset] = {
            "cpu_ms": 1000 * used / count,
            "kB": segment.stat().st_size / 1000,
            "psnr_db": float(found.group(1)) if found else float("nan"),
        }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timeline", help="a timeline.json (default: a synthetic song with words)")
    p.add_argument("--first", type=int, default=200, help="first frame timed (default: 200)")
    p.add_argument("--frames", type=int, default=96, help="frames per case (default: 96)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (default: 2)")
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    p.add_argument("--encode", action="store_true", help="also time the x264 presets")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--tmp", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return 0
    sys.path.insert(0, str(ROOT / "bench"))
    from _common import machine_line

    with tempfile.TemporaryDirectory(prefix="aimv-frame-profile-") as tmp:
        env = dict(os.environ, BLENDER_USER_RESOURCES=str(Path(tmp) / "blender"))
        timeline = args.timeline
        if timeline is None:
            from picture import synthetic_timeline

            timeline = str(synthetic_timeline(Path(tmp) / "song", seconds=30, words=60))
        print(f"# {machine_line()}; load {os.getloadavg()[0]:.2f}; {args.frames} frames a case")
        times: dict[str, list[dict]] = {c: [] for c in args.cases}
        for _ in range(args.rounds):
            for case in args.cases:
                command = [sys.executable, __file__, "--child", "--case", case, "--tmp", tmp]
                command += ["--timeline", timeline, "--first", str(args.first)]
                command += ["--frames", str(args.frames)]
                done = subprocess.run(command, env=env, capture_output=True, text=True)
                line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
                if line is None:
                    print(f"{case}: failed: {done.stderr.strip().splitlines()[-1:]}")
                    continue
                times[case].append(json.loads(line[6:]))
        print(f"{'case':<14} {'CPU ms/frame':>12} {'wall ms/frame':>13}")
        for case, rows in times.items():
            if rows:
                cpu = statistics.median(r["cpu_ms"] for r in rows)
                wall = statistics.median(r["wall_ms"] for r in rows)
                print(f"{case:<14} {cpu:>12.1f} {wall:>13.1f}")
        if args.encode and "shipped" in args.cases:
            frames = Path(tmp) / "frames-shipped"
            for preset, row in encode_times(frames, args.first, args.frames).items():
                print(
                    f"x264 {preset:<9} {row['cpu_ms']:>12.1f} CPU ms/frame (BMP decode + "
                    f"encode), {row['kB']:.0f} kB, PSNR {row['psnr_db']:.2f} dB"
                )
        print(f"# load at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
