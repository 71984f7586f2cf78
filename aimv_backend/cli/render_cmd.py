"""``aimv render song.wav -o video.mp4``: every stage, from song to music video.

listen -> describe -> imagine -> stage, through :mod:`aimv_backend.orchestrator`. Each stage's
output lives in a work folder beside the video (``video.aimv/``) and is reused while valid, so
a re-run after an interruption picks up where it stopped. ``--until imagine`` stops before
Blender (what the add-on's Generate runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aimv_backend import orchestrator
from aimv_backend.cli import options as flags
from aimv_backend.cli.listen_cmd import add_listen_and_describe, add_song
from aimv_backend.errors import ParameterError
from aimv_timeline import names

DESCRIPTION = (
    "Listen, describe, imagine textures, stage in Blender and render an MP4 "
    "with the original audio. Stages whose outputs are cached and valid are skipped."
)


def add_parser(subparsers, parents) -> None:
    parser = flags.subcommand(subparsers, parents, "render", DESCRIPTION, run)
    add_song(parser)
    parser.add_argument("-o", "--output", metavar="VIDEO.mp4", help="the video to write")
    parser.add_argument(
        "--work-dir",
        metavar="FOLDER",
        help=f"where {names.TIMELINE_FILE}, {names.TEXTURES_DIR}/ and {names.SCENE_FILE} go "
        "(default: VIDEO.aimv/ beside the video)",
    )
    parser.add_argument(
        "--until",
        choices=names.STAGES,
        default=names.STAGES[-1],
        help="the last stage to run; before 'stage' no video is made and -o is not needed "
        f"(default: {names.STAGES[-1]})",
    )
    flags.add_preset(flags.add_flags(parser, "staging", flags.STAGE))
    flags.add_flags(parser, "imagining", flags.IMAGINE)
    add_listen_and_describe(parser)


def request_from_args(args: argparse.Namespace) -> orchestrator.RunRequest:
    """The RunRequest of ``aimv render`` arguments (every option validated)."""
    until = names.STAGES.index(args.until)
    output = Path(args.output) if args.output else None
    if until == names.STAGES.index("stage"):
        if output is None:
            raise ParameterError("-o/--output VIDEO.mp4 is required (or --until imagine)")
    else:
        output = None  # no video before the stage stage
        if args.work_dir is None and args.output is None:
            raise ParameterError(f"--work-dir is required with --until {args.until}")
    work_dir = Path(args.work_dir) if args.work_dir else Path(args.output).with_suffix(".aimv")
    wants = {name: i <= until for i, name in enumerate(names.STAGES)}
    stage = flags.stage_options(args)
    return orchestrator.RunRequest(
        audio=Path(args.audio),
        work_dir=work_dir,
        listen=flags.listen_options(args),
        describe=flags.describe_options(args)
        if wants["describe"] and not args.no_describe
        else None,
        describe_given=flags.describe_given(args),
        imagine=flags.imagine_options(args, preset=args.preset) if wants["imagine"] else None,
        clips=flags.clip_options(args, fps=stage.fps) if wants["imagine"] else None,
        stage=stage,
        output=output,
        seed=args.seed or 0,
        force=args.force,
    )


def run(args: argparse.Namespace, progress) -> int:
    result = orchestrator.run(request_from_args(args), progress=progress)
    if not args.quiet:
        print(f"{result.message}: {result.output or result.timeline_path}")
    return 0
