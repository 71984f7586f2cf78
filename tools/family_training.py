"""Training data and validation for the instrument-family classifier.

Parts of every GM program of eleven families (tools/listen_data.FAMILY_PARTS) are rendered
from the training soundfonts. A training patch is 1 s of one part, mixed in the power-mel
domain with up to two parts of other families (-12 to +6 dB) and sometimes a drum track;
every part mixed in at -10 dB or louder against the first is a target. Augmentation: EQ
tilt and band shifts, as for the drums.
"""

from __future__ import annotations

import listen_data
import numpy as np

from aimv_backend.listen.drums import features
from aimv_backend.listen.drums.model import PatchModel
from aimv_backend.listen.families import FAMILIES, window_family_scores

FRAMES = features.FAMILY_FRAMES


class FamilySampler:
    def __init__(self, soundfonts, *, seed: int) -> None:
        fs = features.frame_seconds()
        self.mels: list[np.ndarray] = []
        self.segments: dict[str, list[tuple[int, int, int]]] = {f: [] for f in FAMILIES}
        self.drums: list[np.ndarray] = []
        for sf in soundfonts:
            audio, truth = listen_data.parts_set(sf, seed=seed)
            k = len(self.mels)
            self.mels.append(features.power_mel(audio))
            for seg in truth:
                a, b = int(seg.start / fs), int(seg.end / fs) - FRAMES
                self.segments[seg.family].append((k, a, b))
            drum, _ = listen_data.drum_set(sf, seed=seed, groove_seconds=90.0)
            self.drums.append(features.power_mel(drum))

    def _part(self, rng, family: str) -> np.ndarray:
        k, a, b = self.segments[family][rng.integers(len(self.segments[family]))]
        s = int(rng.integers(a, b))
        return self.mels[k][s : s + FRAMES]

    def batch(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        from train_listen_models import _augment

        x = np.zeros((n, FRAMES, features.N_MELS), np.float32)
        y = np.zeros((n, len(FAMILIES)), np.float32)
        for i in range(n):
            if rng.random() < 0.05:  # drums alone: no family
                k = int(rng.integers(len(self.drums)))
                s = int(rng.integers(0, self.drums[k].shape[0] - FRAMES))
                x[i] = self.drums[k][s : s + FRAMES]
                continue
            first = int(rng.integers(len(FAMILIES)))
            main = _augment(self._part(rng, FAMILIES[first])[None], rng)[0]
            mix = main.copy()
            y[i, first] = 1.0
            ref = main.mean() + 1e-12
            n_more = int(rng.choice([0, 0, 1, 1, 2]))
            others = rng.choice([j for j in range(len(FAMILIES)) if j != first], n_more, False)
            for j in others:
                part = _augment(self._part(rng, FAMILIES[j])[None], rng)[0]
                ratio = rng.uniform(-12, 6)
                mix += part * (10 ** (ratio / 10) * ref / (part.mean() + 1e-12))
                if ratio >= -10:
                    y[i, j] = 1.0
            if rng.random() < 0.3:
                k = int(rng.integers(len(self.drums)))
                s = int(rng.integers(0, self.drums[k].shape[0] - FRAMES))
                d = self.drums[k][s : s + FRAMES]
                mix += d * (10 ** (rng.uniform(-15, 3) / 10) * ref / (d.mean() + 1e-12))
            x[i] = mix
        return features.family_inputs(x), y


def validate(model: PatchModel, test_sf: str, *, seed: int) -> dict:
    """Top-1 and top-3 rate of 1 s windows of each family's parts, on a left-out soundfont."""
    audio, truth = listen_data.parts_set(test_sf, seed=seed + 100, seconds_per_program=6.0)
    mel = features.power_mel(audio)
    spans, fams = [], []
    for seg in truth:
        t = seg.start
        while t + 1.0 <= seg.end:
            spans.append((t, t + 1.0))
            fams.append(seg.family)
            t += 1.0
    scores = window_family_scores(mel, spans, [True] * len(spans), model=model)
    out: dict = {"soundfont": test_sf, "windows": len(spans)}
    per: dict[str, list[int]] = {f: [0, 0, 0] for f in FAMILIES}
    for fam, row in zip(fams, scores, strict=True):
        order = [FAMILIES[j] for j in np.argsort(-row)]
        top3 = {_word(f) for f in order[:3]}
        per[fam][0] += order[0] == fam or _word(order[0]) == _word(fam)
        per[fam][1] += _word(fam) in top3
        per[fam][2] += 1
    n = sum(v[2] for v in per.values())
    out["top1"] = sum(v[0] for v in per.values()) / n
    out["top3"] = sum(v[1] for v in per.values()) / n
    out["per_family"] = {f: {"top1": a / c, "top3": b / c} for f, (a, b, c) in per.items()}
    return out


def _word(family: str) -> str:
    return "synth" if family.startswith("synth") else family
