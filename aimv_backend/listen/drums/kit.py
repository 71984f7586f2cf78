"""The kit-relative drum gate: a weak onset that sounds like the song's own drums, or that
falls where they are playing, is a hit.

The per-hit gate (detect.DEFAULT_GATE) hears one 0.4 s patch and nothing else. On kits it was
never trained on it loses a quarter to a third of the hits: the classifier is unsure of a
sound it has not met (a brushed hi-hat, a recorded floor tom) and scores it under the gate,
although the same drum passed it elsewhere in the song. A song plays one kit, and each drum of
it sounds nearly the same every time, so:

* every onset scoring at least ``floor`` (but under the gate) is compared with the onsets that
  passed the gate, on the classifier's pooled features (what its last layer reads) joined
  with a level-free attack/decay fingerprint of the patch (``fingerprints``);
* it is a hit when at least ``neighbours`` gated hits lie within cosine distance ``distance``
  of it: it sounds like a drum this song has already played, several times;
* or (the busy rule) when it scores at least ``busy_floor`` and at least ``busy_neighbours``
  gated hits lie within ``busy_seconds`` of it: the drums are playing there, so a drum-like
  onset between their confident hits is far likelier a drum than a note. In a dense mix the
  classifier is unsure of many real hits (a hi-hat under a band), and a passage with no drums
  has no gated hits to vouch for anything.

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
    gated hits it needs. busy_floor: lowest best-piece score for the busy rule (0-1; None: no
    busy rule). busy_seconds: how near (s, either side) the gated hits must be. busy_neighbours:
    how many gated hits that near make a passage busy."""

    floor: float = 0.1
    distance: float = 0.08
    neighbours: int = 3
    busy_floor: float | None = 0.25
    busy_seconds: float = 4.0
    busy_neighbours: int = 6

    def __post_init__(self) -> None:
        ranges = [
            ("floor", self.floor, 0.0, 1.0),
            ("distance", self.distance, 0.0, 2.0),
            ("busy_seconds", self.busy_seconds, 0.0, math.inf),
        ]
        if self.busy_floor is not None:
            ranges.append(("busy_floor", self.busy_floor, 0.0, 1.0))
        for name, value, low, high in ranges:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not low < value < high:
                raise ParameterError(f"kit gate {name} must be in ({low}, {high}), got {value!r}")
        for name, n in (("neighbours", self.neighbours), ("busy_neighbours", self.busy_neighbours)):
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ParameterError(f"kit gate {name} must be an integer >= 1, got {n!r}")


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
    times: np.ndarray | None = None,
) -> np.ndarray:
    """Which onsets are drum hits (bool, n): those whose best score reaches ``gate``, the
    weaker ones (best score >= options.floor) that sound like enough of them, and (with
    ``times``) the weaker ones that fall among enough of them (the busy rule).

    scores: (n, pieces) probabilities of every onset of one song; embeddings: the classifier's
    pooled features of the same onsets; power_patches: their power mel patches; times: their
    times in seconds, ascending (None: no busy rule).
    """
    options = options or KitGateOptions()
    best = scores.max(axis=1) if scores.size else np.zeros(scores.shape[0])
    passed = best >= gate
    keep = passed.copy()
    if times is not None:
        keep |= in_busy_passage(times, best, passed, options=options)
    weak = np.flatnonzero((best >= options.floor) & ~keep)
    if weak.size == 0 or passed.sum() < options.neighbours:
        return keep
    x = joint_features(embeddings, power_patches)
    sources = x[passed]
    for i in range(0, weak.size, CHUNK):
        rows = weak[i : i + CHUNK]
        close = (1.0 - x[rows] @ sources.T) <= options.distance
        keep[rows[close.sum(axis=1) >= options.neighbours]] = True
    return keep


def in_busy_passage(
    times: np.ndarray, best: np.ndarray, passed: np.ndarray, *, options: KitGateOptions
) -> np.ndarray:
    """Onsets under the gate (bool, n) whose best score reaches options.busy_floor with at least
    options.busy_neighbours gated hits within options.busy_seconds (s) either side of them.

    times: onset times in seconds, ascending; best: each onset's best-piece score; passed:
    which onsets passed the per-hit gate.
    """
    if options.busy_floor is None:
        return np.zeros(times.shape[0], dtype=bool)
    sure = times[passed]
    near = np.searchsorted(sure, times + options.busy_seconds) - np.searchsorted(
        sure, times - options.busy_seconds
    )
    return (best >= options.busy_floor) & ~passed & (near >= options.busy_neighbours)
