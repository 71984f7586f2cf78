"""Runs inside a separate ``python`` with bpy: builds the picture, renders frames, edits and
rebuilds it, and writes the observed facts as JSON (the pytest module asserts on them).

Usage: python picture_session.py CONFIG.json RESULT.json
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import bpy  # noqa: E402

from aimv_blender import anim, keying, render, scene_build  # noqa: E402
from aimv_blender.layer_options import LAYERS  # noqa: E402
from aimv_timeline import schema as ts  # noqa: E402


def build(scene, timeline, folder, cfg, layers=frozenset(LAYERS)):
    options = scene_build.BuildOptions(
        keying=keying.KeyingOptions(fps=cfg["fps"], layers=layers),
        resolution=tuple(cfg["resolution"]),
    )
    result = scene_build.build_scene(scene, timeline, timeline_dir=folder, options=options)
    render.configure_engine(scene, engine="workbench", samples=1, textured=result.textured)
    return result


def shoot(scene, frame, path):
    scene.frame_set(frame)
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return str(path)


def keys_of(fc):
    return [list(k.co) for k in fc.keyframe_points] if fc is not None else None


def renamed_copied_and_dropped(scene, timeline, folder, cfg):
    """The artist renames the rim light and the camera, copies a word (Shift+D), gives another
    word a material, sets a font on one word, widens the lens; then the song loses its words."""
    facts = {}
    screen = bpy.data.objects[scene_build.NAMES["screen"]]
    width_at_50 = screen.dimensions.x
    bpy.data.objects["AIMV Rim Light"].name = "My Rim"
    scene.camera.name = "Hero Cam"
    action = scene.camera.animation_data.action.name
    word = bpy.data.objects[f"AIMV Lyric {cfg['word']}"]
    copy = word.copy()
    copy.data = word.data.copy()
    word.users_collection[0].objects.link(copy)
    facts["copy"] = copy.name
    red = bpy.data.materials.new("Artist Red")
    word.data.materials[0] = red
    scene.camera.data.lens = 28.0
    scene.timeline_markers.new("AIMV chorus", frame=5)
    fonts = Path(cfg["fonts"])
    options = scene_build.BuildOptions(
        keying=keying.KeyingOptions(fps=cfg["fps"]),
        resolution=tuple(cfg["resolution"]),
        font=fonts / "DejaVuSans.ttf",
    )
    scene_build.build_scene(scene, timeline, timeline_dir=folder, options=options)
    facts["panel_font"] = word.data.font.filepath
    word.data.font = bpy.data.fonts.load(str(fonts / "DejaVuSerif.ttf"), check_existing=True)
    scene_build.build_scene(scene, timeline, timeline_dir=folder, options=options)
    facts["word_font"] = word.data.font.filepath
    facts["lights"] = sorted(o.name for o in scene.objects if o.type == "LIGHT")
    facts["cameras"] = sorted(o.name for o in scene.objects if o.type == "CAMERA")
    facts["active_camera"] = scene.camera.name
    facts["camera_action"] = [action, scene.camera.animation_data.action.name]
    facts["screen_width"] = [width_at_50, screen.dimensions.x]
    # one key of the key light's red moved, then a rebuild at twice the fps: green and blue
    # keep their timing with red's (a colour is one property, kept whole)
    light = bpy.data.lights["AIMV Key Light"]
    red_curve = anim.find_fcurve(light, "color", 0)
    red_curve.keyframe_points[1].co[1] = 0.5
    red_curve.update()
    green = keys_of(anim.find_fcurve(light, "color", 1))
    double = scene_build.BuildOptions(
        keying=keying.KeyingOptions(fps=2 * cfg["fps"]), resolution=tuple(cfg["resolution"])
    )
    scene_build.build_scene(scene, timeline, timeline_dir=folder, options=double)
    facts["colour_kept_whole"] = keys_of(anim.find_fcurve(light, "color", 1)) == green
    silent = tuple(
        ts.replace(w, voice=None, description=None, pictograms=None) for w in timeline.windows
    )
    scene_build.build_scene(
        scene, ts.replace(timeline, windows=silent), timeline_dir=folder, options=options
    )
    facts["artist_marker"] = "AIMV chorus" in scene.timeline_markers
    facts["after_words_gone"] = sorted(o.name for o in scene.objects if o.type == "FONT")
    facts["artist_red"] = [red.name in bpy.data.materials, red.use_fake_user]
    return facts


def moved_folder(scene, timeline, folder, cfg):
    """The artist moves the work folder and rebuilds: the pictograms' images follow it, with
    no "heart.png.001" beside images whose files are gone; also for a scene built before AIMV
    marked its images (the marks are taken off first)."""
    import shutil

    for image in bpy.data.images:
        image.pop("aimv_pictogram_image", None)

    moved = folder.parent / f"{folder.name} moved"
    shutil.copytree(folder, moved)
    shutil.move(str(folder), str(folder.parent / f"{folder.name} gone"))
    try:
        build(scene, timeline, moved, cfg)
        shown = [
            mat.node_tree.nodes["AIMV Pictogram"].image
            for mat in bpy.data.materials
            if mat.node_tree and "AIMV Pictogram" in mat.node_tree.nodes
        ]
        return {
            "pictograms": len(shown),
            "files": sorted({str(Path(bpy.path.abspath(im.filepath)).parent) for im in shown}),
            "expected": str(moved / "pictograms"),
            "names": sorted(im.name for im in bpy.data.images if re.search(r"\.\d{3}$", im.name)),
        }
    finally:
        shutil.move(str(folder.parent / f"{folder.name} gone"), str(folder))


def main(config_path, result_path):
    cfg = json.load(open(config_path))
    out = {}
    try:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        scene = bpy.context.scene
        folder = Path(cfg["timeline"]).parent
        timeline = ts.read_timeline(cfg["timeline"])
        shots = Path(cfg["shots"])
        built = build(scene, timeline, folder, cfg)
        out["objects"] = sorted(o.name for o in scene.objects)
        out["frames"] = {str(f): shoot(scene, f, shots / f"all_{f:03d}.png") for f in cfg["frames"]}
        cam = scene.camera
        hit = cfg["kick_frame"]
        pos = {}
        for f in (hit - 2, hit - 1, hit, hit + 1):
            scene.frame_set(f)
            pos[str(f)] = list(cam.matrix_world.translation)
        out["camera"] = pos
        screen = bpy.data.objects[scene_build.NAMES["screen"]]
        sizes = {}
        for f in (hit - 1, hit):
            scene.frame_set(f)
            sizes[str(f)] = list(screen.matrix_world.to_scale())
        out["screen_scale"] = sizes

        # the artist corrects a lyric and rotates it, and re-times a pictogram's pop
        lyric = bpy.data.objects[f"AIMV Lyric {cfg['word']}"]
        lyric.data.body = cfg["word"].upper()
        lyric.rotation_euler[1] = 0.2
        picto = next(o for o in scene.objects if o.name.startswith("AIMV Pictogram"))
        fc = anim.find_fcurve(picto, "scale", 0)
        fc.keyframe_points[-1].co[1] *= 2.0
        fc.update()
        edited = keys_of(fc)
        # ... swaps a window's texture, mutes the camera's punch, gives a word her own material
        screen_nodes = bpy.data.materials[scene_build.NAMES["screen"]].node_tree
        offsets = anim.find_fcurve(screen_nodes, 'nodes["AIMV Texture A"].image_user.frame_offset')
        offsets.keyframe_points[1].co[1] = offsets.keyframe_points[0].co[1]
        offsets.update()
        swapped = keys_of(offsets)
        anim.find_fcurve(cam, "delta_location", 1).mute = True
        gold = bpy.data.materials.new("Artist Gold")
        lyric.data.materials[0] = gold
        build(scene, timeline, folder, cfg)
        flash_nodes = bpy.data.materials["AIMV Flash"].node_tree
        out["node_actions"] = [
            screen_nodes.animation_data.action.name,
            flash_nodes.animation_data.action.name,
        ]
        scene.frame_set(cfg["word_frame"])
        out["colours"] = [
            list(screen_nodes.nodes["AIMV Colour"].outputs[0].default_value),
            list(flash_nodes.nodes["AIMV Colour"].outputs[0].default_value),
        ]
        offsets = anim.find_fcurve(screen_nodes, 'nodes["AIMV Texture A"].image_user.frame_offset')
        out["regen_more"] = {
            "texture_swap_kept": keys_of(offsets) == swapped,
            "punch_still_muted": anim.find_fcurve(cam, "delta_location", 1).mute,
            "material": lyric.data.materials[0].name,
        }
        out["regen"] = {
            "body": lyric.data.body,
            "rotation": lyric.rotation_euler[1],
            "picto_keys_kept": keys_of(anim.find_fcurve(picto, "scale", 0)) == edited,
            "picto_other_keys": keys_of(anim.find_fcurve(picto, "scale", 1)) is not None,
        }
        lyric.data.body = cfg["word"]  # back to the word, for the OCR of the toggles
        lyric.data.materials[0] = bpy.data.materials[lyric.name]  # AIMV's again, for the OCR

        # each layer off in turn: its objects leave the picture
        out["off"] = {}
        for layer in ("lyrics", "pictograms"):
            build(scene, timeline, folder, cfg, frozenset(LAYERS) - {layer})
            f = cfg["word_frame"] if layer == "lyrics" else cfg["picto_frame"]
            out["off"][layer] = shoot(scene, f, shots / f"no_{layer}_{f:03d}.png")
            if layer == "lyrics":
                out["off"]["lyric_kept"] = bpy.data.objects.get(lyric.name) is not None
        # the artist renames the lyrics' collection: switching the layer off still hides them
        bpy.data.collections["AIMV Lyrics"].name = "My Words"
        build(scene, timeline, folder, cfg, frozenset(LAYERS) - {"lyrics"})
        out["renamed_off"] = shoot(scene, cfg["word_frame"], shots / "renamed_off.png")
        out["collections"] = sorted(c.name for c in bpy.data.collections)
        build(scene, timeline, folder, cfg)
        out["on_again"] = shoot(scene, cfg["word_frame"], shots / "on_again.png")
        out["on_again_rotation"] = bpy.data.objects[lyric.name].rotation_euler[1]
        out["built_frames"] = [built.frame_start, built.frame_end]
        # a second scene of the same file: refused, and the first scene's stage untouched
        other = bpy.data.scenes.new("Song 2")
        try:
            build(other, timeline, folder, cfg)
            out["second_scene"] = "built"
        except scene_build.BuildError as exc:
            out["second_scene"] = str(exc)
        out["first_scene_lyrics"] = bpy.data.objects.get(lyric.name) is not None
        # the start-up file's cube at the origin, and a cube far off to the side
        cube = bpy.data.objects.new("Cube", bpy.data.meshes.new("Cube"))
        cube.data.from_pydata(
            [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], [], []
        )
        aside = bpy.data.objects.new("Far Cube", cube.data)
        aside.location = (40.0, 0.0, 0.0)
        for ob in (cube, aside):
            scene.collection.objects.link(ob)
        out["in_the_way"] = list(build(scene, timeline, folder, cfg).in_the_way)
        for ob in (cube, aside):
            bpy.data.objects.remove(ob)
        out["moved"] = moved_folder(scene, timeline, folder, cfg)
        out["renamed"] = renamed_copied_and_dropped(scene, timeline, folder, cfg)
    except Exception:  # report everything to the test, whatever happened
        out["exception"] = traceback.format_exc()
    with open(result_path, "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    main(*argv)
