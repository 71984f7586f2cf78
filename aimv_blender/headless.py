"""Headless AIMV: song.wav -> timeline (backend) -> keyed scene -> MP4, without the UI.

Run with a Blender binary or with the bpy module's Python (both as a plain script):

    blender -b --python aimv_blender/headless.py -- song.wav -o video.mp4 [options]
    python aimv_blender/headless.py -- song.wav -o video.mp4 [options]

Errors print one line (``aimv-blender: error: ...``) and exit with code 2; a cancelled run
(Ctrl-C) exits 130. The options are documented in docs/blender.md and by ``--help``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
from pathlib import Path

EXIT_USER_ERROR = 2
EXIT_CANCELLED = 130
ENGINES = ("workbench", "eevee", "cycles")


def _package():
    """Import this folder as a package whatever its name (aimv_blender, or the extension id)."""
    here = Path(__file__).resolve().parent
    if str(here.parent) not in sys.path:
        sys.path.insert(0, str(here.parent))
    return here.name


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(EXIT_USER_ERROR, f"aimv-blender: error: {message} (see --help)\n")


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    return w, h


def _frames(text: str) -> tuple[int, int]:
    try:
        a, b = (int(p) for p in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:END, got {text!r}") from None
    if a < 1 or b < a:
        raise argparse.ArgumentTypeError(f"expected 1 <= START <= END, got {text!r}")
    return a, b


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="aimv_blender/headless.py",
        description="Stage an AIMV timeline in Blender and render it to an MP4 with the song.",
    )
    p.add_argument("song", nargs="?", help="the song (WAV); default with --timeline: its source")
    p.add_argument("-o", "--output", help="the MP4 to write (required unless --blend-out)")
    p.add_argument("--timeline", help="use this timeline.json (and its textures) as it is")
    p.add_argument(
        "--aimv",
        default="aimv",
        metavar="CMD",
        help="backend command that makes the timeline (default: aimv on PATH)",
    )
    p.add_argument("--work-dir", help="backend output folder (default: OUTPUT's name + .aimv)")
    p.add_argument("--window", type=float, default=1.0, help="window seconds (default: 1.0)")
    p.add_argument(
        "--instruments",
        default="auto",
        choices=("auto", "musicnn", "panns", "none"),
        help="backend instrument tagger (default: auto)",
    )
    p.add_argument(
        "--asr",
        default="faster-whisper",
        choices=("faster-whisper", "openai-whisper", "none"),
        help="backend speech recogniser (default: faster-whisper)",
    )
    p.add_argument(
        "--language", default="", help="lyrics language for the backend (default: detect)"
    )
    p.add_argument(
        "--textures",
        default="auto",
        choices=("auto", "procedural", "diffusers", "none"),
        help="texture engine of the backend, none to skip (default: auto)",
    )
    p.add_argument(
        "--resolution",
        type=_size,
        default=(1280, 720),
        metavar="WxH",
        help="video size (default: 1280x720)",
    )
    p.add_argument("--fps", type=int, default=24, help="frames per second (default: 24)")
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="workbench",
        help="render engine (default: workbench, the fast preview path)",
    )
    p.add_argument("--samples", type=int, default=16, help="EEVEE/Cycles samples (default: 16)")
    p.add_argument(
        "--frames",
        type=_frames,
        metavar="START:END",
        help="render only these frames (1-based, inclusive)",
    )
    p.add_argument(
        "--crossfade",
        type=float,
        default=0.5,
        help="seconds of blending into the next window, from the boundary (default: 0.5)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the backend and camera sway")
    layer_options = importlib.import_module(f"{_package()}.layer_options")
    for name, what in layer_options.LAYERS.items():
        p.add_argument(f"--no-{name}", action="store_true", help=f"leave out {what}")
    p.add_argument("--font", help="font file for the lyrics (default: Blender's built-in font)")
    p.add_argument("--blend-out", metavar="FILE", help="also save the staged scene as .blend")
    p.add_argument(
        "--image-sequence",
        metavar="DIR",
        help="write the frames as DIR/f_NNNNNN.png instead of an MP4 (the chunked render)",
    )
    p.add_argument("--blend", metavar="FILE", help="render this saved scene as it is (no build)")
    p.add_argument("--scene", default="Scene", help="the stage scene of --blend")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument(
        "--progress",
        choices=("json", "none"),
        default="none",
        help="json: AIMV-PROGRESS lines on stderr (default: none)",
    )
    return p


def _argv() -> list[str]:
    argv = sys.argv
    return argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]


class _Progress:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def emit(self, event: dict) -> None:
        if self.enabled:
            sys.stderr.write("AIMV-PROGRESS " + json.dumps(event) + "\n")
            sys.stderr.flush()


def _make_timeline(args, pkg: str, progress: _Progress) -> Path:
    import bpy  # noqa: PLC0415 - Blender is only needed once the arguments are good

    runner = importlib.import_module(f"{pkg}.subprocess_runner")
    song = Path(args.song)
    work = Path(args.work_dir) if args.work_dir else Path(args.output).with_suffix(".aimv")
    settings = runner.BackendSettings(
        command=args.aimv,
        audio=song.absolute(),
        work_dir=work.absolute(),
        window_seconds=args.window,
        instruments=args.instruments,
        asr=args.asr,
        language=args.language,
        textures=args.textures,
        seed=args.seed,
        force=args.force,
        online=bool(bpy.app.online_access),  # Blender's "Allow Online Access" (--online-mode)
    )
    steps = runner.backend_steps(settings, runner.resolve_command(args.aimv))

    def relay(stream: str, line: str) -> None:
        if line.startswith(runner.PROGRESS_PREFIX):
            if progress.enabled:
                print(line, file=sys.stderr, flush=True)
        elif stream == "err" and not progress.enabled:
            print(line, file=sys.stderr, flush=True)

    pipeline = runner.Pipeline(
        steps=steps, env=runner.backend_env(online=settings.online), on_line=relay
    )
    state = pipeline.run()
    if state == "cancelled":
        raise KeyboardInterrupt
    if state != "done":
        raise runner.BackendError(pipeline.error)
    return settings.timeline_path


def run(args: argparse.Namespace) -> int:
    pkg = _package()
    schema = importlib.import_module(f"{pkg}.contract")
    keying = importlib.import_module(f"{pkg}.keying")
    progress = _Progress(args.progress == "json")
    if args.blend is not None:  # the panel's Render, chunked: frames of the artist's scene
        return importlib.import_module(f"{pkg}.frames_out").run_blend(args, progress.emit)
    if args.output is None and args.blend_out is None and args.image_sequence is None:
        raise ValueError("-o/--output (or --blend-out, or --image-sequence) is required")
    if args.output is not None and Path(args.output).suffix.lower() != ".mp4":
        raise ValueError(f"-o/--output must be an .mp4 file, got {args.output!r}")
    if args.output and Path(args.output).exists() and not args.force:
        raise ValueError(f"-o/--output {args.output!r} exists (use --force to overwrite)")
    if args.timeline is None and args.song is None:
        raise ValueError("give SONG, or --timeline with a timeline.json")
    if args.song is not None and not Path(args.song).is_file():
        raise ValueError(f"SONG {args.song!r}: no such file")
    if args.timeline is None:
        if args.output is None:
            raise ValueError("--work-dir or -o is needed to place the backend's outputs")
        timeline_path = _make_timeline(args, pkg, progress)
    else:
        timeline_path = Path(args.timeline)
    timeline = schema.read_timeline(timeline_path)
    audio = Path(args.song) if args.song else Path(timeline.source.path)
    if not audio.is_file():
        raise ValueError(f"audio {str(audio)!r} of the timeline: no such file (give SONG)")
    layer_names = importlib.import_module(f"{pkg}.layer_options").LAYERS
    layers = frozenset(n for n in layer_names if not getattr(args, f"no_{n}"))
    options = keying.KeyingOptions(
        fps=args.fps, crossfade=args.crossfade, seed=args.seed, layers=layers
    )

    import bpy  # noqa: PLC0415 - only after the arguments are known to be good

    scene_build = importlib.import_module(f"{pkg}.scene_build")
    render = importlib.import_module(f"{pkg}.render")
    render_options = render.RenderOptions(
        output=Path(args.output or "unused.mp4").absolute(),
        resolution=tuple(args.resolution),
        engine=args.engine,
        samples=args.samples,
        frames=args.frames,
        overwrite=args.force,
    )
    bpy.ops.wm.read_factory_settings(use_empty=True)
    stage = bpy.context.scene
    stage.name = "AIMV Stage"
    built = scene_build.build_scene(
        stage,
        timeline,
        timeline_dir=timeline_path.absolute().parent,
        options=scene_build.BuildOptions(
            keying=options,
            resolution=tuple(args.resolution),
            font=Path(args.font) if args.font else None,
        ),
    )
    render.configure_engine(
        stage, engine=args.engine, samples=args.samples, textured=built.textured
    )
    rs = render.render_scene(stage, audio=audio.absolute(), options=render_options)
    if args.blend_out:
        blend = Path(args.blend_out).absolute()
        if blend.suffix.lower() != ".blend":
            raise ValueError(f"--blend-out must be a .blend file, got {str(blend)!r}")
        # like Blender's own Save, an existing file is kept as FILE.blend1
        bpy.context.preferences.filepaths.save_version = max(
            1, bpy.context.preferences.filepaths.save_version
        )
        bpy.ops.wm.save_as_mainfile(filepath=str(blend), check_existing=False, copy=True)
    if args.output is None and args.image_sequence is None:
        return 0
    total = rs.frame_end - rs.frame_start + 1
    progress.emit({"event": "start", "task": "render", "total": total})

    def on_frame(frame: int, done: int, total: int) -> None:
        progress.emit({"event": "progress", "task": "render", "done": done, "total": total})

    if args.image_sequence is not None:
        frames_out = importlib.import_module(f"{pkg}.frames_out")
        out = frames_out.render_images(rs, folder=Path(args.image_sequence), on_frame=on_frame)
    else:
        out = render.render_video(rs, options=render_options, on_frame=on_frame)
    progress.emit({"event": "end", "task": "render", "done": total})
    print(out)
    return 0


def main() -> int:
    args = build_parser().parse_args(_argv())
    pkg = _package()
    importlib.import_module(f"{pkg}.contract").offline.enforce()  # AIMV_OFFLINE: no network
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up like Ctrl-C
    errors: tuple[type[BaseException], ...] = (ValueError, OSError)
    try:
        errors += (
            importlib.import_module(f"{pkg}.subprocess_runner").BackendError,
            importlib.import_module(f"{pkg}.contract").TimelineFormatError,
        )
        return run(args)
    except KeyboardInterrupt:
        print("aimv-blender: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:
        known = errors + _bpy_errors(pkg)
        if not isinstance(exc, known):
            raise
        message = " ".join(str(exc).split())
        print(f"aimv-blender: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR


def _bpy_errors(pkg: str) -> tuple[type[BaseException], ...]:
    mods = [sys.modules.get(f"{pkg}.scene_build"), sys.modules.get(f"{pkg}.render")]
    out: list[type[BaseException]] = []
    if mods[0] is not None:
        out.append(mods[0].BuildError)
    if mods[1] is not None:
        out.append(mods[1].RenderSetupError)
    return tuple(out)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)
