"""Runs inside a ``python`` with bpy (any supported version): install the extension zip, enable
it, report where its contract was imported from, and build a scene with its operator.

Usage: python bpy_install.py CONFIG.json RESULT.json. Writes facts; the test decides.
"""

from __future__ import annotations

import json
import sys
import traceback

import bpy


def main(config_path: str, result_path: str) -> None:
    cfg = json.load(open(config_path))
    out: dict = {"version": list(bpy.app.version)}
    try:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        out["install"] = sorted(
            bpy.ops.extensions.package_install_files(
                filepath=cfg["zip"], repo="user_default", enable_on_install=True
            )
        )
        module = "bl_ext.user_default.aimv"
        out["enabled"] = module in bpy.context.preferences.addons
        contract = sys.modules[f"{module}.contract"]
        out["contract"] = {
            name: [getattr(contract, name).__name__, getattr(contract, name).__file__]
            for name in ("events", "names", "schema", "presets")
        }
        out["aimv_error"] = contract.AimvError.__module__
        scene = bpy.context.scene
        out["defaults"] = [
            scene.aimv.resolution_x,
            scene.aimv.resolution_y,
            scene.aimv.fps,
            scene.aimv.render_engine,
        ]
        scene.aimv.timeline_path = cfg["timeline"]
        scene.aimv.fps = cfg["fps"]
        out["build"] = sorted(bpy.ops.aimv.build_scene())
        out["frames"] = [scene.frame_start, scene.frame_end]
        out["objects"] = sorted(o.name for o in bpy.data.objects if o.name.startswith("AIMV"))
    except Exception:  # report everything to the test, whatever happened
        out["exception"] = traceback.format_exc()
    with open(result_path, "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:3])
