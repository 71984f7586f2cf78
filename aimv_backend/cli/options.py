"""The one map from command-line flags to option fields, for every subcommand.

Each flag is defined once, next to the option class and field it sets: here, or, for the flags
the headless Blender script shares, in :mod:`aimv_timeline.flags` (bound here). Subcommands add
the groups they need. Defaults are never repeated: a flag the user does not give leaves the
field at its class default (``--help`` shows it), and :func:`given` tells which fields the user
set (``aimv render`` keeps the describe options of an existing timeline for the others).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import Any

from aimv_backend.describe import DescribeOptions
from aimv_backend.errors import ParameterError, TimelineError
from aimv_backend.imagine.options import DEFAULT_MODEL, MAX_STEPS, ImagineOptions, parse_size
from aimv_backend.imagine.video_options import DEFAULT_VIDEO_MODEL, VideoOptions
from aimv_backend.listen.analyze import COLOUR_MODES, ListenOptions
from aimv_backend.listen.instruments import DRUM_ENGINES, InstrumentOptions
from aimv_backend.listen.rhythm import BEAT_ENGINES, RhythmOptions
from aimv_backend.listen.voice import VoiceOptions
from aimv_backend.listen.windows import WINDOW_MODES
from aimv_backend.stage.options import MAX_WORKERS, SavedScene, ScaleOptions, StageOptions
from aimv_timeline import flags as shared
from aimv_timeline import names
from aimv_timeline.presets import DEFAULT_PRESET, PRESETS
from aimv_timeline.schema import Timeline, TimelineFormatError, read_timeline

VIDEO = shared.VIDEO  # --textures video: procedural stills plus generated clips
resolution, frame_range = shared.resolution, shared.frame_range  # flag value parsers
add_preset = shared.add_preset


@dataclass(frozen=True)
class Flag:
    """``spec``'s flags set ``options.field`` (the spec's help has the default added)."""

    options: type
    field: str
    spec: shared.Flag

    @property
    def dest(self) -> str:
        return f"{self.options.__name__}.{self.field}"

    def default(self) -> Any:
        for f in fields(self.options):
            if f.name == self.field:
                return f.default if f.default is not MISSING else f.default_factory()
        raise AttributeError(self.field)


def on_off(text: str) -> bool:
    """``on`` or ``off`` (also yes/no, true/false, 1/0) as a bool, for switches that default on."""
    value = text.strip().lower()
    if value in ("on", "yes", "true", "1"):
        return True
    if value in ("off", "no", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected on or off, got {text!r}")


def flag(options: type, field: str, *spec: Any, **more: Any) -> Flag:
    """A flag only ``aimv`` has (the shared ones are in :mod:`aimv_timeline.flags`)."""
    return Flag(options, field, shared.Flag(*spec, **more))


L, N, V, D, M, S, R = (
    ListenOptions,
    InstrumentOptions,
    VoiceOptions,
    DescribeOptions,
    ImagineOptions,
    StageOptions,
    RhythmOptions,
)
LISTEN = (
    Flag(L, "window_seconds", shared.WINDOW),
    flag(L, "windows", ("--windows",), "window grid: fixed seconds, or boundaries on the beat "
         "(as many whole beats or bars as come closest to --window)", choices=WINDOW_MODES),
    flag(R, "engine", ("--beats",), "beat tracker: onset (built in), madmom (opt-in extra; its "
         "models are CC BY-NC-SA 4.0, NON-COMMERCIAL use only), none",
         choices=BEAT_ENGINES),
    Flag(R, "beats_per_bar", shared.BEATS_PER_BAR),
    flag(L, "colour", ("--colour",), "hue from the played note (basic-pitch; the spectrum where "
         "no note is heard) or from the spectrum alone", choices=COLOUR_MODES),
    Flag(N, "engine", shared.INSTRUMENTS),
    flag(N, "confidence", ("--instrument-confidence",), "score from which an instrument is "
         "confident, 0-1", float, "P"),
    flag(N, "drums", ("--drums",), "drum hits and kit pieces (kick, snare, crash, ...) from "
         "the shipped classifier; none: only the tagger's 'drums'", choices=DRUM_ENGINES),
    flag(N, "families", ("--families",), "add the shipped instrument-family classifier (bass, "
         "organ, brass, sax, synth) to the tagger; none leaves the tagger alone",
         choices=DRUM_ENGINES),
    flag(N, "panns_checkpoint", ("--panns-checkpoint",), "PANNs Cnn14 checkpoint", None, "PATH",
         default_text="$AIMV_PANNS_CHECKPOINT, then ~/panns_data/Cnn14_mAP=0.431.pth"),
    Flag(V, "asr", shared.ASR),
    flag(V, "model", ("--asr-model",), "Whisper model: base (multilingual, offline), tiny.en, "
         "a model folder or an openai-whisper .pt", None, "NAME|PATH"),
    Flag(V, "language", shared.LANGUAGE),
    flag(V, "vad_threshold", ("--vad-threshold",), "voice-activity probability from which a "
         "window has voice, 0-1", float, "P"),
    flag(V, "compute_type", ("--compute-type",), "faster-whisper compute type: int8 (CPU), "
         "float16 (GPU), ...", None, "TYPE"),
    flag(V, "music_pass", ("--music-pass",), "also recognise the song outside the speech "
         "detector's voiced parts, with stricter filters (singing under a band); off: speech "
         "regions only, faster on long instrumental songs", on_off, "on|off",
         default_text="on"),
)  # fmt: skip
DESCRIBE = (
    flag(D, "vectors", ("--vectors",), "word vectors for the abstractions: default (shipped, "
         "offline), a gensim-data name such as glove-wiki-gigaword-100 (downloaded when "
         "online), or a KeyedVectors/word2vec file", None, "NAME|PATH"),
    flag(D, "style", ("--style",), "style words appended to every image prompt", None, "TEXT"),
    flag(D, "top_k", ("--top-k",), "draw each abstraction among the K nearest words", int, "K"),
)  # fmt: skip
IMAGINE = (
    Flag(M, "engine", shared.TEXTURES),
    flag(M, "model", ("--model",), "diffusers model folder or hub id", None, "ID|PATH",
         default_text=f"{DEFAULT_MODEL}; with --textures video: {DEFAULT_VIDEO_MODEL}"),
    flag(M, "size", ("--texture-size", "--size"), "texture size N or WIDTHxHEIGHT, multiples "
         "of 8 in [64, 2048]; video: the clips' size, multiples of 32", None, "N|WxH",
         default_text="the preset's, 512; video: 768x512"),
    flag(M, "steps", ("--steps",), f"diffusion steps, 1-{MAX_STEPS}; 1-4 for turbo models", int,
         default_text="1; video: 20"),
    flag(M, "guidance", ("--guidance",), "classifier-free guidance; 0 for turbo models", float,
         default_text="0; video: 3"),
    flag(M, "batch_size", ("--batch-size",), "prompts per diffusers call", int, "N"),
    flag(M, "tiny_vae", ("--tiny-vae",), "AutoencoderTiny folder or hub id (e.g. "
         "madebyollin/taesd) for fast decoding", None, "PATH|ID", default_text="none"),
    flag(M, "continuity", ("--continuity",), "diffusers: start each image from the previous "
         "window's (image-to-image)", switch=True),
    flag(M, "device", ("--device",), "cuda, cuda:N, mps or cpu; --textures video refuses to "
         "run without a GPU unless this is cpu", None, default_text="the first GPU, else cpu"),
)  # fmt: skip
STAGE = (
    Flag(S, "resolution", shared.RESOLUTION),
    Flag(S, "fps", shared.FPS),
    Flag(S, "engine", shared.ENGINE),
    Flag(S, "samples", shared.SAMPLES),
    Flag(S, "crossfade", shared.CROSSFADE),
    flag(S, "blender", ("--blender",), "a Blender 4.2+ binary to render with", None, "PATH",
         default_text="the bpy module"),
    *(Flag(S, "layers_off", spec) for spec in shared.LAYERS),
    Flag(S, "font", shared.FONT),
)  # fmt: skip
SCALE = (
    flag(ScaleOptions, "workers", ("--workers",), f"Blender processes at once, 1-{MAX_WORKERS}",
         int, "N",
         default_text="the cores, capped by memory; with --ray: the cluster's CPUs"),
    flag(ScaleOptions, "chunks", ("--chunks",), "split the frames into N chunks", int, "N",
         default_text="one per worker"),
    flag(ScaleOptions, "ray", ("--ray",), "render the chunks (and an album's listening) as "
         "tasks on an existing Ray cluster", None, "auto|ADDRESS", default_text="this machine"),
    flag(ScaleOptions, "ship", ("--ray-ship",), "with --ray: send each chunk's inputs with the "
         "task (no shared storage needed)", switch=True),
)  # fmt: skip
SAVED_SCENE = (
    flag(SavedScene, "blend", ("--blend",), "render the scene of this .blend as it is, in "
         "chunks (no listening, no build)", None, "FILE", default_text="none"),
    Flag(SavedScene, "scene", shared.SCENE),
    Flag(SavedScene, "frames", replace(shared.FRAMES, default_text="required with --blend")),
)  # fmt: skip
ALL = LISTEN + DESCRIBE + IMAGINE + STAGE + SCALE + SAVED_SCENE
FPS = STAGE[1]  # the video's frame rate; `aimv imagine --textures video` makes clips at it


def add_flags(parser: argparse.ArgumentParser, title: str, flags: Sequence[Flag]):
    """Add ``flags`` as one argument group; every default is None (= not given)."""
    group = parser.add_argument_group(title)
    for f in flags:
        f.spec.add_to(group, dest=f.dest, shown=None if f.spec.default_text else f.default())
    return group


def given(args: argparse.Namespace, options: type) -> dict[str, Any]:
    """The fields of ``options`` set on the command line, with their values."""
    prefix = f"{options.__name__}."
    return {
        dest[len(prefix) :]: value
        for dest, value in vars(args).items()
        if dest.startswith(prefix) and value is not None
    }


def _seed(args: argparse.Namespace) -> dict[str, int]:
    return {} if args.seed is None else {"seed": args.seed}


def listen_options(args: argparse.Namespace) -> ListenOptions:
    """ListenOptions of the command line (validated: ParameterError names the flag)."""
    allow = {"allow_download": not args.offline}
    instruments = given(args, InstrumentOptions)
    voice = None if args.no_voice else VoiceOptions(**given(args, VoiceOptions), **allow)
    return ListenOptions(
        **given(args, ListenOptions),
        rhythm=RhythmOptions(**given(args, RhythmOptions)),
        instruments=None
        if instruments.get("engine") == "none"
        else InstrumentOptions(**instruments, **allow),
        voice=voice,
    )


def describe_options(args: argparse.Namespace) -> DescribeOptions:
    return DescribeOptions(
        **given(args, DescribeOptions), **_seed(args), allow_download=not args.offline
    )


def describe_given(args: argparse.Namespace) -> frozenset[str]:
    """The describe fields the user chose (the rest may come from an existing timeline)."""
    return frozenset(given(args, DescribeOptions)) | frozenset(_seed(args))


def imagine_options(args: argparse.Namespace, *, preset: str = DEFAULT_PRESET) -> ImagineOptions:
    """The still textures' options; with --textures video, procedural stills at the preset's
    size (the model, size, steps, guidance and device flags are the clips')."""
    values = given(args, ImagineOptions)
    side = PRESETS[preset].texture_size
    if values.get("engine") == VIDEO:
        values = {"engine": "procedural"}
    size = values.pop("size", None)
    return ImagineOptions(
        **values,
        size=parse_size(size) if size is not None else (side, side),
        **_seed(args),
        allow_download=not args.offline,
    )


def clip_options(args: argparse.Namespace, *, fps: int) -> VideoOptions | None:
    """With --textures video, the generated clips' options (at ``fps`` frames per second,
    the video's), else None."""
    values = given(args, ImagineOptions)
    if values.get("engine") != VIDEO:
        return None
    picked = {k: values[k] for k in ("model", "steps", "guidance", "device") if k in values}
    if "size" in values:
        picked["size"] = _clip_size(values["size"])
    return VideoOptions(**picked, fps=fps, **_seed(args), allow_download=not args.offline)


def _clip_size(text: str) -> tuple[int, int]:
    """ "512" -> (512, 512), "768x512" -> (768, 512); VideoOptions checks the range."""
    try:
        values = [int(v) for v in text.lower().replace("*", "x").split("x")]
    except ValueError:
        values = []
    if len(values) not in (1, 2):
        raise ParameterError(f"--texture-size must be N or WIDTHxHEIGHT, got {text!r}")
    return values[0], values[-1]


def stage_options(args: argparse.Namespace) -> StageOptions:
    preset = PRESETS[getattr(args, "preset", None) or DEFAULT_PRESET]
    values = {
        "resolution": preset.resolution,
        "fps": preset.fps,
        "engine": preset.engine,
        "samples": preset.samples,
        "crossfade": preset.crossfade,
        **given(args, StageOptions),
    }
    if "layers_off" in values:  # --no-LAYER flags, in the table's order, each once
        off = set(values["layers_off"])
        values["layers_off"] = tuple(n for n in names.PICTURE_LAYERS if n in off)
    return StageOptions(**values)


def scale_options(args: argparse.Namespace) -> ScaleOptions:
    """ScaleOptions of the command line (validated: ParameterError names the flag)."""
    return ScaleOptions(**given(args, ScaleOptions))


def saved_scene(args: argparse.Namespace) -> SavedScene | None:
    """The saved scene of ``--blend`` (None without it); --scene/--frames need --blend."""
    values = given(args, SavedScene)
    if "blend" not in values:
        if values:
            named = " and ".join(f"--{name}" for name in values)
            raise ParameterError(f"{named} need{'s' if len(values) == 1 else ''} --blend FILE")
        return None
    if "frames" not in values:
        raise ParameterError("--blend needs --frames START:END")
    return SavedScene(**{**values, "blend": Path(values["blend"])})


def subcommand(subparsers, parents, name: str, description: str, run) -> argparse.ArgumentParser:
    """The parser of subcommand ``name``: its one-line help from the table in ``main``, its old
    name (``analyze``, ``textures``) as an alias, and ``run`` as what it does."""
    from aimv_backend.cli.main import SUBCOMMANDS

    old = [alias for alias, stage in names.STAGE_ALIASES.items() if stage == name]
    parser = subparsers.add_parser(
        name, aliases=old, parents=parents, help=SUBCOMMANDS[name][1], description=description
    )
    parser.set_defaults(run=run)
    return parser


def timeline_path(given: str) -> Path:
    """The timeline file a subcommand works on: a symbolic link is followed to its file, so the
    rewritten timeline, its textures and its folder's lock are the linked file's, and the link
    stays a link."""
    path = Path(given)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def timeline_argument(path: str | Path) -> Timeline:
    """The timeline a subcommand was given, or TimelineError naming the file."""
    if _looks_like_sound(path):
        raise TimelineError(
            f"{str(path)!r} is a sound file, not a timeline: make its timeline with "
            f"`aimv listen {path}`, or the whole video with `aimv render`"
        )
    try:
        return read_timeline(path)
    except TimelineFormatError as exc:
        raise TimelineError(str(exc)) from None


# The first bytes of the sound files a user may give where a timeline is wanted.
_SOUND_MAGIC = (b"RIFF", b"RF64", b"fLaC", b"OggS", b"ID3", b"FORM", b"\xff\xfb", b"\xff\xf3")


def _looks_like_sound(path: str | Path) -> bool:
    if not Path(path).is_file():  # never open a FIFO or a device: it may block or never end
        return False  # read_timeline names what the path is
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False  # read_timeline names what is wrong with the path
    return head.startswith(_SOUND_MAGIC)
