"""The listening stage: one song in, one :class:`Timeline` out.

Volume and colour are computed in a single streaming pass over the file (one block of audio in
memory at a time, so a 60-minute song costs no more than a 3-minute one). Instruments and voice
come from their engines, which load the song at their own sample rate.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from aimv_backend import __version__
from aimv_backend.audio.io import AudioInfo, iter_mono_blocks, load_mono, probe_audio
from aimv_backend.errors import AudioInputError, ParameterError
from aimv_backend.listen import checkpoint, overlap
from aimv_backend.listen.colour import colour_from_notes, colour_of_window
from aimv_backend.listen.record import LISTEN_REVISION, RECORD_KEY, listen_record
from aimv_backend.listen.rhythm import RhythmOptions
from aimv_backend.listen.volume import (
    FLOOR_DBFS,
    SILENCE_FLOOR_DBFS,
    RunningVolume,
    VolumeOptions,
    WindowLevel,
    measure_level,
    song_silence_dbfs,
)
from aimv_backend.listen.windows import (
    MIN_WINDOW_SECONDS,
    WindowSpan,
    check_window_mode,
    check_window_seconds,
    make_beat_windows,
    make_windows,
)
from aimv_backend.progress import Progress, SilentProgress
from aimv_backend.util.files import sha256_file
from aimv_backend.util.memory import release_free_memory
from aimv_backend.util.records import settings_record
from aimv_timeline.schema import (
    Colour,
    Hit,
    InstrumentGuess,
    Rhythm,
    Source,
    Timeline,
    Volume,
    Window,
)

if TYPE_CHECKING:
    from aimv_backend.listen.instruments import InstrumentOptions
    from aimv_backend.listen.voice import VoiceOptions

VOLUME_ENGINE = "rms-running-mean"
SETTINGS_KEY = "listen"  # timeline.settings key; timelines before 0.x used "analyze"
OLD_SETTINGS_KEYS = ("analyze",)
COLOUR_ENGINE = "pitch-class-wheel+xkcd-cielab"
COLOUR_MODES = ("notes", "spectrum")


@dataclass(frozen=True)
class ListenOptions:
    """Everything that decides the listening result (recorded in the timeline's settings).

    window_seconds: window length in seconds, 0.25 to 10.
    windows: "seconds" (a fixed grid, the design's), "beats" or "bars" (boundaries on the
        beat: as many whole beats or bars as come closest to window_seconds).
    rhythm: beat tracking options; None (or engine "none") leaves the timeline's rhythm null.
    colour: "notes" (hue from the note basic-pitch hears, the spectrum where none; falls back
        to the spectrum when basic-pitch is not installed) or "spectrum".
    instruments / voice: engine options; None skips that field (it stays null in the file).
    Validated on construction, as the engines' options validate themselves: a ParameterError
    names the option.
    """

    window_seconds: float = 1.0
    volume: VolumeOptions = field(default_factory=VolumeOptions)
    instruments: InstrumentOptions | None = None
    voice: VoiceOptions | None = None
    windows: str = "seconds"
    rhythm: RhythmOptions | None = field(default_factory=RhythmOptions)
    colour: str = "notes"

    def __post_init__(self) -> None:
        check_window_seconds(self.window_seconds)
        check_window_mode(self.windows)
        if self.colour not in COLOUR_MODES:
            raise ParameterError(
                f"--colour must be one of {', '.join(COLOUR_MODES)}, got {self.colour!r}"
            )
        if self.windows != "seconds" and (self.rhythm is None or self.rhythm.engine == "none"):
            raise ParameterError(
                f"--windows {self.windows} needs beat tracking; it cannot be used with --beats none"
            )

    def settings(self) -> dict[str, Any]:
        """The JSON-ready record of these options: what a cached result must match.

        Options that do not change the result (whether a download was allowed, batch sizes)
        are left out, so going offline does not invalidate a timeline.
        """
        return {
            "window_seconds": self.window_seconds,
            "windows": self.windows,
            "rhythm": None if self.rhythm is None else asdict(self.rhythm),
            "colour": self.colour,
            "volume": asdict(self.volume),
            "instruments": _record(self.instruments, "allow_download", "batch_size"),
            "voice": _record(self.voice, "allow_download"),
        }


AnalyzeOptions = ListenOptions  # the old name


def _record(options: Any, *unrecorded: str) -> dict[str, Any] | None:
    return None if options is None else settings_record(options, *unrecorded)


def measure_windows(
    info: AudioInfo,
    windows: Sequence[WindowSpan],
    *,
    volume_options: VolumeOptions,
    progress: Progress,
) -> list[tuple[Volume, Colour]]:
    """Volume and colour of every window in one streaming pass over the file. The labels come
    after it: the silence threshold follows the song's loudest window (song_silence_dbfs), so
    each window's colour is measured unless it is under the lowest threshold there can be, and
    a window that turns out silent is given silence's colour."""
    task = progress.task("volume+colour", len(windows))
    measured: list[tuple[WindowLevel, Colour]] = []
    try:
        for samples in _window_samples(info, windows, task):
            level = measure_level(samples)
            maybe_sound = level.rms_dbfs >= min(SILENCE_FLOOR_DBFS, volume_options.silence_dbfs)
            colour = colour_of_window(
                samples, info.sample_rate, rms_dbfs=level.rms_dbfs, silent=not maybe_sound
            )
            measured.append((level, colour))
    finally:
        task.close()
    loudest = max((level.rms_dbfs for level, _ in measured), default=FLOOR_DBFS)
    threshold = song_silence_dbfs(loudest, volume_options.silence_dbfs)
    running = RunningVolume(replace(volume_options, silence_dbfs=threshold))
    nothing = np.zeros(0, dtype=np.float32)
    silence = colour_of_window(nothing, info.sample_rate, rms_dbfs=FLOOR_DBFS, silent=True)
    results = []
    for span, (level, colour) in zip(windows, measured, strict=True):
        volume = running.push(level, start=span.start, end=span.end)
        results.append((volume, silence if volume.level == "silent" else colour))
    return results


def _window_samples(info: AudioInfo, windows: Sequence[WindowSpan], task):
    """The mono samples of every window, streamed block by block over the file."""
    buffer = np.zeros(0, dtype=np.float32)
    buffer_start = 0  # frame index of buffer[0]
    next_window = 0
    for block in iter_mono_blocks(info):
        buffer = np.concatenate([buffer, block]) if buffer.size else block
        end_of_buffer = buffer_start + buffer.shape[0]
        while next_window < len(windows) and windows[next_window].end_frame <= end_of_buffer:
            span = windows[next_window]
            yield buffer[span.start_frame - buffer_start : span.end_frame - buffer_start]
            task.advance()
            next_window += 1
        if next_window < len(windows):
            drop = windows[next_window].start_frame - buffer_start
            buffer = buffer[drop:]
            buffer_start += drop
    if next_window != len(windows):
        raise AudioInputError(f"audio file {str(info.path)!r} ended early (truncated data)")


def analyze_song(
    path: str | Path | AudioInfo,
    *,
    options: ListenOptions | None = None,
    progress: Progress | None = None,
    checkpoint_dir: Path | None = None,
) -> Timeline:
    """Analyse ``path`` into a timeline (no description yet; see aimv_backend.describe).

    ``path`` may be the :class:`AudioInfo` the caller already probed (a run probes once).
    checkpoint_dir: keep finished blocks there while listening, so an interrupted run resumes
    (see :mod:`aimv_backend.listen.checkpoint`).

    Raises AudioInputError for unreadable, empty, too short or non-finite audio, and
    ParameterError for invalid options, before any heavy work starts.
    """
    options = options or ListenOptions()
    progress = progress or SilentProgress()
    info = path if isinstance(path, AudioInfo) else probe_audio(path)
    window_seconds = check_window_seconds(options.window_seconds)
    if info.duration < window_seconds:
        raise AudioInputError(
            f"audio file {str(info.path)!r} is {info.duration:.6g} s long ({info.frames} "
            f"samples at {info.sample_rate} Hz), shorter than one window ({window_seconds} s)"
            + (
                f"; a song must last at least {MIN_WINDOW_SECONDS} s"
                if info.duration < MIN_WINDOW_SECONDS
                else f"; use a shorter --window (at least {MIN_WINDOW_SECONDS} s)"
            )
        )
    before = file_signature(info.path)
    sha256 = sha256_file(info.path)  # what is read below, as long as the signature holds
    # An interrupted run's blocks are resumed only by the same listening code (its revision).
    key = json.dumps([sha256, options.settings(), LISTEN_REVISION], sort_keys=True, default=str)
    try:
        with checkpoint.active(checkpoint_dir, key):
            timeline = _analyze(info, options, window_seconds, progress, sha256)
    except Exception:  # noqa: BLE001 - re-raised; only named when the file changed under us
        _check_unchanged(info.path, before)
        raise
    finally:
        release_free_memory()  # the models' working memory, freed in two threads' arenas
    _check_unchanged(info.path, before)
    return timeline


def file_signature(path: Path) -> tuple[int, int, int, int]:
    """(device, inode, size, mtime in ns): changes when the file is rewritten or replaced."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _check_unchanged(path: Path, before: tuple[int, int, int, int]) -> None:
    try:
        now = file_signature(path)
    except OSError:
        now = None
    if now != before:
        raise AudioInputError(
            f"audio file {str(path)!r} changed while it was analysed (it was replaced or "
            f"rewritten); run again once it is complete"
        )


def _analyze(info, options, window_seconds, progress, sha256) -> Timeline:
    engines = {"volume": VOLUME_ENGINE, "colour": COLOUR_ENGINE}
    on_the_grid = options.windows == "seconds" or not _tracks_beats(options)
    if options.voice is not None and on_the_grid:
        # The voice needs the windows only, and is the longest part of the stage: it starts at
        # once, beside the beats, volume, colour and instruments (it used to wait for the first
        # three, and was the last part to finish; docs/benchmarks.md).
        spans = _grid(info, window_seconds)
        voice = _Parts(info=info, spans=spans, silent=(), options=options).voice
        voiced, music = overlap.run_together(
            side=voice,
            main=lambda p: _listen_to_music(info, options, window_seconds, p, spans=spans),
            progress=progress,
        )
    else:  # windows on the beat: the voice waits for them, then runs beside the instruments
        music = _listen_to_music(info, options, window_seconds, progress, instruments=False)
        parts = _Parts(
            info=info, spans=music.spans, silent=music.silent, options=options, notes=music.notes
        )
        if options.instruments is not None and options.voice is not None:
            heard, voiced = overlap.run_together(
                side=parts.instruments, main=parts.voice, progress=progress
            )
        else:
            heard, voiced = parts.instruments(progress), parts.voice(progress)
        music = replace(music, heard=heard)
    spans, measured, rhythm = music.spans, music.measured, music.rhythm
    engines.update(music.engines)
    instruments, hits, more = music.heard
    engines.update(more)
    voices, language, more = voiced
    engines.update(more)

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
        sha256=sha256,
        duration=round(info.duration, 6),
        sample_rate=info.sample_rate,
        channels=info.channels,
        frames=info.frames,
    )
    timeline = Timeline(
        source=source,
        window_seconds=window_seconds,
        windows=windows,
        settings={SETTINGS_KEY: options.settings()},
        engines=engines,
        language=language,
        rhythm=rhythm,
        created_by=f"aimv {__version__}",
    )
    settings = {**timeline.settings, RECORD_KEY: listen_record(timeline)}
    return replace(timeline, settings=settings)


@dataclass(frozen=True)
class _Music:
    """What the stage hears besides the voice: the windows and their volume and colour, the
    rhythm, basic-pitch's notes and the instrument part's result (when it ran)."""

    spans: Sequence[WindowSpan]
    measured: list[tuple[Volume, Colour]]
    silent: list[bool]
    rhythm: Rhythm | None
    notes: Sequence[Any] | None
    engines: dict[str, str]
    heard: tuple[Sequence[Any], Sequence[Any], dict] | None = None


def _tracks_beats(options: ListenOptions) -> bool:
    return options.rhythm is not None and options.rhythm.engine != "none"


def _grid(info: AudioInfo, window_seconds: float) -> list[WindowSpan]:
    return make_windows(
        frames=info.frames, sample_rate=info.sample_rate, window_seconds=window_seconds
    )


def _listen_to_music(
    info: AudioInfo,
    options: ListenOptions,
    window_seconds: float,
    progress: Progress,
    *,
    spans: Sequence[WindowSpan] | None = None,
    instruments: bool = True,
) -> _Music:
    """Beats, the windows (``spans``, or on the beat), volume, colour, notes and (with
    ``instruments``) the instrument part: all but the voice, in this order."""
    engines: dict[str, str] = {}
    use_notes = options.colour == "notes" and _notes_ready(progress)
    track = _tracks_beats(options)
    audio = None
    if track or use_notes:
        from aimv_backend.listen.rhythm import SAMPLE_RATE

        audio = load_mono(info, sample_rate=SAMPLE_RATE)
    rhythm = None
    if track:
        rhythm, engines["rhythm"] = _track(audio, options.rhythm, progress)
    if spans is None:
        if options.windows == "seconds" or rhythm is None:
            spans = _grid(info, window_seconds)
        else:
            spans = make_beat_windows(
                frames=info.frames,
                sample_rate=info.sample_rate,
                window_seconds=window_seconds,
                marks=rhythm.beats if options.windows == "beats" else rhythm.downbeats,
                pulse=_pulse(rhythm),
            )
    measured = measure_windows(info, spans, volume_options=options.volume, progress=progress)
    silent = [volume.level == "silent" for volume, _ in measured]
    _notice_a_quiet_song(measured, progress, silence_dbfs=options.volume.silence_dbfs)
    notes = None
    if use_notes:
        measured, notes = _colour_from_notes(audio, spans, measured, silent, progress)
        engines["colour"] = f"{NOTES_ENGINE}+{COLOUR_ENGINE}"
    del audio
    heard = None
    if instruments:
        parts = _Parts(info=info, spans=spans, silent=silent, options=options, notes=notes)
        heard = parts.instruments(progress)
    return _Music(spans, measured, silent, rhythm, notes, engines, heard)


@dataclass(frozen=True)
class _Parts:
    """The instrument and voice parts of the listening stage: independent of each other, so
    :func:`overlap.run_together` runs them at the same time. Each returns its per-window
    values and the engines it used."""

    info: AudioInfo
    spans: Sequence[WindowSpan]
    silent: Sequence[bool]
    options: ListenOptions
    notes: Sequence[Any] | None = None  # basic-pitch's, when colour heard them (families use them)

    def instruments(self, progress: Progress) -> tuple[Sequence[Any], Sequence[Any], dict]:
        spans, options = self.spans, self.options.instruments
        engines: dict[str, str] = {}
        if options is None or options.engine == "none":
            return [None] * len(spans), [None] * len(spans), engines
        from aimv_backend.listen.instruments import tag_instruments

        cp = checkpoint.current()
        saved = cp.get("instruments") if cp is not None else None
        if saved is not None and len(saved["windows"]) == len(spans):
            instruments = [tuple(InstrumentGuess(**g) for g in w) for w in saved["windows"]]
            engines["instruments"] = saved["engine"]
            engines.update(saved.get("engines") or {})
            hits: Sequence[Any] = [None] * len(spans)
            if saved.get("hits") is not None:
                hits = [tuple(Hit(**h) for h in w) for w in saved["hits"]]
            progress.notice("instruments: resumed from the checkpoint of an interrupted run")
            return instruments, hits, engines
        result = tag_instruments(
            audio_info=self.info,
            windows=spans,
            options=options,
            progress=progress,
            silent=self.silent,
            notes=self.notes,
        )
        engines["instruments"] = result.engine
        more = {}
        if result.family_engine is not None:
            more["families"] = result.family_engine
        hits = [None] * len(spans)
        if result.hits is not None:
            hits = result.hits
            more["drums"] = result.drum_engine or "unknown"
        engines.update(more)
        if cp is not None:
            windows_json = [[asdict(g) for g in w] for w in result.windows]
            hits_json = (
                None if result.hits is None else [[asdict(h) for h in w] for w in result.hits]
            )
            cp.put(
                "instruments",
                {
                    "engine": result.engine,
                    "windows": windows_json,
                    "hits": hits_json,
                    "engines": more,
                },
                flush=True,
            )
        return result.windows, hits, engines

    def voice(self, progress: Progress) -> tuple[Sequence[Any], str | None, dict]:
        if self.options.voice is None:
            return [None] * len(self.spans), None, {}
        from aimv_backend.listen.voice import listen_voice

        result = listen_voice(
            audio_info=self.info, windows=self.spans, options=self.options.voice, progress=progress
        )
        engines = {"voice": result.vad_engine, "transcription": result.engine}
        return result.windows, result.language, engines


NOTES_ENGINE = "basic-pitch"


def _notes_ready(progress: Progress) -> bool:
    from aimv_backend.listen.notes import notes_available

    if notes_available():
        return True
    progress.notice(
        "colour: basic-pitch is not installed, so colours come from the spectrum "
        "(pip install --no-deps basic-pitch==0.4.0)"
    )
    return False


def _pulse(rhythm: Rhythm) -> tuple[float, float] | None:
    """(first beat, end of the last beat) in seconds: the span the beat and bar windows cover
    (the last beat ends a median beat after it)."""
    if len(rhythm.beats) < 2:
        return None
    beat = float(np.median(np.diff(rhythm.beats)))
    return rhythm.beats[0], rhythm.beats[-1] + beat


def _track(audio: np.ndarray, options: RhythmOptions, progress: Progress) -> tuple[Rhythm, str]:
    from aimv_backend.listen.rhythm import SAMPLE_RATE, track_rhythm

    task = progress.task(f"beats ({options.engine})", 1)
    try:
        result = track_rhythm(audio=audio, sample_rate=SAMPLE_RATE, options=options)
        task.advance()
    finally:
        task.close()
    if options.engine == "madmom":
        from aimv_backend.listen.rhythm_madmom import LICENCE_NOTICE

        progress.notice(LICENCE_NOTICE)
    if options.beats_per_bar is None and result.beats_per_bar == 3:  # rare: say so, once
        progress.notice(
            "beats: heard in three (bars of 3 beats, as a waltz); if the song is in four, "
            "listen again with --beats-per-bar 4 --force (in Blender: Beats per bar, Overwrite)"
        )
    return result.rhythm, result.engine


QUIET_PEAK_DBFS = -30.0  # a song that never comes closer to full scale was not mastered


def _notice_a_quiet_song(measured, progress, *, silence_dbfs: float) -> None:
    """Silence is at most 35 dB under the song's loudest window, and never above -80 dBFS
    (volume.song_silence_dbfs): a healthy but very quiet recording still loses its softest
    passages' colours, instruments and words, so say why, and how to fix it, in one line."""
    peak = max((volume.peak_dbfs for volume, _ in measured), default=FLOOR_DBFS)
    loudest = max((volume.rms_dbfs for volume, _ in measured), default=FLOOR_DBFS)
    if FLOOR_DBFS < peak < QUIET_PEAK_DBFS:
        progress.notice(
            f"the song peaks at {peak:.0f} dBFS, quiet for a finished song (windows under "
            f"{song_silence_dbfs(loudest, silence_dbfs):.0f} dBFS are silence: no colour, instruments or "
            "words); normalise it first, e.g. sox IN OUT norm -1"
        )


def _colour_from_notes(audio, spans, measured, silent, progress):
    """Replace each window's hue by that of its played note (basic-pitch) where one is heard;
    also returns the notes (the instrument families check them for low chords)."""
    from aimv_backend.listen.notes import SAMPLE_RATE, window_notes

    task = progress.task("colour: notes (basic-pitch)", 1)
    try:
        notes = window_notes(audio=audio, sample_rate=SAMPLE_RATE, windows=spans, skip=silent)
        task.advance()
    finally:
        task.close()
    return [
        (volume, colour_from_notes(colour, played))
        for (volume, colour), played in zip(measured, notes, strict=True)
    ], notes
