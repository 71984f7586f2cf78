"""``aimv describe timeline.json``: (re)write every window's sentence and prompt in place.

Run it after editing instruments or words by hand; ``aimv listen`` and ``render`` run the same
step. The timeline is rewritten atomically and only the description fields,
``settings["describe"]`` and ``engines["description"]`` change. Options not given keep what
the timeline was described with; sentences edited by hand are kept unless ``--force``.
"""

from __future__ import annotations

import argparse

from aimv_backend.cli import options as flags
from aimv_backend.errors import TimelineError
from aimv_backend.util.workdir import timeline_folder
from aimv_timeline.names import TIMELINE_FILE
from aimv_timeline.schema import write_timeline

DESCRIPTION = (
    "Turn each window's (volume, words, instruments, colour) into the original "
    "design's sentence and a text-to-image prompt, in place in the timeline file."
)


def add_parser(subparsers, parents) -> argparse.ArgumentParser:
    parser = flags.subcommand(subparsers, parents, "describe", DESCRIPTION, run)
    parser.add_argument("timeline", help=f"{TIMELINE_FILE} written by 'aimv listen'")
    flags.add_flags(parser, "describing", flags.DESCRIBE)
    return parser


def run(args: argparse.Namespace, progress) -> int:
    from aimv_backend.orchestrator import describe_keeping_edits, describe_options_for

    options = flags.describe_options(args)
    path = flags.timeline_path(args.timeline)
    with timeline_folder(path):  # one run per folder: no other run rewrites the timeline
        before = flags.timeline_argument(path)
        options = describe_options_for(before, options, flags.describe_given(args))
        timeline = describe_keeping_edits(before, options, progress, force=args.force)
        changed = timeline != before
        if changed:  # an unchanged file keeps its bytes and its time (a render stays valid)
            try:
                write_timeline(timeline, path)
            except OSError as exc:
                raise TimelineError(
                    f"timeline {str(path)!r}: cannot be written ({exc.strerror})"
                ) from None
    if not args.quiet:  # on stdout, as listen, stage and render say what they wrote
        done = "described" if changed else "up to date:"
        print(
            f"{done} {len(timeline.windows)} windows in {args.timeline} "
            f"({timeline.engines.get('description')})"
        )
    return 0
