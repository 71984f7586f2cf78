"""A random-weight openai-whisper checkpoint in the real file format, for offline tests."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

# Whisper's real vocabulary and audio context (the tokenizer and mel frames need them), but a
# one-layer, 64-wide network: ~3.5 M parameters, 14 MB, built in well under a second.
TINY_DIMS = dict(
    n_mels=80,
    n_audio_ctx=1500,
    n_audio_state=64,
    n_audio_head=2,
    n_audio_layer=1,
    n_vocab=51865,
    n_text_ctx=448,
    n_text_state=64,
    n_text_head=2,
    n_text_layer=2,
)


def write_random_checkpoint(path: Path, *, seed: int = 0) -> Path:
    """Save ``{"dims": ..., "model_state_dict": ...}`` as openai-whisper's .pt files are."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(seed)
    dims = ModelDimensions(**TINY_DIMS)
    model = Whisper(dims)
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path
