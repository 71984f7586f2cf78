"""The design's rule for which instruments a window names.

"Labels scoring 0.70 or more are confident; with fewer than three, fill up to three with the
runner-up guesses" (a crash "could have been a splash instead or a weirdly textured synth").
Labels that map to the same project word are merged first (keeping the highest score), so a
window never names the same word twice. Runner-ups below RUNNER_UP_FLOOR are not guesses but
noise, and silent windows name nothing at all (see docs/instruments.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from aimv_backend.listen.instruments.labels import Instrument
from aimv_timeline.schema import InstrumentGuess

DEFAULT_CONFIDENCE = 0.70
FILL_TO = 3
RUNNER_UP_FLOOR = 0.02


def select_instruments(
    scores: Sequence[float] | np.ndarray,
    *,
    labels: Sequence[str],
    table: Mapping[str, Instrument],
    confidence: float = DEFAULT_CONFIDENCE,
    fill_to: int = FILL_TO,
    floor: float = RUNNER_UP_FLOOR,
) -> tuple[InstrumentGuess, ...]:
    """Pick one window's instruments from the engine's per-label probabilities.

    scores[i] is the probability of labels[i]; labels missing from ``table`` are ignored.
    Returns every merged word scoring >= ``confidence`` (confident, highest first), then
    runner-ups (not confident) until there are ``fill_to`` guesses, skipping any below
    ``floor``. Ties keep the engine's label order, so the result is deterministic.
    """
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if values.shape[0] != len(labels):
        raise ValueError(f"got {values.shape[0]} scores for {len(labels)} labels")
    best: dict[str, tuple[float, int, str, str]] = {}
    for i, label in enumerate(labels):
        inst = table.get(label)
        score = float(values[i])
        if inst is None or not math.isfinite(score):
            continue
        # Rounded here so the stored score and the confident flag always agree.
        score = round(min(1.0, max(0.0, score)), 4)
        current = best.get(inst.word)
        if current is None or score > current[0]:
            best[inst.word] = (score, i, label, inst.category)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[1][1]))
    chosen: list[InstrumentGuess] = []
    for word, (score, _, label, category) in ranked:
        confident = score >= confidence
        if not confident and (len(chosen) >= fill_to or score < floor):
            break
        chosen.append(InstrumentGuess(label, word, category, score, confident))
    return tuple(chosen)
