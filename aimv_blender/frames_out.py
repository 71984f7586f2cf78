"""Render a frame range of the AIMV stage to an image sequence (one PNG per frame).

The chunked render (``aimv_backend/stage/chunks.py``) runs one Blender process per chunk of
frames; each writes its frames here and the backend encodes and joins them and muxes the song. The
frames are rendered straight from the stage scene, not through the "AIMV Render" sequencer
scene of the MP4 path: the sequencer only added a float copy and a second colour conversion
(about 20 ms of a 640x360 frame without a GPU), and its pixels differ from these by at most one
level in 8 bits. Every chunk renders the same way, so the chunks join frame-exactly.

Files are named ``f_NNNNNN.bmp`` by frame number (``FRAME_PATTERN``), whatever range is
rendered, so a chunk's frames never collide with another chunk's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import bpy

from . import render
from .render import RenderSetupError, render_animation

FRAME_PREFIX = "f_"
FRAME_DIGITS = 6
FRAME_PATTERN = f"{FRAME_PREFIX}%0{FRAME_DIGITS}d.bmp"


def render_images(
    stage: bpy.types.Scene,
    *,
    frames: tuple[int, int],
    folder: Path,
    on_frame: Callable[[int, int, int], None] | None = None,
) -> Path:
    """Render the stage scene's frames ``frames`` (first, last; inclusive) as 24-bit BMPs
    into ``folder``.

    BMP: the files live only until the backend has encoded them, and even an uncompressed PNG
    cost 11 ms more a 640x360 frame to write (its filters and checksums) than a BMP.
    on_frame(frame, done, total) is called after each written frame (for progress).
    The scene's frame range and output path are restored afterwards.
    """
    folder = Path(folder).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    r = stage.render
    saved = (stage.frame_start, stage.frame_end, r.filepath, r.use_sequencer)
    if hasattr(r.image_settings, "media_type"):  # 5.0: choose images before the format
        r.image_settings.media_type = "IMAGE"
    r.image_settings.file_format = "BMP"
    r.image_settings.color_mode = "RGB"
    r.use_file_extension = True
    r.use_overwrite = True
    r.use_placeholder = False
    r.use_sequencer = False  # the 3D stage itself, as a scene strip shows it
    r.filepath = str(folder / (FRAME_PREFIX + "#" * FRAME_DIGITS))
    stage.frame_start, stage.frame_end = frames
    try:
        render_animation(stage, on_frame=on_frame)
    finally:
        stage.frame_start, stage.frame_end, r.filepath, r.use_sequencer = saved
    return folder


def run_blend(args, video: dict, emit: Callable[..., None]) -> int:
    """headless.py --blend FILE --scene NAME --image-sequence DIR --frames A:B: render frames
    of a saved scene as the artist left it (engine and keys included; nothing is rebuilt).
    video: headless.video_settings (resolution, engine, samples). emit(kind, **fields)."""
    blend = Path(args.blend).absolute()
    if not blend.is_file() or blend.suffix.lower() != ".blend":
        raise RenderSetupError(f"--blend must be an existing .blend file, got {str(blend)!r}")
    if args.image_sequence is None:
        raise RenderSetupError("--blend renders an --image-sequence (the chunked render)")
    audio = Path(args.song).absolute() if args.song else None
    if audio is not None and not audio.is_file():
        raise RenderSetupError(f"SONG {args.song!r}: no such file")
    bpy.ops.wm.open_mainfile(filepath=str(blend), load_ui=False)
    stage = bpy.data.scenes.get(args.scene)
    if stage is None:
        raise RenderSetupError(f"--scene {args.scene!r} is not in {str(blend)!r}")
    options = render.RenderOptions(
        output=Path("unused.mp4").absolute(),
        resolution=video["resolution"],
        engine=video["engine"],
        samples=video["samples"],
        frames=args.frames,
        overwrite=True,
    )
    rs = render.render_scene(stage, audio=audio, options=options)
    total = rs.frame_end - rs.frame_start + 1
    emit("start", task="render", total=total)

    def on_frame(frame: int, done: int, total: int) -> None:
        emit("progress", task="render", done=done, total=total)

    frames = (rs.frame_start, rs.frame_end)
    render_images(stage, frames=frames, folder=Path(args.image_sequence), on_frame=on_frame)
    emit("end", task="render", done=total)
    return 0
