"""Headless AIMV: a timeline and its textures become a keyed scene and an MP4, without the UI.

Run with a Blender binary or with the bpy module's Python (both as a plain script):

    blender -b --python aimv_blender/headless.py -- --timeline work/timeline.json -o video.mp4
    python aimv_blender/headless.py -- song.wav -o video.mp4 [options]

Given a song and no ``--timeline``, it first runs the backend's one command
(``aimv render SONG --work-dir DIR --until imagine``, the same as the add-on's Generate). Video
options default to the shared preview preset (:mod:`aimv_timeline.presets`), as in ``aimv
render``. Errors print one line (``aimv-blender: error: ...``) and exit with code 2, and with
``--progress json`` are also an ``error`` event; a cancelled run (Ctrl-C) exits 130. The options
are documented in docs/blender.md and by ``--help``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

SLOW_RENDER_S = 120.0  # a projected render longer than this is announced with the fast path


def _package() -> str:
    """Import this folder as a package whatever its name (aimv_blender, or the extension id)."""
    here = Path(__file__).resolve().parent
    if str(here.parent) not in sys.path:
        sys.path.insert(0, str(here.parent))
    return here.name


PKG = _package()
contract = importlib.import_module(f"{PKG}.contract")
names, presets, events, flags = contract.names, contract.presets, contract.events, contract.flags
EXIT_USER_ERROR = names.EXIT_USER_ERROR
EXIT_CANCELLED = names.EXIT_CANCELLED


# --textures: the backend's choices, and "none", which skips the imagine stage.
TEXTURES = dataclasses.replace(
    flags.TEXTURES,
    help=f"{flags.TEXTURES.help}; none: no textures",
    choices=(*flags.TEXTURES.choices, "none"),
)


class UsageError(contract.AimvError):
    """A bad command line: one line naming the option and its value."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        self.exit(EXIT_USER_ERROR, f"aimv-blender: error: {message} (see --help)\n")


def _backend_default(name: str) -> object:
    """What the backend run is asked for when a backend flag is not given (the panel's
    defaults, :class:`subprocess_runner.BackendSettings`)."""
    runner = importlib.import_module(f"{PKG}.subprocess_runner")
    (field,) = (f for f in dataclasses.fields(runner.BackendSettings) if f.name == name)
    return field.default


def build_parser() -> argparse.ArgumentParser:
    """The headless script's flags; those it shares with ``aimv`` come from
    :mod:`aimv_timeline.flags`, so both programs spell and explain them alike."""
    p = _Parser(
        prog="aimv_blender/headless.py",
        description="Stage an AIMV timeline in Blender and render it to an MP4 with the song.",
    )
    p.add_argument(
        "song",
        nargs="?",
        help=f"the song ({names.AUDIO_FORMATS}); default with --timeline: its source",
    )
    p.add_argument("-o", "--output", help="the MP4 to write (required unless --blend-out)")
    p.add_argument("--timeline", help=f"use this {names.TIMELINE_FILE} (and its textures) as it is")
    backend = p.add_argument_group("backend (without --timeline)")
    backend.add_argument(
        "--aimv",
        default="aimv",
        metavar="CMD",
        help="backend command that makes the timeline (default: aimv on PATH)",
    )
    backend.add_argument(
        "--work-dir", help="backend output folder (default: OUTPUT's name + .aimv)"
    )
    # Not given: None, and the backend run gets BackendSettings' value.
    for name, spec in (
        ("window_seconds", flags.WINDOW),
        ("instruments", flags.INSTRUMENTS),
        ("asr", flags.ASR),
        ("language", flags.LANGUAGE),
        ("beats_per_bar", flags.BEATS_PER_BAR),
        ("textures", TEXTURES),
    ):
        spec.add_to(backend, dest=name, shown=_backend_default(name))
    video = p.add_argument_group("video (default: the preset's)")
    flags.add_preset(video)
    for spec in (flags.RESOLUTION, flags.FPS, flags.ENGINE, flags.SAMPLES, flags.FRAMES):
        spec.add_to(video, dest=spec.flags[0][2:])
    crossfade = presets.DEFAULT.crossfade
    flags.CROSSFADE.add_to(video, dest="crossfade", default=crossfade, shown=crossfade)
    flags.SEED.add_to(p, dest="seed", default=0, shown=0)  # the backend's and the camera sway's
    for spec in flags.LAYERS:
        spec.add_to(p, dest="layers_off")
    flags.FONT.add_to(p, dest="font")
    p.add_argument("--blend-out", metavar="FILE", help="also save the staged scene as .blend")
    p.add_argument(
        "--video-path",
        metavar="VIDEO.mp4",
        help="the video the --blend-out scene renders to (recorded there; default: -o)",
    )
    p.add_argument(
        "--image-sequence",
        metavar="DIR",
        help="write the frames as DIR/f_NNNNNN.png instead of an MP4 (the chunked render)",
    )
    p.add_argument("--blend", metavar="FILE", help="render this saved scene as it is (no build)")
    flags.SCENE.add_to(p, dest="scene", default="Scene", shown="Scene")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument(
        "--progress",
        choices=("json", "none"),
        default="none",
        help="json: event lines on stderr (default: none)",
    )
    return p


def _argv() -> list[str]:
    argv = sys.argv
    return argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]


class _Progress:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def emit(self, kind: str, **fields) -> None:
        if self.enabled:
            sys.stderr.write(events.format_event(kind, **fields) + "\n")
            sys.stderr.flush()

    def say(self, kind: str, message: str) -> None:
        """A notice or warning: an event for tools, a plain line for a person."""
        if self.enabled:
            self.emit(kind, message=message)
        else:
            print(f"aimv-blender: {message}", file=sys.stderr, flush=True)


def video_settings(args: argparse.Namespace) -> dict:
    """resolution, fps, engine and samples: the preset's, unless given; checked."""
    preset = presets.PRESETS[args.preset]
    out = {
        "resolution": tuple(args.resolution or preset.resolution),
        "fps": preset.fps if args.fps is None else args.fps,
        "engine": args.engine or preset.engine,
        "samples": preset.samples if args.samples is None else args.samples,
    }
    reason = names.check_resolution(*out["resolution"])
    if reason:
        raise UsageError(reason)
    if not names.MIN_FPS <= out["fps"] <= names.MAX_FPS:
        raise UsageError(f"--fps must be {names.MIN_FPS} to {names.MAX_FPS}, got {out['fps']}")
    if out["samples"] < 1:
        raise UsageError(f"--samples must be at least 1, got {out['samples']}")
    if not 0.0 <= args.crossfade <= 10.0:
        raise UsageError(f"--crossfade must be 0 to 10 seconds, got {args.crossfade}")
    if args.frames is not None and not 1 <= args.frames[0] <= args.frames[1]:
        first, last = args.frames
        raise UsageError(f"--frames must be START:END with 1 <= START <= END, got {first}:{last}")
    return out


def slow_render_warning(
    *, engine: str, first_frame_s: float, frames: int, software: bool
) -> str | None:
    """What to tell the user when the render will take long (None when it will not).

    first_frame_s: seconds the first frame took; frames: frames in the render.
    """
    total = first_frame_s * frames
    if engine == presets.FAST_ENGINE or total < SLOW_RENDER_S:
        return None
    where = " without a GPU (software rendering)" if software else ""
    fast = presets.PRESETS[presets.DEFAULT_PRESET]
    return (
        f"{engine} takes {first_frame_s:.0f} s a frame here{where}: about "
        f"{_duration(total)} for {frames} frames; --preset {fast.name} ({fast.engine}) "
        "renders a frame in about a second"
    )


def _duration(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 90:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _make_timeline(args, progress: _Progress) -> Path:
    import bpy  # noqa: PLC0415 - Blender is only needed once the arguments are good

    runner = importlib.import_module(f"{PKG}.subprocess_runner")
    song = Path(args.song)
    work = Path(args.work_dir) if args.work_dir else Path(args.output).with_suffix(".aimv")
    settings = runner.BackendSettings.from_choices(
        args,
        command=args.aimv,
        audio=song.absolute(),
        work_dir=work.absolute(),
        force=args.force,
        online=bool(bpy.app.online_access),  # Blender's "Allow Online Access" (--online-mode)
    )
    program = runner.resolve_command(args.aimv, hint="pass --aimv CMD (the backend command)")
    steps = runner.backend_steps(settings, program)

    def relay(stream: str, line: str) -> None:
        if events.parse_line(line) is not None:
            if progress.enabled:
                print(line, file=sys.stderr, flush=True)
        elif (
            stream == "err"
            and not progress.enabled
            and not events.is_noise(line)
            and not line.startswith(events.ERROR_PREFIX)  # said once, as aimv-blender's own error
        ):
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


def _check(args) -> None:
    if args.output is None and args.blend_out is None and args.image_sequence is None:
        raise UsageError("-o/--output (or --blend-out, or --image-sequence) is required")
    if args.output is not None and Path(args.output).suffix.lower() != ".mp4":
        raise UsageError(f"-o/--output must be an .mp4 file, got {args.output!r}")
    if args.output and Path(args.output).exists() and not args.force:
        raise UsageError(f"-o/--output {args.output!r} exists (use --force to overwrite)")
    if args.blend_out is not None:
        if Path(args.blend_out).suffix.lower() != ".blend":
            raise UsageError(f"--blend-out must be a .blend file, got {args.blend_out!r}")
        folder = Path(args.blend_out).absolute().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise UsageError(
                f"--blend-out {args.blend_out!r}: the folder {str(folder)!r} does not exist "
                "or cannot be written"
            )
    if args.timeline is None and args.song is None:
        raise UsageError(f"give SONG, or --timeline with a {names.TIMELINE_FILE}")
    if args.song is not None and not Path(args.song).is_file():
        raise UsageError(f"SONG {args.song!r}: no such file")
    if args.timeline is None and args.output is None:
        raise UsageError("--work-dir or -o is needed to place the backend's outputs")


def _as_saved(path: Path, blend: Path) -> str:
    """``path`` as the saved scene keeps it: relative to the .blend ("//timeline.json") when
    it lies in the .blend's folder, so a project folder moved whole still builds; else
    absolute (a song elsewhere stays where it is)."""
    path, folder = Path(path).absolute(), blend.absolute().parent
    if not path.is_relative_to(folder):
        return str(path)
    return "//" + path.relative_to(folder).as_posix()


def _remember_settings(
    stage, rs, args, video: dict, keying, *, audio: Path, timeline: Path, blend: Path
) -> None:
    """Fill in the panel's settings (``Scene.aimv``) of the scene ``--blend-out`` saves, so that
    an artist who opens it can Build scene and Render at once. (Blender 5 keeps a registered
    PropertyGroup's values apart from ID properties, so the group is registered here first.)"""
    import bpy  # noqa: PLC0415

    if not hasattr(bpy.types.Scene, "aimv"):  # not run inside a Blender with the add-on on
        importlib.import_module(f"{PKG}.props").register()
    panel = stage.aimv
    panel.audio_path = _as_saved(audio, blend)
    panel.timeline_path = _as_saved(timeline, blend)
    panel.work_dir = _as_saved(timeline.absolute().parent, blend)
    panel.fps = int(video["fps"])
    panel.resolution_x, panel.resolution_y = (int(n) for n in video["resolution"])
    panel.render_engine = video["engine"]
    panel.samples = int(video["samples"])
    panel.crossfade = float(keying.crossfade)
    panel.seed = int(keying.seed)
    panel.font_path = _as_saved(Path(args.font), blend) if args.font else ""
    for name in importlib.import_module(f"{PKG}.layer_options").LAYERS:
        setattr(panel, f"layer_{name}", name in keying.layers)
    video_path = args.video_path or args.output
    if video_path:
        panel.output_path = _as_saved(Path(video_path), blend)
        rs.render.filepath = panel.output_path  # Blender's own Render Animation writes it


def run(args: argparse.Namespace) -> int:
    progress = _Progress(args.progress == "json")
    if args.blend is not None:  # the panel's Render, chunked: frames of the artist's scene
        frames_out = importlib.import_module(f"{PKG}.frames_out")
        return frames_out.run_blend(args, video_settings(args), progress.emit)
    _check(args)
    video = video_settings(args)
    keying = importlib.import_module(f"{PKG}.keying")
    layer_names = importlib.import_module(f"{PKG}.layer_options").LAYERS
    layers = frozenset(layer_names) - set(args.layers_off or ())
    options = keying.KeyingOptions(
        fps=video["fps"], crossfade=args.crossfade, seed=args.seed, layers=layers
    )
    timeline_path = Path(args.timeline) if args.timeline else _make_timeline(args, progress)
    timeline = contract.read_timeline(timeline_path)
    audio = (
        Path(args.song)
        if args.song
        else contract.paths.song_path(timeline.source.path, timeline_path.parent)
    )
    if not audio.is_file():
        raise UsageError(f"audio {str(audio)!r} of the timeline: no such file (give SONG)")

    import bpy  # noqa: PLC0415 - only after the arguments are known to be good

    scene_build = importlib.import_module(f"{PKG}.scene_build")
    render = importlib.import_module(f"{PKG}.render")
    render_options = render.RenderOptions(
        output=Path(args.output or "unused.mp4").absolute(),
        resolution=video["resolution"],
        engine=video["engine"],
        samples=video["samples"],
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
            resolution=video["resolution"],
            font=Path(args.font) if args.font else None,
        ),
    )
    render.configure_engine(
        stage, engine=video["engine"], samples=video["samples"], textured=built.textured
    )
    # The saved scene covers the whole song, whatever --frames this process renders.
    whole = dataclasses.replace(render_options, frames=None)
    rs = render.render_scene(stage, audio=audio.absolute(), options=whole)
    if not render.has_audio_support():
        progress.say("warning", render.NO_AUDIO)
    if args.blend_out:
        blend = Path(args.blend_out).absolute()
        # like Blender's own Save, an existing file is kept as FILE.blend1
        bpy.context.preferences.filepaths.save_version = max(
            1, bpy.context.preferences.filepaths.save_version
        )
        _remember_settings(
            stage, rs, args, video, options, audio=audio, timeline=timeline_path, blend=blend
        )
        replaced = blend.is_file()
        try:
            with _NoiseFilter(fd=1):  # Blender's "Info: Saved copy as ..." is not for stdout
                bpy.ops.wm.save_as_mainfile(filepath=str(blend), check_existing=False, copy=True)
        except RuntimeError as exc:  # bpy's "Cannot open file ... for writing"
            raise UsageError(f"--blend-out {str(blend)!r}: {' '.join(str(exc).split())}") from None
        if replaced:
            progress.say(
                "warning",
                f"--blend-out replaced {blend.name} (the old one is {blend.name}1): this is a "
                "new scene; to rebuild a scene you edited and keep the edits, open it in "
                "Blender and press Build scene",
            )
    if args.frames:
        rs = render.render_scene(stage, audio=audio.absolute(), options=render_options)
    if args.output is None and args.image_sequence is None:
        return 0
    total = rs.frame_end - rs.frame_start + 1
    progress.emit("start", task="render", total=total)
    started = time.monotonic()

    def on_frame(frame: int, done: int, total: int) -> None:
        progress.emit("progress", task="render", done=done, total=total)
        if done == 1:
            warning = slow_render_warning(
                engine=video["engine"],
                first_frame_s=time.monotonic() - started,
                frames=total,
                software=_software_gpu(),
            )
            if warning:
                progress.say("warning", warning)

    if args.image_sequence is not None:
        frames_out = importlib.import_module(f"{PKG}.frames_out")
        out = frames_out.render_images(
            stage,
            frames=(rs.frame_start, rs.frame_end),
            folder=Path(args.image_sequence),
            on_frame=on_frame,
        )
    else:
        with _NoiseFilter(fd=1):
            out = render.render_video(rs, options=render_options, on_frame=on_frame)
    progress.emit("end", task="render", done=total)
    print(out)
    return 0


def _software_gpu() -> bool:
    """Whether Blender draws through a software renderer (Mesa llvmpipe: no GPU)."""
    try:
        import gpu  # noqa: PLC0415 - Blender's module

        return gpu.platform.device_type_get() == "SOFTWARE"
    except (ImportError, RuntimeError, AttributeError, SystemError):  # no GPU context (Cycles)
        return False


# Blender's log of each frame its FFmpeg writer takes, on stdout ("render | Video append frame
# 12"): hundreds of lines where the path of the video is all a script should read.
_FRAME_CHATTER = re.compile(r"(^|\|\s*)(Video )?[Aa]ppend frame \d+\s*$|^Fra:\d+ ")


class _NoiseFilter:
    """Keeps known noise that Blender's C code writes to a file descriptor from reaching the
    terminal: EGL_BAD_MATCH from Mesa on stderr (fd 2), and around a render the frame log on
    stdout (fd 1, whose other lines go to stderr: stdout carries the video's path alone)."""

    def __init__(self, fd: int = 2):
        self.fd = fd
        self.stream = sys.stdout if fd == 1 else sys.stderr
        self.stream.flush()
        self.saved = os.dup(fd)
        self.target = self.saved if fd == 2 else 2
        read, write = os.pipe()
        os.dup2(write, fd)
        os.close(write)
        self.thread = threading.Thread(target=self._pump, args=(read,), daemon=True)
        self.thread.start()

    def _pump(self, read: int) -> None:
        with os.fdopen(read, "rb") as source:
            for line in source:
                text = line.decode("utf-8", "replace")
                if not events.is_noise(text) and not _FRAME_CHATTER.search(text):
                    os.write(self.target, line)

    def close(self) -> None:
        self.stream.flush()
        os.dup2(self.saved, self.fd)  # the pipe's last writer goes: the pump reads to its end
        self.thread.join(timeout=5)
        os.close(self.saved)

    def __enter__(self) -> _NoiseFilter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def user_errors() -> tuple[type[BaseException], ...]:
    """What a user can fix: AIMV's errors (the add-on's all derive from AimvError), the bpy
    setup errors of scene building and rendering, and the file system's."""
    return (contract.AimvError, OSError)


def main() -> int:
    args = build_parser().parse_args(_argv())
    progress = _Progress(args.progress == "json")
    contract.offline.enforce()  # AIMV_OFFLINE: no network
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up like Ctrl-C
    noise = _NoiseFilter()

    def cancelled() -> None:
        print("aimv-blender: cancelled", file=sys.stderr)

    def stopped_mid_render() -> None:  # the process ends right after: pass the last lines on
        cancelled()
        noise.close()

    stop_signal = importlib.import_module(f"{PKG}.stop_signal")  # no bpy: startup stays light
    remove_hook = stop_signal.add_hook(stopped_mid_render)
    try:
        return run(args)
    except KeyboardInterrupt:
        cancelled()
        return EXIT_CANCELLED
    except user_errors() as exc:
        message = " ".join(str(exc).split())
        if isinstance(exc, OSError) and exc.filename and exc.strerror:
            message = f"{exc.filename!r}: {exc.strerror}"
        progress.emit("error", type=type(exc).__name__, message=message)
        print(f"aimv-blender: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        remove_hook()
        noise.close()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)
