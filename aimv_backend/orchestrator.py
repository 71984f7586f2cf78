"""The one orchestrator: the four stages in order, each reused while its output is still valid.

``aimv render`` (all four stages), ``aimv listen`` (listen and describe), the add-on's Generate
and the headless script's song mode (``aimv render SONG --work-dir DIR --until imagine``) all run
:func:`run`. The work folder holds each stage's output (:mod:`aimv_timeline.names`):
``timeline.json`` (listen, describe, imagine), ``textures/`` (imagine), ``scene.blend`` and
``render.json`` (stage). The caching rule of each stage is in :data:`STAGE_TABLE`.

Everything is validated before any work starts (options, the Blender to render with, fps
against the window, the audio, which is probed once for the whole run and, when it is to be
listened to, read through once for NaN or truncated data, the word vectors, and whether the
existing timeline and video may be reused or replaced); then stages run in order and write atomically, so an
interrupted run leaves each previous output intact and a re-run picks up where it stopped.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from aimv_backend.audio.io import AudioInfo, iter_mono_blocks, probe_audio
from aimv_backend.describe import DescribeOptions
from aimv_backend.errors import OutputError, ParameterError, TimelineError
from aimv_backend.imagine.options import ImagineOptions
from aimv_backend.imagine.video_options import VideoOptions
from aimv_backend.listen.analyze import OLD_SETTINGS_KEYS, SETTINGS_KEY, ListenOptions
from aimv_backend.progress import Progress, announce_stage
from aimv_backend.stage.options import SavedScene, ScaleOptions, StageOptions
from aimv_backend.stage.record import (
    render_fingerprint,
    stage_work,
    video_is_ours,
    write_record,
)
from aimv_backend.stage.scene_file import save_scene
from aimv_backend.util.files import output_dir, sha256_file
from aimv_backend.util.locks import folder_lock
from aimv_backend.util.workdir import (
    RENDER_OUTPUTS,
    check_not_input,
    prepare_render,
    record,
    sweep_stale,
    work_folders,
)
from aimv_timeline import names
from aimv_timeline.schema import (
    Timeline,
    TimelineFormatError,
    check_rewritable,
    read_timeline,
    write_timeline,
)


@dataclass(frozen=True)
class RunRequest:
    """One run. Paths as the user gave them.

    describe / imagine: None skips that stage. clips: generated clips made in the imagine stage
    besides the still textures (--textures video). output: the video; None stops after imagine.
    describe_given: the DescribeOptions fields the user set; the others keep what an existing
    timeline was described with (so ``aimv describe --top-k 4`` survives a later render).
    force: replace outputs that exist and differ (a still-valid timeline is reused even then,
    so hand edits survive). scale: how the stage stage spreads its frames (workers, chunks,
    Ray; docs/scale.md). saved_scene: render a scene saved from Blender (the panel's Render)
    with this song's audio instead of running the stages (``aimv render --blend``).
    """

    audio: Path
    work_dir: Path
    listen: ListenOptions = field(default_factory=ListenOptions)
    describe: DescribeOptions | None = field(default_factory=DescribeOptions)
    imagine: ImagineOptions | None = field(default_factory=ImagineOptions)
    clips: VideoOptions | None = None
    stage: StageOptions = field(default_factory=StageOptions)
    output: Path | None = None
    describe_given: frozenset[str] = frozenset()
    seed: int = 0
    force: bool = False
    scale: ScaleOptions = field(default_factory=ScaleOptions)
    saved_scene: SavedScene | None = None

    @property
    def timeline_path(self) -> Path:
        return self.work_dir / names.TIMELINE_FILE

    def stages(self) -> tuple[str, ...]:
        """The names of the stages this request runs, in order."""
        wanted = {
            "listen": True,
            "describe": self.describe is not None,
            "imagine": self.imagine is not None,
            "stage": self.output is not None,
        }
        return tuple(spec.name for spec in STAGE_TABLE if wanted[spec.name])


@dataclass(frozen=True)
class RunResult:
    """timeline_path / timeline: what the run left on disk (timeline None when a saved scene
    was rendered). output: the video (None when the run stopped before the stage stage).
    ran: the stages that did work (others were reused)."""

    timeline_path: Path
    timeline: Timeline | None
    output: Path | None
    ran: tuple[str, ...]

    @property
    def message(self) -> str:
        return "wrote" if self.ran else "up to date"


@dataclass
class _Run:
    """The state one run hands from stage to stage."""

    request: RunRequest
    info: AudioInfo
    progress: Progress
    timeline: Timeline | None = None
    cached: Timeline | None = None  # the existing timeline, when the listen stage can reuse it
    ran: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StageSpec:
    """One row of the stage table. reuse: when the stage's existing output is kept."""

    name: str
    doing: str
    reuse: str
    step: Callable[[_Run], None]


# ---------------------------------------------------------------------------------- listen
def _normalised(value: Any) -> Any:
    """Settings as they look after a JSON round trip (tuples become lists)."""
    return json.loads(json.dumps(value))


def listen_settings(timeline: Timeline) -> Any:
    """The listen settings a timeline records (older timelines call them "analyze")."""
    for key in (SETTINGS_KEY, *OLD_SETTINGS_KEYS):
        if key in timeline.settings:
            return timeline.settings[key]
    return None


def _same_listen_settings(existing: Timeline, requested: Any) -> bool:
    """Whether ``existing`` was listened to with the ``requested`` settings: as recorded, or
    with the defaults of its time where a default has changed since (an older AIMV's plain
    run matches today's plain run, and its listening revision then decides)."""
    from aimv_backend.listen.record import recorded_revision, settings_with_todays_defaults

    recorded = listen_settings(existing)
    if recorded == requested:
        return True
    return settings_with_todays_defaults(recorded, recorded_revision(existing)) == requested


def _settings_difference(recorded: Any, requested: Any, *, most: int = 3) -> str:
    """`` (rhythm.beats_per_bar: auto there, 4 now)``: the listen settings that differ, so a
    refused run says which flag to give or drop ("" when the record is not comparable)."""

    def flat(value: Any, prefix: str = "") -> dict[str, Any]:
        if not isinstance(value, dict):
            return {prefix: value}
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out

    if not isinstance(recorded, dict):
        return ""
    before, now = flat(recorded), flat(_normalised(requested))
    names_ = [k for k in sorted(before.keys() | now.keys()) if before.get(k) != now.get(k)]

    def shown(value: Any) -> str:
        return "auto" if value is None else json.dumps(value)

    parts = [f"{k}: {shown(before.get(k))} there, {shown(now.get(k))} now" for k in names_[:most]]
    more = f", and {len(names_) - most} more" if len(names_) > most else ""
    return f" ({'; '.join(parts)}{more})" if parts else ""


def read_existing(path: Path) -> Timeline | None:
    """The timeline at ``path``, None if there is none; TimelineError if it is not one."""
    if not path.exists():
        return None
    try:
        return read_timeline(path)
    except TimelineFormatError as exc:
        raise TimelineError(f"{exc}; use --force to replace it") from None


def matches_audio(timeline: Timeline, info: AudioInfo) -> bool:
    """Whether a timeline's numbers fit the song: its length, rate and windows. A timeline
    whose hash matches but whose duration does not (edited, or hostile) is not reused: it
    would plan frames for a song that is not there."""
    src = timeline.source
    tolerance = max(timeline.window_seconds, 1.0 / max(info.sample_rate, 1))
    last_end = timeline.windows[-1].end if timeline.windows else 0.0
    return (
        src.frames == info.frames
        and src.sample_rate == info.sample_rate
        and abs(src.duration - info.duration) <= 1e-3
        and last_end <= info.duration + tolerance
        and len(timeline.windows) <= info.duration / timeline.window_seconds + 2
    )


def _cached_timeline(run: _Run) -> Timeline | None:
    """The existing timeline if it was made from this song with these listen settings.

    One that differs (or is no timeline) is an error, unless --force lets it be replaced.
    """
    request = run.request
    try:
        existing = read_existing(request.timeline_path)
    except TimelineError:
        if request.force:
            return None
        raise
    if existing is None:
        return None
    same_audio = existing.source.sha256 == sha256_file(run.info.path) and matches_audio(
        existing, run.info
    )
    same_settings = _same_listen_settings(existing, _normalised(request.listen.settings()))
    if same_audio and same_settings:
        try:  # refused before any work, not once the textures are made
            check_rewritable(existing, request.timeline_path)
        except TimelineFormatError as exc:
            if request.force:
                return None  # a newer AIMV's timeline, made anew
            raise TimelineError(f"{exc}; --force makes a new one") from None
        return _current_listening(existing, run)
    if request.force:
        return None
    what = (
        "another song"
        if not same_audio
        else "other settings"
        + _settings_difference(listen_settings(existing), request.listen.settings())
    )
    raise OutputError(
        f"{str(request.timeline_path)!r} exists and was made from {what}; "
        "use --force to overwrite it"
    )


def _current_listening(existing: Timeline, run: _Run) -> Timeline | None:
    """``existing``, or None (listen again) when an older AIMV's listening made it and nothing
    in it was edited since; one line says which (aimv_backend/listen/record.py). Even
    --force keeps an edited one, as it keeps any still-valid timeline (RunRequest.force)."""
    from aimv_backend.describe.edits import edited_windows
    from aimv_backend.listen.record import LISTEN_REVISION, listening_unedited, recorded_revision

    revision = recorded_revision(existing)
    if revision >= LISTEN_REVISION:
        return existing
    older = (
        f"{str(run.request.timeline_path)!r} was listened to by an older AIMV (listening "
        f"revision {revision}, now {LISTEN_REVISION})"
    )
    if listening_unedited(existing) and not edited_windows(existing):
        run.progress.notice(f"{older} and not edited since, so the song is listened to again")
        return None
    run.progress.notice(
        f"{older}; it is kept because it may hold your edits (delete it to listen again, "
        "and lose them)"
    )
    return existing


def _listen(run: _Run) -> None:
    from aimv_backend import listen

    if run.cached is not None:
        run.timeline = run.cached
        return
    run.timeline = listen.run(
        run.info,
        options=run.request.listen,
        progress=run.progress,
        checkpoint_dir=run.request.work_dir,  # resumable: finished blocks kept until written
    )
    write_timeline(run.timeline, run.request.timeline_path)
    run.ran.append("listen")


# -------------------------------------------------------------------------------- describe
def describe_options_for(
    timeline: Timeline, options: DescribeOptions, given: Iterable[str]
) -> DescribeOptions:
    """``options`` with every field the user did not give taken from the timeline's record;
    not the seed, which is the run's (0 unless given) in every stage: a run without --seed
    after one with --seed 5 must not mix seed-5 sentences with seed-0 textures."""
    recorded = timeline.settings.get("describe")
    if not isinstance(recorded, dict):
        return options
    given = set(given)
    keep = {
        f.name: recorded[f.name]
        for f in fields(DescribeOptions)
        if f.name in recorded and f.name not in given and f.name not in ("allow_download", "seed")
    }
    vectors = keep.get("vectors")
    if isinstance(vectors, str) and ("/" in vectors or "\\" in vectors or vectors[:1] in "~."):
        del keep["vectors"]  # a timeline names no file to read: a path comes from --vectors only
    try:
        return replace(options, **keep)
    except (ParameterError, TypeError):  # a hand-edited record: the options as given
        return options


def describe_keeping_edits(
    timeline: Timeline, options: DescribeOptions, progress: Progress, *, force: bool = False
) -> Timeline:
    """Describe, keeping sentences edited by hand unless ``force`` (describe/edits.py)."""
    from aimv_backend.describe.edits import describe_keeping_edits as describe
    from aimv_backend.describe.edits import kept_notice

    described, kept = describe(timeline, options=options, progress=progress, force=force)
    if kept:
        progress.notice(kept_notice(kept))
    return described


def _describe(run: _Run) -> None:
    from aimv_backend import describe

    assert run.timeline is not None and run.request.describe is not None
    options = describe_options_for(run.timeline, run.request.describe, run.request.describe_given)
    if not describe.needs_describe(run.timeline, options=options):
        return
    force = run.request.force and "listen" not in run.ran  # a fresh timeline has no edits
    run.timeline = describe_keeping_edits(run.timeline, options, run.progress, force=force)
    write_timeline(run.timeline, run.request.timeline_path)
    run.ran.append("describe")


# --------------------------------------------------------------------------------- imagine
def _imagine(run: _Run) -> None:
    from aimv_backend import imagine

    assert run.timeline is not None and run.request.imagine is not None
    before = run.timeline
    run.timeline = imagine.run(
        run.timeline,
        timeline_dir=run.request.timeline_path.parent,
        options=run.request.imagine,
        progress=run.progress,
        timeline_path=run.request.timeline_path,  # written as images complete: resumable
    )
    if run.request.clips is not None:
        from aimv_backend.imagine.clips import make_clips

        run.timeline = make_clips(
            run.timeline,
            timeline_dir=run.request.timeline_path.parent,
            options=run.request.clips,
            progress=run.progress,
            timeline_path=run.request.timeline_path,  # written as clips complete: resumable
        )
    if run.timeline != before:
        run.ran.append("imagine")


# ----------------------------------------------------------------------------------- stage
def _stage(run: _Run) -> None:
    from aimv_backend import stage

    request = run.request
    assert run.timeline is not None and request.output is not None
    lengths = [w.end - w.start for w in run.timeline.windows]
    reason = names.check_frames_per_window(lengths, request.stage.fps)
    if reason:  # beat windows may be shorter than --window: checked again on the timeline
        raise ParameterError(reason)
    record_path = request.work_dir / names.RENDER_RECORD_FILE
    fingerprint = render_fingerprint(
        request.timeline_path, run.timeline, request.stage, audio=run.info.path, seed=request.seed
    )
    scene = request.work_dir / names.SCENE_FILE
    work = stage_work(
        record_path,
        output=request.output,
        scene=scene,
        fingerprint=fingerprint,
        force=request.force,
    )
    if not (work.video or work.scene):
        kept = f"; {str(scene)!r} was saved in Blender since AIMV saved it, and is kept as it is"
        run.progress.notice("the video is up to date" + (kept if work.scene_kept else ""))
        return
    # AIMV's own from now on: a run killed outright (no finally) must not leave scene.blend
    # and aimv_sequence/ looking like the user's to the next run, which resumes
    record(request.work_dir, RENDER_OUTPUTS)
    if work.video:
        output = stage.run(
            timeline_path=request.timeline_path,
            audio=run.info.path,
            output=request.output,
            options=request.stage,
            progress=run.progress,
            seed=request.seed,
            expected_seconds=run.timeline.source.duration,
            scale=request.scale,
            work_dir=request.work_dir,  # segments cached in WORK/chunks/ for a resumed run
        )
        write_record(record_path, output, fingerprint=fingerprint, options=request.stage)
    # after the video is recorded: a run stopped while saving the scene loses no video
    save_scene(
        timeline_path=request.timeline_path,
        song=run.info.path,
        settings=request.stage,
        seed=request.seed,
        scene=scene,
        video=request.output,
        progress=run.progress,
        record_path=record_path,
        fingerprint=fingerprint,
    )
    run.ran.append("stage")


STAGE_TABLE: tuple[StageSpec, ...] = (
    StageSpec(
        "listen",
        "listening",
        "timeline.json exists, made from the same audio bytes (sha256) with the same listen "
        "settings; one that differs is replaced only with --force",
        _listen,
    ),
    StageSpec(
        "describe",
        "describing",
        "every window has a description made with the same describe settings (options not "
        "given keep the timeline's)",
        _describe,
    ),
    StageSpec(
        "imagine",
        "imagining textures",
        "textures/ holds a PNG for each (engine, model, prompt, seed, size), clips/ an MP4 for "
        "each clip (--textures video); only missing ones are made",
        _imagine,
    ),
    StageSpec(
        "stage",
        "staging and rendering in Blender",
        "render.json's fingerprint (timeline, textures, options, AIMV version) matches the "
        "video AIMV last wrote there",
        _stage,
    ),
)
assert tuple(spec.name for spec in STAGE_TABLE) == names.STAGES


# ------------------------------------------------------------------------------------- run
def check_request(request: RunRequest) -> AudioInfo:
    """Every check that can fail before work starts; returns the audio, probed once."""
    if request.output is not None:
        from aimv_backend.stage.blender_runner import blender_command

        if request.output.suffix.lower() != ".mp4":
            raise ParameterError(f"--output must name an .mp4 file, got {str(request.output)!r}")
        blender_command(request.stage)  # a missing bpy or a bad --blender fails first
        # --window itself; beat windows are checked again on the timeline (_stage)
        reason = names.check_frames_per_window([request.listen.window_seconds], request.stage.fps)
        if reason:
            raise ParameterError(reason)
    if request.imagine is not None and request.imagine.engine == "diffusers":
        from aimv_backend.imagine.diffusion import check_model_at_hand

        check_model_at_hand(request.imagine.model, allow_download=request.imagine.allow_download)
    if request.clips is not None:
        from aimv_backend.imagine.video import check_device

        check_device(request.clips.device)  # no GPU: refuse before any listening
    if request.scale.ray is not None:  # a wrong address fails now, not after the listening
        from aimv_backend.stage import ray_backend

        ray_backend.connect(request.scale.ray)
    info = probe_audio(request.audio)
    if request.output is not None:  # never, even with --force, over the song or the timeline
        check_not_input(
            request.output, inputs=[("song", info.path), ("timeline", request.timeline_path)]
        )
    if request.describe is not None:
        from aimv_backend.describe.vectors import load_space

        # a bad --vectors fails before minutes of listening (the space is cached for later)
        load_space(request.describe.vectors, allow_download=request.describe.allow_download)
    return info


def run(request: RunRequest, *, progress: Progress) -> RunResult:
    """Run the stages ``request`` asks for; see the module docstring and :data:`STAGE_TABLE`."""
    if request.saved_scene is not None:
        return _render_saved_scene(request, progress)
    info = check_request(request)
    folders = [(request.work_dir, "work folder")]
    if request.output is not None:
        video_dir = request.output.parent if str(request.output.parent) else Path(".")
        folders.insert(0, (video_dir, "video folder"))
    with contextlib.ExitStack() as stack:
        for path, what in folders:  # created now, removed again if the run fails early
            stack.enter_context(output_dir(path, what=what))
        stack.enter_context(folder_lock(request.work_dir))  # one run per work folder
        if request.output is not None:  # stale temporaries swept, foreign files refused
            prepare_render(request.work_dir, output=request.output, force=request.force)
        else:  # holding the lock, an interrupted run's temporaries are stale
            sweep_stale(work_folders(request.work_dir))
        return _run_stages(request, info, progress)


def _run_stages(request: RunRequest, info: AudioInfo, progress: Progress) -> RunResult:
    output = request.output
    if output is not None:
        record_path = request.work_dir / names.RENDER_RECORD_FILE
        if output.exists() and not request.force and not video_is_ours(record_path, output):
            raise OutputError(
                f"{str(output)!r} exists and was not made by this work folder; "
                "use --force to overwrite it"
            )
    state = _Run(request=request, info=info, progress=progress)
    state.cached = _cached_timeline(state)
    if state.cached is None:  # the song will be listened to: read it through first, so that
        for _block in iter_mono_blocks(info):  # NaN, infinity or truncated data fail before
            pass  # any progress bar starts
    chosen = request.stages()
    for index, spec in enumerate(s for s in STAGE_TABLE if s.name in chosen):
        doing = (
            f"{spec.doing} (reused: the same song and settings)"
            if _reused(spec.name, state)
            else spec.doing
        )
        announce_stage(progress, name=spec.name, index=index + 1, total=len(chosen), doing=doing)
        spec.step(state)
    assert state.timeline is not None
    return RunResult(request.timeline_path, state.timeline, output, tuple(state.ran))


def _reused(stage: str, run: _Run) -> bool:
    """Whether ``stage`` will find its work done already (said on its stage line): the
    timeline listened to before, and its sentences written with the same settings."""
    if run.cached is None:
        return False
    if stage == "listen":
        return True
    if stage == "describe" and run.request.describe is not None:
        from aimv_backend import describe

        options = describe_options_for(run.cached, run.request.describe, run.request.describe_given)
        return not describe.needs_describe(run.cached, options=options)
    return False


def _render_saved_scene(request: RunRequest, progress: Progress) -> RunResult:
    """The Blender panel's Render: a saved scene's frames in chunks, joined with the audio."""
    from aimv_backend.stage.chunked import ChunkedRequest, render_to_file
    from aimv_backend.stage.chunks import FrameRange

    saved = request.saved_scene
    assert saved is not None
    if request.output is None:
        raise ParameterError("--blend needs -o/--output VIDEO.mp4")
    if request.output.suffix.lower() != ".mp4":
        raise ParameterError(f"--output must name an .mp4 file, got {str(request.output)!r}")
    from aimv_backend.stage.blender_runner import blender_command

    blender_command(request.stage)  # a missing bpy or a bad --blender fails first
    if not saved.blend.is_file() or saved.blend.suffix.lower() != ".blend":
        raise ParameterError(f"--blend must be an existing .blend file, got {str(saved.blend)!r}")
    if request.scale.ray is not None:
        from aimv_backend.stage import ray_backend

        ray_backend.connect(request.scale.ray)
    info = probe_audio(request.audio)
    chunked = ChunkedRequest(
        song=info.path,
        timeline_path=None,
        work_dir=request.work_dir,
        output=request.output,
        settings=request.stage,
        seed=request.seed,
        scale=request.scale,
        blend=saved.blend,
        scene=saved.scene,
        frames=FrameRange(*saved.frames),
    )
    with folder_lock_when_exists(request.work_dir):
        result = render_to_file(
            chunked, output=request.output, force=request.force, progress=progress
        )
    return RunResult(request.timeline_path, None, result.output, ("stage",))


@contextlib.contextmanager
def folder_lock_when_exists(work_dir: Path):
    """The work folder's lock (one run per folder), the folder made first if need be."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(work_dir):
        yield
