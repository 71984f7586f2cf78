"""The installed extension in bpy 5.0: registration, Build scene, regeneration, Generate."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from aimv_timeline.names import TIMELINE_FILE
from tests.blender import fixtures
from tests.blender.conftest import FPS, needs_bpy, run_bpy_script, window_frames

pytestmark = [pytest.mark.blender, pytest.mark.slow, needs_bpy]
HERE = Path(__file__).parent


def srgb_to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def expected_linear(hex_colour: str) -> list[float]:
    return [srgb_to_linear(v / 255) for v in fixtures.hex_rgb(hex_colour)]


@pytest.fixture(scope="module")
def session(extension_zip, timelines, blender_env, tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("bpy-session")
    song = fixtures.write_song(tmp / "song.wav")
    fake = shlex.join([sys.executable, str(HERE / "fake_backend.py")])
    env = dict(blender_env, AIMV_FAKE_TIMELINE=str(timelines["textured"]))
    config = {
        "zip": str(extension_zip),
        "timeline_textured": str(timelines["textured"]),
        "timeline_plain": str(timelines["plain"]),
        "fps": FPS,
        "windows": window_frames(),
        "fake_backend": fake,
        "song": str(song),
        "work_dir": str(tmp / "work"),
        "ui_video": str(tmp / "ui.mp4"),
        "blend": str(tmp / "saved-while-running.blend"),
    }
    data = run_bpy_script(HERE / "bpy_session.py", config, tmp, env)
    data["work_dir"] = str(tmp / "work")
    data["ui_video"] = str(tmp / "ui.mp4")
    return data


def test_extension_installs_and_registers(session):
    assert session["install"] == ["FINISHED"]
    assert session["enabled"]
    assert session["panel"]
    assert session["operators"] == {
        "generate": True,
        "build_scene": True,
        "render": True,
        "cancel": True,
    }
    assert session["scene_prop"]


def test_panel_draws_existing_settings_and_buttons(session):
    idle, running = session["panel_idle"], session["panel_running"]
    for entry in idle + running:
        if entry[0] in ("prop", "operator"):
            assert entry[2], f"the panel draws a missing {entry[0]} {entry[1]!r}"
    ops = [e[1] for e in idle if e[0] == "operator"]
    assert ops == ["aimv.generate", "aimv.build_scene", "aimv.render"]
    props = {e[1] for e in idle if e[0] == "prop"}
    assert {
        "audio_path",
        "window_seconds",
        "instruments",
        "beats_per_bar",
        "seed",
        "resolution_x",
        "fps",
        "render_engine",
        "output_path",
    } <= props
    # while Generate runs: a progress bar and Cancel instead of the Generate button
    assert any(e[0] == "progress" for e in running)
    assert ["operator", "aimv.cancel", True] in running
    assert ["operator", "aimv.generate", True] not in running


@pytest.mark.parametrize("stage", ["first", "second"])
def test_light_colour_is_the_window_colour_at_its_middle(session, stage):
    facts = session[stage]
    for (hex_colour, *_rest), window in zip(fixtures.WINDOWS, facts["windows"], strict=True):
        want = expected_linear(hex_colour)
        assert window["fcurve_colour"] == pytest.approx(want, abs=1e-4)
        assert window["light_colour"] == pytest.approx(want, abs=1e-4)


def test_camera_moves_more_in_loud_windows_than_quiet_ones(session):
    travel = [w["camera_travel"] for w in session["first"]["windows"]]
    levels = [w[4] for w in fixtures.WINDOWS]
    quiet = travel[levels.index("quiet")]
    for level, t in zip(levels, travel, strict=True):
        if level == "loud":
            assert t > 3 * quiet, travel
    energy = [w["energy"] for w in session["first"]["windows"]]
    assert energy[0] > 3 * energy[1] and energy[3] > 3 * energy[1]


def test_scene_length_and_markers(session):
    facts = session["first"]
    assert facts["frame_range"] == [1, 4 * FPS]
    assert facts["fps"] == FPS
    markers = dict((name, frame) for name, frame in facts["markers"])
    for i, (_hex, name, *_rest) in enumerate(fixtures.WINDOWS):
        assert markers[f"AIMV {i} {name}"] == 1 + i * FPS
    for word, start, _end in fixtures.WORDS:
        assert markers[f"AIMV \u266a {word}"] == 1 + round(start * FPS)


def test_textures_swap_by_keyed_frame_offset(session):
    offsets = session["first"]["texture_offsets"]
    # each window's texture takes over once the blend that starts on its first frame is done
    fade = round(0.5 * FPS)
    assert offsets == [[1, 0]] + [
        [1 + i * FPS + fade - 1, i] for i in range(1, len(fixtures.WINDOWS))
    ]
    assert session["second"]["texture_offsets"] is None  # regenerated without textures


def test_regeneration_keeps_artist_work_and_replaces_aimv_keys(session):
    assert session["build_2"] == ["FINISHED"]
    assert session["artist_object_keys"] == [[7.0, 1.0]]
    assert session["artist_camera_keys"] == [[10.0, 1.5]]
    assert session["camera_lens"] == 35.0
    assert session["key_light_placement"] == [[5.0, -5.0, 5.0], 7.0]
    lyrics = [f"AIMV Lyric {w[0]}" for w in fixtures.WORDS]
    assert sorted(session["aimv_objects"]) == sorted(
        [
            "AIMV Camera",
            "AIMV Flash",
            "AIMV Key Light",
            "AIMV Rim Light",
            "AIMV Screen",
            "AIMV Lyric Plate",
            *lyrics,
        ]
    )  # the fade plane is gone with the textures
    assert "Artist Empty" in session["second"]["objects"]
    # keys were replaced, not added to
    assert session["second"]["light_colour_keys"] == session["first"]["light_colour_keys"]
    assert session["second"]["camera_keys"] == session["first"]["camera_keys"]


def test_generate_runs_the_backend_and_builds_the_scene(session):
    assert session["generate"] == ["FINISHED"]
    assert session["generate_status"] == "done"
    work = Path(session["work_dir"])
    assert Path(session["generate_timeline"]) == work / TIMELINE_FILE
    calls = [json.loads(line) for line in (work / "calls.jsonl").read_text().splitlines()]
    assert [c[0] for c in calls] == ["render"]  # one backend command for every stage
    (call,) = calls
    for flag, value in (
        ("--until", "imagine"),
        ("--window", "1"),
        ("--progress", "json"),
        ("--textures", "procedural"),
    ):
        assert call[call.index(flag) + 1] == value
    assert session["after_generate"]["texture_offsets"] is not None


def test_modal_generate_shows_progress_then_builds(session):
    done = session["modal_done"]
    assert done["result"] == ["FINISHED"]
    assert not done["running_after"] and not done["pipeline_left"]
    inner = [p for p in done["progress"] if 0 < p < 1]
    assert len(inner) >= 3, done["progress"]  # the bar moved through the stages
    assert {"listen: listen", "imagine: imagine", "done"} <= set(done["statuses"])
    assert done["timeline"].endswith(f"-modal/{TIMELINE_FILE}")
    assert ["INFO", f"AIMV: timeline {done['timeline']} keyed"] in done["reports"]


def test_escape_cancels_the_backend_and_keeps_blender_usable(session):
    cancel = session["modal_cancel"]
    assert cancel["result"] == ["CANCELLED"]
    assert cancel["seconds"] < 8  # the 30 s backend sleep was interrupted
    assert cancel["reports"] == [["WARNING", "AIMV: cancelled"]]
    assert not cancel["running_after"] and not cancel["pipeline_left"]
    assert "cancelled" in cancel["statuses"]


def test_errors_are_reported_not_raised(session):
    assert "no such file" in session["missing_timeline"]


def test_disabling_removes_every_aimv_type_and_property(session):
    assert session["after_disable"] == {
        "scene_prop": False,
        "panel": False,
        "operator": False,
        "load_post": [],
    }


def test_a_file_saved_mid_run_reopens_idle(session):
    assert session["reopened"] == {"running": False, "status": "analyze: voice"}


def test_render_button_writes_the_video_through_the_sequencer(session):
    assert session["render"] == ["FINISHED"]
    frames = 4 * FPS
    assert session["render_scene_strips"] == [["SCENE", 1, frames], ["SOUND", 1, frames]]
    video = Path(session["ui_video"])
    assert video.is_file() and video.stat().st_size > 1000
    assert "exists" in session["render_again"]
    render_scene, stage = session["render_scene_follows"]  # rebuilt at twice the fps
    assert render_scene == stage and stage[0] == 2 * FPS


def test_extension_zip_has_the_manifest_and_package_at_its_root(extension_zip):
    import zipfile

    import tomllib

    with zipfile.ZipFile(extension_zip) as zf:
        names = set(zf.namelist())
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
    assert {
        "__init__.py",
        "headless.py",
        "keying.py",
        "contract.py",
        "aimv_timeline/schema.py",
    } <= names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert (manifest["id"], manifest["type"], manifest["blender_version_min"]) == (
        "aimv",
        "add-on",
        "4.2.0",
    )
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"]
    assert "network" not in manifest.get("permissions", {})
