"""Retrain the shipped drum-piece and instrument-family classifiers (leave-one-soundfont-out).

    .venv/bin/python tools/train_listen_models.py drums            # train, validate, write
    .venv/bin/python tools/train_listen_models.py families
    .venv/bin/python tools/train_listen_models.py drums --train timgm6mb --test fluidr3 --no-write
    .venv/bin/python tools/train_listen_models.py drums --train independent --out /tmp/d.npz
    .venv/bin/python tools/train_listen_models.py drums --train fluidr3,musescore,synth \
        --melodic-share 0.5 --out /tmp/s.npz
    .venv/bin/python tools/train_listen_models.py drums --train fluidr3,musescore,egmd \
        --egmd ~/data/e-gmd-v1.0.0 --out /tmp/e.npz

Data (tools/listen_data.py): drum kits and melodic beds rendered with fluidsynth from the
training soundfonts, mixed at random levels in the power-mel domain (powers of independent
sounds add), with random EQ tilt and band shifts (about +-4 semitones) as augmentation. The
drum default trains on FluidR3_GM and MuseScore_General (one family: MuseScore_General contains
FluidR3 samples) and validates on TimGM6mb, whose samples are independent. TimGM6mb is GPL-2,
so the shipped weights never see it (see docs/models-and-licences.md). Drum figures are also
printed for recorded Hydrogen kits left out of training (HELD_OUT_KITS). ``--train
independent`` adds issue 11's independent kits (tools/drum_sources.py; Debian packages
hydrogen-drumkits, freepats, opl3-soundfont, avldrums.lv2-soundfont). ``egmd`` reads a local
copy of E-GMD, recorded drumming on 43 kits (tools/egmd.py; CC BY 4.0, downloaded by you).

Everything is seeded (numpy, torch, data): the same command gives the same weights on the same
library versions. Runs in a few minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import drum_sources  # noqa: E402
import egmd  # noqa: E402
import kit_eval  # noqa: E402
import listen_data  # noqa: E402

from aimv_backend.listen.drums import features  # noqa: E402
from aimv_backend.listen.drums.detect import (  # noqa: E402
    DEFAULT_GATE,
    DEFAULT_KIT_GATE,
    DEFAULT_PIECE_THRESHOLD,
    MODEL_NAME,
    score_onsets,
)
from aimv_backend.listen.drums.kit import KitGateOptions  # noqa: E402
from aimv_backend.listen.drums.model import (  # noqa: E402
    PatchModel,
    build_net,
    save_weights,
    weights_path,
)
from aimv_backend.listen.drums.pieces import DRUM_PIECES  # noqa: E402
from aimv_backend.listen.families import FAMILIES  # noqa: E402
from aimv_backend.listen.families import MODEL_NAME as FAMILY_MODEL  # noqa: E402

# The GM soundfonts of the shipped weights: FluidR3 + MuseScore (one family of samples).
TRAIN_DEFAULT = ("fluidr3", "musescore")
# The shipped drum weights: those soundfonts alone; 35 % of every batch is melodic onsets, the
# "not a drum" class (MELODIC_SHARE_DEFAULT). ``--train fluidr3,musescore,synth`` adds 32 kits
# synthesised from random parameters (tools/synth_kits.py) at 30 % of the training hits
# (SYNTH_SHARE_DEFAULT): better on the development kits, worse on the held-out ones, so not
# shipped (docs/benchmarks.md, "Synthesised kits").
SYNTH_SHARE_DEFAULT = 0.3
MELODIC_SHARE_DEFAULT = 0.35
# Hits are mixed over beds from BED_DB_DEFAULT[0] to [1] dB (the bed's patch power over the
# hit's); --bed-db widens it.
BED_DB_DEFAULT = (-25.0, 8.0)
# Issue 11's independent kits, every one with a licence that allows shipping weights
# (docs/models-and-licences.md): the OPL3 FM soundfont, AVL's recorded Red Zeppelin kit,
# freepats' drum set and six Hydrogen kits (two recorded acoustic, four electronic). Trained
# with them (--train fluidr3,musescore,opl3,...), the classifier did not do better on the
# held-out kits (docs/benchmarks.md), so the shipped weights do not use them yet. csound's
# sf_GMbank is not among them: it shares samples with TimGM6mb, the soundfont left out.
INDEPENDENT_KITS = (
    "opl3",
    "avl-redzep",
    "freepats",
    "h2-colombo",
    "h2-rumpf",
    "h2-audiophob",
    "h2-electricempire",
    "h2-hardelectro",
    "h2-varibreaks",
)
FAMILY_TRAIN_DEFAULT = ("fluidr3", "musescore")  # the family classifier: melodic parts
TEST_DEFAULT = "timgm6mb"
# Recorded acoustic kits never trained on (Hydrogen kits whose licence keeps them out of
# shipped weights; no sample shared with a training source): the second figure.
HELD_OUT_KITS = ("h2-forzee", "h2-millo", "h2-bja")
# Melodic beds come from the soundfonts that have melodic programs; a sample kit left out is
# mixed over TimGM6mb's beds (also never trained on).
BED_SOURCES = ("fluidr3", "musescore", "opl3", "timgm6mb")
TEST_BEDS = "timgm6mb"
TAIL_GAP = 5  # frames between a "no new hit" patch and any hit's patch


class DrumSampler:
    """Random training patches mixed from drum tracks and melodic beds (power mel)."""

    def __init__(
        self,
        soundfonts,
        *,
        seed: int,
        groove_seconds: float,
        balance: float = 0.0,
        synth_share: float | None = None,
        melodic_share: float = MELODIC_SHARE_DEFAULT,
        bed_db: tuple[float, float] = BED_DB_DEFAULT,
    ) -> None:
        """balance: hits are drawn per source with weight (hits of the source) ** (1 - balance)
        (0: every hit alike, 1: every source alike). synth_share: the share of hits drawn
        from synthesised kits (drum_sources.SYNTH_KITS; None: as many as they have).
        melodic_share: the share of a batch that is melodic onsets (the "not a drum" class).
        bed_db: the range of a bed's level over the hit it is mixed with (dB of patch power)."""
        self.kind_p = [0.9 - melodic_share, melodic_share, 0.10]
        self.bed_db = bed_db
        self.drums: list[np.ndarray] = []
        self.beds: list[np.ndarray] = []
        self.pos: list[tuple[int, int, np.ndarray]] = []
        self.bed_onsets: list[tuple[int, int]] = []
        self.tails: list[np.ndarray] = []
        fs = features.frame_seconds()
        source_of: list[int] = []
        for n_sf, sf in enumerate(soundfonts):
            for reverb in (False, True):
                audio, truth = listen_data.drum_set(
                    sf, seed=seed, groove_seconds=groove_seconds, reverb=reverb
                )
                k = len(self.drums)
                mel = features.power_mel(audio)
                self.drums.append(mel)
                starts = np.array(
                    [int(round(e.time / fs)) - features.DRUM_PRE_FRAMES for e in truth]
                )
                for e, s in zip(truth, starts, strict=True):
                    y = np.zeros(len(DRUM_PIECES), np.float32)
                    y[[DRUM_PIECES.index(p) for p in e.pieces]] = 1.0
                    self.pos.append((k, int(s), y))
                    source_of.append(n_sf)
                free = np.ones(mel.shape[0], bool)
                for s in starts:
                    free[max(s - TAIL_GAP + 1, 0) : s + TAIL_GAP] = False
                free[:TAIL_GAP] = False
                free[-features.DRUM_FRAMES :] = False
                self.tails.append(np.flatnonzero(free))
            if sf not in BED_SOURCES:
                continue
            audio, onsets = listen_data.bed_set(sf, seed=seed)
            b = len(self.beds)
            self.beds.append(features.power_mel(audio))
            for t in onsets:
                self.bed_onsets.append((b, int(round(t / fs)) - features.DRUM_PRE_FRAMES))
        src = np.array(source_of)
        count = np.bincount(src).astype(np.float64)
        w = count[src] ** -balance
        self.pos_p = None if balance == 0 else w / w.sum()
        if synth_share is not None:
            synth = np.array([soundfonts[i] in drum_sources.SYNTH_KITS for i in src])
            if synth.all() or not synth.any():
                raise ValueError("synth_share needs synthesised and other kits in training")
            w = w / np.where(
                synth, w[synth].sum() / synth_share, w[~synth].sum() / (1 - synth_share)
            )
            self.pos_p = w / w.sum()

    def batch(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """n normalised patches and their multi-hot targets.

        55 %: a hit (70 % of them over a bed, the bed bed_db against the hit: -25 to +8 dB by
        default); 35 % (melodic_share): a melodic onset (half over a ringing drum); 10 %: a
        drum ringing with no new hit.
        """
        n_pieces = len(DRUM_PIECES)
        kinds = rng.choice(3, size=n, p=self.kind_p)
        y = np.zeros((n, n_pieces), np.float32)
        drum = np.zeros((n, features.DRUM_FRAMES, features.N_MELS), np.float32)
        bed = np.zeros_like(drum)
        has_drum = np.zeros(n, bool)
        has_bed = np.zeros(n, bool)
        ratio = np.zeros(n)
        hit = np.flatnonzero(kinds == 0)
        if self.pos_p is None:
            pick = rng.integers(len(self.pos), size=hit.size)
        else:
            pick = rng.choice(len(self.pos), size=hit.size, p=self.pos_p)
        for i, j in zip(hit, pick, strict=True):
            k, s, label = self.pos[j]
            drum[i] = self._patch(self.drums[k], s + int(rng.integers(-2, 3)))
            y[i] = label
        has_drum[hit] = True
        over = hit[rng.random(hit.size) < 0.7]
        has_bed[over] = True
        ratio[over] = rng.uniform(*self.bed_db, over.size)
        note = np.flatnonzero(kinds == 1)
        has_bed[note] = True
        ringing = note[rng.random(note.size) < 0.5]
        has_drum[ringing] = True
        ratio[ringing] = rng.uniform(-5, 20, ringing.size)
        tail = np.flatnonzero(kinds == 2)
        has_drum[tail] = True
        tail_bed = tail[rng.random(tail.size) < 0.5]
        has_bed[tail_bed] = True
        ratio[tail_bed] = rng.uniform(-25, 0, tail_bed.size)
        for i in np.concatenate([ringing, tail]):
            drum[i] = self._tail_patch(rng)
        for i in np.flatnonzero(has_bed):
            bed[i] = self._bed_patch(rng, at_onset=bool(kinds[i] == 1 or rng.random() < 0.5))
        drum = _augment(drum, rng)
        bed = _augment(bed, rng, shift=False)
        gain = (
            10 ** (ratio / 10) * (drum.mean(axis=(1, 2)) + 1e-12) / (bed.mean(axis=(1, 2)) + 1e-12)
        )
        gain = np.where(has_drum, gain, 1.0) * has_bed
        mix = drum * has_drum[:, None, None] + gain[:, None, None].astype(np.float32) * bed
        return features.normalise_patches(mix + 1e-10), y

    def _patch(self, mel: np.ndarray, start: int) -> np.ndarray:
        n = mel.shape[0]
        if 0 <= start and start + features.DRUM_FRAMES <= n:
            return mel[start : start + features.DRUM_FRAMES]
        return features.take_patches(mel, np.array([start]), features.DRUM_FRAMES)[0]

    def _bed_patch(self, rng, *, at_onset: bool) -> np.ndarray:
        if at_onset:
            b, s = self.bed_onsets[rng.integers(len(self.bed_onsets))]
            s += int(rng.integers(-2, 3))
        else:
            b = int(rng.integers(len(self.beds)))
            s = int(rng.integers(0, self.beds[b].shape[0] - features.DRUM_FRAMES))
        return self._patch(self.beds[b], s)

    def _tail_patch(self, rng) -> np.ndarray:
        k = int(rng.integers(len(self.drums)))
        return self._patch(self.drums[k], int(rng.choice(self.tails[k])))


def _augment(patches: np.ndarray, rng: np.random.Generator, *, shift: bool = True) -> np.ndarray:
    """Random EQ tilt (+-8 dB across the bands) and band shift (+-2 mel bands) per patch."""
    n, _, bands = patches.shape
    ramp = np.arange(bands) / (bands - 1) - 0.5
    tilt = 10.0 ** (rng.uniform(-0.8, 0.8, (n, 1)) * ramp[None, :])
    out = patches * tilt[:, None, :].astype(np.float32)
    if shift:
        k = rng.integers(-2, 3, n)
        idx = np.clip(np.arange(bands)[None, :] - k[:, None], 0, bands - 1)
        out = np.take_along_axis(out, idx[:, None, :], axis=2)
    return out


def train(sampler, *, seed: int, steps: int, n_classes: int, batch: int = 128, channels=None):
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, 7])
    net = build_net(n_classes, *(() if channels is None else (channels,)))
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    net.train()
    t0, running = time.time(), 0.0
    for step in range(steps):
        x, y = sampler.batch(rng, batch)
        loss = loss_fn(net(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        value = loss.item()
        running = 0.98 * running + 0.02 * value if step else value
        if step % 200 == 0 or step == steps - 1:
            print(f"  step {step:5d}  loss {running:.4f}  {time.time() - t0:.0f} s", flush=True)
    net.eval()
    return net


def validate(
    model: PatchModel, test_sf: str, *, seed: int, kit: KitGateOptions | None = DEFAULT_KIT_GATE
) -> dict:
    """Figures on a kit left out of training: isolated hits, grooves, grooves in beds.

    kit: the kit-relative gate's settings for the grooves (None: the per-hit gate alone).
    """
    audio, truth = listen_data.drum_set(test_sf, seed=seed + 100, groove_seconds=300.0)
    bed_sf = test_sf if test_sf in BED_SOURCES else TEST_BEDS
    bed, _ = listen_data.bed_set(bed_sf, seed=seed + 100, seconds=audio.shape[0] / features.RATE)
    fs = features.frame_seconds()
    mel = features.power_mel(audio)
    single = [e for e in truth if len(e.pieces) == 1]
    starts = np.array([int(round(e.time / fs)) - features.DRUM_PRE_FRAMES for e in single])
    patches = features.take_patches(mel, starts, model.frames)
    probs = model.probabilities(features.normalise_patches(patches + 1e-10))
    out = {"soundfont": test_sf, "isolated": kit_eval.isolated_accuracy(single, probs)}
    for name, snr in (("dry", None), ("mix+6dB", 6.0), ("mix0dB", 0.0), ("mix-6dB", -6.0)):
        if snr is None:
            mixed = audio
        else:
            bed_part = bed[: audio.shape[0]]
            g = np.sqrt(np.mean(audio**2) / (np.mean(bed_part**2) + 1e-12)) * 10 ** (-snr / 20)
            mixed = audio + g * bed_part
        res = score_onsets(features.power_mel(mixed), model=model, gate=DEFAULT_GATE, kit=kit)
        rep = kit_eval.HitReport()
        rep.add(truth, res.times, res.scores, threshold=DEFAULT_PIECE_THRESHOLD)
        summary = {**rep.summary(), "kit_gate_onsets": int(res.kit.sum())}
        out[name] = {"summary": summary, "per_piece": rep.per_piece()}
    return out


def print_summary(report: dict) -> None:
    """One line per validation kit: isolated hits, then piece right dry and in mixes."""
    if "isolated" not in report:
        print(json.dumps(report, indent=1, default=float))
        return
    kits = {report["soundfont"]: report, **report.get("held_out_kits", {})}
    for name, rep in kits.items():
        cells = [f"isolated {100 * rep['isolated']['right']:.1f}"]
        for track in ("dry", "mix+6dB", "mix0dB", "mix-6dB"):
            cells.append(f"{track} {100 * rep[track]['summary']['piece_right']:.1f}")
        print(f"{name:14} " + "  ".join(cells), flush=True)
        iso = rep["isolated"]
        per = {k[6:]: v for k, v in iso.items() if k.startswith("right:")}
        print("   " + " ".join(f"{p} {100 * v:.0f}" for p, v in per.items()), flush=True)


def _db_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--bed-db={text!r}: give LOW,HIGH in dB") from None
    if not low < high:
        raise argparse.ArgumentTypeError(f"--bed-db={text!r}: LOW must be under HIGH")
    return low, high


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["drums", "families"])
    ap.add_argument(
        "--train",
        help="training sources, comma-separated (default: per model); 'independent' adds "
        "INDEPENDENT_KITS to the default, 'synth' the synthesised kits (tools/synth_kits.py)",
    )
    ap.add_argument("--test", default=TEST_DEFAULT)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, help="training steps (drums 2500, families 1500)")
    ap.add_argument("--groove-seconds", type=float, default=90.0)
    ap.add_argument("--channels", help="conv channels, e.g. 24,48,96 (default 16,32,64)")
    ap.add_argument("--balance", type=float, default=0.0, help="0: hits alike, 1: sources alike")
    ap.add_argument(
        "--synth-share",
        type=float,
        help=f"share of training hits from synthesised kits (default {SYNTH_SHARE_DEFAULT} "
        "when they are trained on)",
    )
    ap.add_argument(
        "--melodic-share",
        type=float,
        default=MELODIC_SHARE_DEFAULT,
        help="share of a batch that is melodic onsets (not a drum)",
    )
    ap.add_argument(
        "--bed-db",
        type=_db_range,
        default=BED_DB_DEFAULT,
        help="drums: a bed's level over the hit it is mixed with, LOW,HIGH in dB "
        f"(default {BED_DB_DEFAULT[0]:g},{BED_DB_DEFAULT[1]:g})",
    )
    ap.add_argument(
        "--held-out",
        default=",".join(HELD_OUT_KITS),
        help="more kits left out of training to validate on (comma-separated, may be empty)",
    )
    ap.add_argument(
        "--egmd",
        type=Path,
        help=f"drums: the unpacked E-GMD folder for --train ...,egmd (else ${egmd.ENV_DIR})",
    )
    ap.add_argument("--no-write", action="store_true", help="validate only, keep shipped weights")
    ap.add_argument("--json", type=Path, help="write the validation figures here")
    ap.add_argument("--out", type=Path, help="write the weights here instead of the shipped file")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # 2 threads spin-wait on a busy 2-core box: 4x the CPU time
    default = TRAIN_DEFAULT if args.what == "drums" else FAMILY_TRAIN_DEFAULT
    groups = {"independent": TRAIN_DEFAULT + INDEPENDENT_KITS, "synth": drum_sources.SYNTH_KITS}
    tokens = (args.train or ",".join(default)).split(",")
    train_sfs = tuple(dict.fromkeys(k for t in tokens if t for k in groups.get(t, (t,))))
    if args.egmd is not None:
        os.environ[egmd.ENV_DIR] = str(args.egmd)
    if "egmd" in train_sfs:
        try:
            egmd.train_performances(egmd.egmd_dir())
        except egmd.EgmdError as e:
            ap.error(str(e))
    synth = set(drum_sources.SYNTH_KITS)
    if args.synth_share is None and synth & set(train_sfs) and not set(train_sfs) <= synth:
        args.synth_share = SYNTH_SHARE_DEFAULT  # synthesised kits beside others: their share
    if args.steps is None:
        args.steps = 2500 if args.what == "drums" else 1500
    t0 = time.time()
    if args.what == "drums":
        sampler = DrumSampler(
            train_sfs,
            seed=args.seed,
            groove_seconds=args.groove_seconds,
            balance=args.balance,
            synth_share=args.synth_share,
            melodic_share=args.melodic_share,
            bed_db=args.bed_db,
        )
        name, classes, frames = MODEL_NAME, DRUM_PIECES, features.DRUM_FRAMES
        print(
            f"data: {len(sampler.pos)} hits, {len(sampler.bed_onsets)} melodic onsets "
            f"({time.time() - t0:.0f} s)",
            flush=True,
        )
    else:
        import family_training

        sampler = family_training.FamilySampler(train_sfs, seed=args.seed)
        name, classes, frames = FAMILY_MODEL, FAMILIES, features.FAMILY_FRAMES
        print(
            f"data: {sum(len(v) for v in sampler.segments.values())} parts "
            f"({time.time() - t0:.0f} s)",
            flush=True,
        )
    channels = tuple(int(c) for c in args.channels.split(",")) if args.channels else None
    net = train(
        sampler, seed=args.seed, steps=args.steps, n_classes=len(classes), channels=channels
    )
    meta = {"trained_on": list(train_sfs), "seed": args.seed, "steps": args.steps}
    if channels:
        meta["channels"] = list(channels)
    if args.what == "drums" and args.balance:
        meta["balance"] = args.balance
    if args.what == "drums" and args.synth_share is not None:
        meta["synth_share"] = args.synth_share
    if args.what == "drums" and args.melodic_share != MELODIC_SHARE_DEFAULT:
        meta["melodic_share"] = args.melodic_share
    if args.what == "drums" and args.bed_db != BED_DB_DEFAULT:
        meta["bed_db"] = list(args.bed_db)
    model = PatchModel(name, classes, frames, net, meta)
    if args.what == "drums":
        report = validate(model, args.test, seed=args.seed)
        held = [k for k in args.held_out.split(",") if k and k not in train_sfs]
        held = [k for k in held if drum_sources.kit_available(k)]
        report["held_out_kits"] = {k: validate(model, k, seed=args.seed) for k in held}
    else:
        report = family_training.validate(model, args.test, seed=args.seed)
    report["trained_on"] = list(train_sfs)
    print_summary(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=float) + "\n")
    if not args.no_write:
        path = args.out or weights_path(name)
        save_weights(net, path=path, classes=classes, frames=frames, meta=meta)
        print(f"wrote {path}")
    print(f"total {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
