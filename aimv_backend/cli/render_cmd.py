"""``aimv render song.wav -o video.mp4``: every stage, from song to music video.

Several songs (``aimv render a.wav b.wav -o OUTDIR/``) make an album (:mod:`aimv_backend.album`);
``--blend FILE --scene NAME --frames START:END`` renders a scene saved from Blender (the panel's
Render). The frames render in chunks, on this machine or a Ray cluster (docs/scale.md).

listen -> describe -> imagine -> stage, through :mod:`aimv_backend.orchestrator`. Each stage's
output lives in a work folder beside the video (``video.aimv/``) and is reused while valid, so
a re-run after an interruption picks up where it stopped. ``--until imagine`` stops before
Blender (what the add-on's Generate runs).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from aimv_backend import orchestrator
from aimv_backend.cli import options as flags
from aimv_backend.cli.listen_cmd import AUDIO_FORMATS, add_listen_and_describe
from aimv_backend.errors import ParameterError
from aimv_backend.stage.options import SavedScene
from aimv_timeline import names
from aimv_timeline.events import ERROR_PREFIX

DESCRIPTION = (
    "Listen, describe, imagine textures, stage in Blender and render an MP4 "
    "with the original audio. Stages whose outputs are cached and valid are skipped."
)


def add_parser(subparsers, parents) -> None:
    parser = flags.subcommand(subparsers, parents, "render", DESCRIPTION, run)
    parser.add_argument(
        "audio",
        metavar="SONG",
        nargs="+",
        help=f"audio file: {AUDIO_FORMATS}; several songs (an album) need -o OUTDIR/",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="VIDEO.mp4|OUTDIR/",
        help="the video to write; for several songs a folder (OUTDIR/NAME.mp4 each)",
    )
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
    flags.add_flags(parser, "scale (docs/scale.md)", flags.SCALE)
    flags.add_flags(parser, "a saved scene (the Blender panel's Render)", flags.SAVED_SCENE)
    add_listen_and_describe(parser)


def request_from_args(args: argparse.Namespace) -> orchestrator.RunRequest:
    """The RunRequest of ``aimv render`` arguments (every option validated); for an album,
    that of its first song (:func:`_run_album` makes one per song)."""
    audio = args.audio if isinstance(args.audio, list) else [args.audio]
    saved = flags.saved_scene(args)
    if saved is not None:
        if len(audio) != 1:
            raise ParameterError("--blend renders one song's scene; give one SONG")
        if args.output is None:
            raise ParameterError("-o/--output VIDEO.mp4 is required with --blend")
        output = Path(args.output)
        return orchestrator.RunRequest(
            audio=Path(audio[0]),
            work_dir=Path(args.work_dir) if args.work_dir else output.with_suffix(".aimv"),
            describe=None,
            imagine=None,
            stage=flags.stage_options(args),
            output=output,
            seed=args.seed or 0,
            force=args.force,
            scale=flags.scale_options(args),
            saved_scene=saved,
        )
    until = names.STAGES.index(args.until)
    output = Path(args.output) if args.output else None
    if until == names.STAGES.index("stage"):
        if output is None:
            raise ParameterError(
                "-o/--output VIDEO.mp4 is required (or --until imagine with --work-dir DIR)"
            )
    else:
        output = None  # no video before the stage stage
        if args.work_dir is None and args.output is None:
            raise ParameterError(f"--work-dir is required with --until {args.until}")
    work_dir = Path(args.work_dir) if args.work_dir else Path(args.output).with_suffix(".aimv")
    wants = {name: i <= until for i, name in enumerate(names.STAGES)}
    stage = flags.stage_options(args)
    return orchestrator.RunRequest(
        audio=Path(audio[0]),
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
        scale=flags.scale_options(args),
    )


def run(args: argparse.Namespace, progress) -> int:
    from aimv_backend import album

    if args.output is not None and album.is_album(args.audio, args.output):
        return _run_album(args, progress)
    if len(args.audio) > 1:
        raise ParameterError("several songs (an album) need -o OUTDIR/")
    result = orchestrator.run(request_from_args(args), progress=progress)
    if not args.quiet:
        print(f"{result.message}: {result.output or result.timeline_path}")
    return 0


def _run_album(args: argparse.Namespace, progress) -> int:
    """Every song into OUTDIR; each failure is one line on stderr; exit 2 if any failed."""
    import sys

    from aimv_backend import album
    from aimv_backend.progress import JsonLinesProgress

    if args.work_dir:
        raise ParameterError("--work-dir is for one song; an album puts OUTDIR/NAME.aimv/ each")
    if args.until != names.STAGES[-1]:
        raise ParameterError("--until is for one song; an album renders every song's video")
    if flags.given(args, SavedScene):
        raise ParameterError("--blend renders one song's scene; give one SONG")
    outdir = Path(args.output)
    if outdir.suffix.lower() == ".mp4" and not outdir.is_dir():
        raise ParameterError(
            f"several songs (an album) need -o OUTDIR/, a folder; got {str(outdir)!r}"
        )
    unique: dict[str, Path] = {}  # real path -> as given: a.wav and ./a.wav are one video
    for given in args.audio:
        if os.path.realpath(given) in unique:
            progress.notice(f"{given} is given more than once: it is rendered once")
        else:
            unique[os.path.realpath(given)] = Path(given)
    songs = list(unique.values())
    first = album.album_paths(songs[:1], outdir)[0]
    request = request_from_args(
        argparse.Namespace(**{**vars(args), "output": str(first[0]), "audio": [str(songs[0])]})
    )
    requests = [
        album.with_outputs(replace(request, audio=song), video, work)
        for song, (video, work) in zip(songs, album.album_paths(songs, outdir), strict=True)
    ]

    events = JsonLinesProgress() if args.progress == "json" else None

    def report(outcome: album.SongOutcome) -> None:
        if outcome.error is not None:
            if events is not None:  # per song, so a tool knows which one failed
                events.emit("error", type="SongError", message=f"{outcome.audio}: {outcome.error}")
            print(f"{ERROR_PREFIX}{outcome.audio}: {outcome.error}", file=sys.stderr, flush=True)
        elif not args.quiet and outcome.result is not None:
            print(f"{outcome.result.message}: {outcome.output}", flush=True)

    result = album.render_album(requests, progress=progress, on_song=report)
    failed = len(result.failed)
    if failed:
        print(f"aimv: {failed} of {len(result.songs)} songs failed", file=sys.stderr, flush=True)
        return 2
    return 0
