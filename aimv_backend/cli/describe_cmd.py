"""``aimv describe timeline.json``: (re)write every window's sentence and prompt in place.

Run it after editing instruments or words by hand; ``aimv analyze`` runs the same step. The
timeline is rewritten atomically and only the description fields, ``settings["describe"]``
and ``engines["description"]`` change. (``aimv analyze`` and ``render`` offer ``--vectors``
and ``--style`` through their own listening options; ``--top-k`` is this command's.)
"""

from __future__ import annotations

import argparse
import sys

from aimv_backend.describe.prompt import DEFAULT_STYLE


def add_describe_options(parser) -> None:
    """Add --vectors, --style and --top-k to a parser or argument group (--offline is common)."""
    parser.add_argument(
        "--vectors",
        default="default",
        metavar="NAME|PATH",
        help="word vectors for the abstractions: 'default' (shipped, offline), a gensim-data "
        "name such as glove-wiki-gigaword-100 (downloaded when online), or a "
        "KeyedVectors/word2vec file (default: default)",
    )
    parser.add_argument(
        "--style",
        default=DEFAULT_STYLE,
        help=f"style words appended to every image prompt (default: {DEFAULT_STYLE!r})",
    )
    parser.add_argument(
        "--top-k",
        type=int,
        default=8,
        metavar="K",
        help="draw each abstraction among the K nearest words (default: 8)",
    )


def describe_options_from_args(args: argparse.Namespace):
    """The DescribeOptions of parsed arguments (with the common --seed)."""
    from aimv_backend.describe import DescribeOptions

    return DescribeOptions(
        seed=args.seed,
        vectors=args.vectors,
        style=args.style,
        allow_download=not args.offline,
        top_k=args.top_k,
    ).check()


def add_parser(subparsers, parents) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "describe",
        parents=parents,
        help="write the sentence and prompt of every window",
        description=(
            "Turn each window's (volume, words, instruments, colour) into the original "
            "design's sentence and a text-to-image prompt, in place in the timeline file."
        ),
    )
    parser.add_argument("timeline", help="timeline JSON file written by 'aimv analyze'")
    add_describe_options(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace, progress) -> int:
    from aimv_backend.describe import describe_timeline_file

    options = describe_options_from_args(args)
    timeline = describe_timeline_file(
        args.timeline, options=options, progress=progress, force=args.force
    )
    if not getattr(args, "quiet", False):
        print(
            f"aimv: described {len(timeline.windows)} windows in {args.timeline} "
            f"({timeline.engines.get('description')})",
            file=sys.stderr,
        )
    return 0
