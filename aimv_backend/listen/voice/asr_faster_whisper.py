"""Transcription with faster-whisper (CTranslate2): the default engine, fast on a CPU.

Models load once per process per (folder, device, compute type). Local folders load with
``local_files_only=True`` so nothing is looked up on the hub; only a hub name given by the user
with downloads allowed reaches the network.

The encoder is most of the cost on a CPU (one encode of a 30 s window is about a second on two
cores, whatever it holds). The language is detected on the very windows that are transcribed
next, and their encodings are kept (:class:`EncodingMemo`), so no window is encoded twice.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import os
import threading
from collections.abc import Sequence

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


KEPT_ENCODINGS = 4  # windows encoded ahead and kept for their transcription (3 MB each, base)


class EncodingMemo:
    """A model's ``encode``, which first looks for an encoding kept ahead for the same features.

    faster-whisper's ``transcribe`` encodes each window itself; :meth:`encode_and_keep` stores
    the encoder output of a window the caller has already encoded (to detect the language),
    under a digest of its features, and the next ``encode`` of exactly those features takes it
    instead of encoding again. Keyed by content, so threads sharing the model cannot take each
    other's encodings by mistake; bounded, so encodings never taken cost no more than ``size``.
    """

    def __init__(self, encode, *, size: int = KEPT_ENCODINGS):
        self._encode = encode
        self._size = size
        self._kept: collections.OrderedDict[bytes, object] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.encoded = 0  # windows the encoder ran on
        self.reused = 0  # windows taken from what was kept

    @staticmethod
    def _key(features: np.ndarray) -> bytes:
        digest = hashlib.blake2b(np.ascontiguousarray(features).tobytes(), digest_size=16)
        digest.update(repr((features.shape, features.dtype.str)).encode())
        return digest.digest()

    def encode_and_keep(self, features: np.ndarray):
        """Encode ``features`` (n_mels x 3000) and keep the output for its next ``encode``."""
        output = self(features)
        with self._lock:
            self._kept[self._key(features)] = output
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return output

    def __call__(self, features: np.ndarray):
        with self._lock:
            output = self._kept.pop(self._key(features), None) if self._kept else None
        if output is not None:
            self.reused += 1
            return output
        self.encoded += 1
        return self._encode(features)


@functools.lru_cache(maxsize=2)
def load_model(ref: FasterWhisperModelRef, compute_type: str):
    """The WhisperModel for ``ref`` (cached: one load per run), its ``encode`` wrapped in an
    :class:`EncodingMemo`."""
    model = _load_model(ref, compute_type)
    model.encode = EncodingMemo(model.encode)
    return model


def _load_model(ref: FasterWhisperModelRef, compute_type: str):
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


def first_window(model, audio: np.ndarray) -> np.ndarray:
    """The features faster-whisper's ``transcribe`` encodes first for ``audio`` (mono 16 kHz):
    the log-mel frames but the last (its ``content_frames``), cut or padded to one window."""
    from faster_whisper.audio import pad_or_trim

    features = model.feature_extractor(audio)
    window = model.feature_extractor.nb_max_frames
    return pad_or_trim(features[:, : min(window, features.shape[-1] - 1)])


def detect_language(
    *, ref: FasterWhisperModelRef, windows: Sequence[np.ndarray], compute_type: str
) -> tuple[str, float] | None:
    """(ISO 639-1 code, probability) of the language of ``windows`` (each mono 16 kHz float32
    audio of at most 30 s that is transcribed next: only its first 30 s is heard), the
    probabilities averaged over them, weighted by their length. Each window's encoding is kept
    for its transcription (:class:`EncodingMemo`). None when the windows hold no audio."""
    model = load_model(ref, compute_type)
    if ref.english_only:
        return "en", 1.0
    totals: dict[str, float] = {}
    weight = 0.0
    for audio in windows:
        seconds = min(audio.shape[0], model.feature_extractor.n_samples) / 16_000
        if seconds <= 0:
            continue
        output = model.encode.encode_and_keep(first_window(model, audio))
        for token, p in model.model.detect_language(output)[0]:
            code = token[2:-2]  # "<|en|>"
            totals[code] = totals.get(code, 0.0) + seconds * float(p)
        weight += seconds
    if not totals:
        return None
    code = max(totals, key=totals.__getitem__)
    return code, totals[code] / weight
