"""Running stages with caching: decide whether an existing output is still valid, else redo it.

The CLI commands (``analyze``, ``render``) share these rules:
- an existing timeline made from the same audio bytes (sha256) with the same settings is reused
  as is (a re-run is instant, and hand edits in it are kept);
- an existing timeline that differs is never overwritten without ``force``;
- everything is written atomically, so an interrupted run leaves the previous file intact.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aimv_backend.audio.io import probe_audio
from aimv_backend.errors import OutputError, TimelineError
from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
from aimv_backend.progress import Progress
from aimv_backend.util.files import output_dir, sha256_file
from aimv_timeline.schema import (
    Timeline,
    TimelineFormatError,
    read_timeline,
    write_timeline,
)

if TYPE_CHECKING:
    from aimv_backend.describe import DescribeOptions


@dataclass(frozen=True)
class AnalyzeRequest:
    """What ``aimv analyze`` was asked to do."""

    audio: Path
    timeline_path: Path
    analyze: AnalyzeOptions
    describe: DescribeOptions | None
    force: bool = False


@dataclass(frozen=True)
class StageOutcome:
    """The timeline a stage left on disk, and whether work was done for it."""

    timeline_path: Path
    timeline: Timeline
    ran: bool
    message: str


def _normalised(value: Any) -> Any:
    """Settings as they look after a JSON round trip (tuples become lists)."""
    return json.loads(json.dumps(value))


def analyze_options_from_args(args: argparse.Namespace) -> AnalyzeOptions:
    """Snapshot the listening options of the CLI into :class:`AnalyzeOptions`."""
    instruments = None
    if args.instruments != "none":
        from aimv_backend.listen.instruments import InstrumentOptions

        instruments = InstrumentOptions(
            engine=args.instruments,
            confidence=args.instrument_confidence,
            panns_checkpoint=args.panns_checkpoint,
            allow_download=not args.offline,
            drums=getattr(args, "drums", "kit"),
            families=getattr(args, "families", "kit"),
        )
    voice = None
    if not args.no_voice:
        from aimv_backend.listen.voice import VoiceOptions

        voice = VoiceOptions(
            asr=args.asr,
            model=args.asr_model,
            language=args.language,
            vad_threshold=args.vad_threshold,
            compute_type=args.compute_type,
            allow_download=not args.offline,
        )
    from aimv_backend.listen.rhythm import RhythmOptions

    return AnalyzeOptions(
        window_seconds=args.window,
        instruments=instruments,
        voice=voice,
        windows=args.windows,
        rhythm=RhythmOptions(engine=args.beats, beats_per_bar=args.beats_per_bar),
        colour=args.colour,
    )


def describe_options_from_args(args: argparse.Namespace) -> DescribeOptions:
    from aimv_backend.describe import DescribeOptions

    extra = {} if args.style is None else {"style": args.style}
    return DescribeOptions(
        seed=args.seed, vectors=args.vectors, allow_download=not args.offline, **extra
    )


def read_existing(path: Path) -> Timeline | None:
    """The timeline at ``path``, None if there is none; TimelineError if it is not one."""
    if not path.exists():
        return None
    try:
        return read_timeline(path)
    except TimelineFormatError as exc:
        raise TimelineError(f"{exc}; use --force to replace it") from None


def needs_description(timeline: Timeline, options: DescribeOptions) -> bool:
    from aimv_backend.describe import needs_describe

    return needs_describe(timeline, options=options)


def run_describe(
    timeline: Timeline, options: DescribeOptions, progress: Progress, *, force: bool = False
) -> Timeline:
    """Describe, keeping hand-edited sentences unless ``force`` (describe/edits.py)."""
    from aimv_backend.describe.edits import describe_keeping_edits, kept_notice

    described, kept = describe_keeping_edits(
        timeline, options=options, progress=progress, force=force
    )
    if kept:
        progress.notice(kept_notice(kept))
    return described


def run_analyze(request: AnalyzeRequest, *, progress: Progress) -> StageOutcome:
    """Analyse (and describe) unless a valid cached timeline exists. See the module docstring."""
    options = request.analyze.check()
    info = probe_audio(request.audio)  # fail on bad audio before touching the output
    if request.describe is not None:
        check_describe(request.describe)  # a bad --vectors fails before minutes of listening
    with output_dir(request.timeline_path.parent):
        return _analyze_into(request, options, info, progress)


def check_describe(options: DescribeOptions) -> None:
    """Validate describe options and load their word vectors (cached for the real run)."""
    from aimv_backend.describe.vectors import load_space

    options.check()
    load_space(options.vectors, allow_download=options.allow_download)


def matches_audio(timeline: Timeline, info) -> bool:
    """Whether a timeline's numbers fit the song: its length, rate and windows. A timeline
    whose hash matches but whose duration does not (edited, or hostile) is not reused: it
    would plan frames for a song that is not there."""
    src = timeline.source
    tolerance = max(timeline.window_seconds, 1.0 / max(info.sample_rate, 1))
    last_end = timeline.windows[-1].end if timeline.windows else 0.0
    return (
        src.frames == info.frames
        and src.sample_rate == info.sample_rate
        and abs(src.duration - info.duration) <= 1e-3
        and last_end <= info.duration + tolerance
        and len(timeline.windows) <= info.duration / timeline.window_seconds + 2
    )


def _analyze_into(request, options, info, progress) -> StageOutcome:
    path = request.timeline_path
    existing = None if request.force else read_existing(path)
    if existing is not None:
        same_audio = existing.source.sha256 == sha256_file(info.path) and matches_audio(
            existing, info
        )
        same_settings = existing.settings.get("analyze") == _normalised(options.settings())
        if not (same_audio and same_settings):
            what = "another song" if not same_audio else "other settings"
            raise OutputError(
                f"{str(path)!r} exists and was made from {what}; use --force to overwrite it"
            )
        if request.describe is None or not needs_description(existing, request.describe):
            return StageOutcome(path, existing, ran=False, message="up to date")
        described = run_describe(existing, request.describe, progress, force=request.force)
        write_timeline(described, path)
        return StageOutcome(path, described, ran=True, message="described")

    timeline = analyze_song(
        info.path, options=options, progress=progress, checkpoint_dir=path.parent
    )  # resumable: finished blocks are kept until the timeline is written
    if request.describe is not None:
        timeline = run_describe(timeline, request.describe, progress)
    write_timeline(timeline, path)
    return StageOutcome(path, timeline, ran=True, message="wrote")
