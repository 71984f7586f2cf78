"""The fast Workbench preview on a machine without a GPU: edges are still smoothed (by the
compositor's CPU anti-aliasing instead of Workbench's own pass through llvmpipe), an artist's
own compositing is kept, and EEVEE/Cycles get no extra pass. On Blender 5.0 and 4.2."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from tests.blender.conftest import ROOT
from tests.blender.test_versions import VERSIONS, python_of

pytestmark = [pytest.mark.blender, pytest.mark.slow]

SCRIPT = textwrap.dedent(
    """
    import json, math, sys
    import bpy
    sys.path.insert(0, sys.argv[1])
    from aimv_blender import render

    def scene_with_an_edge(name):
        s = bpy.data.scenes.new(name)
        cam = bpy.data.objects.new(name + " cam", bpy.data.cameras.new(name + " cam"))
        cam.location, cam.rotation_euler = (0, -4, 0), (math.pi / 2, 0, 0)
        s.collection.objects.link(cam)
        s.camera = cam
        me = bpy.data.meshes.new(name + " plane")
        me.from_pydata([(-1, 0, -1), (1, 0, -1), (1, 0, 1), (-1, 0, 1)], [], [(0, 1, 2, 3)])
        ob = bpy.data.objects.new(name + " plane", me)
        ob.rotation_euler = (0, 0.4, 0)  # slanted edges: stairs without anti-aliasing
        ob.scale = (0.5, 0.5, 0.5)
        s.collection.objects.link(ob)
        s.render.resolution_x, s.render.resolution_y = 64, 64
        s.world = bpy.data.worlds.new(name + " black")
        s.world.color = (0.0, 0.0, 0.0)
        return s

    def grey_levels(s, path):
        s.render.filepath = path
        s.render.image_settings.file_format = "PNG"
        bpy.ops.render.render(write_still=True, scene=s.name)
        img = bpy.data.images.load(path)
        px = list(img.pixels)
        return len({round(px[i], 2) for i in range(0, len(px), 4)})

    out = {"software": render.software_gl()}
    s = scene_with_an_edge("fast")
    render.configure_engine(s, engine="workbench", samples=1, textured=False)
    render.configure_engine(s, engine="workbench", samples=1, textured=False)  # twice: one tree
    out["aa"] = s.display.render_aa
    tree = getattr(s, "compositing_node_group", None) or s.node_tree
    out["nodes"] = sorted(n.bl_idname for n in tree.nodes)
    out["levels_smoothed"] = grey_levels(s, sys.argv[2] + "/smooth.png")
    render.remove_compositor_antialiasing(s)
    s.display.render_aa = "OFF"
    out["levels_raw"] = grey_levels(s, sys.argv[2] + "/raw.png")
    render.configure_engine(s, engine="cycles", samples=1, textured=False)
    out["cycles_compositor"] = (
        s.compositing_node_group is not None if hasattr(s, "compositing_node_group")
        else s.use_nodes
    )
    mine = scene_with_an_edge("artist")
    if hasattr(mine, "compositing_node_group"):
        mine.compositing_node_group = bpy.data.node_groups.new("mine", "CompositorNodeTree")
    else:
        mine.use_nodes = True
        mine.node_tree.nodes.new("CompositorNodeBlur")
    render.configure_engine(mine, engine="workbench", samples=1, textured=False)
    out["artist_aa"] = mine.display.render_aa
    out["artist_tree"] = (
        mine.compositing_node_group.name if hasattr(mine, "compositing_node_group")
        else sorted(n.bl_idname for n in mine.node_tree.nodes)
    )
    print("RESULT " + json.dumps(out))
    """
)


@pytest.mark.parametrize("version", VERSIONS)
def test_workbench_without_a_gpu_smooths_edges_in_the_compositor(version, blender_env, tmp_path):
    python = python_of(version)
    done = subprocess.run(
        [python, "-c", SCRIPT, str(ROOT), str(tmp_path)],
        env=blender_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line is not None, done.stderr[-3000:]
    out = json.loads(line[7:])
    if not out["software"]:
        pytest.skip("this machine has a GPU: Workbench keeps its own anti-aliasing")
    assert out["aa"] == "OFF"  # no SMAA through llvmpipe
    assert "CompositorNodeAntiAliasing" in out["nodes"] and len(out["nodes"]) == 3
    # the slanted edge has in-between shades when smoothed, only two without
    assert out["levels_raw"] <= 3 < out["levels_smoothed"]
    assert out["cycles_compositor"] is False  # Cycles and EEVEE smooth edges themselves
    assert out["artist_aa"] == "FXAA"  # the artist's own compositing stays as it was
    tree = out["artist_tree"]
    assert tree == "mine" or (
        "CompositorNodeBlur" in tree and "CompositorNodeAntiAliasing" not in tree
    )
