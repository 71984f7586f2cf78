"""``aimv textures timeline.json``: one texture image per window, recorded in the timeline."""

from __future__ import annotations

import argparse
from pathlib import Path

from aimv_backend.errors import ParameterError, TimelineError
from aimv_backend.imagine.options import DEFAULT_MODEL, ENGINES, TextureOptions, parse_size
from aimv_backend.imagine.video_options import DEFAULT_VIDEO_MODEL, VideoOptions
from aimv_timeline.paths import is_inside
from aimv_timeline.schema import TimelineFormatError, read_timeline


def add_parser(subparsers, parents) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "textures",
        parents=parents,
        help="make one texture image per window",
        description=(
            "Make one image per window from its prompt, write PNGs to a textures/ folder beside "
            "the timeline (or --out-dir) and record each path in the timeline. Images are cached "
            "by engine, model, prompt, seed and size: a re-run makes only what is missing. "
            "--textures video makes one MP4 clip per bar group (clips/ beside the timeline) "
            "and records them in the timeline's clips list."
        ),
    )
    p.add_argument("timeline", help="timeline JSON written by 'aimv analyze' (updated in place)")
    p.add_argument(
        "--out-dir",
        default=None,
        help="folder for the PNGs, inside the timeline's folder (default: textures/ beside it)",
    )
    p.add_argument(
        "--textures",
        choices=(*ENGINES, "video"),
        default="auto",
        help="engine: diffusers on a GPU, procedural offline, or auto "
        "(diffusers when a GPU is present and the model loads; default: auto); video: one "
        "generated clip per bar group or 4-8 s phrase (LTX-Video or CogVideoX, needs a GPU)",
    )
    p.add_argument(
        "--model",
        default=None,
        help=f"diffusers model folder or hub id (default: {DEFAULT_MODEL}; "
        f"with --textures video: {DEFAULT_VIDEO_MODEL})",
    )
    p.add_argument(
        "--size",
        default=None,
        help="image size N or WIDTHxHEIGHT, multiples of 8 in [64, 2048] (default: 512); "
        "video: multiples of 32 (default: 768x512)",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="diffusion steps; 1-4 for turbo models (default: 1; video: 20)",
    )
    p.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="classifier-free guidance scale; 0 for turbo models (default: 0; video: 3)",
    )
    p.add_argument(
        "--fps", type=int, default=24, help="video: frames per second of the clips (default: 24)"
    )
    p.add_argument(
        "--batch-size", type=int, default=4, help="prompts per diffusers call (default: 4)"
    )
    p.add_argument(
        "--tiny-vae",
        default=None,
        metavar="PATH|ID",
        help="AutoencoderTiny folder or hub id (e.g. madebyollin/taesd) for fast decoding",
    )
    p.add_argument(
        "--continuity",
        action="store_true",
        help="diffusers: start each image from the previous window's (image-to-image)",
    )
    p.add_argument(
        "--device",
        default=None,
        help="cuda, cuda:N, mps or cpu (default: the first GPU, else cpu; --textures video "
        "refuses to run without a GPU unless this is cpu)",
    )
    p.set_defaults(run=run)
    return p


def options_from_args(args: argparse.Namespace) -> TextureOptions:
    """TextureOptions from parsed arguments (ParameterError names the bad one)."""
    return TextureOptions(
        engine=args.textures,
        model=args.model or DEFAULT_MODEL,
        size=parse_size(str(args.size or "512")),
        steps=1 if args.steps is None else args.steps,
        guidance=0.0 if args.guidance is None else args.guidance,
        seed=args.seed,
        batch_size=args.batch_size,
        tiny_vae=args.tiny_vae,
        continuity=args.continuity,
        device=args.device,
        allow_download=not args.offline,
    )


def video_options_from_args(args: argparse.Namespace) -> VideoOptions:
    """VideoOptions from parsed arguments (ParameterError names the bad one)."""
    size = (768, 512) if args.size is None else _video_size(str(args.size))
    return VideoOptions(
        model=args.model or DEFAULT_VIDEO_MODEL,
        size=size,
        fps=args.fps,
        steps=20 if args.steps is None else args.steps,
        guidance=3.0 if args.guidance is None else args.guidance,
        seed=args.seed,
        device=args.device,
        allow_download=not args.offline,
    )


def _video_size(text: str) -> tuple[int, int]:
    parts = text.lower().replace("*", "x").split("x")
    try:
        values = [int(v) for v in parts]
    except ValueError:
        raise ParameterError(f"--size must be N or WIDTHxHEIGHT, got {text!r}") from None
    if len(values) not in (1, 2):
        raise ParameterError(f"--size must be N or WIDTHxHEIGHT, got {text!r}")
    return (values[0], values[-1])


def _quiet_libraries() -> None:
    """diffusers and transformers print load bars and warnings; the stage has its own bar."""
    try:
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.set_verbosity_error()
        diffusers_logging.disable_progress_bar()
    except ImportError:
        pass
    try:
        from huggingface_hub.utils import logging as hub_logging

        hub_logging.set_verbosity_error()
    except ImportError:
        pass
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()
    except ImportError:
        pass


def run(args: argparse.Namespace, progress) -> int:
    from aimv_backend.imagine.run import make_textures

    video = args.textures == "video"
    options = video_options_from_args(args) if video else options_from_args(args)
    path = Path(args.timeline)
    if not path.is_file():
        raise TimelineError(f"timeline {str(path)!r}: no such file")
    try:
        timeline = read_timeline(path)
    except TimelineFormatError as exc:
        raise TimelineError(str(exc)) from None
    if video or options.engine != "procedural":
        _quiet_libraries()
    out_dir = Path(args.out_dir) if args.out_dir else None
    if out_dir is not None and str(args.out_dir).strip() == "":
        raise ParameterError(f"--out-dir must name a folder, got {args.out_dir!r}")
    if out_dir is not None and not is_inside(out_dir.absolute(), path.resolve().parent):
        raise ParameterError(
            f"--out-dir {args.out_dir!r} must be inside the timeline's folder "
            f"{str(path.resolve().parent)!r}: a timeline's paths stay in its folder "
            f"(docs/security.md)"
        )
    if video:
        from aimv_backend.imagine.clips import make_clips

        make_clips(
            timeline,
            timeline_dir=path.resolve().parent,
            out_dir=out_dir,
            options=options,
            progress=progress,
            timeline_path=path,
            force=args.force,
        )
        return 0
    make_textures(
        timeline,
        timeline_dir=path.resolve().parent,
        out_dir=out_dir,
        options=options,
        progress=progress,
        timeline_path=path,
        force=args.force,
    )
    return 0
