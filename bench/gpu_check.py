"""One prepared check for a machine with an NVIDIA GPU: what AIMV's GPU paths cost there.

Runs in under 8 minutes and downloads nothing: every model is built from its real
architecture with random weights directly on the GPU. Parts: env, sd_turbo, ltx_video,
sdxl_turbo (gpu_parts.py); whisper, blender (gpu_parts_more.py); aimv_clips, aimv_stills
(AIMV's own stages on the GPU) and cogvideox (gpu_parts_aimv.py). Each part runs in
its own child process under its own time cap, so a failure or a hang in one (a missing
package, an out-of-memory error, a driver problem) leaves the others' figures intact.

    python bench/gpu_check.py --out gpu_check.json          # on the GPU machine
    python bench/gpu_check.py --smoke --out /tmp/smoke.json  # tiny configs on the CPU

Prints images/s, seconds per clip, RTF and peak GPU memory, writes them to a JSON file, and
prints an estimate of the time a 3-minute song takes to a 1080p video from those figures.
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
from typing import Any

HERE = Path(__file__).resolve().parent
# Per-part time caps in seconds (the GPU run; --smoke uses the same ones).
CAPS = {
    "env": 45,
    "sd_turbo": 90,
    "ltx_video": 150,
    "sdxl_turbo": 100,
    "whisper": 60,
    "blender": 60,
    "aimv_clips": 150,
    "aimv_stills": 120,
    "cogvideox": 120,
}
SONG_S = 180.0
FPS = 24
WINDOWS_PER_S = 1.0  # AIMV's windows: about one a second (docs/benchmarks.md: 240 in 4 min)
CLIP_S = 5.0  # one generated clip per bar group / phrase of 4-8 s
# CPU stages measured on the 2-core dev box (docs/benchmarks.md, end to end): an upper bound.
LISTEN_CPU_S = 14.0
WHISPER_CPU_RTF = 0.05  # the faster-whisper share of the listening stage on the dev box
DESCRIBE_S = 0.3
WORKBENCH_640_S = 0.085  # dev box, s/frame at 640x360, Workbench + FXAA


def run_part(name: str, smoke: bool, cap_s: float, workdir: Path) -> dict[str, Any]:
    """Run one part in a child process; its figures, or why it has none."""
    result = workdir / f"{name}.json"
    cmd = [sys.executable, str(HERE / "gpu_check.py"), "--part", name, "--result", str(result)]
    cmd += ["--deadline", str(time.time() + cap_s - 3)] + (["--smoke"] if smoke else [])
    env = dict(os.environ, PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    print(f"== {name} (cap {cap_s:.0f} s)", flush=True)
    t0 = time.time()
    try:
        proc = subprocess.run(cmd, env=env, timeout=cap_s, check=False)
        rc: int | str = proc.returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    data: dict[str, Any] = {}
    if result.exists():
        data = json.loads(result.read_text())
    if rc == "timeout":
        data["status"] = f"timeout after {cap_s:.0f} s (figures above it were kept)"
    elif rc != 0 and data.get("status") in (None, "running"):
        data["status"] = f"failed: child exited with {rc}"
    data["wall_s"] = round(time.time() - t0, 1)
    print(f"   {name}: {data.get('status')} in {data['wall_s']} s", flush=True)
    return data


def child(name: str, result: Path, deadline: float, smoke: bool) -> int:
    sys.path[:0] = [str(HERE), str(HERE.parent)]  # the parts; the repository's packages
    import gpu_parts
    import gpu_parts_aimv
    import gpu_parts_more

    parts = {**gpu_parts.PARTS, **gpu_parts_more.PARTS, **gpu_parts_aimv.PARTS}
    rec = gpu_parts.Recorder(result, deadline)
    try:
        parts[name](rec, smoke)
    except Exception as exc:  # noqa: BLE001 - any failure is reported, the next part runs
        msg = " ".join(f"{type(exc).__name__}: {exc}".split())[:600]
        rec.set("status", f"failed: {msg}")
        import traceback

        traceback.print_exc()
        return 1
    if rec.data.get("status") == "running":
        rec.set("status", "ok")
    return 0


def _num(parts: dict[str, Any], part: str, key: str) -> float | None:
    value = parts.get(part, {}).get(key)
    return float(value) if isinstance(value, (int, float)) else None


def estimate(parts: dict[str, Any]) -> dict[str, Any]:
    """Seconds per stage for a 3-minute song to a 1080p 24 fps video, from the figures."""
    est: dict[str, Any] = {"song_s": SONG_S, "fps": FPS, "notes": []}
    notes: list[str] = est["notes"]
    rtf = _num(parts, "whisper", "faster_whisper_beam5_rtf")
    if rtf is None:
        rtf = _num(parts, "whisper", "transformers_greedy_rtf")
        if rtf is not None:
            notes.append(
                "voice: transformers Whisper (greedy) on the GPU stands in for faster-whisper"
            )
    if rtf is None:
        est["listen_s"] = LISTEN_CPU_S
        notes.append("listen: the dev box's CPU figure (14.0 s)")
    else:
        est["listen_s"] = round(LISTEN_CPU_S - WHISPER_CPU_RTF * SONG_S + rtf * SONG_S, 1)
    est["describe_s"] = DESCRIBE_S
    stills = SONG_S * WINDOWS_PER_S
    stage_s, song_s = (
        _num(parts, "aimv_stills", "plain_stage_s"),
        _num(parts, "aimv_stills", "plain_song_s"),
    )
    ips = _num(parts, "sd_turbo", "batch8_images_per_s")
    if stage_s and song_s:  # AIMV's stage measured on a song (distinct prompts only)
        est["stills_sd_turbo_s"] = round(stage_s * SONG_S / song_s, 1)
    elif ips:  # one image per window, batch 8
        est["stills_sd_turbo_s"] = round(stills / ips, 1)
    stage_rtf = _num(parts, "aimv_clips", "stage_rtf")
    clip = _num(parts, "ltx_video", "steps20_cfg3_s_per_clip")
    if stage_rtf:
        est["clips_ltx_s"] = round(SONG_S * stage_rtf, 1)
        notes.append("clips: AIMV's clip stage measured (20 steps, guidance 3, MP4s written)")
    elif clip:
        est["clips_ltx_s"] = round(SONG_S / CLIP_S * clip, 1)
    frames = SONG_S * FPS
    eevee = _num(parts, "blender", "eevee_frame_s") or _num(parts, "blender", "eevee_first_frame_s")
    if eevee:
        est["render_s"] = round(frames * eevee, 1)
        est["render_from"] = "EEVEE on the GPU, measured"
    else:
        est["render_s"] = round(frames * WORKBENCH_640_S * 9, 1)
        est["render_from"] = (
            "NOT measured on a GPU: dev box CPU Workbench 640x360 s/frame x 9 (pixels of 1080p)"
        )
        notes.append(
            "render: no EEVEE figure from this run; the dev box's CPU Workbench figure is scaled"
        )
    base = est["listen_s"] + est["describe_s"] + est["render_s"]
    for key in ("stills_sd_turbo_s", "clips_ltx_s"):
        if key in est:
            est[key.replace("_s", "_total_s", 1)] = round(base + est[key], 1)
    est["textures_only_faster_than_song"] = all(
        est[k] < SONG_S for k in ("stills_sd_turbo_s", "clips_ltx_s") if k in est
    )
    return est


def _summary(parts: dict[str, Any], est: dict[str, Any]) -> list[str]:
    def g(part: str, key: str) -> Any:
        return parts.get(part, {}).get(key, "-")

    lines = [
        f"machine: {g('env', 'gpu')} ({g('env', 'gpu_memory_gib')} GiB), torch {g('env', 'torch')}, "
        f"bf16 matmul {g('env', 'matmul_tflops')} TFLOP/s",
        f"SD-Turbo 512x512 1 step: batch 1 {g('sd_turbo', 'batch1_images_per_s')} images/s, "
        f"batch 8 {g('sd_turbo', 'batch8_images_per_s')} images/s (TAESD "
        f"{g('sd_turbo', 'taesd_batch8_images_per_s')}), peak {g('sd_turbo', 'batch8_peak_gib')} GiB",
        f"SDXL-Turbo 1024x1024: 1 step {g('sdxl_turbo', 'steps1_s_per_image')} s, 4 steps "
        f"{g('sdxl_turbo', 'steps4_s_per_image')} s, peak {g('sdxl_turbo', 'steps4_peak_gib')} GiB",
        f"LTX-Video 768x512 121 frames: 8 steps {g('ltx_video', 'steps8_nocfg_s_per_clip')} s/clip, "
        f"20 steps + CFG {g('ltx_video', 'steps20_cfg3_s_per_clip')} s/clip, peak "
        f"{g('ltx_video', 'peak_gib_all')} GiB",
        f"Whisper base: faster-whisper RTF {g('whisper', 'faster_whisper_beam5_rtf')} "
        f"({g('whisper', 'faster_whisper')}); transformers greedy fp16 RTF "
        f"{g('whisper', 'transformers_greedy_rtf')}",
        f"AIMV stills (make_textures, SD-Turbo size, batch 8): "
        f"{g('aimv_stills', 'plain_images_per_s')} images/s, with continuity "
        f"{g('aimv_stills', 'continuity_images_per_s')} images/s",
        f"AIMV clips (make_clips, LTX size, defaults): {g('aimv_clips', 's_per_clip')} s/clip, "
        f"stage RTF {g('aimv_clips', 'stage_rtf')}, peak {g('aimv_clips', 'peak_gib')} GiB",
        f"CogVideoX-2B 720x480 49 frames: {g('cogvideox', 's_per_step_cfg')} s/step (CFG), "
        f"50 steps ~{g('cogvideox', 'steps50_s_per_clip_extrapolated')} s/clip",
        f"Blender: Cycles {g('blender', 'cycles_frame_s')} s/frame ({g('blender', 'cycles_device')}), "
        f"EEVEE {g('blender', 'eevee_frame_s')} s/frame {g('blender', 'status_detail')}",
        "3-minute song at 1080p: "
        + ", ".join(f"{k} {v}" for k, v in est.items() if k.endswith("_s") and k != "song_s"),
    ]
    return lines + [f"  note: {n}" for n in est["notes"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("gpu_check.json"), help="JSON file to write")
    ap.add_argument("--smoke", action="store_true", help="tiny configs on the CPU (a dry run)")
    ap.add_argument("--parts", default=",".join(CAPS), help="comma-separated parts to run")
    ap.add_argument("--budget-s", type=float, default=450.0, help="total time cap, seconds")
    ap.add_argument("--part", help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.part:
        return child(args.part, args.result, args.deadline, args.smoke)
    start = time.time()
    names = [n.strip() for n in args.parts.split(",") if n.strip()]
    unknown = [n for n in names if n not in CAPS]
    if unknown:
        ap.error(f"--parts: unknown part(s) {unknown}; known: {list(CAPS)}")
    parts: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        for name in names:
            left = args.budget_s - (time.time() - start)
            if left < 10:
                parts[name] = {"status": "skipped: total time budget spent"}
                continue
            parts[name] = run_part(name, args.smoke, min(CAPS[name], left), Path(tmp))
    est = estimate(parts)
    report = {
        "smoke": args.smoke,
        "total_s": round(time.time() - start, 1),
        "parts": parts,
        "estimate_3min_1080p": est,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str))
    print("\n".join(["", "== summary"] + _summary(parts, est)), flush=True)
    print(f"wrote {args.out} ({report['total_s']} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
