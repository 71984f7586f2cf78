"""Several drum classifiers heard as one: the mean of their probabilities (an experiment).

bench/kit_relative.py --weights A.npz+B.npz uses it to ask whether weights trained with other
seeds or other data, averaged, name the pieces of unseen kits better than one network. Not in
the product: on the development kits it did not pass the rule that shipped the kit gate
(docs/benchmarks.md, "Ensembles").
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.listen.drums.model import PatchModel, load_weights


@dataclass(frozen=True)
class PatchEnsemble:
    """Classifiers of the same classes and patch length whose probabilities are averaged.

    The pooled features are the first member's, so the kit gate's distances (tuned on the
    shipped weights, which come first) keep their meaning.
    """

    members: tuple[PatchModel, ...]

    def __post_init__(self) -> None:
        if not self.members:
            raise ModelUnavailableError("an ensemble needs at least one member")
        first = self.members[0]
        for m in self.members[1:]:
            if (m.classes, m.frames) != (first.classes, first.frames):
                raise ModelUnavailableError(
                    f"ensemble member {m.name!r} has classes {m.classes} and {m.frames} frames; "
                    f"{first.name!r} has {first.classes} and {first.frames}"
                )

    @property
    def name(self) -> str:
        return "+".join(m.name for m in self.members)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.members[0].classes

    @property
    def frames(self) -> int:
        return self.members[0].frames

    def probabilities(self, patches: np.ndarray, *, batch_size: int = 512) -> np.ndarray:
        """Mean sigmoid probabilities (n, classes) of normalised patches (n, frames, bands)."""
        return self.probabilities_and_embeddings(patches, batch_size=batch_size)[0]

    def probabilities_and_embeddings(
        self, patches: np.ndarray, *, batch_size: int = 512
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean probabilities of the members and the first member's pooled features."""
        probs, emb = self.members[0].probabilities_and_embeddings(patches, batch_size=batch_size)
        for m in self.members[1:]:
            probs = probs + m.probabilities(patches, batch_size=batch_size)
        return probs / len(self.members), emb


def load_ensemble(spec: str) -> PatchEnsemble:
    """An ensemble from weights files joined with "+" ("a.npz+b.npz"); raises
    ModelUnavailableError naming the file that is missing or does not fit."""
    paths = [Path(p) for p in spec.split("+") if p]
    return PatchEnsemble(tuple(load_weights(p, name=p.name) for p in paths))


def add_weights_option(parser: argparse.ArgumentParser) -> None:
    """The benches' --weights option (kit_accuracy.py, kit_relative.py)."""
    parser.add_argument(
        "--weights",
        help="drum classifier weights joined with '+': their mean probabilities are scored "
        "(an ensemble); default: the shipped weights",
    )


def model_from_option(weights: str | None) -> PatchEnsemble | None:
    """The ensemble --weights names, or None for the shipped classifier; prints which.

    A file that is missing or does not fit ends the bench with one line and exit status 2."""
    try:
        model = load_ensemble(weights) if weights else None
    except ModelUnavailableError as exc:
        print(f"--weights: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"weights: {model.name if model else 'shipped'}")
    return model
