"""Scoring drum hits against the truth: per-piece precision and recall, per-hit accuracy.

Shared by tools/train_listen_models.py (leave-one-soundfont-out validation) and
bench/kit_accuracy.py (the figures in docs/benchmarks.md).

* A true hit is *found* when an onset that passed the drum gate lies within TOLERANCE of it.
* Per piece: a true (time, piece) is recalled when a predicted hit of that piece lies within
  TOLERANCE; a predicted (time, piece) is precise when a true one does.
* Per hit ("piece right"): a true hit is right when it is found and the onset's best piece is
  one of the pieces struck then ("coarse": the same group, e.g. any tom for a tom).
* Isolated hits: the best piece of the patch at the true onset (the classifier alone).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from aimv_backend.listen.drums.pieces import DRUM_PIECES, piece_group

TOLERANCE = 0.05


@dataclass
class HitReport:
    """Counts over one or more tracks."""

    true_hits: int = 0
    found: int = 0
    right: int = 0
    right_coarse: int = 0
    false_onsets: int = 0  # gated onsets with no true hit near
    tp: dict = field(default_factory=lambda: defaultdict(int))
    n_true: dict = field(default_factory=lambda: defaultdict(int))
    n_pred: dict = field(default_factory=lambda: defaultdict(int))

    def add(self, truth, times: np.ndarray, scores: np.ndarray, *, threshold: float) -> None:
        """truth: events with .time and .pieces; times/scores: gated onsets (OnsetScores)."""
        true_t = np.array([e.time for e in truth], dtype=np.float64)
        used = np.zeros(len(times), dtype=bool)
        for i, e in enumerate(truth):
            self.true_hits += 1
            for p in e.pieces:
                self.n_true[p] += 1
            if len(times) == 0:
                continue
            j = int(np.argmin(np.abs(times - e.time)))
            if abs(times[j] - e.time) > TOLERANCE:
                continue
            self.found += 1
            used[j] = True
            best = DRUM_PIECES[int(np.argmax(scores[j]))]
            self.right += best in e.pieces
            self.right_coarse += piece_group(best) in {piece_group(p) for p in e.pieces}
            _ = i
        for j, t in enumerate(times):
            near = np.abs(true_t - t) <= TOLERANCE if true_t.size else np.zeros(0, bool)
            if not near.any():
                self.false_onsets += 1
            struck = {p for k in np.flatnonzero(near) for p in truth[k].pieces}
            for c, piece in enumerate(DRUM_PIECES):
                if scores[j, c] >= threshold:
                    self.n_pred[piece] += 1
                    if piece in struck:
                        self.tp[piece] += 1
        # recall per piece uses the predicted-piece matches counted from the truth side
        for e in truth:
            if len(times) == 0:
                continue
            near = np.flatnonzero(np.abs(times - e.time) <= TOLERANCE)
            for p in e.pieces:
                c = DRUM_PIECES.index(p)
                if any(scores[j, c] >= threshold for j in near):
                    self.tp[("recall", p)] += 1

    def per_piece(self) -> dict[str, dict[str, float | int]]:
        out = {}
        for p in DRUM_PIECES:
            n_true, n_pred = self.n_true[p], self.n_pred[p]
            out[p] = {
                "true": n_true,
                "predicted": n_pred,
                "precision": self.tp[p] / n_pred if n_pred else float("nan"),
                "recall": self.tp[("recall", p)] / n_true if n_true else float("nan"),
            }
        return out

    def summary(self) -> dict[str, float]:
        n = max(self.true_hits, 1)
        tp_r = sum(self.tp[("recall", p)] for p in DRUM_PIECES)
        tp_p = sum(self.tp[p] for p in DRUM_PIECES)
        n_true = sum(self.n_true.values())
        n_pred = sum(self.n_pred.values())
        return {
            "true_hits": self.true_hits,
            "hit_found": self.found / n,
            "piece_right": self.right / n,
            "piece_right_coarse": self.right_coarse / n,
            "false_onsets": self.false_onsets,
            "micro_precision": tp_p / n_pred if n_pred else float("nan"),
            "micro_recall": tp_r / n_true if n_true else float("nan"),
        }


def isolated_accuracy(truth, scores: np.ndarray) -> dict[str, float]:
    """Top-1 accuracy of single-piece hits scored at their true onset (fine and coarse)."""
    right = coarse = n = 0
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e, s in zip(truth, scores, strict=True):
        if len(e.pieces) != 1:
            continue
        best = DRUM_PIECES[int(np.argmax(s))]
        n += 1
        right += best == e.pieces[0]
        coarse += piece_group(best) == piece_group(e.pieces[0])
        per[e.pieces[0]][0] += best == e.pieces[0]
        per[e.pieces[0]][1] += 1
    return {
        "hits": n,
        "right": right / max(n, 1),
        "right_coarse": coarse / max(n, 1),
        **{f"right:{p}": a / b for p, (a, b) in per.items()},
    }
