"""``aimv listen song.wav -o out/`` (alias ``analyze``): the listening stage, then describe."""

from __future__ import annotations

import argparse
from pathlib import Path

from aimv_backend import orchestrator
from aimv_backend.cli import options as flags
from aimv_backend.errors import OutputError
from aimv_timeline.names import AUDIO_FORMATS, TIMELINE_FILE

DESCRIPTION = (
    "Cut a song into windows and record, for each, its volume, colour, "
    "instruments and voice; then write the design's sentence for it."
)


def add_listen_and_describe(parser: argparse.ArgumentParser) -> None:
    """The listen and describe flags (shared by ``listen`` and ``render``)."""
    group = flags.add_flags(parser, "listening", flags.LISTEN)
    group.add_argument("--no-voice", action="store_true", help="skip voice detection and ASR")
    group = flags.add_flags(parser, "describing", flags.DESCRIBE)
    group.add_argument(
        "--no-describe",
        action="store_true",
        help="do not write sentences (run 'aimv describe' later)",
    )


def add_song(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", metavar="SONG", help=f"audio file: {AUDIO_FORMATS}")


def add_parser(subparsers, parents) -> None:
    parser = flags.subcommand(subparsers, parents, "listen", DESCRIPTION, run)
    add_song(parser)
    parser.add_argument(
        "-o",
        "--output",
        default="out",
        metavar="FOLDER",
        help=f"output folder; the timeline is FOLDER/{TIMELINE_FILE} (default: out)",
    )
    add_listen_and_describe(parser)


def run(args: argparse.Namespace, progress) -> int:
    out_dir = Path(args.output)
    if out_dir.suffix == ".json":
        raise OutputError(
            f"--output is a folder, got {str(out_dir)!r}; the timeline is written "
            f"to FOLDER/{TIMELINE_FILE}"
        )
    request = orchestrator.RunRequest(
        audio=Path(args.audio),
        work_dir=out_dir,
        listen=flags.listen_options(args),
        describe=None if args.no_describe else flags.describe_options(args),
        describe_given=flags.describe_given(args),
        imagine=None,
        force=args.force,
    )
    result = orchestrator.run(request, progress=progress)
    if not args.quiet:
        print(f"{result.message}: {result.timeline_path}")
    return 0
