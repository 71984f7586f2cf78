"""Voice activity with silero-vad: a probability every 32 ms, speech regions, per-window facts.

silero-vad runs through onnxruntime on one thread (~0.3 s per minute of audio here; without
onnxruntime its TorchScript model on one torch thread, ~0.7 s per minute). Importing
the ``silero_vad`` package sets torch's global thread count to 1; the count is restored so the
other listeners in the same process keep their threads.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aimv_backend.listen.windows import WindowSpan

SAMPLE_RATE = 16_000
CHUNK = 512  # samples per silero-vad probability at 16 kHz (32 ms)
HOP_SECONDS = CHUNK / SAMPLE_RATE
MIN_SPEECH_MS = 250
MIN_SILENCE_MS = 100
SPEECH_PAD_MS = 30
# A window has voice when a speech region covers at least this much of it (seconds), or half
# of it for very short windows.
MIN_OVERLAP_SECONDS = 0.1


@dataclass(frozen=True)
class SpeechRegion:
    """One stretch of speech, in seconds of song time."""

    start: float
    end: float


@dataclass(frozen=True)
class VadResult:
    """Frame probabilities (one per 32 ms) and the speech regions they give."""

    probabilities: np.ndarray
    regions: tuple[SpeechRegion, ...]
    engine: str


@functools.lru_cache(maxsize=1)
def _load_silero():
    """The silero-vad ONNX model, loaded once per process."""
    import torch

    threads = torch.get_num_threads()
    try:
        import silero_vad
    finally:
        torch.set_num_threads(threads)
    version = getattr(silero_vad, "__version__", "unknown")
    try:
        model, jit = silero_vad.load_silero_vad(onnx=True), False
    except ImportError:  # no onnxruntime: the TorchScript model, ~2x slower
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load's notice
            model, jit = silero_vad.load_silero_vad(onnx=False), True
    return model, silero_vad.get_speech_timestamps_from_probs, f"silero-vad:{version}", jit


def detect_speech(audio: np.ndarray, *, threshold: float = 0.5) -> VadResult:
    """Run silero-vad over mono 16 kHz float32 ``audio``.

    threshold: speech probability that opens a region (it closes below threshold - 0.15).
    """
    import torch

    model, from_probs, engine, jit = _load_silero()
    if audio.shape[0] < CHUNK:
        return VadResult(np.zeros(0, dtype=np.float32), (), engine)
    if jit:
        x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # 32 ms frames: more threads only add overhead
        try:
            with torch.inference_mode():
                probs = model.audio_forward(x, SAMPLE_RATE)[0].numpy().astype(np.float32)
        finally:
            torch.set_num_threads(threads)
    else:
        probs = _onnx_probabilities(model.session, audio)
    stamps = from_probs(
        probs.tolist(),
        sampling_rate=SAMPLE_RATE,
        threshold=threshold,
        neg_threshold=max(threshold - 0.15, 0.01),
        min_speech_duration_ms=MIN_SPEECH_MS,
        min_silence_duration_ms=MIN_SILENCE_MS,
        speech_pad_ms=SPEECH_PAD_MS,
        audio_length_samples=int(audio.shape[0]),
    )
    regions = tuple(SpeechRegion(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps)
    return VadResult(probs, regions, engine)


CONTEXT = 64  # samples of the chunk before that silero-vad's ONNX model sees with each chunk


def _onnx_probabilities(session, audio: np.ndarray) -> np.ndarray:
    """silero-vad's ``OnnxWrapper.audio_forward``, in numpy: the same model, inputs and state,
    so the same probabilities, without a torch tensor per 32 ms chunk (their thread pool spun
    beside the other listeners, and cost ~40 % more time)."""
    n = -(-audio.shape[0] // CHUNK)
    frames = np.zeros(n * CHUNK, dtype=np.float32)
    frames[: audio.shape[0]] = audio
    frames = frames.reshape(n, CHUNK)
    state = np.zeros((2, 1, 128), dtype=np.float32)
    context = np.zeros((1, CONTEXT), dtype=np.float32)
    rate = np.array(SAMPLE_RATE, dtype=np.int64)
    probs = np.empty(n, dtype=np.float32)
    for k in range(n):
        x = np.concatenate([context, frames[k : k + 1]], axis=1)
        out, state = session.run(None, {"input": x, "state": state, "sr": rate})
        probs[k] = out[0, 0]
        context = x[:, -CONTEXT:]
    return probs


def window_presence(vad: VadResult, windows: Sequence[WindowSpan]) -> list[tuple[bool, float]]:
    """(voice present, highest probability) for each window.

    A window has voice when speech regions cover at least 0.1 s of it (half of it if it is
    shorter than 0.2 s). The probability is the highest frame probability whose frame centre
    lies in the window.
    """
    probs = vad.probabilities
    centres = (np.arange(probs.shape[0]) + 0.5) * HOP_SECONDS
    out = []
    for span in windows:
        lo = int(np.searchsorted(centres, span.start, side="left"))
        hi = int(np.searchsorted(centres, span.end, side="left"))
        peak = float(probs[lo:hi].max()) if hi > lo else 0.0
        covered = sum(
            max(0.0, min(r.end, span.end) - max(r.start, span.start)) for r in vad.regions
        )
        need = min(MIN_OVERLAP_SECONDS, 0.5 * span.duration)
        out.append((covered >= need - 1e-9, min(max(peak, 0.0), 1.0)))
    return out
