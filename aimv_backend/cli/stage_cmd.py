"""``aimv stage timeline.json -o video.mp4``: key a timeline (and its textures) in Blender and
render the video. ``aimv render`` runs this stage after the others."""

from __future__ import annotations

import argparse
from pathlib import Path

from aimv_backend.cli import options as flags
from aimv_backend.errors import AudioInputError, OutputError, ParameterError
from aimv_backend.stage.record import (
    render_fingerprint,
    stage_work,
    video_is_ours,
    write_record,
)
from aimv_backend.stage.scene_file import save_scene
from aimv_backend.util.files import ensure_output_dir
from aimv_backend.util.workdir import STAGE_OUTPUTS, prepare_render, record, timeline_folder
from aimv_timeline import names
from aimv_timeline.paths import song_path

DESCRIPTION = (
    "Build the keyed scene of a timeline and its textures in Blender and "
    "render it to an MP4 with the song."
)


def add_parser(subparsers, parents) -> None:
    parser = flags.subcommand(subparsers, parents, "stage", DESCRIPTION, run)
    parser.add_argument("timeline", help=f"{names.TIMELINE_FILE} (with its textures)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="VIDEO.mp4", help="the video to write (.mp4)"
    )
    parser.add_argument(
        "--audio",
        metavar="SONG",
        help="the song to put under the video (default: the timeline's source)",
    )
    parser.add_argument("--blend-out", metavar="FILE.blend", help="also save the scene")
    flags.add_preset(flags.add_flags(parser, "staging", flags.STAGE))


def run(args: argparse.Namespace, progress) -> int:
    from aimv_backend import stage
    from aimv_backend.stage.blender_runner import blender_command

    options = flags.stage_options(args)
    output = Path(args.output)
    if output.suffix.lower() != ".mp4":
        raise ParameterError(f"--output must name an .mp4 file, got {str(output)!r}")
    blender_command(options)
    path = flags.timeline_path(args.timeline)
    timeline = flags.timeline_argument(path)
    reason = names.check_frames_per_window([w.end - w.start for w in timeline.windows], options.fps)
    if reason:  # before Blender starts
        raise ParameterError(reason)
    audio = Path(args.audio) if args.audio else song_path(timeline.source.path, path.parent)
    if not audio.is_file():
        if args.audio:
            raise AudioInputError(f"--audio: {str(audio)!r} does not exist")
        raise AudioInputError(
            f"the timeline's song {str(audio)!r} does not exist (give --audio SONG)"
        )
    ensure_output_dir(output.parent if str(output.parent) else Path("."), what="video folder")
    # One run per folder: restaging while another run writes its textures would stage half.
    blend_out = Path(args.blend_out) if args.blend_out else None
    if blend_out is not None and blend_out.suffix.lower() != ".blend":
        raise ParameterError(f"--blend-out must name a .blend file, got {str(blend_out)!r}")
    if blend_out is not None and blend_out.exists() and not blend_out.is_file():
        raise ParameterError(f"--blend-out {str(blend_out)!r} exists and is not a file")
    if blend_out is not None and not blend_out.absolute().parent.is_dir():
        raise ParameterError(
            f"--blend-out {str(blend_out)!r}: the folder {str(blend_out.absolute().parent)!r} "
            "does not exist"
        )
    with timeline_folder(path) as folder:
        record_path = folder / names.RENDER_RECORD_FILE
        seed = args.seed or 0
        fingerprint = render_fingerprint(path, timeline, options, audio=audio, seed=seed)
        if output.exists() and not args.force and not video_is_ours(record_path, output):
            raise OutputError(
                f"{str(output)!r} exists and is not the video AIMV last made from this "
                "timeline; use --force to overwrite it"
            )
        work = stage_work(
            record_path,
            output=output,
            scene=blend_out,
            fingerprint=fingerprint,
            force=args.force,
            remake_video=args.force,
        )
        if not (work.video or work.scene):
            if work.scene_kept:  # the video needs nothing; their scene is theirs
                progress.notice(
                    f"{str(blend_out)!r} was saved in Blender since AIMV saved it, and is "
                    "kept as it is"
                )
            if not args.quiet:
                print(f"up to date: {output}")
            return 0
        # Beside a timeline in the user's own folder: their render.json or aimv_sequence/ stay.
        prepare_render(folder, output=output, force=args.force, outputs=STAGE_OUTPUTS)
        record(folder, STAGE_OUTPUTS)  # AIMV's from now on, even if this run is killed
        if work.video:
            stage.run(
                timeline_path=path,
                audio=audio,
                output=output,
                options=options,
                progress=progress,
                seed=seed,
            )
            write_record(record_path, output, fingerprint=fingerprint, options=options)
        if work.scene:  # after the video is recorded: a stop here loses no video
            save_scene(
                timeline_path=path,
                song=audio,
                settings=options,
                seed=seed,
                scene=blend_out,
                video=output,
                progress=progress,
                record_path=record_path,
                fingerprint=fingerprint,
            )
    if not args.quiet:
        print(f"wrote: {output}" if work.video else f"up to date: {output}")
        if work.scene:
            print(f"wrote: {blend_out}")
    return 0
