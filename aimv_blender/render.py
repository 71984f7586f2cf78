"""Render the AIMV stage to an MP4 (H.264 + AAC) through the Video Sequencer.

A separate scene, "AIMV Render", holds the sequencer: a scene strip showing the stage scene
(through its camera and its render engine) and the original audio as a sound strip. A scene
strip cannot show its own scene, hence the second scene; it is AIMV's and is rebuilt each time.
The video is written to a temporary file beside the output and renamed over it at the end, so
an interrupted render never leaves a half MP4 under the user's name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bpy

from . import stop_signal
from .contract import AimvError, names

RENDER_SCENE = "AIMV Render"
ENGINES = names.RENDER_ENGINES
AA_TREE = "AIMV Anti-Aliasing"  # the stage's compositor when AIMV smooths Workbench's edges
AA_MARK = "aimv_antialiasing"


class RenderSetupError(AimvError, RuntimeError):
    """Bad render settings or an unusable output path. One-line message."""


@dataclass(frozen=True)
class RenderOptions:
    """output: the MP4 path. resolution: pixels. engine: workbench, eevee or cycles.
    samples: EEVEE/Cycles samples per pixel. frames: optional (start, end) inclusive sub-range.
    overwrite: replace an existing output (refused otherwise).
    """

    output: Path
    resolution: tuple[int, int] = (1280, 720)
    engine: str = "workbench"
    samples: int = 16
    frames: tuple[int, int] | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise RenderSetupError(
                f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}"
            )
        reason = names.check_resolution(*self.resolution, option="resolution")
        if reason:
            raise RenderSetupError(reason)
        if self.samples < 1:
            raise RenderSetupError(f"samples must be >= 1, got {self.samples}")


def _set_eevee(scene: bpy.types.Scene) -> None:
    """EEVEE's id is BLENDER_EEVEE_NEXT in 4.2-4.4 and BLENDER_EEVEE again from 5.0."""
    for ident in ("BLENDER_EEVEE_NEXT", "BLENDER_EEVEE"):
        try:
            scene.render.engine = ident
            return
        except TypeError:
            continue
    raise RenderSetupError("this Blender has no EEVEE render engine")


def _use_gpu_for_cycles(scene: bpy.types.Scene) -> bool:
    """Switch Cycles to a GPU when one is there; False on CPU-only machines.

    The artist's own device choice in Preferences wins. Only when none is set (NONE, the
    factory default, as in background renders) is the first GPU backend found chosen; a
    CPU-only machine leaves the preferences exactly as they were.
    """
    addon = bpy.context.preferences.addons.get("cycles")
    if addon is None:
        return False
    prefs = addon.preferences
    if prefs.compute_device_type != "NONE":
        prefs.get_devices()
        if any(d.use and d.type != "CPU" for d in prefs.devices):
            scene.cycles.device = "GPU"
            return True
    else:
        for kind in ("OPTIX", "CUDA", "HIP", "METAL", "ONEAPI"):
            try:
                prefs.compute_device_type = kind
            except TypeError:
                continue
            prefs.get_devices()
            devices = [d for d in prefs.devices if d.type == kind]
            if devices:
                for d in devices:
                    d.use = True
                scene.cycles.device = "GPU"
                return True
        prefs.compute_device_type = "NONE"
    scene.cycles.device = "CPU"
    return False


def configure_engine(scene: bpy.types.Scene, *, engine: str, samples: int, textured: bool) -> str:
    """Set the stage scene's engine; returns Blender's engine id.

    Workbench is the fast preview path: flat lighting (lights do not matter) showing the
    texture, or each object's keyed material colour when there are no textures.
    """
    if engine == "workbench":
        scene.render.engine = "BLENDER_WORKBENCH"
        shading = scene.display.shading
        shading.light = "FLAT"
        shading.color_type = "TEXTURE" if textured else "MATERIAL"
        # One anti-aliasing pass instead of the default 8: the preview path renders 24-30
        # frames for every second of song, and one pass looks the same at video bitrates.
        # Without a GPU that pass (SMAA, run by Mesa's llvmpipe) took 3/4 of a frame's time;
        # the compositor's CPU SMAA gives the same edges for a third of it.
        use_compositor = software_gl() and compositor_antialiasing(scene)
        scene.display.render_aa = "OFF" if use_compositor else "FXAA"
    elif engine == "eevee":
        _set_eevee(scene)
        scene.eevee.taa_render_samples = samples
    else:
        scene.render.engine = "CYCLES"
        scene.cycles.samples = samples
        scene.cycles.use_denoising = False
        _use_gpu_for_cycles(scene)
    if engine != "workbench":
        remove_compositor_antialiasing(scene)  # EEVEE and Cycles smooth edges themselves
    scene.view_settings.view_transform = "Standard"  # keep the window colours as they are
    return scene.render.engine


def software_gl() -> bool:
    """Whether Blender will draw with Mesa's software rasterizer (llvmpipe): no GPU device
    node. Background Blender cannot ask its GPU module before the first render."""
    if os.environ.get("LIBGL_ALWAYS_SOFTWARE", "") not in ("", "0"):
        return True
    dri = Path("/dev/dri")
    hardware = any(dri.glob("renderD*")) if dri.is_dir() else False
    return not (hardware or any(Path("/dev").glob("nvidia[0-9]*")))


def _aa_tree_4x(scene: bpy.types.Scene):
    """Blender 4.2-4.5: the scene's own compositor tree, if AIMV may use it (None if not)."""
    tree = scene.node_tree
    if tree is not None and not tree.get(AA_MARK):
        kinds = {n.bl_idname for n in tree.nodes}
        if kinds - {"CompositorNodeRLayers", "CompositorNodeComposite"}:
            return None  # the artist's compositing (on or off): leave it alone
    scene.use_nodes = True
    tree = scene.node_tree
    tree.nodes.clear()
    _smoothing_chain(tree, "CompositorNodeComposite")
    return tree


def _smoothing_chain(tree, output_node: str) -> None:
    """Render layers -> anti-aliasing -> ``output_node`` in ``tree``, marked as AIMV's own."""
    layers = tree.nodes.new("CompositorNodeRLayers")
    smooth = tree.nodes.new("CompositorNodeAntiAliasing")
    out = tree.nodes.new(output_node)
    layers.location, smooth.location, out.location = (-300, 0), (0, 0), (300, 0)
    tree.links.new(layers.outputs["Image"], smooth.inputs[0])
    tree.links.new(smooth.outputs[0], out.inputs[0])
    tree[AA_MARK] = True


def _aa_tree_5(scene: bpy.types.Scene):
    """Blender 5.0+: AIMV's compositing node group, if the scene has no other one."""
    tree = scene.compositing_node_group
    if tree is not None and not tree.get(AA_MARK):
        return None  # the artist's compositing: leave it alone
    tree = tree or bpy.data.node_groups.get(AA_TREE)
    if tree is None or not tree.get(AA_MARK):
        tree = bpy.data.node_groups.new(AA_TREE, "CompositorNodeTree")
        tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
        _smoothing_chain(tree, "NodeGroupOutput")
    scene.compositing_node_group = tree
    return tree


def compositor_antialiasing(scene: bpy.types.Scene) -> bool:
    """Smooth the stage's edges in the compositor (Render Layers -> Anti-Aliasing, on the
    CPU). False when the scene has the artist's own compositing, which AIMV leaves alone."""
    tree = _aa_tree_5(scene) if hasattr(scene, "compositing_node_group") else _aa_tree_4x(scene)
    if tree is None:
        return False
    for node in tree.nodes:
        if node.bl_idname == "CompositorNodeRLayers":
            node.scene = scene
    scene.render.use_compositing = True
    scene.render.compositor_device = "CPU"
    return True


def remove_compositor_antialiasing(scene: bpy.types.Scene) -> None:
    """Detach AIMV's compositor anti-aliasing from ``scene`` (the artist's own is kept)."""
    if hasattr(scene, "compositing_node_group"):
        tree = scene.compositing_node_group
        if tree is not None and tree.get(AA_MARK):
            scene.compositing_node_group = None
    elif scene.node_tree is not None and scene.node_tree.get(AA_MARK):
        scene.use_nodes = False


NO_AUDIO = (
    "this Blender has no sound support (Audaspace), as the bpy 4.2 module: the video is "
    "silent; render with a Blender binary or the bpy 5.0 module for sound"
)


def has_audio_support() -> bool:
    """Whether this Blender can read sound (Audaspace). The bpy 4.2 module on PyPI is built
    without it; Blender itself and the bpy 5.0 module have it."""
    return bool(getattr(bpy.app.build_options, "audaspace", True))


def render_scene(
    stage: bpy.types.Scene, *, audio: Path | None, options: RenderOptions
) -> bpy.types.Scene:
    """Create or refresh the "AIMV Render" scene: scene strip + sound strip + MP4 output."""
    rs = bpy.data.scenes.get(RENDER_SCENE) or bpy.data.scenes.new(RENDER_SCENE)
    if rs == stage:
        raise RenderSetupError(f"the stage scene cannot be {RENDER_SCENE!r} itself")
    rs.render.fps, rs.render.fps_base = stage.render.fps, stage.render.fps_base
    w, h = options.resolution
    for sc in (rs, stage):
        sc.render.resolution_x, sc.render.resolution_y = w, h
        sc.render.resolution_percentage = 100
    start, end = options.frames or (stage.frame_start, stage.frame_end)
    if not stage.frame_start <= start <= end <= stage.frame_end:
        raise RenderSetupError(
            f"frames must be within {stage.frame_start}:{stage.frame_end}, got {start}:{end}"
        )
    rs.frame_start, rs.frame_end = start, end
    seq = rs.sequence_editor or rs.sequence_editor_create()
    # Every frame is rendered once, straight to the encoder: the sequencer's frame cache would
    # only grow towards its 4 GB default (3 GB for a 30 s song at 640x360 was measured).
    seq.use_cache_raw = False
    seq.use_cache_final = False
    strips = seq.strips if hasattr(seq, "strips") else seq.sequences  # 5.0 renamed it
    for strip in list(strips):
        strips.remove(strip)
    length = stage.frame_end - stage.frame_start + 1
    scene_strip = strips.new_scene("AIMV Stage", stage, 1, stage.frame_start)
    scene_strip.frame_final_duration = length
    if audio is not None and has_audio_support():
        sound = strips.new_sound("AIMV Audio", str(audio), 2, stage.frame_start)
        sound.frame_final_duration = min(sound.frame_final_duration, length)
    else:
        audio = None  # a silent video (see has_audio_support)
    r = rs.render
    r.use_sequencer = True
    r.use_compositing = False
    if hasattr(r.image_settings, "media_type"):  # 5.0: choose video before the format
        r.image_settings.media_type = "VIDEO"
    r.image_settings.file_format = "FFMPEG"
    ff = r.ffmpeg
    ff.format = "MPEG4"
    ff.codec = "H264"
    ff.constant_rate_factor = "HIGH"
    ff.audio_codec = "AAC" if audio is not None else "NONE"
    ff.audio_bitrate = 192
    ff.audio_mixrate = 48000
    ff.audio_channels = "STEREO"
    rs.view_settings.view_transform = "Standard"
    return rs


def check_output(options: RenderOptions) -> Path:
    """The absolute output path, or RenderSetupError when it cannot (or may not) be written."""
    output = Path(options.output).absolute()
    if output.suffix.lower() != ".mp4":
        raise RenderSetupError(f"output must be an .mp4 file, got {str(output)!r}")
    if not output.parent.is_dir():
        raise RenderSetupError(f"output folder {str(output.parent)!r} does not exist")
    if output.exists() and not options.overwrite:
        raise RenderSetupError(f"output {str(output)!r} exists (allow overwriting to replace it)")
    return output


def _temp_output(output: Path) -> Path:
    """The file Blender writes: no "#" in it, since Blender turns "#" into the frame number."""
    stem = output.stem.replace("#", "_")
    return output.with_name(f".{stem}.aimv-part-{os.getpid()}{output.suffix or '.mp4'}")


def render_video(
    rs: bpy.types.Scene,
    *,
    options: RenderOptions,
    on_frame: Callable[[int, int, int], None] | None = None,
) -> Path:
    """Render ``rs`` (blocking) to ``options.output`` and return it.

    on_frame(frame, done, total) is called after each written frame (for progress).
    """
    output = check_output(options)
    temp = _temp_output(output)
    rs.render.filepath = str(temp)
    rs.render.use_file_extension = False
    try:
        render_animation(rs, on_frame=on_frame, on_stop=lambda: temp.unlink(missing_ok=True))
        if not temp.is_file() or temp.stat().st_size == 0:
            raise RenderSetupError(f"Blender wrote no video to {str(temp)!r}")
        os.replace(temp, output)
    finally:  # also on Ctrl-C or SIGTERM (Cancel): no half video left beside the user's files
        temp.unlink(missing_ok=True)
    return output


def render_animation(
    rs: bpy.types.Scene,
    *,
    on_frame: Callable[[int, int, int], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> None:
    """Render ``rs``'s frame range where its render settings say (blocking).

    on_frame(frame, done, total) is called after each written frame (for progress); a failed
    render is one line (RenderSetupError). SIGTERM or Ctrl-C during the render calls
    ``on_stop`` and exits the process (see :mod:`.stop_signal`).
    """
    total = rs.frame_end - rs.frame_start + 1
    state = {"done": 0}

    def _written(scene, *_args):
        if scene == rs and on_frame is not None:
            state["done"] += 1
            on_frame(scene.frame_current, state["done"], total)

    handlers = bpy.app.handlers.render_write
    handlers.append(_written)
    try:
        with stop_signal.exit_on_stop_signal(on_stop):
            bpy.ops.render.render(animation=True, scene=rs.name)
    except RuntimeError as exc:
        message = " ".join(str(exc).split())
        raise RenderSetupError(f"Blender could not render: {message}") from None
    finally:
        handlers.remove(_written)


def start_render_job(rs: bpy.types.Scene, *, options: RenderOptions) -> Path:
    """Start Blender's own render job for ``rs`` (the interface stays live) and return the
    output path.

    The job writes a temporary file; a one-shot ``render_complete`` handler renames it into
    place and a ``render_cancel`` handler removes it, so a cancelled render never leaves half a
    video under the user's name.
    """
    output = check_output(options)
    temp = _temp_output(output)
    rs.render.filepath = str(temp)
    rs.render.use_file_extension = False
    handlers = bpy.app.handlers

    def _detach() -> None:
        for hooks, hook in (
            (handlers.render_complete, _complete),
            (handlers.render_cancel, _cancel),
        ):
            if hook in hooks:
                hooks.remove(hook)

    def _complete(scene, *_args) -> None:
        if scene != rs:
            return
        _detach()
        if temp.is_file() and temp.stat().st_size > 0:
            os.replace(temp, output)

    def _cancel(scene, *_args) -> None:
        if scene != rs:
            return
        _detach()
        temp.unlink(missing_ok=True)

    handlers.render_complete.append(_complete)
    handlers.render_cancel.append(_cancel)
    result = bpy.ops.render.render("INVOKE_DEFAULT", animation=True, scene=rs.name)
    if "RUNNING_MODAL" not in result and "FINISHED" not in result:
        _detach()
        raise RenderSetupError(f"Blender did not start the render ({', '.join(result)})")
    return output
