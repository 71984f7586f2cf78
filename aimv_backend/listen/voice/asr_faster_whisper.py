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
from aimv_backend.listen.voice.assign import AsrSegment, Transcript
from aimv_backend.listen.voice.models import FasterWhisperModelRef
from aimv_timeline.schema import Word


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
        if "compute" in str(exc).lower():
            raise ParameterError(f"--compute-type {compute_type!r}: {exc}") from None
        raise ModelUnavailableError(
            f"faster-whisper model {ref.source!r} cannot be loaded: {str(exc).splitlines()[0]}"
        ) from None
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
    max_new_tokens: int,
    beam_size: int = 5,
) -> Transcript:
    """Segments with word times (seconds into ``audio``, mono 16 kHz float32) and the language.

    Beam search as in faster-whisper's defaults, but one temperature (no fallback: a hum makes
    Whisper loop, and each retry costs a full decode), no conditioning on the previous text,
    ``max_new_tokens`` per 30 s window (bounds a loop), and no VAD of its own (the caller passes
    voiced audio only). ``beam_size`` 1 is greedy decoding (the music pass: most of what it
    hears is instrumental, where beam search only costs time).
    """
    model = load_model(ref, compute_type)
    if ref.english_only:
        language = "en"
    segments, info = model.transcribe(
        audio,
        language=language,
        word_timestamps=True,
        condition_on_previous_text=False,
        temperature=0.0,
        beam_size=beam_size,
        max_new_tokens=max_new_tokens,
        vad_filter=False,
    )
    out = []
    for segment in segments:  # a lazy generator: decoding happens while iterating
        words = tuple(
            Word(
                text=w.word.strip(),
                start=float(w.start),
                end=float(w.end),
                probability=float(w.probability),
            )
            for w in segment.words or ()
        )
        out.append(
            AsrSegment(
                words=words,
                avg_logprob=float(segment.avg_logprob),
                compression_ratio=float(segment.compression_ratio),
                no_speech_prob=float(segment.no_speech_prob),
            )
        )
    return Transcript(language=info.language or language, segments=tuple(out))


def detect_language(
    *, ref: FasterWhisperModelRef, audio: np.ndarray, compute_type: str
) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the language of ``audio`` (mono 16 kHz float32), the
    probabilities averaged over every 30 s Whisper window of it."""
    model = load_model(ref, compute_type)
    if ref.english_only:
        return "en", 1.0
    n = model.feature_extractor.n_samples
    totals: dict[str, float] = {}
    count = 0
    for a in range(0, max(1, audio.shape[0]), n):
        piece = audio[a : a + n]
        if piece.shape[0] < 16000 and count:  # a last scrap under 1 s adds nothing
            break
        _, _, probs = model.detect_language(piece, language_detection_segments=1)
        for code, p in probs:
            totals[code] = totals.get(code, 0.0) + float(p)
        count += 1
    code = max(totals, key=totals.__getitem__)
    return code, totals[code] / count
