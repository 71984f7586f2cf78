"""Drum hits in a song: onsets, then the kit-piece classifier on each onset.

An onset is a drum hit when the classifier's best piece scores at least the gate, or when
(the kit-relative gate, kit.py) it scores at least a lower floor and sounds like several of
the song's hits that passed the gate, or falls among several of them; every piece scoring at
least ``piece_threshold`` at that onset is a hit (a kick and a hi-hat struck together are two
hits at the same time). The classifier was trained with a "not a drum" target (all pieces 0)
on melodic notes, so a piano note passes no gate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimv_backend.listen.drums import features
from aimv_backend.listen.drums.kit import KitGateOptions, kit_gate
from aimv_backend.listen.drums.model import PatchModel, load_model
from aimv_backend.listen.drums.pieces import DRUM_PIECES

MODEL_NAME = "drum_pieces"
DEFAULT_GATE = 0.3
DEFAULT_PIECE_THRESHOLD = 0.3
DEFAULT_ONSET_DELTA = 0.03
DEFAULT_KIT_GATE = KitGateOptions()


@dataclass(frozen=True)
class OnsetScores:
    """Every onset of a song that passed the drum gate.

    times: hit times in seconds, ascending. scores: (onsets, len(DRUM_PIECES)) probabilities.
    kit: True where the onset passed only the kit-relative gate (its best score is under the
    per-hit gate: it sounds like the song's drums or falls where they play).
    """

    times: np.ndarray
    scores: np.ndarray
    kit: np.ndarray | None = None


def drum_model() -> PatchModel:
    model = load_model(MODEL_NAME)
    if model.classes != DRUM_PIECES:
        raise AssertionError(f"{MODEL_NAME}: classes {model.classes} are not DRUM_PIECES")
    return model


def score_onsets(
    mel: np.ndarray,
    *,
    gate: float = DEFAULT_GATE,
    onset_delta: float = DEFAULT_ONSET_DELTA,
    model: PatchModel | None = None,
    kit: KitGateOptions | None = DEFAULT_KIT_GATE,
) -> OnsetScores:
    """Score every onset of a power mel spectrogram (features.power_mel) and keep drum ones.

    kit: the kit-relative gate's settings (None: the per-hit gate alone).
    """
    model = model or drum_model()
    onsets = features.onset_frames(mel, delta=onset_delta)
    if onsets.size == 0:
        empty = np.zeros(0, dtype=bool)
        return OnsetScores(np.zeros(0), np.zeros((0, len(DRUM_PIECES)), dtype=np.float32), empty)
    patches = features.take_patches(mel, features.drum_patch_starts(onsets), model.frames)
    probs, embeddings = model.probabilities_and_embeddings(features.normalise_patches(patches))
    passed = probs.max(axis=1) >= gate
    times = np.maximum(features.hit_seconds(onsets), 0.0)
    if kit is None:
        keep = passed
    else:
        keep = kit_gate(probs, embeddings, patches, gate=gate, options=kit, times=times)
    return OnsetScores(times[keep], probs[keep], ~passed[keep])
