"""``aimv analyze song.wav -o out/``: the listening stage (and, by default, describe)."""

from __future__ import annotations

import argparse
from pathlib import Path

from aimv_backend.errors import OutputError
from aimv_backend.pipeline import (
    AnalyzeRequest,
    analyze_options_from_args,
    describe_options_from_args,
    run_analyze,
)

TIMELINE_NAME = "timeline.json"


def add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``analyze`` and ``render`` (window, engines, language)."""
    listen = parser.add_argument_group("listening")
    listen.add_argument(
        "--window",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="window length in seconds, 0.25 to 10 (default: 1.0)",
    )
    listen.add_argument(
        "--windows",
        choices=("seconds", "beats", "bars"),
        default="seconds",
        help="window grid: fixed seconds, or boundaries on the beat (as many whole beats or "
        "bars as come closest to --window) (default: seconds)",
    )
    listen.add_argument(
        "--beats",
        choices=("onset", "madmom", "none"),
        default="onset",
        help="beat tracker: onset (built in), madmom (opt-in extra; its models are "
        "CC BY-NC-SA 4.0, NON-COMMERCIAL use only), none (default: onset)",
    )
    listen.add_argument(
        "--beats-per-bar",
        type=int,
        default=4,
        metavar="N",
        help="beats in a bar, 2-12 (default: 4)",
    )
    listen.add_argument(
        "--colour",
        choices=("notes", "spectrum"),
        default="notes",
        help="hue from the played note (basic-pitch; the spectrum where no note is heard) or "
        "from the spectrum alone (default: notes)",
    )
    listen.add_argument(
        "--instruments",
        choices=("auto", "musicnn", "panns", "none"),
        default="auto",
        help="instrument tagger: PANNs if its checkpoint is there, else musicnn (default: auto)",
    )
    listen.add_argument(
        "--instrument-confidence",
        type=float,
        default=0.70,
        metavar="P",
        help="score from which an instrument is confident, 0-1 (default: 0.70)",
    )
    listen.add_argument(
        "--drums",
        choices=("kit", "none"),
        default="kit",
        help="drum hits and kit pieces (kick, snare, crash, ...) from the shipped classifier; "
        "none: only the tagger's 'drums' (default: kit)",
    )
    listen.add_argument(
        "--families",
        choices=("kit", "none"),
        default="kit",
        help="add the shipped instrument-family classifier (bass, organ, brass, sax, synth) "
        "to the tagger (default: kit)",
    )
    listen.add_argument(
        "--panns-checkpoint",
        metavar="PATH",
        help="PANNs Cnn14 checkpoint (default: $AIMV_PANNS_CHECKPOINT, then "
        "~/panns_data/Cnn14_mAP=0.431.pth)",
    )
    listen.add_argument(
        "--asr",
        choices=("faster-whisper", "openai-whisper", "none"),
        default="faster-whisper",
        help="speech recogniser; none keeps voice detection only (default: faster-whisper)",
    )
    listen.add_argument(
        "--asr-model",
        default="base",
        metavar="NAME|PATH",
        help="Whisper model: base (multilingual, offline), tiny.en, a model "
        "folder or an openai-whisper .pt (default: base)",
    )
    listen.add_argument(
        "--language",
        metavar="CODE|NAME",
        help="language of the lyrics, e.g. en, es or Spanish (default: detect)",
    )
    listen.add_argument(
        "--vad-threshold",
        type=float,
        default=0.5,
        metavar="P",
        help="voice-activity probability from which a window has voice, 0-1 (default: 0.5)",
    )
    listen.add_argument(
        "--compute-type",
        default="int8",
        metavar="TYPE",
        help="faster-whisper compute type: int8 (CPU), float16 (GPU), ... (default: int8)",
    )
    listen.add_argument("--no-voice", action="store_true", help="skip voice detection and ASR")
    describe = parser.add_argument_group("describing")
    describe.add_argument(
        "--no-describe",
        action="store_true",
        help="do not write sentences (run 'aimv describe' later)",
    )
    describe.add_argument(
        "--vectors",
        default="default",
        metavar="NAME|PATH",
        help="word vectors for abstractions: default (shipped), a gensim "
        "downloader name or a KeyedVectors/word2vec file",
    )
    describe.add_argument(
        "--style", default=None, metavar="TEXT", help="style words appended to every image prompt"
    )


def add_parser(subparsers, parents) -> None:
    parser = subparsers.add_parser(
        "analyze",
        parents=parents,
        help="analyse a song into out/timeline.json",
        description="Cut a song into windows and record, for each, its volume, colour, "
        "instruments and voice; then write the design's sentence for it.",
    )
    parser.add_argument("audio", metavar="SONG", help="audio file: WAV, FLAC or OGG")
    parser.add_argument(
        "-o",
        "--output",
        default="out",
        metavar="FOLDER",
        help=f"output folder; the timeline is FOLDER/{TIMELINE_NAME} (default: out)",
    )
    add_listen_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, progress) -> int:
    out_dir = Path(args.output)
    if out_dir.suffix == ".json":
        raise OutputError(
            f"--output is a folder, got {str(out_dir)!r}; the timeline is written "
            f"to FOLDER/{TIMELINE_NAME}"
        )
    request = AnalyzeRequest(
        audio=Path(args.audio),
        timeline_path=out_dir / TIMELINE_NAME,
        analyze=analyze_options_from_args(args),
        describe=None if args.no_describe else describe_options_from_args(args),
        force=args.force,
    )
    outcome = run_analyze(request, progress=progress)
    if not args.quiet:
        print(f"{outcome.message}: {outcome.timeline_path}")
    return 0
