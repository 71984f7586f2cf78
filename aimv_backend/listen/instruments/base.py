"""What every instrument tagger engine provides, and the shared silence test.

An engine turns mono audio at its own sample rate into one probability vector per window over
its own label set; label mapping and the selection rule are shared (labels.py, selection.py),
so the engines stay small and interchangeable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from aimv_backend.listen.instruments.labels import Instrument
from aimv_backend.progress import Progress


@dataclass(frozen=True)
class ScoreJob:
    """What an engine scores: mono ``audio`` at its sample rate, the windows' (start, end)
    ``spans`` in seconds, which of them are ``active`` (not silent), and how to run."""

    audio: np.ndarray
    spans: Sequence[tuple[float, float]]
    active: Sequence[bool]
    batch_size: int
    progress: Progress


class TaggerEngine(ABC):
    """A loaded tagger. ``name`` is recorded in the timeline ("musicnn:MTT_musicnn").

    Engines implement :meth:`score_active`; the shared :meth:`window_scores` gives silent
    windows zero rows and skips the model when every window is silent.
    """

    name: str
    sample_rate: int
    labels: tuple[str, ...]
    table: Mapping[str, Instrument]

    def window_scores(
        self,
        audio: np.ndarray,
        spans: Sequence[tuple[float, float]],
        active: Sequence[bool],
        *,
        batch_size: int,
        progress: Progress,
    ) -> np.ndarray:
        """Scores (windows, labels) in [0, 1] for ``audio`` at ``sample_rate``.

        ``spans`` are (start, end) seconds; rows of inactive (silent) windows are zero.
        """
        scores = np.zeros((len(spans), len(self.labels)))
        if any(active):
            self.score_active(ScoreJob(audio, spans, active, batch_size, progress), scores)
        return scores

    @abstractmethod
    def score_active(self, job: ScoreJob, scores: np.ndarray) -> None:
        """Write the rows of ``scores`` (windows, labels) of ``job``'s active windows."""


def window_rms_dbfs(
    audio: np.ndarray, spans: Sequence[tuple[float, float]], rate: int
) -> list[float]:
    """RMS level (dBFS, floored at -120) of each (start, end) span of ``audio``."""
    out = []
    for start, end in spans:
        a = max(0, int(round(start * rate)))
        b = min(audio.shape[0], max(a + 1, int(round(end * rate))))
        chunk = audio[a:b].astype(np.float64)
        chunk = chunk - chunk.mean() if chunk.size else chunk  # DC is not sound
        power = float(np.mean(chunk * chunk)) if chunk.size else 0.0
        out.append(10.0 * np.log10(max(power, 1e-12)))
    return out
