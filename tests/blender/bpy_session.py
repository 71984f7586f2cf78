"""Runs inside a separate ``python`` with bpy (bpy is heavy and not re-entrant).

Usage: python bpy_session.py CONFIG.json RESULT.json. Installs the extension zip, enables it,
drives its operators on fixture timelines and writes the observed facts as JSON; the pytest
module asserts on them. Nothing here decides pass or fail.
"""

from __future__ import annotations

import json
import sys
import traceback

import bpy
from bpy_extras import anim_utils


def fcurve(datablock, data_path, index=0):
    adt = datablock.animation_data
    if adt is None or adt.action is None:
        return None
    action = adt.action
    if hasattr(action, "slots"):
        bag = anim_utils.action_get_channelbag_for_slot(action, adt.action_slot)
        return None if bag is None else bag.fcurves.find(data_path, index=index)
    return action.fcurves.find(data_path, index=index)


def camera_travel(scene, camera, start, end):
    """Distance the camera travels between frames start..end (inclusive)."""
    total, last = 0.0, None
    for f in range(start, end + 1):
        scene.frame_set(f)
        pos = camera.matrix_world.translation.copy()
        if last is not None:
            total += (pos - last).length
        last = pos
    return total


class LayoutRecorder:
    """Stands in for UILayout: records what the panel draws and checks every name exists."""

    def __init__(self, log):
        self.log = log
        self.use_property_split = self.use_property_decorate = False

    def _child(self, *args, **kwargs):
        return self

    row = column = box = split = _child

    def label(self, text="", **kwargs):
        self.log.append(["label", text])

    def prop(self, data, name, **kwargs):
        ok = name in data.bl_rna.properties
        self.log.append(["prop", name, ok])

    def operator(self, idname, **kwargs):
        module, name = idname.split(".")
        ok = hasattr(getattr(bpy.ops, module), name)
        self.log.append(["operator", idname, ok])

    def progress(self, **kwargs):
        self.log.append(["progress", kwargs.get("text", "")])


def draw_panel(context, running):
    log = []
    panel = type("PanelStub", (), {"layout": LayoutRecorder(log)})()
    context.scene.aimv.running = running
    bpy.types.AIMV_PT_main.draw(panel, context)
    context.scene.aimv.running = False
    return log


class OperatorStub:
    """Stands in for the modal operator instance so its modal() can be driven by fake events."""

    _timer = None

    def __init__(self, operator_cls, timeline):
        self._finish = operator_cls._finish.__get__(self)
        self._timeline = timeline
        self.reports = []

    def report(self, kind, message):
        self.reports.append([sorted(kind)[0], message])


def drive_modal(module, cfg, work_dir, *, cancel_after=None):
    """Run Generate's modal loop on timer events (ESC after ``cancel_after`` s)."""
    import os
    import time
    from pathlib import Path

    ops = sys.modules[f"{module}.operators"]
    runner = sys.modules[f"{module}.subprocess_runner"]
    settings = runner.BackendSettings(
        command=cfg["fake_backend"],
        audio=Path(cfg["song"]),
        work_dir=Path(work_dir),
        textures="procedural",
    )
    steps = runner.backend_steps(settings, runner.resolve_command(settings.command))
    extra = {"AIMV_FAKE_SLEEP": "30"} if cancel_after is not None else {"AIMV_FAKE_SLEEP": "0.2"}
    env = runner.backend_env(online=False, base={**os.environ, **extra})
    ops._state["pipeline"] = runner.Pipeline(steps=steps, env=env)
    stub = OperatorStub(ops.AIMV_OT_generate, settings.timeline_path)
    aimv = bpy.context.scene.aimv
    aimv.running = True
    seen, t0, result = [], time.monotonic(), {"PASS_THROUGH"}
    while result == {"PASS_THROUGH"} and time.monotonic() - t0 < 60:
        kind = "TIMER"
        if cancel_after is not None and time.monotonic() - t0 > cancel_after:
            kind, cancel_after = "ESC", None
        result = ops.AIMV_OT_generate.modal(stub, bpy.context, type("E", (), {"type": kind})())
        seen.append([round(aimv.progress, 3), aimv.status])
        time.sleep(0.05)
    return {
        "result": sorted(result),
        "seconds": time.monotonic() - t0,
        "progress": sorted({p for p, _s in seen}),
        "statuses": sorted({st for _p, st in seen}),
        "running_after": aimv.running,
        "reports": stub.reports,
        "timeline": aimv.timeline_path,
        "pipeline_left": ops._state["pipeline"] is not None,
    }


def scene_facts(scene, windows):
    light = bpy.data.objects["AIMV Key Light"]
    camera = bpy.data.objects["AIMV Camera"]
    facts = {"windows": []}
    for w in windows:
        mid = w["middle_frame"]
        curve = [fcurve(light.data, "color", c) for c in range(3)]
        scene.frame_set(mid)
        facts["windows"].append(
            {
                "fcurve_colour": [c.evaluate(mid) if c else None for c in curve],
                "light_colour": list(light.data.color),
                "energy": light.data.energy,
                # from the end of the blend that starts on the window's first frame
                "camera_travel": camera_travel(
                    scene, camera, w["first_frame"] + 6, w["last_frame"]
                ),
            }
        )
    facts["markers"] = sorted([m.name, m.frame] for m in scene.timeline_markers)
    facts["objects"] = sorted(o.name for o in scene.objects)
    facts["frame_range"] = [scene.frame_start, scene.frame_end]
    facts["fps"] = scene.render.fps
    facts["camera_keys"] = len(fcurve(camera, "location", 0).keyframe_points)
    facts["light_colour_keys"] = len(fcurve(light.data, "color", 0).keyframe_points)
    nodes = bpy.data.materials["AIMV Screen"].node_tree
    offset = fcurve(nodes, 'nodes["AIMV Texture A"].image_user.frame_offset')
    facts["texture_offsets"] = (
        None if offset is None else [[k.co[0], k.co[1]] for k in offset.keyframe_points]
    )
    return facts


def main(config_path: str, result_path: str) -> None:
    cfg = json.load(open(config_path))
    out: dict = {}
    try:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        res = bpy.ops.extensions.package_install_files(
            filepath=cfg["zip"], repo="user_default", enable_on_install=True
        )
        module = "bl_ext.user_default.aimv"
        out["install"] = sorted(res)
        out["enabled"] = module in bpy.context.preferences.addons
        out["panel"] = hasattr(bpy.types, "AIMV_PT_main")
        out["operators"] = {
            name: hasattr(bpy.ops.aimv, name) and bool(getattr(bpy.ops.aimv, name).get_rna_type())
            for name in ("generate", "build_scene", "render", "cancel")
        }
        out["scene_prop"] = hasattr(bpy.types.Scene, "aimv")
        scene = bpy.context.scene
        out["panel_idle"] = draw_panel(bpy.context, running=False)
        out["panel_running"] = draw_panel(bpy.context, running=True)

        # the artist's own object, keyed by hand before AIMV runs
        artist = bpy.data.objects.new("Artist Empty", None)
        scene.collection.objects.link(artist)
        artist.location = (1.0, 2.0, 3.0)
        artist.keyframe_insert("location", frame=7)

        s = scene.aimv
        s.timeline_path = cfg["timeline_textured"]
        s.fps = cfg["fps"]
        s.resolution_x, s.resolution_y = 320, 180
        out["build_1"] = sorted(bpy.ops.aimv.build_scene())
        out["first"] = scene_facts(scene, cfg["windows"])

        # the artist keys a property AIMV does not key, on an AIMV object
        camera = bpy.data.objects["AIMV Camera"]
        camera.scale = (1.5, 1.5, 1.5)
        camera.keyframe_insert("scale", index=0, frame=10)
        camera.data.lens = 35.0  # an unkeyed tweak on AIMV's camera data
        key_light = bpy.data.objects["AIMV Key Light"]
        key_light.location = (5.0, -5.0, 5.0)  # the artist places the light elsewhere
        key_light.data.size = 7.0

        # regenerate from a timeline without textures
        s.timeline_path = cfg["timeline_plain"]
        out["build_2"] = sorted(bpy.ops.aimv.build_scene())
        out["second"] = scene_facts(scene, cfg["windows"])
        art = fcurve(artist, "location", 0)
        out["artist_object_keys"] = (
            None if art is None else [list(k.co) for k in art.keyframe_points]
        )
        sc = fcurve(camera, "scale", 0)
        out["artist_camera_keys"] = None if sc is None else [list(k.co) for k in sc.keyframe_points]
        out["camera_lens"] = camera.data.lens
        out["key_light_placement"] = [list(key_light.location), key_light.data.size]
        out["aimv_objects"] = sorted(o.name for o in bpy.data.objects if o.name.startswith("AIMV"))

        # Generate through a fake backend (argument lists, JSON progress on stderr)
        prefs = bpy.context.preferences.addons[module].preferences
        prefs.backend_command = cfg["fake_backend"]
        s.audio_path = cfg["song"]
        s.work_dir = cfg["work_dir"]
        s.timeline_path = ""
        s.window_seconds = 1.0
        s.textures = "procedural"
        out["generate"] = sorted(bpy.ops.aimv.generate())
        out["generate_timeline"] = s.timeline_path
        out["generate_status"] = s.status
        out["after_generate"] = scene_facts(scene, cfg["windows"])

        # Render video from the panel (blocking in background mode)
        s.output_path = cfg["ui_video"]
        s.resolution_x, s.resolution_y = 160, 90
        s.render_engine = "workbench"
        out["render"] = sorted(bpy.ops.aimv.render())
        out["render_scene_strips"] = sorted(
            [st.type, st.frame_final_start, st.frame_final_duration]
            for st in bpy.data.scenes["AIMV Render"].sequence_editor.strips
        )
        try:
            bpy.ops.aimv.render()  # the output exists now and overwrite is off
            out["render_again"] = "no error"
        except RuntimeError as exc:
            out["render_again"] = str(exc)
        # Build scene at another fps: the Render scene made above follows it
        s.fps = scene.render.fps * 2
        bpy.ops.aimv.build_scene()
        rs = bpy.data.scenes["AIMV Render"]
        out["render_scene_follows"] = [
            [rs.render.fps, rs.frame_end],
            [scene.render.fps, scene.frame_end],
        ]
        s.fps = scene.render.fps // 2
        bpy.ops.aimv.build_scene()

        # the modal loop the UI runs: progress and status follow the backend; Esc cancels
        out["modal_done"] = drive_modal(module, cfg, cfg["work_dir"] + "-modal")
        out["modal_cancel"] = drive_modal(
            module, cfg, cfg["work_dir"] + "-cancel", cancel_after=1.0
        )

        # a bad timeline path is reported, not raised
        s.timeline_path = cfg["timeline_plain"] + ".missing"
        try:
            bpy.ops.aimv.build_scene()
            out["missing_timeline"] = "no error"
        except RuntimeError as exc:
            out["missing_timeline"] = str(exc)

        # a file saved while Generate ran opens without a stuck progress bar
        s = bpy.context.scene.aimv
        s.running, s.status = True, "analyze: voice"
        bpy.ops.wm.save_as_mainfile(filepath=cfg["blend"], copy=True)
        bpy.ops.wm.open_mainfile(filepath=cfg["blend"])
        out["reopened"] = {
            "running": bpy.context.scene.aimv.running,
            "status": bpy.context.scene.aimv.status,
        }

        bpy.ops.preferences.addon_disable(module=module)
        out["after_disable"] = {
            "scene_prop": hasattr(bpy.types.Scene, "aimv"),
            "panel": hasattr(bpy.types, "AIMV_PT_main"),
            "operator": hasattr(bpy.types, "AIMV_OT_generate"),
            "load_post": [
                h.__name__ for h in bpy.app.handlers.load_post if h.__name__ == "_reset_run_state"
            ],
        }
    except Exception:  # report everything to the test, whatever happened
        out["exception"] = traceback.format_exc()
    with open(result_path, "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    main(*argv)
