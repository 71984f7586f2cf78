"""Benchmark: real-time factor and peak memory of the voice stage (VAD + ASR) on a 3-min song.

The song is the synthetic benchmark song (aimv_testkit: General MIDI band through
fluidsynth, spoken lines by espeak-ng, about 25 % of the time speech, ground truth beside it).
The stage runs in a child process so that its peak RSS is its own.

    python bench/voice_speed.py                      # faster-whisper base, language detected
    python bench/voice_speed.py --asr-model tiny.en
    python bench/voice_speed.py --language en --seconds 60 --asr none

Prints: RTF (stage seconds / song seconds) for a cold run (model load included) and a warm run,
peak RSS, the voiced share found by the VAD, and word accuracy against the song's truth.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == "'")


def child(args: argparse.Namespace) -> None:
    """Run the stage twice on ``args.song`` and print one JSON line of figures."""
    from aimv_backend.audio.io import probe_audio
    from aimv_backend.listen.voice import VoiceOptions, listen_voice
    from aimv_backend.listen.windows import make_windows
    from aimv_backend.progress import SilentProgress

    info = probe_audio(args.song)
    windows = make_windows(frames=info.frames, sample_rate=info.sample_rate, window_seconds=1.0)
    options = VoiceOptions(
        asr=args.asr,
        model=args.asr_model,
        language=args.language,
        allow_download=False,
        music_pass=not args.no_music_pass,
    )
    times, cpu = [], []
    result = None
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        result = listen_voice(
            audio_info=info, windows=windows, options=options, progress=SilentProgress()
        )
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    words = [
        {"text": w.text, "start": w.start, "end": w.end, "window": i}
        for i, v in enumerate(result.windows)
        for w in v.words
    ]
    print(
        json.dumps(
            {
                "duration": info.duration,
                "cold_s": times[0],
                "warm_s": times[1],
                "cold_cpu_s": cpu[0],
                "warm_cpu_s": cpu[1],
                "peak_rss_mib": peak_kib / 1024,
                "engine": result.engine,
                "vad_engine": result.vad_engine,
                "language": result.language,
                "present": [v.present for v in result.windows],
                "words": words,
            }
        )
    )


def score(figures: dict, truth_path: Path) -> dict:
    """Voice-presence agreement per window and how many true words land in their window."""
    if not truth_path.is_file():
        return {}
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    true_voice = [bool(w["voice"]) for w in truth.get("windows", [])]
    present = figures["present"]
    n = min(len(true_voice), len(present))
    agree = sum(true_voice[i] == present[i] for i in range(n)) / max(n, 1)
    by_window: dict[int, set[str]] = {}
    for w in figures["words"]:
        by_window.setdefault(w["window"], set()).add(_norm(w["text"]))
    hits = 0
    true_words = truth.get("words", [])
    for w in true_words:
        i = int(0.5 * (w["start"] + w["end"]))
        if _norm(w["word"]) in by_window.get(i, set()):
            hits += 1
    return {
        "truth_voiced_share": sum(true_voice) / max(len(true_voice), 1),
        "presence_agreement": agree,
        "words_in_right_window": hits / max(len(true_words), 1),
        "true_words": len(true_words),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="song length (s)")
    parser.add_argument("--asr", default="faster-whisper")
    parser.add_argument("--asr-model", default="base")
    parser.add_argument("--language", default=None)
    parser.add_argument("--song", type=Path, default=None, help="analyse this WAV instead")
    parser.add_argument("--no-music-pass", action="store_true", help="voiced regions only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.song is None:
        try:
            from aimv_testkit.songs import render_bench_song
        except ImportError as exc:
            sys.exit(f"voice_speed: the synthetic song needs aimv_testkit ({exc})")
        t0 = time.perf_counter()
        args.song = render_bench_song(seconds=args.seconds)
        print(f"song: {args.song} ({time.perf_counter() - t0:.1f} s to render or reuse)")
    cmd = [sys.executable, __file__, "--child", "--song", str(args.song), "--asr", args.asr,
           "--asr-model", args.asr_model]  # fmt: skip
    if args.no_music_pass:
        cmd += ["--no-music-pass"]
    if args.language:
        cmd += ["--language", args.language]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=dict(os.environ))
    if out.returncode != 0:
        sys.exit(f"voice_speed: the stage failed:\n{out.stderr[-3000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    quality = score(figures, Path(args.song).with_suffix(".truth.json"))
    d = figures["duration"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"engine: {figures['engine']} + {figures['vad_engine']}, language {figures['language']}")
    print(
        f"song: {d:.1f} s, VAD voiced windows {sum(figures['present'])}/{len(figures['present'])}"
    )
    print(
        f"RTF cold (model load included): {figures['cold_s'] / d:.3f} ({figures['cold_s']:.1f} s)"
    )
    print(f"RTF warm: {figures['warm_s'] / d:.3f} ({figures['warm_s']:.1f} s)")
    print(
        f"CPU time (all threads, steadier than wall time when loaded): cold "
        f"{figures['cold_cpu_s']:.1f} s, warm {figures['warm_cpu_s']:.1f} s "
        f"({figures['warm_cpu_s'] / d:.3f} CPU-s per s of song)"
    )
    print(f"peak RSS: {figures['peak_rss_mib']:.0f} MiB")
    for key, value in quality.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    main()
