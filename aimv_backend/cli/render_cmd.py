"""``aimv render song.wav -o video.mp4``: every stage, from song to music video.

listen (+ describe) -> textures -> stage and render in Blender. Each stage's output lives in a
work folder beside the video (``video.aimv/``: timeline.json, textures/, scene.blend) and is
reused when still valid, so a re-run after an interruption picks up where it stopped.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from aimv_backend.cli.analyze_cmd import TIMELINE_NAME, add_listen_arguments
from aimv_backend.errors import ParameterError
from aimv_backend.render import PRESETS, RenderRequest, render_song
from aimv_backend.stage.blender_runner import RenderSettings
from aimv_backend.stage.chunked import ScaleOptions
from aimv_timeline.names import PICTURE_LAYERS


def _resolution(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 640x360, got {text!r}"
        ) from None
    return w, h


def add_parser(subparsers, parents) -> None:
    parser = subparsers.add_parser(
        "render",
        parents=parents,
        help="song.wav to music video: every stage, then Blender",
        description="Analyse, describe, make textures, stage in Blender and render an MP4 with "
        "the original audio. Stages whose outputs are cached and valid are skipped.",
    )
    parser.add_argument(
        "audio",
        metavar="SONG",
        nargs="+",
        help="audio file: WAV, FLAC or OGG; several songs (an album) need -o OUTDIR/",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="VIDEO.mp4|OUTDIR/",
        help="the video to write; for several songs a folder (OUTDIR/NAME.mp4 each)",
    )
    parser.add_argument(
        "--work-dir",
        metavar="FOLDER",
        help="where the timeline, textures and scene.blend go "
        "(default: VIDEO.aimv/ beside the video)",
    )
    video = parser.add_argument_group("video")
    video.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="preview",
        help="preview: 640x360, 24 fps, Workbench (fast on a CPU); "
        "final: 1280x720, 30 fps, EEVEE (default: preview)",
    )
    video.add_argument(
        "--resolution",
        type=_resolution,
        metavar="WxH",
        help="frame size in pixels (default: the preset's)",
    )
    for layer, what in PICTURE_LAYERS.items():
        video.add_argument(f"--no-{layer}", action="store_true", help=f"leave out {what}")
    video.add_argument("--font", help="font file for the lyrics (default: Blender's built-in)")
    video.add_argument("--fps", type=int, help="frames per second (default: the preset's)")
    video.add_argument(
        "--engine",
        choices=("workbench", "eevee", "cycles"),
        help="Blender render engine (default: the preset's)",
    )
    video.add_argument("--samples", type=int, help="EEVEE/Cycles samples (default: preset's)")
    video.add_argument(
        "--blender",
        metavar="PATH",
        help="a Blender 4.2+ binary to render with (default: the bpy module)",
    )
    scale = parser.add_argument_group("scale (docs/scale.md)")
    scale.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="Blender processes at once (default: the cores, capped by memory; "
        "with --ray: the cluster's CPUs)",
    )
    scale.add_argument(
        "--chunks", type=int, metavar="N", help="split the frames into N chunks (default: workers)"
    )
    scale.add_argument(
        "--ray",
        metavar="auto|ADDRESS",
        help="render the chunks (and an album's listening) as tasks on an existing Ray cluster",
    )
    scale.add_argument(
        "--ray-ship",
        action="store_true",
        help="with --ray: send each chunk's inputs with the task (no shared storage needed)",
    )
    saved = parser.add_argument_group("a saved scene (the Blender panel's Render)")
    saved.add_argument(
        "--blend",
        metavar="FILE",
        help="render the scene of this .blend as it is, in chunks (no listening, no build)",
    )
    saved.add_argument("--scene", default="Scene", help="the scene of --blend (default: Scene)")
    saved.add_argument(
        "--frames", metavar="START:END", help="the frames of --blend to render (inclusive)"
    )
    textures = parser.add_argument_group("textures")
    textures.add_argument(
        "--textures",
        choices=("auto", "procedural", "diffusers", "video"),
        default="auto",
        help="texture engine: diffusers on a GPU, else procedural (default: auto); video: "
        "procedural stills plus one generated clip per bar group on the background (GPU)",
    )
    textures.add_argument(
        "--model",
        default=None,
        metavar="ID|PATH",
        help="diffusers model folder or hub id (default: stabilityai/sd-turbo; "
        "with --textures video: Lightricks/LTX-Video)",
    )
    textures.add_argument(
        "--device",
        default=None,
        help="cuda, cuda:N, mps or cpu for the models (default: the GPU; --textures video "
        "refuses to run without one unless this is cpu)",
    )
    textures.add_argument(
        "--texture-size",
        type=int,
        default=None,
        metavar="PIXELS",
        help="texture width and height (default: the preset's)",
    )
    add_listen_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, progress) -> int:
    from aimv_backend import album
    from aimv_backend.pipeline import analyze_options_from_args, describe_options_from_args

    output = Path(args.output)
    many = album.is_album(args.audio, args.output)
    if not many and output.suffix.lower() != ".mp4":
        raise ParameterError(f"--output must name an .mp4 file, got {str(output)!r}")
    if many and args.work_dir:
        raise ParameterError("--work-dir is for one song; an album puts OUTDIR/NAME.aimv/ each")
    preset = PRESETS[args.preset]
    settings = RenderSettings(
        resolution=args.resolution or preset.resolution,
        fps=preset.fps if args.fps is None else args.fps,
        engine=args.engine or preset.engine,
        samples=preset.samples if args.samples is None else args.samples,
        blender=args.blender,
        layers_off=tuple(n for n in PICTURE_LAYERS if getattr(args, f"no_{n}")),
        font=args.font,
    ).check()
    work_dir = Path(args.work_dir) if args.work_dir else output.with_suffix(".aimv")
    request = RenderRequest(
        audio=Path(args.audio[0]),
        output=output,
        work_dir=work_dir,
        timeline_path=work_dir / TIMELINE_NAME,
        analyze=analyze_options_from_args(args),
        describe=None if args.no_describe else describe_options_from_args(args),
        textures_engine=args.textures,
        textures_model=args.model,
        textures_device=args.device,
        texture_size=preset.texture_size if args.texture_size is None else args.texture_size,
        seed=args.seed,
        offline=args.offline,
        render=settings,
        force=args.force,
        scale=ScaleOptions(
            workers=args.workers, chunks=args.chunks, ray=args.ray, ship=args.ray_ship
        ),
    )
    if args.ray:  # a wrong address fails now, not after the listening
        from aimv_backend.stage import ray_backend

        ray_backend.connect(args.ray)
    if args.blend:
        return _run_blend(args, request, progress)
    if many:
        return _run_album(args, request, output, progress)
    result = render_song(request, progress=progress)
    if not args.quiet:
        print(f"{result.message}: {result.output}")
    return 0


def _run_blend(args: argparse.Namespace, request: RenderRequest, progress) -> int:
    """The Blender panel's Render: a saved scene in chunks, joined with the song's audio."""
    from aimv_backend.stage.chunked import ChunkedRequest, render_to_file
    from aimv_backend.stage.chunks import FrameRange

    if len(args.audio) != 1:
        raise ParameterError("--blend renders one song's scene; give one SONG")
    try:
        first, last = (int(x) for x in (args.frames or "").split(":"))
        frames = FrameRange(first, last)
    except ValueError:
        raise ParameterError(
            f"--frames must be START:END with --blend, got {args.frames!r}"
        ) from None
    chunked = ChunkedRequest(
        song=request.audio,
        timeline_path=None,
        work_dir=request.work_dir,
        output=request.output,
        settings=request.render,
        seed=request.seed,
        scale=request.scale,
        blend=Path(args.blend),
        scene=args.scene,
        frames=frames,
    )
    result = render_to_file(chunked, output=request.output, force=args.force, progress=progress)
    if not args.quiet:
        print(f"wrote: {result.output}")
    return 0


def _run_album(args: argparse.Namespace, request: RenderRequest, outdir: Path, progress) -> int:
    """Every song into OUTDIR; each failure is one line on stderr; exit 2 if any failed."""
    import sys

    from aimv_backend import album

    songs = [Path(a) for a in args.audio]
    requests = [
        album.with_outputs(replace(request, audio=song), video, work)
        for song, (video, work) in zip(songs, album.album_paths(songs, outdir), strict=True)
    ]

    def report(outcome: album.SongOutcome) -> None:
        if outcome.error is not None:
            print(f"aimv: error: {outcome.audio}: {outcome.error}", file=sys.stderr, flush=True)
        elif not args.quiet and outcome.result is not None:
            print(f"{outcome.result.message}: {outcome.output}", flush=True)

    result = album.render_album(requests, progress=progress, on_song=report)
    failed = len(result.failed)
    if failed:
        print(f"aimv: {failed} of {len(result.songs)} songs failed", file=sys.stderr, flush=True)
        return 2
    return 0
