"""The cluster-naming experiment of bench/kit_relative.py (measured, not used by AIMV).

Issue 11 follow-up: group a song's gated hits into clusters of "the same drum" and name the
clusters jointly (mean log-probability per piece, a linear assignment in which each further
cluster on a piece pays a penalty, toms ordered by pitch). On the development kits it did not
beat the per-hit names (docs/benchmarks.md, "Kit-relative step"), so it stays here.
"""

from __future__ import annotations

import numpy as np

from aimv_backend.listen.drums import features
from aimv_backend.listen.drums.kit import joint_features
from aimv_backend.listen.drums.pieces import DRUM_PIECES

TOMS = ("tom_floor", "tom_mid", "tom_high")  # low to high
LOG_FLOOR = 1e-3


def ring_pitch(power_patches: np.ndarray) -> np.ndarray:
    """The (fractional) mel band where each patch rings loudest under ~1.2 kHz, 50-300 ms
    after the hit: a tom's pitch, enough to order a kit's toms."""
    import librosa

    hz = librosa.mel_frequencies(features.N_MELS, fmin=features.FMIN, fmax=features.FMAX)
    top = int(np.searchsorted(hz, 1200.0))
    ring = power_patches[:, 8:33, :top].mean(axis=1) + 1e-12
    w = ring / ring.max(axis=1, keepdims=True)
    w = np.where(w >= 0.5, w, 0.0)
    return (w * np.arange(top)).sum(axis=1) / w.sum(axis=1)


def cluster_hits(x: np.ndarray, *, distance: float) -> np.ndarray:
    """Average-linkage clusters (labels 1..k) on cosine distance, cut at ``distance``."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if x.shape[0] < 2:
        return np.ones(x.shape[0], dtype=np.int64)
    return fcluster(linkage(x, method="average", metric="cosine"), distance, "distance")


def name_clusters(scores, cluster, pitch, *, min_hits, penalty, exclusive) -> dict[int, int]:
    """Cluster label -> piece index for clusters of at least ``min_hits`` hits."""
    from scipy.optimize import linear_sum_assignment

    labels = [c for c in np.unique(cluster) if (cluster == c).sum() >= min_hits]
    if not labels:
        return {}
    logp = np.log(np.maximum(scores, LOG_FLOOR))
    mean = np.stack([logp[cluster == c].mean(axis=0) for c in labels])
    ranks = len(labels)
    excl = np.array([p in exclusive for p in DRUM_PIECES], dtype=np.float64)
    cost = np.repeat(-mean, ranks, axis=1) + penalty * np.kron(excl, np.arange(ranks))
    rows, cols = linear_sum_assignment(cost)
    piece = {labels[r]: int(c // ranks) for r, c in zip(rows, cols, strict=True)}
    _order_toms(piece, labels, mean, pitch, cluster)
    return piece


def _order_toms(piece, labels, mean, pitch, cluster) -> None:
    """Re-name tom clusters so that pitch order and floor <= mid <= high agree (a DP)."""
    tom_idx = [DRUM_PIECES.index(t) for t in TOMS]
    rows = [i for i, c in enumerate(labels) if piece[c] in tom_idx]
    if len(rows) < 2:
        return
    rows.sort(key=lambda i: (float(np.median(pitch[cluster == labels[i]])), i))
    score = np.array([[mean[i, tom_idx[t]] for t in range(3)] for i in rows])
    best = np.full((len(rows), 3), -np.inf)
    back = np.zeros((len(rows), 3), dtype=np.int64)
    best[0] = score[0]
    for j in range(1, len(rows)):
        for t in range(3):
            prev = int(np.argmax(best[j - 1, : t + 1]))
            best[j, t] = best[j - 1, prev] + score[j, t]
            back[j, t] = prev
    t = int(np.argmax(best[-1]))
    for j in range(len(rows) - 1, -1, -1):
        piece[labels[rows[j]]] = tom_idx[t]
        t = int(back[j, t])


def rename(scores, embeddings, patches, *, distance, min_hits, penalty, exclusive):
    """The hits' scores with each named cluster's piece swapped to the top of its hits."""
    x = joint_features(embeddings, patches)
    cluster = cluster_hits(x, distance=distance)
    piece = name_clusters(
        scores,
        cluster,
        ring_pitch(patches),
        min_hits=min_hits,
        penalty=penalty,
        exclusive=exclusive,
    )
    out = scores.copy()
    for i, c in enumerate(cluster):
        if c in piece:
            p, q = piece[c], int(np.argmax(out[i]))
            out[i, p], out[i, q] = out[i, q], out[i, p]
    return out
