"""From song to music video: run every stage, reusing each stage's output while it is valid.

Stage outputs live in the work folder (default ``VIDEO.aimv/`` beside the video):
``timeline.json`` (listen + describe), ``textures/`` (one PNG per distinct prompt),
``scene.blend`` (the staged scene, for an artist to open) and ``render.json`` (what the last
video was made from). The video is rendered to a temporary file and renamed when complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from aimv_backend import __version__
from aimv_backend.audio.io import probe_audio
from aimv_backend.errors import OutputError, ParameterError, TimelineError
from aimv_backend.listen.analyze import AnalyzeOptions
from aimv_backend.pipeline import AnalyzeRequest, check_describe, run_analyze
from aimv_backend.progress import Progress
from aimv_backend.stage.blender_runner import RenderSettings, blender_command
from aimv_backend.stage.chunked import ChunkedRequest, ScaleOptions, render_chunked
from aimv_backend.util.files import output_dir
from aimv_backend.util.locks import folder_lock
from aimv_backend.util.video import check_mp4
from aimv_backend.util.workdir import (
    RENDER_OUTPUTS,
    check_not_input,
    partial_leftovers,
    partial_video,
    prepare_render,
    record,
)
from aimv_timeline.schema import Timeline, write_json_atomic


@dataclass(frozen=True)
class Preset:
    resolution: tuple[int, int]
    fps: int
    engine: str
    samples: int
    texture_size: int


PRESETS = {
    "preview": Preset((640, 360), 24, "workbench", 8, 512),
    "final": Preset((1280, 720), 30, "eevee", 32, 768),
}
STAGES = 3


@dataclass(frozen=True)
class RenderRequest:
    """Everything ``aimv render`` needs. Paths as given by the user."""

    audio: Path
    output: Path
    work_dir: Path
    timeline_path: Path
    analyze: AnalyzeOptions
    describe: object | None  # DescribeOptions
    textures_engine: str = "auto"
    textures_model: str | None = None
    textures_device: str | None = None
    texture_size: int = 512
    seed: int = 0
    offline: bool = False
    render: RenderSettings = RenderSettings()
    force: bool = False
    scale: ScaleOptions = ScaleOptions()  # workers, chunks, Ray


@dataclass(frozen=True)
class RenderResult:
    output: Path
    timeline: Timeline
    rendered: bool
    message: str


def _texture_options(request: RenderRequest):
    from aimv_backend.imagine import TextureOptions

    video = request.textures_engine == "video"  # procedural stills + generated clips
    extra = {} if request.textures_model is None or video else {"model": request.textures_model}
    return TextureOptions(
        engine="procedural" if video else request.textures_engine,
        size=(request.texture_size,) * 2,
        seed=request.seed,
        device=request.textures_device,
        allow_download=not request.offline,
        **extra,
    )


def _video_options(request: RenderRequest, fps: int):
    """VideoOptions for --textures video (clips at the render's frame rate), else None."""
    if request.textures_engine != "video":
        return None
    from aimv_backend.imagine.video import check_device
    from aimv_backend.imagine.video_options import VideoOptions

    extra = {} if request.textures_model is None else {"model": request.textures_model}
    options = VideoOptions(
        fps=fps,
        seed=request.seed,
        device=request.textures_device,
        allow_download=not request.offline,
        **extra,
    )
    check_device(options.device)  # no GPU: refuse before any work
    return options


def _render_fingerprint(timeline_path: Path, timeline: Timeline, settings: RenderSettings) -> str:
    """Hash of everything the video depends on: the timeline, its textures, the settings."""
    digest = hashlib.sha256(timeline_path.read_bytes())
    for window in timeline.windows:
        if window.texture:
            tex = timeline_path.parent / window.texture
            stat = tex.stat()
            digest.update(f"{window.texture}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for clip in timeline.clips:
        stat = (timeline_path.parent / clip.path).stat()
        digest.update(f"{clip.path}:{clip.start}:{clip.end}:{stat.st_size}".encode())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    digest.update(__version__.encode())  # new keying or render code makes a new video
    return digest.hexdigest()


def _stamp_matches(stamp_path: Path, output: Path, fingerprint: str | None) -> bool:
    """Whether ``output`` is the video AIMV last wrote there (and, given a fingerprint, from
    the same inputs)."""
    if not stamp_path.exists() or not output.exists():
        return False
    try:
        stamp = json.loads(stamp_path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    stat = output.stat()
    ours = (
        stamp.get("output") == str(output.resolve())
        and stamp.get("size") == stat.st_size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )
    return ours and (fingerprint is None or stamp.get("fingerprint") == fingerprint)


def _listen(request: RenderRequest, progress: Progress):
    """Listen and describe, reusing a valid cached timeline even under --force.

    --force lets the video replace a file AIMV did not make; it replaces the timeline only when
    that timeline no longer matches the song or the settings (so hand edits survive).
    """
    analyze = AnalyzeRequest(
        audio=request.audio,
        timeline_path=request.timeline_path,
        analyze=request.analyze,
        describe=request.describe,
    )
    try:
        return run_analyze(analyze, progress=progress)
    except (OutputError, TimelineError):
        if not request.force:
            raise
        return run_analyze(replace(analyze, force=True), progress=progress)


def render_song(request: RenderRequest, *, progress: Progress) -> RenderResult:
    """Run listen, describe, textures, staging and rendering; see the module docstring."""
    settings = request.render.check()
    blender_command(settings)  # a missing bpy or a bad --blender fails before any work
    request.analyze.check()
    texture_options = _texture_options(request)  # TextureOptions validates itself
    video_options = _video_options(request, settings.fps)
    if settings.fps * request.analyze.window_seconds < 1.0:
        raise ParameterError(
            f"--fps {settings.fps} gives less than one frame per --window of "
            f"{request.analyze.window_seconds} s; raise --fps or --window"
        )
    song = probe_audio(request.audio).path  # the song as given now, even if it moved
    check_not_input(request.output, inputs=[("song", song), ("timeline", request.timeline_path)])
    if request.describe is not None:
        check_describe(request.describe)
    video_dir = request.output.parent if str(request.output.parent) else Path(".")
    with (
        output_dir(video_dir, what="video folder"),
        output_dir(request.work_dir, what="work folder"),
        folder_lock(request.work_dir),  # one run per work folder (docs/security.md)
    ):
        prepare_render(request.work_dir, output=request.output, force=request.force)
        return _render_stages(request, settings, (texture_options, video_options), song, progress)


def _render_stages(request, settings, options, song, progress) -> RenderResult:
    texture_options, video_options = options
    output = request.output
    stamp_path = request.work_dir / "render.json"
    if output.exists() and not request.force and not _stamp_matches(stamp_path, output, None):
        raise OutputError(
            f"{str(output)!r} exists and was not made by this work folder; "
            "use --force to overwrite it"
        )

    progress.notice(f"[1/{STAGES}] listening and describing")
    analyzed = _listen(request, progress)

    progress.notice(f"[2/{STAGES}] textures")
    from aimv_backend.imagine import make_textures

    timeline = make_textures(
        analyzed.timeline,
        timeline_dir=request.timeline_path.parent,
        options=texture_options,
        progress=progress,
        timeline_path=request.timeline_path,  # written as images complete: resumable
    )
    if video_options is not None:
        from aimv_backend.imagine.clips import make_clips

        timeline = make_clips(
            timeline,
            timeline_dir=request.timeline_path.parent,
            options=video_options,
            progress=progress,
            timeline_path=request.timeline_path,  # written as clips complete: resumable
        )

    fingerprint = _render_fingerprint(request.timeline_path, timeline, settings)
    if _stamp_matches(stamp_path, output, fingerprint):
        progress.notice(f"[3/{STAGES}] video is up to date")
        return RenderResult(output, timeline, rendered=False, message="up to date")

    progress.notice(f"[3/{STAGES}] staging and rendering in Blender")
    partial = partial_video(output)  # this process's own, and free of Blender's "#"
    chunked = ChunkedRequest(
        song=song,
        timeline_path=request.timeline_path.resolve(),
        work_dir=request.work_dir,
        output=partial,
        settings=settings,
        seed=request.seed,
        scale=request.scale,
        blend_out=(request.work_dir / "scene.blend").resolve(),
    )
    try:
        render_chunked(chunked, progress=progress)  # N Blender processes, then join + mux
        if not partial.exists() or partial.stat().st_size == 0:
            raise OutputError(f"Blender wrote no video to {str(partial)!r}")
        # A full disk can leave a truncated MP4: the previous video stays until this one checks.
        check_mp4(partial, expected_seconds=timeline.source.duration, min_tracks=2)
        os.replace(partial, output)
    finally:
        # The partial video, and any temporary file of an earlier, killed run.
        for leftover in partial_leftovers(partial):
            leftover.unlink(missing_ok=True)
        record(request.work_dir, RENDER_OUTPUTS)
    stat = output.stat()
    write_json_atomic(
        {
            "output": str(output.resolve()),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "fingerprint": fingerprint,
            "settings": asdict(settings),
        },
        stamp_path,
    )
    return RenderResult(output, timeline, rendered=True, message="wrote")


def prepare_song(request: RenderRequest, *, progress: Progress) -> Timeline:
    """Only listening, describing and textures (the stages before Blender), for an album's
    Ray task; :func:`render_song` then finds them done and reuses them."""
    request.analyze.check()
    texture_options = _texture_options(request)
    probe_audio(request.audio)
    if request.describe is not None:
        check_describe(request.describe)
    with output_dir(request.work_dir, what="work folder"):
        analyzed = _listen(request, progress)
        from aimv_backend.imagine import make_textures

        return make_textures(
            analyzed.timeline,
            timeline_dir=request.timeline_path.parent,
            options=texture_options,
            progress=progress,
            timeline_path=request.timeline_path,
        )
