"""silero-vad run through its ONNX session in numpy gives the package's own probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aimv_backend.audio.io import load_mono, probe_audio
from aimv_backend.listen.voice.vad import SAMPLE_RATE, _load_silero, detect_speech

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.wav"


def test_the_numpy_loop_gives_silero_vads_own_probabilities_on_a_sung_song():
    torch = pytest.importorskip("torch")
    model, _, _, jit = _load_silero()
    if jit:
        pytest.skip("onnxruntime is not installed: the package's TorchScript model runs")
    audio = load_mono(probe_audio(DEMO), sample_rate=SAMPLE_RATE)[: 12 * SAMPLE_RATE]
    with torch.inference_mode():
        theirs = model.audio_forward(torch.from_numpy(audio), SAMPLE_RATE)[0].numpy()
    ours = detect_speech(audio)
    assert ours.probabilities.shape == theirs.shape
    assert np.array_equal(ours.probabilities, theirs.astype(np.float32))
    assert ours.regions, "the demo's vocal is heard"
