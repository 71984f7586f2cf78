"""Voice per window: is someone singing or speaking, and which words.

silero-vad first marks where there is voice. Only those stretches (padded, merged, packed end
to end) go to the recogniser, so a song costs recognition time for its voiced part only. Words
come back with timestamps and land in the window holding their middle (see ``assign``).

Engines: ``faster-whisper`` (default; multilingual *base* assembled from registry packages, or
``tiny.en``, or any CTranslate2 folder), ``openai-whisper`` (the design's engine, for users with
its checkpoints), ``none`` (voice activity only). Details and licences: docs/voice.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aimv_backend.audio.io import AudioInfo, load_mono
from aimv_backend.errors import ParameterError
from aimv_backend.listen.voice.assign import build_voices, clean_words, words_by_window
from aimv_backend.listen.voice.languages import normalize_language
from aimv_backend.listen.windows import WindowSpan
from aimv_backend.progress import Progress
from aimv_backend.timeline_schema import Voice, Word

__all__ = [
    "ASR_ENGINES",
    "VoiceOptions",
    "VoiceResult",
    "check_voice_options",
    "listen_voice",
    "normalize_language",
]

ASR_ENGINES = ("faster-whisper", "openai-whisper", "none")
SAMPLE_RATE = 16_000
_FW_NAMES = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "distil-small.en", "medium",
    "medium.en", "distil-medium.en", "large-v1", "large-v2", "large-v3", "large",
    "distil-large-v2", "distil-large-v3", "large-v3-turbo", "turbo",
)  # fmt: skip
_OW_NAMES = (
    "tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium",
    "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo",
)  # fmt: skip
_COMPUTE_TYPES = (
    "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16",
    "float32", "default", "auto",
)  # fmt: skip


@dataclass(frozen=True)
class VoiceOptions:
    """How to listen for voice.

    asr: "faster-whisper", "openai-whisper" or "none" (voice activity only, no words).
    model: faster-whisper: "base" (default, offline), "tiny.en" (faster, English only), a hub
        name (online) or a CTranslate2 model folder; openai-whisper: a model name or a .pt path.
    language: ISO 639-1 code or English name ("es", "Spanish"); None detects it.
    vad_threshold: silero-vad speech probability in (0, 1) that opens a voiced region.
    allow_download: whether a missing model may be downloaded (never needed for the defaults).
    compute_type: faster-whisper's CTranslate2 compute type ("int8" on CPU).
    """

    asr: str = "faster-whisper"
    model: str = "base"
    language: str | None = None
    vad_threshold: float = 0.5
    allow_download: bool = True
    compute_type: str = "int8"


@dataclass(frozen=True)
class VoiceResult:
    """The voice stage's output: one Voice per window, in window order.

    engine: the recogniser, e.g. "faster-whisper:base" ("none" with --asr none).
    vad_engine: e.g. "silero-vad:6.2.3".
    language: the language given or detected; None when nothing was transcribed.
    """

    engine: str
    vad_engine: str
    language: str | None
    windows: tuple[Voice, ...]


def check_voice_options(options: VoiceOptions) -> None:
    """Refuse bad voice options up front (ParameterError naming the option and its value)."""
    if options.asr not in ASR_ENGINES:
        raise ParameterError(f"--asr must be one of {', '.join(ASR_ENGINES)}, got {options.asr!r}")
    if not isinstance(options.model, str) or not options.model.strip():
        raise ParameterError(f"--asr-model must be a model name or path, got {options.model!r}")
    language = normalize_language(options.language)
    threshold = options.vad_threshold
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not math.isfinite(threshold)
        or not 0.0 < threshold < 1.0
    ):
        raise ParameterError(f"--vad-threshold must be between 0 and 1, got {threshold!r}")
    if options.compute_type not in _COMPUTE_TYPES:
        raise ParameterError(
            f"--compute-type must be one of {', '.join(_COMPUTE_TYPES)}, "
            f"got {options.compute_type!r}"
        )
    if options.asr == "none":
        return
    path = Path(options.model).expanduser()
    if options.asr == "faster-whisper":
        if options.model not in _FW_NAMES and not path.is_dir():
            raise ParameterError(
                f"--asr-model {options.model!r} is neither a faster-whisper model name "
                "(base, tiny.en, small, ...) nor a model folder"
            )
    elif options.model not in _OW_NAMES and not path.is_file():
        raise ParameterError(
            f"--asr-model {options.model!r} is neither an openai-whisper model name "
            "(tiny, base, small, ...) nor a .pt checkpoint file"
        )
    if language not in (None, "en") and options.model.endswith(".en"):
        raise ParameterError(
            f"--language {options.language!r} cannot be used with the English-only "
            f"--asr-model {options.model!r}"
        )


def listen_voice(
    *,
    audio_info: AudioInfo,
    windows: Sequence[WindowSpan],
    options: VoiceOptions = VoiceOptions(),  # noqa: B008 (frozen, so a shared default is safe)
    progress: Progress,
) -> VoiceResult:
    """Voice presence and words for each window of the song (times in seconds of the song).

    Raises ParameterError for bad options, ModelUnavailableError when the chosen model's
    weights are missing and cannot be fetched, AudioInputError for unreadable audio.
    """
    from aimv_backend.listen.voice.regions import pack_regions, plan_regions, snap_to_regions
    from aimv_backend.listen.voice.vad import detect_speech, window_presence

    check_voice_options(options)
    language = normalize_language(options.language)
    audio = load_mono(audio_info, sample_rate=SAMPLE_RATE)
    duration = audio.shape[0] / SAMPLE_RATE

    task = progress.task("voice: activity (silero-vad)", 1)
    try:
        vad = detect_speech(audio, threshold=float(options.vad_threshold))
        task.advance()
    finally:
        task.close()
    presence = window_presence(vad, windows)

    if options.asr == "none":
        voices = build_voices(
            presence=presence, words=[[] for _ in windows], language=None, transcribed=False
        )
        return VoiceResult("none", vad.engine, None, voices)

    spans = plan_regions(vad.regions, duration=duration)
    packed, mapping = pack_regions(audio, spans, sample_rate=SAMPLE_RATE)
    del audio
    engine, transcript = _transcribe(options, packed, language, progress)
    if transcript is None:  # no voice anywhere: nothing to recognise
        voices = build_voices(
            presence=presence, words=[[] for _ in windows], language=None, transcribed=False
        )
        return VoiceResult(engine, vad.engine, language, voices)

    song_words = []
    for w in transcript.words:
        start = min(mapping.to_song(w.start), duration)
        end = max(start, min(mapping.to_song(w.end), start + (w.end - w.start), duration))
        start, end = snap_to_regions(start, end, vad.regions)
        song_words.append(Word(text=w.text, start=start, end=end, probability=w.probability))
    per_window = words_by_window(clean_words(song_words), windows)
    voices = build_voices(
        presence=presence, words=per_window, language=transcript.language, transcribed=True
    )
    return VoiceResult(engine, vad.engine, transcript.language, voices)


def _transcribe(options: VoiceOptions, packed, language: str | None, progress: Progress):
    """(engine name, Transcript or None when there is nothing to transcribe)."""
    if options.asr == "faster-whisper":
        from aimv_backend.listen.voice import asr_faster_whisper
        from aimv_backend.listen.voice.models import resolve_faster_whisper

        ref = resolve_faster_whisper(options.model, allow_download=options.allow_download)
        engine = f"faster-whisper:{ref.name}"
        if packed.shape[0] == 0:
            return engine, None
        transcript = asr_faster_whisper.transcribe(
            ref=ref,
            audio=packed,
            language=language,
            compute_type=options.compute_type,
            progress=progress,
        )
        return engine, transcript
    from aimv_backend.listen.voice import asr_openai_whisper

    if packed.shape[0] == 0:
        path, name = asr_openai_whisper.resolve_checkpoint(
            options.model, allow_download=options.allow_download
        )
        return f"openai-whisper:{name or path.name}", None
    transcript, engine = asr_openai_whisper.transcribe(
        model=options.model,
        audio=packed,
        language=language,
        allow_download=options.allow_download,
        progress=progress,
    )
    return engine, transcript
