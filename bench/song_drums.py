"""Drum pieces per window on the 3-minute benchmark song: what a viewer of its video would see.

    .venv/bin/python bench/song_drums.py [--json out.json]

The song (bench/make_song.py: FluidR3, a full band with voice) has per-window truth of the drum
pieces struck (piece groups: kick, snare, hihat, tom, crash). The drum step (listen_drums, as
shipped) runs on the song; a window names a group when a hit of it falls in the window. Printed
per group and over all: windows right / windows struck (recall) and windows named / right
(precision), with the kit gate as shipped, without its busy rule, and with the per-hit gate
alone. FluidR3 is a training soundfont, so this measures the dense mix, not an unseen kit.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GROUPS = ("kick", "snare", "hihat", "tom", "crash")  # the truth's groups (bench song)


def _truth_group(piece: str) -> str:
    """The truth file's group of a detected piece (a ride or splash counts as a crash there)."""
    from aimv_backend.listen.drums.pieces import piece_group

    group = piece_group(piece)
    return "crash" if group in ("ride", "splash") else group


def score(truth_windows: list[dict], hits) -> dict:
    """Per group and "all": struck, named, right (window counts) and recall / precision."""
    counts = {g: {"struck": 0, "named": 0, "right": 0} for g in (*GROUPS, "all")}
    for window, found in zip(truth_windows, hits, strict=True):
        struck = set(window["drum_pieces"]) & set(GROUPS)
        named = {_truth_group(h.piece) for h in found} & set(GROUPS)
        for g in GROUPS:
            counts[g]["struck"] += g in struck
            counts[g]["named"] += g in named
            counts[g]["right"] += g in struck and g in named
        counts["all"]["struck"] += len(struck)
        counts["all"]["named"] += len(named)
        counts["all"]["right"] += len(struck & named)
    for c in counts.values():
        c["recall"] = c["right"] / c["struck"] if c["struck"] else float("nan")
        c["precision"] = c["right"] / c["named"] if c["named"] else float("nan")
    return counts


def main(argv: list[str] | None = None) -> int:
    from aimv_backend.audio.io import load_mono, probe_audio
    from aimv_backend.listen.drums import features, listen_drums
    from aimv_backend.listen.drums.detect import DEFAULT_KIT_GATE, drum_model
    from aimv_testkit import render_bench_song
    from bench._common import machine_line

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args(argv)
    song = render_bench_song()
    truth = json.loads(song.with_suffix(".truth.json").read_text())["windows"]
    audio = load_mono(probe_audio(song), sample_rate=features.RATE)
    mel = features.power_mel(audio)
    spans = [(w["start"], w["end"]) for w in truth]
    active = [True] * len(spans)
    print(f"machine: {machine_line()}")
    print(f"song: {song.name}, {len(truth)} windows, {sum(bool(w['drum_pieces']) for w in truth)} "
          "with drums")  # fmt: skip
    drum_model()  # loaded once, before the timings
    report = {}
    settings = {
        "kit gate with its busy rule (shipped)": DEFAULT_KIT_GATE,
        "kit gate without the busy rule": replace(DEFAULT_KIT_GATE, busy_floor=None),
        "per-hit gate alone": None,
    }
    for name, kit in settings.items():
        t0 = time.process_time()
        result = listen_drums(mel=mel, spans=spans, active=active, kit_gate=kit)
        cpu = time.process_time() - t0
        counts = score(truth, result.hits)
        report[name] = {"cpu_seconds": cpu, "windows": counts}
        cells = "  ".join(
            f"{g} {c['right']}/{c['struck']} ({100 * c['precision']:.0f} % precise)"
            for g, c in counts.items()
        )
        print(f"{name}: {cells}  [{cpu:.2f} s CPU]")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
