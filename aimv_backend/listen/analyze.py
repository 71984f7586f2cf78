"""The listening stage: one song in, one :class:`Timeline` out.

Volume and colour are computed in a single streaming pass over the file (one block of audio in
memory at a time, so a 60-minute song costs no more than a 3-minute one). Instruments and voice
come from their engines, which load the song at their own sample rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from aimv_backend import __version__
from aimv_backend.audio.io import AudioInfo, iter_mono_blocks, probe_audio
from aimv_backend.errors import AudioInputError
from aimv_backend.listen.colour import colour_of_window
from aimv_backend.listen.volume import RunningVolume, VolumeOptions, measure_level
from aimv_backend.listen.windows import (
    MIN_WINDOW_SECONDS,
    WindowSpan,
    check_window_seconds,
    make_windows,
)
from aimv_backend.progress import Progress, SilentProgress
from aimv_backend.util.files import sha256_file
from aimv_timeline.schema import Colour, Source, Timeline, Volume, Window

if TYPE_CHECKING:
    from aimv_backend.listen.instruments import InstrumentOptions
    from aimv_backend.listen.voice import VoiceOptions

VOLUME_ENGINE = "rms-running-mean"
COLOUR_ENGINE = "pitch-class-wheel+xkcd-cielab"


@dataclass(frozen=True)
class AnalyzeOptions:
    """Everything that decides the analysis result (recorded in the timeline's settings).

    window_seconds: window length in seconds, 0.25 to 10.
    instruments / voice: engine options; None skips that field (it stays null in the file).
    """

    window_seconds: float = 1.0
    volume: VolumeOptions = field(default_factory=VolumeOptions)
    instruments: InstrumentOptions | None = None
    voice: VoiceOptions | None = None

    def check(self) -> AnalyzeOptions:
        check_window_seconds(self.window_seconds)
        self.volume.check()
        if self.instruments is not None:
            from aimv_backend.listen.instruments import check_instrument_options

            check_instrument_options(self.instruments)
        if self.voice is not None:
            from aimv_backend.listen.voice import check_voice_options

            check_voice_options(self.voice)
        return self

    def settings(self) -> dict[str, Any]:
        """The JSON-ready record of these options: what a cached result must match.

        Options that do not change the result (whether a download was allowed, batch sizes)
        are left out, so going offline does not invalidate a timeline.
        """
        return {
            "window_seconds": self.window_seconds,
            "volume": asdict(self.volume),
            "instruments": _result_options(self.instruments, "allow_download", "batch_size"),
            "voice": _result_options(self.voice, "allow_download"),
        }


def _result_options(options: Any, *ignored: str) -> dict[str, Any] | None:
    if options is None:
        return None
    data = asdict(options)
    for key in ignored:
        data.pop(key, None)
    return data


def measure_windows(
    info: AudioInfo,
    windows: Sequence[WindowSpan],
    *,
    volume_options: VolumeOptions,
    progress: Progress,
) -> list[tuple[Volume, Colour]]:
    """Volume and colour of every window in one streaming pass over the file."""
    running = RunningVolume(volume_options)
    results: list[tuple[Volume, Colour]] = []
    buffer = np.zeros(0, dtype=np.float32)
    buffer_start = 0  # frame index of buffer[0]
    next_window = 0
    task = progress.task("volume+colour", len(windows))
    try:
        for block in iter_mono_blocks(info):
            buffer = np.concatenate([buffer, block]) if buffer.size else block
            end_of_buffer = buffer_start + buffer.shape[0]
            while next_window < len(windows) and windows[next_window].end_frame <= end_of_buffer:
                span = windows[next_window]
                samples = buffer[span.start_frame - buffer_start : span.end_frame - buffer_start]
                results.append(_measure(samples, info.sample_rate, span, running))
                task.advance()
                next_window += 1
            if next_window < len(windows):
                drop = windows[next_window].start_frame - buffer_start
                buffer = buffer[drop:]
                buffer_start += drop
    finally:
        task.close()
    if next_window != len(windows):
        raise AudioInputError(f"audio file {str(info.path)!r} ended early (truncated data)")
    return results


def _measure(samples: np.ndarray, rate: int, span: WindowSpan, running: RunningVolume):
    level = measure_level(samples)
    volume = running.push(level, start=span.start, end=span.end)
    colour = colour_of_window(
        samples, rate, rms_dbfs=level.rms_dbfs, silent=volume.level == "silent"
    )
    return volume, colour


def analyze_song(
    path: str | Path,
    *,
    options: AnalyzeOptions | None = None,
    progress: Progress | None = None,
) -> Timeline:
    """Analyse ``path`` into a timeline (no description yet; see aimv_backend.describe).

    Raises AudioInputError for unreadable, empty, too short or non-finite audio, and
    ParameterError for invalid options, before any heavy work starts.
    """
    options = (options or AnalyzeOptions()).check()
    progress = progress or SilentProgress()
    info = probe_audio(path)
    window_seconds = check_window_seconds(options.window_seconds)
    if info.duration < window_seconds:
        raise AudioInputError(
            f"audio file {str(info.path)!r} is {info.duration:.3f} s long, shorter than one "
            f"window ({window_seconds} s)"
            + ("; use a shorter --window" if window_seconds > MIN_WINDOW_SECONDS else "")
        )
    spans = make_windows(
        frames=info.frames, sample_rate=info.sample_rate, window_seconds=window_seconds
    )
    measured = measure_windows(info, spans, volume_options=options.volume, progress=progress)
    silent = [volume.level == "silent" for volume, _ in measured]
    engines = {"volume": VOLUME_ENGINE, "colour": COLOUR_ENGINE}

    instruments: Sequence[Any] = [None] * len(spans)
    hits: Sequence[Any] = [None] * len(spans)
    if options.instruments is not None and options.instruments.engine != "none":
        from aimv_backend.listen.instruments import tag_instruments

        result = tag_instruments(
            audio_info=info,
            windows=spans,
            options=options.instruments,
            progress=progress,
            silent=silent,
        )
        instruments = result.windows
        engines["instruments"] = result.engine
        if result.family_engine is not None:
            engines["families"] = result.family_engine
        if result.hits is not None:
            hits = result.hits
            engines["drums"] = result.drum_engine or "unknown"

    voices: Sequence[Any] = [None] * len(spans)
    language = None
    if options.voice is not None:
        from aimv_backend.listen.voice import listen_voice

        vresult = listen_voice(
            audio_info=info, windows=spans, options=options.voice, progress=progress
        )
        voices = vresult.windows
        language = vresult.language
        engines["voice"] = vresult.vad_engine
        engines["transcription"] = vresult.engine

    windows = tuple(
        Window(
            index=span.index,
            start=round(span.start, 6),
            end=round(span.end, 6),
            volume=volume,
            colour=colour,
            instruments=inst,
            hits=hit,
            voice=voice,
        )
        for span, (volume, colour), inst, hit, voice in zip(
            spans, measured, instruments, hits, voices, strict=True
        )
    )
    source = Source(
        path=str(info.path),
        sha256=sha256_file(info.path),
        duration=round(info.duration, 6),
        sample_rate=info.sample_rate,
        channels=info.channels,
        frames=info.frames,
    )
    return Timeline(
        source=source,
        window_seconds=window_seconds,
        windows=windows,
        settings={"analyze": options.settings()},
        engines=engines,
        language=language,
        created_by=f"aimv {__version__}",
    )
