"""``aimv imagine timeline.json`` (alias ``textures``): one texture image per window."""

from __future__ import annotations

import argparse
from pathlib import Path

from aimv_backend.cli import options as flags
from aimv_backend.errors import ParameterError
from aimv_backend.stage.options import StageOptions
from aimv_backend.util.workdir import sweep_stale, timeline_folder
from aimv_timeline.names import TEXTURES_DIR, TIMELINE_FILE
from aimv_timeline.paths import is_inside
from aimv_timeline.presets import DEFAULT_PRESET, PRESETS

DESCRIPTION = (
    f"Make one image per window from its prompt, write PNGs to a {TEXTURES_DIR}/ folder "
    "beside the timeline (or --out-dir) and record each path in the timeline. Images are "
    "cached by engine, model, prompt, seed and size: a re-run makes only what is missing "
    "(--force remakes them all). --textures video makes one MP4 clip per bar group instead "
    "(clips/ beside the timeline), recorded in the timeline's clips list."
)


def add_parser(subparsers, parents) -> argparse.ArgumentParser:
    p = flags.subcommand(subparsers, parents, "imagine", DESCRIPTION, run)
    p.add_argument("timeline", help=f"{TIMELINE_FILE} written by 'aimv listen' (updated in place)")
    p.add_argument(
        "--out-dir",
        default=None,
        metavar="DIR",
        help=f"folder for the PNGs, inside the timeline's folder (default: {TEXTURES_DIR}/ "
        "beside it)",
    )
    flags.add_flags(p, "imagining", flags.IMAGINE)
    flags.add_flags(p, "clips (--textures video)", [flags.FPS])
    p.epilog = f"A default of \"the preset's\" is the {DEFAULT_PRESET} preset's here."
    return p


def run(args: argparse.Namespace, progress) -> int:
    from aimv_backend import imagine

    options = flags.imagine_options(args)
    fps = flags.given(args, StageOptions).get("fps", PRESETS[DEFAULT_PRESET].fps)
    clips = flags.clip_options(args, fps=fps)
    path = flags.timeline_path(args.timeline)
    out_dir = Path(args.out_dir) if args.out_dir else None
    if out_dir is not None and str(args.out_dir).strip() == "":
        raise ParameterError(f"--out-dir must name a folder, got {args.out_dir!r}")
    if out_dir is not None and not is_inside(out_dir.absolute(), path.resolve().parent):
        raise ParameterError(
            f"--out-dir {args.out_dir!r} must be inside the timeline's folder "
            f"{str(path.resolve().parent)!r}: a timeline's paths stay in its folder "
            f"(docs/security.md)"
        )
    make = imagine.run
    if clips is not None:  # the clips only; `aimv render --textures video` makes stills too
        from aimv_backend.imagine.clips import make_clips

        make, options = make_clips, clips
    with timeline_folder(path) as folder:  # one run per folder; stale temporaries swept
        timeline = flags.timeline_argument(path)
        if out_dir is not None:
            sweep_stale([out_dir])
        make(
            timeline,
            timeline_dir=folder,
            out_dir=out_dir,
            options=options,
            progress=progress,
            timeline_path=path,
            force=args.force,
        )
    if not args.quiet:  # on stdout, as the other commands say what they wrote
        print(f"wrote: {path}")
    return 0
