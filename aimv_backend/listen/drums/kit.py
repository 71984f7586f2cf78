"""The kit-relative drum gate: a weak onset that sounds like the song's own drums is a hit.

The per-hit gate (detect.DEFAULT_GATE) hears one 0.4 s patch and nothing else. On kits it was
never trained on it loses a quarter to a third of the hits: the classifier is unsure of a
sound it has not met (a brushed hi-hat, a recorded floor tom) and scores it under the gate,
although the same drum passed it elsewhere in the song. A song plays one kit, and each drum of
it sounds nearly the same every time, so:

* every onset scoring at least ``floor`` (but under the gate) is compared with the onsets that
  passed the gate, on the classifier's pooled features (what its last layer reads) joined
  with a level-free attack/decay fingerprint of the patch (``fingerprints``);
* it is a hit when at least ``neighbours`` gated hits lie within cosine distance ``distance``
  of it: it sounds like a drum this song has already played, several times.

A melodic note rarely has such neighbours (the song's confident drums are not like it), so a
bed with no drums gains no hits; the rescued onset keeps its own scores (its best piece is its
hit, at the score the classifier gave it). Measured and tuned on kits the shipped weights never
saw but that are not the held-out validation kits (docs/benchmarks.md, "Kit-relative step").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aimv_backend.errors import ParameterError
from aimv_backend.listen.drums import features

CHUNK = 1024  # weak onsets compared at once (bounds the similarity matrix's memory)


@dataclass(frozen=True)
class KitGateOptions:
    """floor: lowest best-piece score an onset may have to be rescued (0-1). distance: cosine
    distance (0-2) under which a gated hit counts as the same sound. neighbours: how many such
    gated hits it needs."""

    floor: float = 0.1
    distance: float = 0.08
    neighbours: int = 3

    def __post_init__(self) -> None:
        for name, value, low, high in (
            ("floor", self.floor, 0.0, 1.0),
            ("distance", self.distance, 0.0, 2.0),
        ):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not low < value < high:
                raise ParameterError(f"kit gate {name} must be in ({low}, {high}), got {value!r}")
        n = self.neighbours
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ParameterError(f"kit gate neighbours must be an integer >= 1, got {n!r}")


def fingerprints(power_patches: np.ndarray) -> np.ndarray:
    """A level-free fingerprint (n, 2 * N_MELS + 6) of drum patches (n, frames, bands) of
    power mel: the log spectrum of the attack (first 60 ms) and of the ringing (120-320 ms)
    under the patch's peak, and the decay of the whole patch's level at six times."""
    logp = np.log10(np.maximum(power_patches, 1e-12))
    x = np.maximum(logp - logp.max(axis=(1, 2), keepdims=True), -features.FLOOR_DECADES)
    pre = features.DRUM_PRE_FRAMES
    attack = x[:, pre : pre + 6].mean(axis=1)
    body = x[:, pre + 12 : pre + 32].mean(axis=1)
    env = np.log10(power_patches.sum(axis=2) + 1e-12)
    env = np.maximum(env - env.max(axis=1, keepdims=True), -features.FLOOR_DECADES)
    decay = env[:, [6, 10, 15, 20, 30, 39]]
    return np.concatenate([attack, 0.7 * body, decay], axis=1).astype(np.float32)


def joint_features(embeddings: np.ndarray, power_patches: np.ndarray) -> np.ndarray:
    """Unit vectors (n, d) joining the classifier's pooled features and the fingerprints,
    each scaled to unit length first (the fingerprints centred on the song's mean)."""
    e = embeddings / (np.linalg.norm(embeddings, axis=1, keepdims=True) + 1e-9)
    p = fingerprints(power_patches)
    p = p - p.mean(axis=0, keepdims=True)
    p = p / (np.linalg.norm(p, axis=1, keepdims=True) + 1e-9)
    x = np.concatenate([0.5 * e, 0.5 * p], axis=1)
    return (x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)).astype(np.float32)


def kit_gate(
    scores: np.ndarray,
    embeddings: np.ndarray,
    power_patches: np.ndarray,
    *,
    gate: float,
    options: KitGateOptions | None = None,
) -> np.ndarray:
    """Which onsets are drum hits (bool, n): those whose best score reaches ``gate``, and the
    weaker ones (best score >= options.floor) that sound like enough of them.

    scores: (n, pieces) probabilities of every onset of one song; embeddings: the classifier's
    pooled features of the same onsets; power_patches: their power mel patches.
    """
    options = options or KitGateOptions()
    best = scores.max(axis=1) if scores.size else np.zeros(scores.shape[0])
    passed = best >= gate
    weak = np.flatnonzero((best >= options.floor) & ~passed)
    if weak.size == 0 or passed.sum() < options.neighbours:
        return passed
    x = joint_features(embeddings, power_patches)
    sources = x[passed]
    keep = passed.copy()
    for i in range(0, weak.size, CHUNK):
        rows = weak[i : i + CHUNK]
        close = (1.0 - x[rows] @ sources.T) <= options.distance
        keep[rows[close.sum(axis=1) >= options.neighbours]] = True
    return keep
