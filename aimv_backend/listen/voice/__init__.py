"""Voice per window: is someone singing or speaking, and which words.

silero-vad first marks where there is voice. Only those stretches (padded, merged, packed end
to end) go to the recogniser, so a song costs recognition time for its voiced part only. Words
come back with timestamps and land in the window holding their middle (see ``assign``).
Singing under a band mostly escapes silero-vad (it is trained on speech), so a music pass then
recognises the rest of the audible song and keeps only words that pass stricter rules (see
``music``).

Engines: ``faster-whisper`` (default; multilingual *base* assembled from registry packages, or
``tiny.en``, or any CTranslate2 folder), ``openai-whisper`` (the design's engine, for users with
its checkpoints), ``none`` (voice activity only). Details and licences: docs/voice.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from aimv_backend.audio.io import AudioInfo, load_mono
from aimv_backend.errors import ParameterError
from aimv_backend.listen import checkpoint
from aimv_backend.listen.voice.assign import (
    MIN_AVG_LOGPROB,
    build_voices,
    clean_words,
    usable_words,
    words_by_window,
)
from aimv_backend.listen.voice.languages import normalize_language
from aimv_backend.listen.voice.mode import window_modes
from aimv_backend.listen.voice.models import HUB_NAMES
from aimv_backend.listen.voice.music import audible_spans, music_spans, sung_words
from aimv_backend.listen.windows import WindowSpan
from aimv_backend.progress import Progress
from aimv_timeline import names
from aimv_timeline.schema import Voice, Word

__all__ = [
    "ASR_ENGINES",
    "VoiceOptions",
    "VoiceResult",
    "check_voice_options",
    "listen_voice",
    "normalize_language",
]

ASR_ENGINES = (*names.ASR_ENGINES, "none")
SAMPLE_RATE = 16_000
TOKENS_PER_SECOND = 8
MIN_TOKENS = 16
MAX_TOKENS = 220  # Whisper's context is 448 tokens, half of it for the sample
# With --language given, Whisper is not also guessing the language, and its log-probabilities
# run lower on sung or noisy speech: Spanish at 0 dB SNR decoded right at -1.04.
GIVEN_LANGUAGE_LOGPROB = -1.2
MUSIC_BEAM_SIZE = 1  # greedy: the music pass mostly hears instrumentals
# Recogniser calls (up to 28 s of voice each) the language is detected from, spread over the
# song; their encodings serve their transcription too, so the detection costs no encoder run.
LANGUAGE_WINDOWS = 4
LOW_LANGUAGE_PROBABILITY = 0.7  # below this, the detected language is reported as unsure
_OW_NAMES = (
    "tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium",
    "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo",
)  # fmt: skip
COMPUTE_TYPES = (
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
    music_pass: also recognise the song outside silero-vad's voiced regions (singing under a
        band, which silero-vad mostly misses), keeping only words that pass stricter rules
        (see ``music``); False recognises the voiced regions only.
    Validated on construction: a ParameterError names the option and its value.
    """

    asr: str = "faster-whisper"
    model: str = "base"
    language: str | None = None
    vad_threshold: float = 0.5
    allow_download: bool = True
    compute_type: str = "int8"
    music_pass: bool = True

    def __post_init__(self) -> None:
        check_voice_options(self)
        # one spelling ("English", "en", " EN ") so the recorded settings match on a re-run
        object.__setattr__(self, "language", normalize_language(self.language))


@dataclass(frozen=True)
class VoiceResult:
    """The voice stage's output: one Voice per window, in window order.

    engine: the recogniser, e.g. "faster-whisper:base" ("none" with --asr none).
    vad_engine: e.g. "silero-vad:6.2.3".
    language: the language given or detected; None when no word was transcribed (no voice,
        only hums, or --asr none).
    """

    engine: str
    vad_engine: str
    language: str | None
    windows: tuple[Voice, ...]


def check_voice_options(options: VoiceOptions) -> None:
    """Refuse bad voice options (ParameterError naming the option and its value); run on
    construction."""
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
    if not isinstance(options.music_pass, bool):
        raise ParameterError(f"music_pass must be True or False, got {options.music_pass!r}")
    if options.compute_type not in COMPUTE_TYPES:
        raise ParameterError(
            f"--compute-type must be one of {', '.join(COMPUTE_TYPES)}, "
            f"got {options.compute_type!r}"
        )
    if options.asr == "none":
        return
    path = Path(options.model).expanduser()
    if options.asr == "faster-whisper":
        if options.model not in HUB_NAMES and not path.is_dir():
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
    from aimv_backend.listen.voice.regions import (
        RecogniserCall,
        group_spans,
        pack_calls,
        plan_regions,
    )
    from aimv_backend.listen.voice.vad import detect_speech, window_presence

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
    no_words = [[] for _ in windows]

    if options.asr == "none":
        voices = build_voices(presence=presence, words=no_words, language=None, transcribed=False)
        return VoiceResult("none", vad.engine, None, voices)

    # Resolve the model up front (a missing model fails the same way for every song; the
    # default is assembled here at first use); load it only when there is voice to recognise.
    recogniser = _Recogniser(options, progress)
    engine = recogniser.engine
    voiced_spans = plan_regions(vad.regions, duration=duration)
    groups = [RecogniserCall.of(g) for g in group_spans(voiced_spans)]
    audible = audible_spans(audio, sample_rate=SAMPLE_RATE) if options.music_pass else []
    everything = pack_calls(music_spans([], audible, duration=duration))
    if not groups and not (options.music_pass and everything):  # nothing to recognise
        voices = build_voices(presence=presence, words=no_words, language=None, transcribed=False)
        return VoiceResult(engine, vad.engine, None, voices)

    given = language is not None
    unsure = None
    if language is None:
        calls = groups or everything
        language, unsure = _song_language(audio, [c.heard for c in calls], recogniser)
    min_avg_logprob = GIVEN_LANGUAGE_LOGPROB if given else MIN_AVG_LOGPROB
    words, language = _recognise(
        audio,
        groups,
        vad.regions,
        duration,
        language,
        recogniser,
        progress,
        select=lambda t: usable_words(t, min_avg_logprob=min_avg_logprob),
        key="voice",
    )
    # Singing under a band that silero-vad did not hear: the song outside the voiced spans
    # that gave words (a span that gave none, often a few sung syllables, is heard again in
    # its context).
    heard = [
        (a, b)
        for a, b in voiced_spans
        if any(a <= 0.5 * (w.start + w.end) < b for w in clean_words(words))
    ]
    rest_groups = pack_calls(music_spans(heard, audible, duration=duration))
    if options.music_pass and rest_groups:
        more, language = _recognise(
            audio, rest_groups, (), duration, language, recogniser, progress,
            select=sung_words, key="music", beam_size=MUSIC_BEAM_SIZE,
        )  # fmt: skip
        words.extend(more)
    kept = clean_words(words)
    if not kept:  # a voice without words says nothing about the song's language
        language = None
    elif unsure is not None:
        progress.notice(
            f"voice: the language sounds like {unsure[0]!r} but only with probability "
            f"{unsure[1]:.2f}; if that is wrong, give it with --language"
        )
    per_window = words_by_window(kept, windows)
    voices = build_voices(presence=presence, words=per_window, language=language, transcribed=True)
    modes = window_modes(
        words=kept, windows=windows, voiced=[v.present for v in voices], audio=audio
    )
    voices = tuple(replace(v, mode=m) for v, m in zip(voices, modes, strict=True))
    return VoiceResult(engine, vad.engine, language, voices)


def _song_language(audio, groups, recogniser):
    """:func:`_detect_language`, kept in the listening checkpoint: a resumed run takes the
    language (and whether it was unsure) from there instead of encoding windows again."""
    cp = checkpoint.current()
    saved = cp.get("voice:language") if cp is not None else None
    if saved is not None:
        unsure = saved["unsure"]
        return saved["language"], (tuple(unsure) if unsure else None)
    language, unsure = _detect_language(audio, groups, recogniser)
    if cp is not None:
        cp.put("voice:language", {"language": language, "unsure": list(unsure or ()) or None})
    return language, unsure


def _detect_language(audio, groups, recogniser):
    """(the song's language, None or (language, probability) when the detection is unsure),
    detected once from up to LANGUAGE_WINDOWS of the ``groups`` (each one recogniser call,
    packed), spread over the song; (None, None) when this engine cannot tell before
    transcribing. The engine keeps these windows' encodings for their transcription, so the
    detection costs no encoding of its own. Unsure: under LOW_LANGUAGE_PROBABILITY (the caller
    says so in one line when some words survive)."""
    from aimv_backend.listen.voice.regions import pack_regions

    if not groups or not hasattr(recogniser, "detect_language"):
        return None, None
    picked = sorted({round(i) for i in np.linspace(0, len(groups) - 1, LANGUAGE_WINDOWS)})
    windows = [pack_regions(audio, groups[i], sample_rate=SAMPLE_RATE)[0] for i in picked]
    detected = recogniser.detect_language(windows)
    if detected is None:
        return None, None
    language, probability = detected
    return language, (detected if probability < LOW_LANGUAGE_PROBABILITY else None)


def token_budget(seconds: float) -> int:
    """Most tokens one recogniser call may decode for ``seconds`` of voiced audio.

    Fast singing or rap stays under ~7 tokens a second (timestamps included); a Whisper loop on
    a hum would otherwise run to its 224-token limit, at a full decode's cost.
    """
    return int(min(MAX_TOKENS, MIN_TOKENS + TOKENS_PER_SECOND * min(seconds, 30.0)))


def _recognise(
    audio, groups, regions, duration, language, recogniser, progress, *, select, key, beam_size=5
):
    """Make each recogniser call (``groups``: RecogniserCall); return (words in song time,
    language). A call keeps only the words whose middle lies in the part it answers for (or
    within JOIN_MARGIN_SECONDS past a cut; a word both sides of a cut heard is kept once).

    select: the words kept from one transcript; key: the checkpoint prefix ("voice" for the
    voiced regions, "music" for the music pass). The longest call goes first, so that where the
    language was not detected beforehand (openai-whisper) Whisper detects it on the most voice,
    and the other calls reuse it.
    """
    from aimv_backend.listen.voice.regions import join_at_cuts, pack_regions, snap_to_regions

    order = sorted(range(len(groups)), key=lambda i: -groups[i].seconds)
    total = sum(group.seconds for group in groups)
    words: list[list[Word]] = [[] for _ in groups]  # per call
    label = "voice: transcribe" if key == "voice" else "voice: listen for singing"
    steps = max(1, int(math.ceil(total)))  # seconds of voice, rounded up
    task = progress.task(label, steps)
    try:
        done = 0.0
        cp = checkpoint.current()  # finished groups of an interrupted run are not redone
        resumed = 0
        for i in order:
            seconds = groups[i].seconds
            saved = cp.get(f"{key}:{i}") if cp is not None else None
            if saved is not None:
                language = language or saved["language"]
                words[i] = [Word(**w) for w in saved["words"]]
                resumed += 1
            else:
                packed, mapping = pack_regions(audio, groups[i].heard, sample_rate=SAMPLE_RATE)
                budget = token_budget(packed.shape[0] / SAMPLE_RATE)
                transcript = recogniser.transcribe(packed, language, budget, beam_size=beam_size)
                language = language or transcript.language
                mine = []
                for w in select(transcript):
                    start, end = mapping.span_to_song(w.start, max(w.start, w.end))
                    start, end = min(start, duration), min(end, duration)
                    start, end = snap_to_regions(start, max(start, end), regions)
                    if not groups[i].keeps(0.5 * (start + end)):
                        continue  # heard past a cut: the call on the other side has it
                    mine.append(Word(text=w.text, start=start, end=end, probability=w.probability))
                words[i] = mine
                if cp is not None:
                    block = {"language": language, "words": [asdict(w) for w in mine]}
                    cp.put(f"{key}:{i}", block)
            before, done = int(done), done + seconds
            task.advance(int(done) - before)
        task.advance(steps - int(done))  # the rounding up: a finished pass shows 100 %
    finally:
        task.close()
    if resumed:
        progress.notice(
            f"voice: resumed {resumed} of {len(groups)} voiced parts from an interrupted run"
        )
    return join_at_cuts(groups, words), language


class _Recogniser:
    """The chosen engine, its model resolved at once and loaded at the first ``transcribe``."""

    def __init__(self, options: VoiceOptions, progress: Progress):
        self.options = options
        self.progress = progress
        if options.asr == "faster-whisper":
            from aimv_backend.listen.voice.models import resolve_faster_whisper

            self.ref = resolve_faster_whisper(
                options.model, allow_download=options.allow_download, notice=progress.notice
            )
            self.engine = f"faster-whisper:{self.ref.name}"
            language = normalize_language(options.language)
            if self.ref.english_only and language not in (None, "en"):
                raise ParameterError(
                    f"--language {options.language!r} cannot be used with the English-only "
                    f"--asr-model {options.model!r}"
                )
        else:
            from aimv_backend.listen.voice import asr_openai_whisper

            path, name = asr_openai_whisper.resolve_checkpoint(
                options.model, allow_download=options.allow_download
            )
            from aimv_backend.util.weights import check_checkpoint_file

            check_checkpoint_file(path, what="openai-whisper checkpoint")  # before listening
            self.checkpoint = (str(path), name)
            self.engine = f"openai-whisper:{name or path.name}"

    def detect_language(self, windows) -> tuple[str, float] | None:
        """(ISO code, probability) of the language of ``windows`` (mono 16 kHz audio, each
        transcribed next); None when this engine cannot tell before transcribing
        (openai-whisper detects on its first call)."""
        if self.options.asr != "faster-whisper":
            return None
        from aimv_backend.listen.voice import asr_faster_whisper

        return asr_faster_whisper.detect_language(
            ref=self.ref, windows=windows, compute_type=self.options.compute_type
        )

    def transcribe(self, audio, language: str | None, max_new_tokens: int, *, beam_size=5):
        """Transcript of mono 16 kHz ``audio`` (times in seconds into it); ``beam_size`` 1 is
        greedy (faster-whisper only)."""
        if self.options.asr == "faster-whisper":
            from aimv_backend.listen.voice import asr_faster_whisper

            return asr_faster_whisper.transcribe(
                ref=self.ref,
                audio=audio,
                language=language,
                compute_type=self.options.compute_type,
                max_new_tokens=max_new_tokens,
                beam_size=beam_size,
            )
        from aimv_backend.listen.voice import asr_openai_whisper

        transcript, notice = asr_openai_whisper.transcribe(
            checkpoint=self.checkpoint,
            audio=audio,
            language=language,
            max_new_tokens=max_new_tokens,
        )
        if notice and not getattr(self, "_noticed", False):
            self.progress.notice(notice)
            self._noticed = True
        return transcript
