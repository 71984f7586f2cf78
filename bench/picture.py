"""What the picture shows, measured from the rendered MP4 (issue 12's figures).

    python bench/picture.py                       # the demo and a generated 3-minute song
    python bench/picture.py --songs demo          # just the demo (about 2 minutes)
    python bench/picture.py --skip-render         # measure the MP4s already in --out
    python bench/picture.py --songs demo --skip-render --compare-with ../main   # speed A/B

For each song it runs ``aimv render SONG -o OUT/NAME.mp4`` (the preview preset: 640x360,
24 fps, Workbench, offline engines) and then reads only the MP4, the audio and the timeline:

- flat-backdrop share: per frame, the share of pixels in its most common colour (colours
  quantised to 5 bits a channel, at 320x180); the median over frames (goal <= 0.15);
- picture change vs spectral flux: Pearson correlation, at the frame rate, of the mean absolute
  change between consecutive frames (160x90) with librosa's onset strength (goal >= 0.5); the
  envelope is first shifted by its latency, calibrated on a click (one frame at 24 fps), so
  that flux[i] is the sound that starts in frame i (the uncalibrated figure is printed too);
- legible words: the share of the timeline's sung words that tesseract reads in a frame inside
  their span (60 % into it, the frame scaled up 2x, as it is and inverted, page modes 6 and 11)
  (goal >= 0.6);

and, in a bpy process, Workbench seconds per frame at 640x360 on the demo's scene through the
add-on's Sequencer -> MP4 path (goal <= 1.5 x 0.085 s), and the scene build time and .blend size
of a synthetic 4-minute song with 600 sung words and a hit on every beat (goal <= 5 s). On a
shared machine, ``--compare-with CHECKOUT`` times Workbench on the same scene for this checkout
and another one in alternation, so the ratio holds whatever the load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FPS = 24
W, H = 640, 360


# --------------------------------------------------------------------------------------------
# Reading the MP4


def _frames(mp4: Path, width: int, height: int):
    """Yield the video's frames as (height, width, 3) uint8 arrays, streamed through ffmpeg."""
    proc = subprocess.Popen(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(mp4),
            "-vf",
            f"scale={width}:{height}",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        stdout=subprocess.PIPE,
    )
    size = width * height * 3
    try:
        while True:
            raw = proc.stdout.read(size)
            if len(raw) < size:
                break
            yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
    finally:
        proc.stdout.close()
        proc.wait()


def flat_share(frame: np.ndarray) -> float:
    """Share of the frame's pixels in its most common colour (5 bits a channel)."""
    q = frame >> 3
    codes = (q[..., 0].astype(np.int32) << 10) | (q[..., 1].astype(np.int32) << 5) | q[..., 2]
    return float(np.bincount(codes.ravel()).max() / codes.size)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9']+", "", text.lower())


def ocr_words(frame: np.ndarray) -> set[str]:
    import pytesseract
    from PIL import Image, ImageOps

    img = Image.fromarray(frame).convert("L")
    img = img.resize((img.width * 2, img.height * 2), Image.LANCZOS)
    # light words on a dark plate: tesseract reads dark on light best, so both polarities
    text = " ".join(
        pytesseract.image_to_string(im, config=f"--psm {p}")
        for im in (img, ImageOps.invert(img))
        for p in (6, 11)
    )
    return {_norm(t) for t in text.split()} - {""}


def flux_latency_frames(fps: int = FPS) -> int:
    """Frames by which librosa's onset-strength envelope (hop = one video frame) lags the sound.

    Calibrated, not assumed: a click at the very start of video frame 12 peaks in the envelope
    at frame 12 + latency (1 at 24 fps: librosa shifts a centred envelope by n_fft / (2 hop)
    frames on top of its one-frame difference lag). Without this, an event drawn on the frame
    where its sound starts counts as a frame early.
    """
    import librosa

    sr = fps * 1000
    y = np.zeros(2 * sr, np.float32)
    start = 12 * 1000
    y[start : start + 200] = np.random.default_rng(0).normal(0.0, 0.5, 200)
    envelope = librosa.onset.onset_strength(y=y, sr=sr, hop_length=1000)
    return int(np.argmax(envelope)) - 12


def _correlation(changes: list[float], flux) -> float:
    """Pearson correlation of picture change and flux over the frames both have (frame 0 has
    no change)."""
    n = min(len(flux), len(changes))
    if n <= 2:
        return float("nan")
    return float(np.corrcoef(np.asarray(changes[1:n]), flux[1:n])[0, 1])


def measure(mp4: Path, audio: Path, timeline_path: Path, fps: int = FPS) -> dict:
    import librosa

    from aimv_timeline import schema as ts

    timeline = ts.read_timeline(timeline_path)
    voiced = [
        (w, win.voice.mode == "spoken")
        for win in timeline.windows
        if win.voice is not None
        for w in win.voice.words
        if _norm(w.text)
    ]
    words = [w for w, spoken in voiced if not spoken]
    wanted: dict[int, list] = {}
    for w, spoken in voiced:
        frame = int((w.start + 0.6 * (w.end - w.start)) * fps)
        wanted.setdefault(frame, []).append((w, spoken))
    shares, changes, prev = [], [], None
    read = read_spoken = 0
    for i, (small, full) in enumerate(zip(_frames(mp4, 160, 90), _frames(mp4, W, H), strict=False)):
        shares.append(flat_share(full[::2, ::2]))
        s = small.astype(np.float32)
        changes.append(0.0 if prev is None else float(np.abs(s - prev).mean()))
        prev = s
        if i in wanted:
            seen = ocr_words(full)
            for w, spoken in wanted[i]:
                if spoken:
                    read_spoken += _norm(w.text) in seen
                else:
                    read += _norm(w.text) in seen
    y, sr = librosa.load(str(audio), sr=fps * 1000, mono=True)
    raw = librosa.onset.onset_strength(y=y, sr=sr, hop_length=1000)
    latency = flux_latency_frames(fps)
    flux = raw[latency:]  # flux[i]: the onsets of video frame i
    return {
        "frames": len(shares),
        "flat_share_median": round(statistics.median(shares), 4),
        "flat_share_max": round(max(shares), 4),
        "change_flux_correlation": round(_correlation(changes, flux), 3),
        "flux_latency_frames": latency,
        "change_flux_correlation_uncalibrated": round(_correlation(changes, raw), 3),
        "sung_words": len(words),
        "legible_share": round(read / len(words), 3) if words else None,
        "spoken_words": len(voiced) - len(words),
        "legible_share_spoken": (
            round(read_spoken / (len(voiced) - len(words)), 3) if len(voiced) > len(words) else None
        ),
    }


# --------------------------------------------------------------------------------------------
# bpy: Workbench speed and scene build time


def synthetic_timeline(folder: Path, *, seconds: int = 240, words: int = 600) -> Path:
    """A 4-minute song's timeline: 1 s windows, 600 words of a 150-word vocabulary, a kick on
    every beat at 120 bpm, a snare on 2 and 4, downbeats, 256x256 noise textures."""
    import soundfile as sf
    from PIL import Image

    from aimv_timeline import schema as ts

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sf.write(folder / "song.wav", np.zeros(seconds * 8000, np.float32), 8000)
    (folder / "textures").mkdir(exist_ok=True)
    vocab = [f"word{i}" for i in range(150)]
    per = [words // seconds + (1 if i < words % seconds else 0) for i in range(seconds)]
    wins, n = [], 0
    for i in range(seconds):
        Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(
            folder / "textures" / f"{i:03d}.png"
        )
        ws = tuple(
            ts.Word(
                text=vocab[(n + k) % 150],
                start=i + 0.05 + 0.3 * k,
                end=i + 0.3 + 0.3 * k,
                probability=0.9,
            )
            for k in range(per[i])
        )
        n += per[i]
        hits = tuple(ts.Hit(time=i + 0.5 * k, piece="kick", score=0.9) for k in range(2))
        hits += (ts.Hit(time=i + 0.5, piece="snare", score=0.8),)
        wins.append(
            ts.Window(
                index=i,
                start=float(i),
                end=float(i + 1),
                volume=ts.Volume(
                    rms_dbfs=-18.0, peak_dbfs=-6.0, relative_db=float(i % 5 - 2), level="normal"
                ),
                colour=ts.Colour(
                    hex="#{:02x}{:02x}{:02x}".format(*rng.integers(0, 255, 3)),
                    name="c",
                    hue=0.0,
                    saturation=0.5,
                    value=0.5,
                    frequency_hz=220.0,
                    source="pitch",
                ),
                voice=ts.Voice(present=True, probability=0.9, words=ws, mode="sung"),
                texture=f"textures/{i:03d}.png",
                hits=hits,
            )
        )
    timeline = ts.Timeline(
        source=ts.Source(
            path=str(folder / "song.wav"),
            sha256="0",
            duration=float(seconds),
            sample_rate=8000,
            channels=1,
            frames=seconds * 8000,
        ),
        window_seconds=1.0,
        windows=tuple(wins),
        rhythm=ts.Rhythm(
            tempo_bpm=120.0,
            beats=tuple(0.5 * k for k in range(2 * seconds)),
            downbeats=tuple(2.0 * k for k in range(seconds // 2)),
        ),
    )
    return ts.write_timeline(timeline, folder / "timeline.json")


def worker(args: argparse.Namespace) -> None:
    """Inside bpy: build time of the synthetic song, Workbench s/frame on the demo's scene."""
    import bpy

    from aimv_blender import keying, render, scene_build
    from aimv_timeline import schema as ts

    out = {}
    tmp = Path(args.tmp)
    big = synthetic_timeline(tmp / "four-minutes")
    timeline = ts.read_timeline(big)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    options = scene_build.BuildOptions(keying=keying.KeyingOptions(fps=FPS), resolution=(W, H))
    t0 = time.perf_counter()
    built = scene_build.build_scene(
        bpy.context.scene, timeline, timeline_dir=big.parent, options=options
    )
    out["build_seconds"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    scene_build.build_scene(bpy.context.scene, timeline, timeline_dir=big.parent, options=options)
    out["rebuild_seconds"] = round(time.perf_counter() - t0, 2)
    out["objects"] = len(bpy.data.objects)
    out["words"] = sum(len(s.appearances) for s in built.keys.lyrics)
    blend = tmp / "four-minutes.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), check_existing=False, copy=True, compress=True)
    out["blend_mb"] = round(blend.stat().st_size / 2**20, 2)

    if args.timeline:
        path = Path(args.timeline)
        timeline = ts.read_timeline(path)
        bpy.ops.wm.read_factory_settings(use_empty=True)
        stage = bpy.context.scene
        built = scene_build.build_scene(stage, timeline, timeline_dir=path.parent, options=options)
        render.configure_engine(stage, engine="workbench", samples=1, textured=built.textured)
        n = min(96, built.frame_end - 1)
        ro = render.RenderOptions(
            output=tmp / "speed.mp4", resolution=(W, H), frames=(2, 1 + n), overwrite=True
        )
        warm = render.RenderOptions(
            output=tmp / "warm.mp4", resolution=(W, H), frames=(1, 1), overwrite=True
        )
        render.render_video(
            render.render_scene(stage, audio=Path(timeline.source.path), options=warm), options=warm
        )
        rs = render.render_scene(stage, audio=Path(timeline.source.path), options=ro)
        t0 = time.perf_counter()
        render.render_video(rs, options=ro)
        out["workbench_s_per_frame"] = round((time.perf_counter() - t0) / n, 4)
    Path(args.result).write_text(json.dumps(out))


SPEED_CODE = """
import sys, time, pathlib
sys.path.insert(0, sys.argv[1])
import bpy
from aimv_blender import render, scene_build
from aimv_timeline import schema as ts
path = pathlib.Path(sys.argv[2])
timeline = ts.read_timeline(path)
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
built = scene_build.build_scene(scene, timeline, timeline_dir=path.parent,
    options=scene_build.BuildOptions(resolution=(640, 360)))
render.configure_engine(scene, engine="workbench", samples=1, textured=built.textured)
scene.render.filepath = sys.argv[3]
scene.frame_set(2); bpy.ops.render.render(write_still=False)
t0 = time.perf_counter()
for f in range(3, 3 + int(sys.argv[4])):
    scene.frame_set(f); bpy.ops.render.render(write_still=False)
print("S_PER_FRAME", (time.perf_counter() - t0) / int(sys.argv[4]))
"""


def speed_ab(other: Path, timeline: Path, *, frames: int = 48, rounds: int = 3) -> dict:
    """Workbench s/frame (render per frame, 640x360) of this checkout and of ``other`` on the
    same timeline, alternating ``rounds`` times so both see the same machine load."""
    out: dict[str, list[float]] = {"this": [], "other": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for name, root in (("other", other), ("this", ROOT)):
                done = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        SPEED_CODE,
                        str(root),
                        str(timeline),
                        str(Path(tmp) / "f.png"),
                        str(frames),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    env={**os.environ, "BLENDER_USER_RESOURCES": tmp},
                )
                line = next(x for x in done.stdout.splitlines() if x.startswith("S_PER_FRAME"))
                out[name].append(float(line.split()[1]))
    this, base = statistics.median(out["this"]), statistics.median(out["other"])
    return {
        "this_s_per_frame": round(this, 4),
        "other_s_per_frame": round(base, 4),
        "ratio": round(this / base, 3),
    }


# --------------------------------------------------------------------------------------------


def song_path(name: str, out: Path) -> Path:
    if name == "demo":
        return ROOT / "examples" / "demo.wav"
    from aimv_testkit import render_bench_song

    return render_bench_song(out / "bench-song.wav", seconds=180.0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--songs", default="demo,bench", help="demo and/or bench (comma-separated)")
    p.add_argument("--out", default="bench-out/picture", help="folder for the MP4s")
    p.add_argument("--skip-render", action="store_true", help="measure existing MP4s only")
    p.add_argument("--fps", type=int, default=FPS, help="frame rate of the renders (default: 24)")
    p.add_argument(
        "--compare-with",
        metavar="CHECKOUT",
        help="also time Workbench on the demo's timeline against another checkout (e.g. main),"
        " alternating runs so both see the same load",
    )
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--timeline", help=argparse.SUPPRESS)
    p.add_argument("--tmp", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return 0
    out = Path(args.out).absolute()
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in [s for s in args.songs.split(",") if s]:
        song = song_path(name, out)
        mp4 = out / f"{name}.mp4"
        t0 = time.perf_counter()
        if not args.skip_render:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "aimv_backend",
                    "render",
                    str(song),
                    "-o",
                    str(mp4),
                    "--preset",
                    "preview",
                    "--fps",
                    str(args.fps),
                    "--offline",
                    "--progress",
                    "none",
                    "--force",
                ],
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        results[name] = {"render_seconds": round(time.perf_counter() - t0, 1)}
        timeline = mp4.with_suffix(".aimv") / "timeline.json"
        results[name].update(measure(mp4, song, timeline, args.fps))
        print(name, json.dumps(results[name]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        demo_timeline = out / "demo.aimv" / "timeline.json"
        cmd = [sys.executable, __file__, "--worker", "--tmp", tmp, "--result", str(result)]
        if demo_timeline.is_file():
            cmd += ["--timeline", str(demo_timeline)]
        subprocess.run(cmd, check=True, env={**os.environ, "BLENDER_USER_RESOURCES": tmp})
        results["blender"] = json.loads(result.read_text())
    print("blender", json.dumps(results["blender"]))
    demo_timeline = out / "demo.aimv" / "timeline.json"
    if args.compare_with and demo_timeline.is_file():
        results["speed_ab"] = speed_ab(Path(args.compare_with).absolute(), demo_timeline)
        print("speed_ab", json.dumps(results["speed_ab"]))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
