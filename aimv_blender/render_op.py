"""Render video from the panel in chunks: the backend's chunked render, without blocking.

``AIMV_OT_render`` prepares the stage (built, engine set) and hands over here when Blender has
a window. This saves the scene to ``WORK/render-scene.blend`` and runs the backend's
``aimv render --blend`` (render_job.py), which renders the frames in one Blender process per
core and joins them with the song: the same path as ``aimv render``. Progress shows in the
panel; Cancel (or Esc) stops the backend and its Blender processes. Without a backend the
render falls back to Blender's own render job in this process.
"""

from __future__ import annotations

from pathlib import Path

import bpy

from . import operators, preferences, subprocess_runner
from .render_job import RENDER_BLEND_NAME, ChunkedRender, render_steps

_pending: dict = {}


def start(context, *, snap, stage, audio: Path, fallback) -> set[str]:
    """Hand the render of ``stage`` to AIMV_OT_render_chunks; ``fallback()`` renders in this
    process when no backend can be found."""
    work = snap.work_dir or Path(snap.output).with_suffix(".aimv")
    _pending.update(
        job=ChunkedRender(
            song=Path(audio),
            blend=Path(work) / RENDER_BLEND_NAME,
            scene=stage.name,
            frames=(stage.frame_start, stage.frame_end),
            output=Path(snap.output),
            work_dir=Path(work),
            resolution=tuple(snap.resolution),
            fps=int(stage.render.fps),
            engine=snap.engine,
            samples=snap.samples,
            overwrite=snap.overwrite,
        ),
        fallback=fallback,
    )
    return bpy.ops.aimv.render_chunks("INVOKE_DEFAULT")


class AIMV_OT_render_chunks(bpy.types.Operator):
    """Render the video in chunks through the AIMV backend (one Blender process per core)"""

    bl_idname = "aimv.render_chunks"
    bl_label = "Render video in chunks"
    bl_options = {"INTERNAL"}

    _timer = None

    def invoke(self, context, event):
        job: ChunkedRender | None = _pending.pop("job", None)
        fallback = _pending.pop("fallback", None)
        if job is None:
            return {"CANCELLED"}
        if operators._state["pipeline"] is not None:
            self.report({"ERROR"}, "AIMV: a backend run is already going (Cancel it first)")
            return {"CANCELLED"}
        try:
            program = subprocess_runner.resolve_command(preferences.backend_command(context))
        except subprocess_runner.BackendError as exc:
            out = fallback()
            self.report({"WARNING"}, f"AIMV: {exc}; rendering in one process to {out}")
            return {"FINISHED"}
        try:
            if job.output.exists() and not job.overwrite:
                raise ValueError(f"output {str(job.output)!r} exists (allow overwriting)")
            job.work_dir.mkdir(parents=True, exist_ok=True)
            bpy.ops.wm.save_as_mainfile(filepath=str(job.blend), copy=True, check_existing=False)
        except (ValueError, OSError, RuntimeError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        pipeline = subprocess_runner.Pipeline(
            steps=render_steps(job, program),
            env=subprocess_runner.backend_env(online=bool(bpy.app.online_access)),
        )
        operators._state["pipeline"], operators._state["cancel"] = pipeline, False
        self._output = job.output
        settings = context.scene.aimv
        settings.running, settings.progress, settings.status = True, 0.0, "rendering"
        wm = context.window_manager
        if context.window is None:
            return self._finish(context, pipeline.run())
        self._timer = wm.event_timer_add(0.2, window=context.window)
        wm.progress_begin(0, 100)
        wm.modal_handler_add(self)
        self.report({"INFO"}, f"AIMV: rendering to {job.output} in chunks")
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        pipeline = operators._state["pipeline"]
        if pipeline is None:
            return self._finish(context, "cancelled")
        if event.type == "ESC" or operators._state["cancel"]:
            pipeline.cancel()
            operators._state["cancel"] = False
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        state = pipeline.poll()
        settings = context.scene.aimv
        settings.progress, settings.status = pipeline.fraction, pipeline.status
        context.window_manager.progress_update(int(100 * pipeline.fraction))
        if context.area is not None:
            context.area.tag_redraw()
        if state == "running":
            return {"PASS_THROUGH"}
        return self._finish(context, state)

    def _finish(self, context, state: str):
        pipeline = operators._state["pipeline"]
        operators._state["pipeline"] = None
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            context.window_manager.progress_end()
            self._timer = None
        settings = context.scene.aimv
        settings.running = False
        settings.status = {"done": "done", "cancelled": "cancelled"}.get(state, "failed")
        if state == "done":
            self.report({"INFO"}, f"AIMV: wrote {self._output}")
            return {"FINISHED"}
        if state == "cancelled":
            self.report({"WARNING"}, "AIMV: render cancelled")
        else:
            self.report({"ERROR"}, pipeline.error if pipeline else "AIMV: render failed")
        return {"CANCELLED"}


classes = (AIMV_OT_render_chunks,)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister() -> None:
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
