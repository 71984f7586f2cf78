"""Render the docs' figure of the picture's layers: one frame, built four times.

    python tools/make_layer_figure.py TIMELINE.json [--out docs/images/picture-layers.png]

Runs in bpy (the module). The frame is the first hit event that falls in a window with both a
lyric and a pictogram on screen; the four tiles are the background alone, with the lyrics, with
the pictograms, and everything (hits included), Workbench at 640x360.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("timeline", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images/picture-layers.png")
    parser.add_argument("--frame", type=int, help="the frame (default: chosen as above)")
    args = parser.parse_args()
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp())
    import bpy
    from PIL import Image

    from aimv_blender import keying, render, scene_build
    from aimv_timeline import schema as ts

    timeline = ts.read_timeline(args.timeline)
    every = frozenset(keying.KeyingOptions().layers)
    frame = args.frame
    if frame is None:
        keys = keying.build_keys(timeline, keying.KeyingOptions())
        shown = {a.window for s in keys.lyrics for a in s.appearances}
        pictured = {i for i, w in enumerate(timeline.windows) if w.pictograms}
        spans = keys.windows
        good = [spans[i] for i in sorted(shown & pictured)]
        events = [e.frame for e in keys.events if e.piece != "downbeat"]
        frame = next(
            (f for span in good for f in events if span.start + 6 <= f < span.end),
            good[0].middle if good else spans[len(spans) // 2].middle,
        )
    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, layers in enumerate(
            (
                every - {"lyrics", "pictograms", "hits"},
                every - {"pictograms", "hits"},
                every - {"hits"},
                every,
            )
        ):
            bpy.ops.wm.read_factory_settings(use_empty=True)
            scene = bpy.context.scene
            built = scene_build.build_scene(
                scene,
                timeline,
                timeline_dir=args.timeline.parent,
                options=scene_build.BuildOptions(
                    keying=keying.KeyingOptions(layers=layers), resolution=(640, 360)
                ),
            )
            render.configure_engine(scene, engine="workbench", samples=1, textured=built.textured)
            scene.frame_set(frame)
            scene.render.filepath = str(Path(tmp) / f"{i}.png")
            bpy.ops.render.render(write_still=True)
            tiles.append(Image.open(scene.render.filepath).convert("RGB"))
    sheet = Image.new("RGB", (1280, 720))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % 2) * 640, (i // 2) * 360))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    print(f"wrote {args.out} (frame {frame})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
