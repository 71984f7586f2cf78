"""The panel's buttons: Generate (run the backend), Build scene, Render video, Cancel.

Each operator snapshots ``Scene.aimv`` first and then calls bpy-free (subprocess_runner,
keying) or bpy-thin (scene_build, render) functions. Every error a user can fix derives from
:class:`AimvError` (the contract's base) and reaches the user through
``self.report({'ERROR'}, ...)``; anything else is a bug and is raised.
"""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.app.handlers import persistent

from . import preferences, props, render, render_op, scene_build, subprocess_runner
from .contract import AimvError, names, paths, read_timeline
from .keying import KeyingOptions
from .props import SettingsError

# What a user can fix: AIMV's own errors, and the file system's.
USER_ERRORS = (AimvError, OSError)

_state = {"pipeline": None, "cancel": False}


def _settings(context):
    return context.scene.aimv


def _redraw(context) -> None:
    for window in context.window_manager.windows:
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                area.tag_redraw()


def build_from_snapshot(scene, snap: props.Snapshot) -> scene_build.BuildResult:
    """Key ``snap.timeline`` onto ``scene`` (shared by Build scene, Generate and Render)."""
    if snap.timeline is None:
        raise SettingsError(f"no timeline: run Generate or choose a {names.TIMELINE_FILE}")
    timeline = read_timeline(snap.timeline)
    options = scene_build.BuildOptions(
        keying=KeyingOptions(
            fps=snap.fps, crossfade=snap.crossfade, seed=snap.seed, layers=snap.layers
        ),
        resolution=snap.resolution,
        font=snap.font,
    )
    return scene_build.build_scene(
        scene, timeline, timeline_dir=snap.timeline.parent, options=options
    )


def _song(snap: props.Snapshot) -> Path:
    """The song of the panel, else the one its timeline names; SettingsError when neither is."""
    audio = snap.audio
    if audio is None and snap.timeline is not None and snap.timeline.is_file():
        source = read_timeline(snap.timeline).source.path
        audio = paths.song_path(source, snap.timeline.parent)
    if audio is None:
        raise SettingsError("Song: choose the audio file (or a timeline that names it)")
    if not audio.is_file():
        raise SettingsError(f"Song {str(audio)!r}: no such file")
    return audio


def _refresh_render_scene(stage, snap: props.Snapshot) -> None:
    """An "AIMV Render" scene made by an earlier Render follows the rebuilt stage (its song,
    frames, fps and size), so rendering that scene from Blender's own menu gives this video."""
    if bpy.data.scenes.get(render.RENDER_SCENE) is None:
        return
    options = render.RenderOptions(
        output=snap.output or Path("aimv.mp4"), resolution=snap.resolution, engine=snap.engine
    )
    render.render_scene(stage, audio=_song(snap), options=options)


def _warn_in_the_way(operator, result: scene_build.BuildResult) -> None:
    """After a build: the F-curves kept as the artist edited them (they no longer follow the
    timeline: at another fps or song they keep their old timing), and objects in the way."""
    if result.kept_fcurves:
        shown = ", ".join(result.kept_fcurves[:4]) + (
            ", ..." if len(result.kept_fcurves) > 4 else ""
        )
        operator.report(
            {"INFO"},
            f"AIMV: kept {len(result.kept_fcurves)} F-curve(s) you edited as they are ({shown}); "
            "delete one to have AIMV key it again",
        )
    if result.in_the_way:
        names_ = ", ".join(repr(n) for n in result.in_the_way[:5])
        operator.report(
            {"WARNING"},
            f"AIMV: {names_} stand(s) between the camera and the screen and will hide the "
            "picture: hide or delete them (AIMV keeps your objects)",
        )


class AIMV_OT_build_scene(bpy.types.Operator):
    """Key the timeline onto this scene (replaces only what AIMV generated)"""

    bl_idname = "aimv.build_scene"
    bl_label = "Build scene"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        snap = props.snapshot(_settings(context))
        try:
            result = build_from_snapshot(context.scene, snap)
            _refresh_render_scene(context.scene, snap)
        except USER_ERRORS as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report(
            {"INFO"},
            f"AIMV: keyed {result.windows} windows, frames {result.frame_start}-{result.frame_end}",
        )
        _warn_in_the_way(self, result)
        return {"FINISHED"}


class AIMV_OT_render(bpy.types.Operator):
    """Render the video: the stage through the Video Sequencer with the song, to MP4"""

    bl_idname = "aimv.render"
    bl_label = "Render video"

    def execute(self, context):
        snap = props.snapshot(_settings(context))
        stage = context.scene
        try:
            if snap.output is None:
                raise SettingsError("Output: choose an .mp4 file")
            options = render.RenderOptions(
                output=snap.output,
                resolution=snap.resolution,
                engine=snap.engine,
                samples=snap.samples,
                overwrite=snap.overwrite,
            )
            if scene_build.NAMES["camera"] not in stage.objects:
                build_from_snapshot(stage, snap)
            elif stage.render.fps != snap.fps:
                # never re-key behind the artist's back: their edits of AIMV keys would go
                self.report(
                    {"WARNING"},
                    f"AIMV: the scene was keyed at {stage.render.fps} fps; "
                    f"press Build scene to re-key it at {snap.fps} fps",
                )
            textured = bpy.data.images.get(scene_build.IMAGE_NAMES[0]) is not None
            render.configure_engine(
                stage, engine=snap.engine, samples=snap.samples, textured=textured
            )
            audio = _song(snap)
            rs = render.render_scene(stage, audio=audio, options=options)
            if not render.has_audio_support():
                self.report({"WARNING"}, f"AIMV: {render.NO_AUDIO}")
            if bpy.app.background:
                out = render.render_video(rs, options=options)
                self.report({"INFO"}, f"AIMV: wrote {out}")
            else:  # in chunks, one Blender process per core, like `aimv render` (render_op.py)
                return render_op.start(
                    context,
                    snap=snap,
                    stage=stage,
                    audio=audio,
                    fallback=lambda: render.start_render_job(rs, options=options),
                )
        except USER_ERRORS as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"FINISHED"}


class AIMV_OT_generate(bpy.types.Operator):
    """Run the AIMV backend on the song (listen, describe, imagine), then build the scene"""

    bl_idname = "aimv.generate"
    bl_label = "Generate"

    _timer = None

    def invoke(self, context, event):
        return self.execute(context)

    def execute(self, context):
        settings = _settings(context)
        if _state["pipeline"] is not None:
            self.report({"ERROR"}, "AIMV: a Generate run is already going (Cancel it first)")
            return {"CANCELLED"}
        snap = props.snapshot(settings)
        try:
            if snap.audio is None or not snap.audio.is_file():
                raise SettingsError(
                    f"Song {str(snap.audio or '')!r}: choose an existing audio file "
                    f"({names.AUDIO_FORMATS})"
                )
            scene_build.check_stage_is_this_scenes(context.scene)  # before minutes of listening
            backend = subprocess_runner.BackendSettings.from_choices(
                snap,
                command=preferences.backend_command(context),
                audio=snap.audio,
                work_dir=snap.work_dir,
                force=snap.overwrite,
                online=bool(bpy.app.online_access),
            )
            program = subprocess_runner.resolve_command(backend.command)
            snap.work_dir.mkdir(parents=True, exist_ok=True)
            steps = subprocess_runner.backend_steps(backend, program)
        except USER_ERRORS as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        pipeline = subprocess_runner.Pipeline(
            steps=steps, env=subprocess_runner.backend_env(online=backend.online)
        )
        _state["pipeline"], _state["cancel"] = pipeline, False
        self._timeline = backend.timeline_path
        settings.running, settings.progress, settings.status = True, 0.0, "starting"
        wm = context.window_manager
        if context.window is not None and not bpy.app.background:
            self._timer = wm.event_timer_add(0.1, window=context.window)
            wm.progress_begin(0, 100)
            wm.modal_handler_add(self)
            return {"RUNNING_MODAL"}
        state = pipeline.run()  # no window (background): block
        return self._finish(context, state)

    def modal(self, context, event):
        pipeline = _state["pipeline"]
        if pipeline is None:
            return self._finish(context, "cancelled")
        if event.type == "ESC" or _state["cancel"]:
            pipeline.cancel()
            _state["cancel"] = False
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        state = pipeline.poll()
        settings = _settings(context)
        settings.progress, settings.status = pipeline.fraction, pipeline.status
        context.window_manager.progress_update(int(100 * pipeline.fraction))
        _redraw(context)
        if state == "running":
            return {"PASS_THROUGH"}
        return self._finish(context, state)

    def _finish(self, context, state: str):
        pipeline = _state["pipeline"]
        _state["pipeline"] = None
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            wm.progress_end()
            self._timer = None
        settings = _settings(context)
        settings.running = False
        _redraw(context)
        if state == "cancelled":
            settings.status = "cancelled"
            self.report({"WARNING"}, "AIMV: cancelled")
            return {"CANCELLED"}
        if state != "done":
            settings.status = "failed"
            self.report({"ERROR"}, pipeline.error if pipeline else "AIMV: backend failed")
            return {"CANCELLED"}
        for notice in pipeline.notices:
            self.report({"INFO"}, f"AIMV: {notice}")
        settings.timeline_path = str(self._timeline)
        settings.status = "done"
        snap = props.snapshot(settings)
        try:
            result = build_from_snapshot(context.scene, snap)
        except USER_ERRORS as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"AIMV: timeline {self._timeline} keyed")
        _warn_in_the_way(self, result)
        return {"FINISHED"}


class AIMV_OT_cancel(bpy.types.Operator):
    """Stop the running Generate (the backend process is interrupted)"""

    bl_idname = "aimv.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return _state["pipeline"] is not None

    def execute(self, context):
        _state["cancel"] = True
        return {"FINISHED"}


@persistent
def _reset_run_state(_dummy=None) -> None:
    """A .blend saved during a Generate run must not open with a stuck progress bar."""
    if _state["pipeline"] is None:
        for scene in bpy.data.scenes:
            settings = getattr(scene, "aimv", None)
            if settings is not None and settings.running:
                settings.running = False


classes = (AIMV_OT_build_scene, AIMV_OT_render, AIMV_OT_generate, AIMV_OT_cancel)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.app.handlers.load_post.append(_reset_run_state)


def unregister() -> None:
    pipeline = _state["pipeline"]
    if pipeline is not None:
        pipeline.cancel()
        _state["pipeline"] = None
    if _reset_run_state in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_reset_run_state)
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
