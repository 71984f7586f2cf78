"""The kit-relative drum step, designed on development kits (issue 11 follow-up).

    .venv/bin/python bench/kit_relative.py [--json out.json] [--weights A.npz+B.npz]

Development kits: kits the shipped drum classifier never saw that are NOT the held-out
validation kits (TimGM6mb, ForzeeStereo, Millo_MultiLayered2, BJA_Pacific): the OPL3 FM kit,
AVL's Red Zeppelin, freepats and six Hydrogen kits (tools/train_listen_models.py
INDEPENDENT_KITS), rendered as in the validation (isolated hits, then 300 s of random
grooves, seed 100), dry and over FluidR3 beds at +6 and 0 dB. Precision is checked on the
training soundfonts' grooves (FluidR3, MuseScore, over their own beds) and on 300 s of
melodic beds alone (FluidR3, MuseScore, OPL3): hits found where no drum was struck.

Printed: per setting, piece right per hit and hits found (mean over the development kits),
the gated onsets' precision on the training grooves, and hits on the beds alone. Settings:
the per-hit gate alone, plain lower gates, the kit-relative gate (kit.py) by similarity
alone and with its busy rule (BUSY_GRID), and the cluster-naming experiment
(bench/_kit_naming.py). Needs the packages of tools/train_listen_models.py --train
independent.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]  # bench._common; the training tools

BEDS = ("fluidr3", "musescore", "opl3")
TRACKS = (("dry", None), ("mix+6dB", 6.0), ("mix0dB", 0.0))
# The kit gate's busy rule (kit.py): lowest score, seconds either side, gated hits that near.
BUSY_GRID = (
    (0.2, 2.0, 4),
    (0.2, 4.0, 6),
    (0.15, 2.0, 4),
    (0.15, 4.0, 6),
    (0.25, 2.0, 4),
    (0.25, 4.0, 6),
    (0.2, 2.0, 6),
    (0.2, 1.0, 4),
    (0.2, 2.0, 8),
)


@dataclass
class Onsets:
    """Every onset of one track: times (s), probabilities, pooled features, power patches."""

    times: np.ndarray
    probs: np.ndarray
    emb: np.ndarray
    patches: np.ndarray


def onsets_of(audio: np.ndarray, model=None) -> Onsets:
    """model: the shipped drum classifier unless given (an ensemble, --weights)."""
    from aimv_backend.listen.drums import features
    from aimv_backend.listen.drums.detect import DEFAULT_ONSET_DELTA, drum_model

    model = model or drum_model()
    mel = features.power_mel(audio)
    on = features.onset_frames(mel, delta=DEFAULT_ONSET_DELTA)
    patches = features.take_patches(mel, features.drum_patch_starts(on), model.frames)
    probs, emb = model.probabilities_and_embeddings(features.normalise_patches(patches))
    return Onsets(np.maximum(features.hit_seconds(on), 0.0), probs, emb, patches)


def kit_tracks(kit: str, bed_sf: str, model=None) -> tuple[list, dict[str, Onsets]]:
    import listen_data

    from aimv_backend.listen.drums import features

    audio, truth = listen_data.drum_set(kit, seed=100, groove_seconds=300.0)
    bed, _ = listen_data.bed_set(bed_sf, seed=100, seconds=audio.shape[0] / features.RATE)
    out = {}
    for name, snr in TRACKS:
        mixed = audio
        if snr is not None:
            b = bed[: audio.shape[0]]
            g = np.sqrt(np.mean(audio**2) / (np.mean(b**2) + 1e-12)) * 10 ** (-snr / 20)
            mixed = audio + g * b
        out[name] = onsets_of(mixed, model)
    return truth, out


def settings() -> dict:
    """name -> function(Onsets) -> (keep mask, scores)."""
    import _kit_naming

    from aimv_backend.listen.drums.kit import KitGateOptions, kit_gate
    from aimv_backend.listen.drums.pieces import DRUM_PIECES

    def gate(g):
        return lambda o: (o.probs.max(axis=1) >= g, o.probs)

    def kit(*, busy: bool = False, **kw):
        """The kit gate with KitGateOptions(**kw); its busy rule only when ``busy`` (the
        onset times go in)."""
        opts = KitGateOptions(**kw)
        return lambda o: (
            kit_gate(
                o.probs, o.emb, o.patches, gate=0.3, options=opts, times=o.times if busy else None
            ),
            o.probs,
        )

    def naming(**kw):
        def run(o):
            keep = o.probs.max(axis=1) >= 0.3
            out = o.probs.copy()
            if keep.sum() > 1:
                out[keep] = _kit_naming.rename(o.probs[keep], o.emb[keep], o.patches[keep], **kw)
            return keep, out

        return run

    out = {"per-hit gate 0.3 (before)": gate(0.3), "gate 0.2": gate(0.2), "gate 0.1": gate(0.1)}
    for floor, dist, n in ((0.1, 0.08, 3), (0.1, 0.1, 3), (0.1, 0.06, 3), (0.15, 0.1, 3)):
        out[f"kit gate floor {floor} distance {dist} neighbours {n}"] = kit(
            floor=floor, distance=dist, neighbours=n
        )
    for low, seconds, n in BUSY_GRID:
        out[f"kit gate + busy rule {low} within {seconds} s of {n}"] = kit(
            busy=True, busy_floor=low, busy_seconds=seconds, busy_neighbours=n
        )
    every = DRUM_PIECES
    for dist, pen, excl in ((0.05, 0.0, ()), (0.05, 0.3, every), (0.1, 0.5, ("kick",))):
        label = "all pieces" if excl == every else (",".join(excl) or "none")
        out[f"naming distance {dist} penalty {pen} exclusive {label}"] = naming(
            distance=dist, min_hits=4, penalty=pen, exclusive=excl
        )
    return out


def evaluate(*, model=None) -> dict:
    """Every setting on the development kits; model: the shipped classifier unless given."""
    import kit_eval
    import listen_data
    from train_listen_models import INDEPENDENT_KITS, TRAIN_DEFAULT

    runs = settings()
    # Development kits: the independent kits, never in the shipped weights nor held out.
    dev = {k: kit_tracks(k, "fluidr3", model) for k in INDEPENDENT_KITS}
    train = {k: kit_tracks(k, k, model) for k in TRAIN_DEFAULT}
    beds = {b: onsets_of(listen_data.bed_set(b, seed=100, seconds=300.0)[0], model) for b in BEDS}
    report = {}
    for name, fn in runs.items():
        row: dict = {}
        for track, _ in TRACKS:
            right, found = [], []
            for truth, tracks in dev.values():
                o = tracks[track]
                keep, scores = fn(o)
                rep = kit_eval.HitReport()
                rep.add(truth, o.times[keep], scores[keep], threshold=0.3)
                s = rep.summary()
                right.append(s["piece_right"])
                found.append(s["hit_found"])
            row[track] = {"right": float(np.mean(right)), "found": float(np.mean(found))}
            prec = []
            for truth, tracks in train.values():
                o = tracks[track]
                keep, scores = fn(o)
                rep = kit_eval.HitReport()
                rep.add(truth, o.times[keep], scores[keep], threshold=0.3)
                n = int(keep.sum())
                prec.append((n - rep.summary()["false_onsets"]) / max(n, 1))
            row[track]["train_precision"] = float(np.mean(prec))
        row["bed_hits"] = {b: int(fn(o)[0].sum()) for b, o in beds.items()}
        report[name] = row
        print_row(name, row)
    return report


def print_row(name: str, row: dict) -> None:
    cells = []
    for track, _ in TRACKS:
        r = row[track]
        cells.append(
            f"{track} {100 * r['right']:.1f}/{100 * r['found']:.1f}/{100 * r['train_precision']:.1f}"
        )
    beds = "/".join(str(v) for v in row["bed_hits"].values())
    print(f"{name:52} " + "  ".join(cells) + f"  beds {beds}", flush=True)


def main(argv: list[str] | None = None) -> int:
    from bench._common import machine_line
    from bench._drum_ensemble import add_weights_option, model_from_option

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    add_weights_option(ap)
    args = ap.parse_args(argv)
    print(f"machine: {machine_line()}")
    model = model_from_option(args.weights)
    print("per track: piece right / hits found (development kits, mean) / precision of the")
    print(
        "gated onsets on the training grooves; beds: hits on 300 s of beds alone " + "/".join(BEDS)
    )
    report = evaluate(model=model)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
