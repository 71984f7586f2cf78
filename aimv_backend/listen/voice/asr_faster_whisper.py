"""Transcription with faster-whisper (CTranslate2): the default engine, fast on a CPU.

Models load once per process per (folder, device, compute type). Local folders load with
``local_files_only=True`` so nothing is looked up on the hub; only a hub name given by the user
with downloads allowed reaches the network.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from aimv_backend.errors import ModelUnavailableError, ParameterError
from aimv_backend.listen.voice.assign import Transcript
from aimv_backend.listen.voice.models import FasterWhisperModelRef
from aimv_backend.progress import Progress
from aimv_backend.timeline_schema import Word

COMPUTE_TYPES = (
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
    "default",
    "auto",
)


def _device() -> str:
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except (ImportError, RuntimeError):
        return "cpu"


@functools.lru_cache(maxsize=2)
def load_model(ref: FasterWhisperModelRef, compute_type: str):
    """The WhisperModel for ``ref`` (cached: one load per run)."""
    from faster_whisper import WhisperModel

    device = _device()
    threads = min(os.cpu_count() or 1, 8)
    try:
        return WhisperModel(
            ref.source,
            device=device,
            compute_type=compute_type,
            cpu_threads=threads if device == "cpu" else 0,
            local_files_only=ref.local,
        )
    except ValueError as exc:
        raise ParameterError(f"--compute-type {compute_type!r}: {exc}") from None
    except (OSError, RuntimeError) as exc:
        what = "cannot be loaded" if ref.local else "cannot be downloaded or loaded"
        raise ModelUnavailableError(
            f"faster-whisper model {ref.source!r} {what}: {str(exc).splitlines()[0]}"
        ) from None


def transcribe(
    *,
    ref: FasterWhisperModelRef,
    audio: np.ndarray,
    language: str | None,
    compute_type: str,
    progress: Progress,
) -> Transcript:
    """Words with times (seconds into ``audio``, mono 16 kHz float32) and the language.

    Greedy-free beam search as in faster-whisper's defaults, but without conditioning on the
    previous text (a hallucination stops there) and without faster-whisper's own VAD (the
    caller passes voiced audio only).
    """
    model = load_model(ref, compute_type)
    if ref.english_only:
        language = "en"
    segments, info = model.transcribe(
        audio,
        language=language,
        word_timestamps=True,
        condition_on_previous_text=False,
        vad_filter=False,
    )
    duration = audio.shape[0] / 16_000
    words: list[Word] = []
    task = progress.task("voice: transcribe (faster-whisper)", max(1, int(np.ceil(duration))))
    try:
        done = 0
        for segment in segments:  # a lazy generator: decoding happens here
            for w in segment.words or ():
                words.append(
                    Word(
                        text=w.word.strip(),
                        start=float(w.start),
                        end=float(w.end),
                        probability=float(w.probability),
                    )
                )
            reached = min(int(segment.end), int(np.ceil(duration)))
            if reached > done:
                task.advance(reached - done)
                done = reached
    finally:
        task.close()
    return Transcript(language=info.language or language, words=tuple(words))
