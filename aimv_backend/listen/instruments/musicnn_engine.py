"""The offline tagger: musicnn MTT_musicnn, weights from the musicnn package, run by PyTorch.

musicnn was trained on 3-second patches (187 mel frames). Each window is scored from patches
centred in it: one patch for windows up to 3 s, ceil(duration / 3 s) evenly spaced patches
for longer ones, averaged as musicnn averages its taggram. Patch starts are snapped to a
16-frame (0.256 s) grid so that very short windows share patches instead of multiplying the
work; the mel spectrogram is computed once for the whole song.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.listen.instruments.base import ScoreJob, TaggerEngine
from aimv_backend.listen.instruments.labels import MUSICNN_INSTRUMENTS
from aimv_backend.listen.instruments.musicnn_model import (
    HOP,
    MTT_LABELS,
    PATCH_FRAMES,
    SAMPLE_RATE,
    Musicnn,
    load_musicnn,
    log_mel,
)
from aimv_backend.progress import Progress

MODEL_NAME = "MTT_musicnn"
PATCH_SECONDS = 3.0
PATCH_GRID_FRAMES = 16
SEGMENT_FRAMES = 2048  # patch starts per shared front-end pass (33 s of song, ~3 MB)


def musicnn_model_dir(model: str = MODEL_NAME) -> Path:
    """The folder of a pretrained model inside the installed musicnn package."""
    spec = importlib.util.find_spec("musicnn")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "the musicnn package is not installed: pip install --no-deps musicnn==0.1.0 "
            "(its weights are read without TensorFlow)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / model
    if not (folder / ".index").is_file():
        raise ModelUnavailableError(f"musicnn model {model!r} not found in {str(folder)!r}")
    return folder


@lru_cache(maxsize=2)
def _cached_model(folder: str) -> Musicnn:
    return load_musicnn(folder)


def patch_starts_for_window(start: float, end: float, n_frames: int) -> list[int]:
    """Start frames of the patches that score the window [start, end) seconds."""
    duration = max(end - start, 0.0)
    count = max(1, math.ceil(duration / PATCH_SECONDS - 1e-9))
    starts = []
    for k in range(count):
        centre = start + (k + 0.5) * duration / count
        first = centre * SAMPLE_RATE / HOP - PATCH_FRAMES / 2
        first = int(round(first / PATCH_GRID_FRAMES)) * PATCH_GRID_FRAMES
        starts.append(min(max(first, 0), n_frames - PATCH_FRAMES))
    return sorted(set(starts))


class MusicnnEngine(TaggerEngine):
    """musicnn MTT_musicnn (50 MagnaTagATune tags) through PyTorch on the CPU.

    The model is small (780k weights); a GPU would not pay for the transfers.
    """

    sample_rate = SAMPLE_RATE
    labels = MTT_LABELS
    table = MUSICNN_INSTRUMENTS

    name = f"musicnn:{MODEL_NAME}"

    def __init__(self) -> None:
        self.model = _cached_model(str(musicnn_model_dir(MODEL_NAME)))

    def patch_probabilities(self, patches: np.ndarray) -> np.ndarray:
        """Sigmoid tag probabilities (n, 50) of log-mel patches (n, 187, 96)."""
        import torch

        with torch.inference_mode():
            logits = self.model(torch.from_numpy(np.ascontiguousarray(patches, np.float32)))
            return torch.sigmoid(logits).numpy().astype(np.float64)

    def song_patch_probabilities(
        self, mel: np.ndarray, starts: Sequence[int], *, batch_size: int, progress: Progress
    ) -> np.ndarray:
        """Probabilities (len(starts), 50) of the 187-frame patches of ``mel`` at ``starts``.

        Same numbers as patch_probabilities on the sliced patches, but the timbral front end
        is computed once per stretch of song instead of once per overlapping patch. Stretches
        of SEGMENT_FRAMES patch starts bound the memory for long songs and skip silent parts.
        """
        import torch

        unique = sorted(set(starts))
        segments: list[list[int]] = []
        for f in unique:
            if segments and f - segments[-1][0] < SEGMENT_FRAMES:
                segments[-1].append(f)
            else:
                segments.append([f])
        n_batches = sum(math.ceil(len(seg) / batch_size) for seg in segments)
        probs = np.zeros((len(unique), len(self.labels)))
        task = progress.task("instruments (musicnn)", len(segments) + n_batches)
        row = 0
        try:
            with torch.inference_mode():
                song = torch.from_numpy(np.ascontiguousarray(mel, np.float32))
                for seg in segments:
                    lo = seg[0]
                    # Zero padding at the stretch's ends only touches the first patch's left
                    # edge and the last patch's right edge, which patch_timbral recomputes.
                    timbral = self.model.song_timbral(song[lo : seg[-1] + PATCH_FRAMES])
                    task.advance(1)
                    for i in range(0, len(seg), batch_size):
                        batch = seg[i : i + batch_size]
                        patches = torch.stack([song[f : f + PATCH_FRAMES] for f in batch])
                        t = self.model.patch_timbral(timbral, patches, [f - lo for f in batch])
                        logits = self.model(patches, timbral=t)
                        probs[row : row + len(batch)] = torch.sigmoid(logits).numpy()
                        row += len(batch)
                        task.advance(1)
        finally:
            task.close()
        index = {f: i for i, f in enumerate(unique)}
        return probs[[index[f] for f in starts]]

    def score_active(self, job: ScoreJob, scores: np.ndarray) -> None:
        mel = log_mel(job.audio)
        if mel.shape[0] < PATCH_FRAMES:  # musicnn's training used repeat-padding for short clips
            mel = np.tile(mel, (math.ceil(PATCH_FRAMES / max(mel.shape[0], 1)), 1))
        n_frames = mel.shape[0]
        per_window = [
            patch_starts_for_window(s, e, n_frames) if on else []
            for (s, e), on in zip(job.spans, job.active, strict=True)
        ]
        starts = sorted({f for fs in per_window for f in fs})
        index = {f: i for i, f in enumerate(starts)}
        probs = self.song_patch_probabilities(
            mel, starts, batch_size=job.batch_size, progress=job.progress
        )
        for w, fs in enumerate(per_window):
            if fs:
                scores[w] = probs[[index[f] for f in fs]].mean(axis=0)
