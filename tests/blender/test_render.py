"""Headless render: a 4 s song at 160x90, 12 fps, Workbench, to MP4 with H.264 and AAC."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from aimv_timeline.events import PREFIX, parse_line
from tests.blender import fixtures
from tests.blender.conftest import FPS, ROOT, needs_bpy

pytestmark = [
    pytest.mark.blender,
    pytest.mark.slow,
    needs_bpy,
    pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffmpeg"),
]
HEADLESS = ROOT / "aimv_blender" / "headless.py"
W, H = 160, 90


def headless(*args, env):
    return subprocess.run(
        [sys.executable, str(HEADLESS), "--", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def video(timelines, blender_env, tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "video.mp4"
    done = headless(
        "--timeline",
        timelines["textured"],
        "-o",
        out,
        "--resolution",
        f"{W}x{H}",
        "--fps",
        FPS,
        "--engine",
        "workbench",
        "--progress",
        "json",
        env=blender_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def probe(path: Path) -> dict:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def frames(path: Path) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3).astype(float)


def test_mp4_has_h264_and_aac_and_the_song_length(video, timelines):
    path, done = video
    assert done.stdout.strip().splitlines() == [str(path)], done.stdout[-2000:]  # the path alone
    info = probe(path)
    codecs = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
    assert codecs == {"video": "h264", "audio": "aac"}
    song = sf.info(timelines["textured"].parent / "song.wav")
    audio_seconds = song.frames / song.samplerate
    assert abs(float(info["format"]["duration"]) - audio_seconds) <= 1 / FPS
    video_stream = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (int(video_stream["width"]), int(video_stream["height"])) == (W, H)
    assert int(video_stream["nb_frames"]) == round(audio_seconds * FPS)


def test_frames_show_each_window_and_change_at_boundaries(video):
    path, _done = video
    video_frames = frames(path)
    means = video_frames.mean(axis=(1, 2))
    for i, (hex_colour, *_rest) in enumerate(fixtures.WINDOWS):
        middle = i * FPS + FPS // 2  # 0-based frame index of the window's middle
        want = np.array(fixtures.hex_rgb(hex_colour), float)
        assert np.abs(means[middle] - want).max() < 30, (i, means[middle], want)
        if i:
            before, after = means[i * FPS - FPS // 4 - 1], means[i * FPS + 1]
            assert np.abs(before - after).max() > 60, (i, before, after)


def test_progress_is_reported_as_json_lines(video):
    _path, done = video
    events = [
        json.loads(line.split(" ", 1)[1])
        for line in done.stderr.splitlines()
        if line.startswith(PREFIX)
    ]
    assert events[0] == {"event": "start", "task": "render", "total": 4 * FPS}
    assert events[-1]["event"] == "end"
    assert [e["done"] for e in events if e["event"] == "progress"][-1] == 4 * FPS


def test_bad_input_is_one_line_and_exit_code_2(tmp_path, blender_env, timelines):
    done = headless(tmp_path / "missing.wav", "-o", tmp_path / "v.mp4", env=blender_env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"aimv-blender: error: SONG {str(tmp_path / 'missing.wav')!r}: no such file"
    ]
    existing = tmp_path / "taken.mp4"
    existing.write_bytes(b"the user's file")
    done = headless("--timeline", timelines["plain"], "-o", existing, env=blender_env)
    assert done.returncode == 2 and "exists" in done.stderr
    assert existing.read_bytes() == b"the user's file"
    nowhere = tmp_path / "no-such-folder" / "scene.blend"
    done = headless("--timeline", timelines["plain"], "--blend-out", nowhere, env=blender_env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("aimv-blender: error: --blend-out")


def test_partial_frames_and_blend_out_without_textures(tmp_path, blender_env, timelines):
    out, blend = tmp_path / "part.mp4", tmp_path / "stage.blend"
    blend.write_bytes(b"an older scene")  # kept as stage.blend1, like Blender's own Save
    done = headless(
        "--timeline",
        timelines["plain"],
        "-o",
        out,
        "--resolution",
        f"{W}x{H}",
        "--fps",
        FPS,
        "--frames",
        "13:24",
        "--blend-out",
        blend,
        env=blender_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert blend.stat().st_size > 10_000  # a real .blend (zstd-compressed in 5.0)
    assert (tmp_path / "stage.blend1").read_bytes() == b"an older scene"
    assert done.stdout.strip().splitlines() == [str(out)]  # not Blender's "Saved copy as"
    assert "--blend-out replaced stage.blend (the old one is stage.blend1)" in done.stderr
    # opened with the add-on, the saved scene's panel holds this run's settings
    panel = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bpy, aimv_blender; bpy.ops.wm.open_mainfile(filepath=sys.argv[1]); "
            "aimv_blender.register(); a = bpy.context.scene.aimv; "
            "rs = bpy.data.scenes['AIMV Render']; "
            "print(a.timeline_path, a.fps, a.resolution_x, a.resolution_y, "
            "bpy.path.abspath(a.output_path), a.output_path, rs.frame_start, rs.frame_end)",
            str(blend),
        ],
        env=dict(blender_env, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert panel.returncode == 0, panel.stderr[-2000:]
    # the video beside the .blend is kept relative ("//part.mp4"), and the saved scene renders
    # the whole song although this run rendered frames 13-24 only
    whole = len(fixtures.WINDOWS) * FPS
    assert f"{timelines['plain']} {FPS} {W} {H} {out} //part.mp4 1 {whole}" in panel.stdout
    means = frames(out).mean(axis=(1, 2))
    assert len(means) == 12
    # frames 13-24 are window 1 (green): without textures the planes show the window colour
    green = np.array(fixtures.hex_rgb(fixtures.WINDOWS[1][0]), float)
    assert np.abs(means[FPS // 2] - green).max() < 30, means[FPS // 2]


def test_a_backend_failure_is_said_once(tmp_path, blender_env):
    fake = shlex.join([sys.executable, str(Path(__file__).parent / "fake_backend.py")])
    song = fixtures.write_song(tmp_path / "song.wav")
    env = dict(blender_env, AIMV_FAKE_FAIL="1")
    done = headless(song, "-o", tmp_path / "v.mp4", "--aimv", fake, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "aimv-blender: error: AIMV backend failed: --window must be in [0.25, 10], got 99"
    ], done.stderr


def test_without_timeline_the_backend_makes_one(tmp_path, blender_env, timelines):
    fake = shlex.join([sys.executable, str(Path(__file__).parent / "fake_backend.py")])
    song = fixtures.write_song(tmp_path / "song.wav")
    out = tmp_path / "clip.mp4"
    env = dict(blender_env, AIMV_FAKE_TIMELINE=str(timelines["textured"]))
    done = headless(
        song,
        "-o",
        out,
        "--aimv",
        fake,
        "--resolution",
        f"{W}x{H}",
        "--fps",
        FPS,
        "--frames",
        "1:12",
        "--textures",
        "procedural",
        "--progress",
        "json",
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    work = tmp_path / "clip.aimv"
    calls = [json.loads(x) for x in (work / "calls.jsonl").read_text().splitlines()]
    assert [c[0] for c in calls] == ["render"]  # the backend's one command
    assert calls[0][1] == str(song.absolute())
    assert calls[0][calls[0].index("--until") + 1] == "imagine"
    tasks = [
        json.loads(x.split(" ", 1)[1]).get("task")
        for x in done.stderr.splitlines()
        if x.startswith(PREFIX)
    ]
    assert {"listen", "imagine", "render"} <= set(tasks)  # backend progress is relayed
    red = np.array(fixtures.hex_rgb(fixtures.WINDOWS[0][0]), float)
    assert np.abs(frames(out).mean(axis=(1, 2))[6] - red).max() < 30


@pytest.mark.parametrize("engine", ["eevee", "cycles"])
def test_eevee_and_cycles_render_a_frame(engine, tmp_path, blender_env, timelines):
    out = tmp_path / f"{engine}.mp4"
    done = headless(
        "--timeline",
        timelines["textured"],
        "-o",
        out,
        "--resolution",
        "64x36",
        "--fps",
        FPS,
        "--engine",
        engine,
        "--samples",
        1,
        "--frames",
        "7:7",
        env=blender_env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    video = next(s for s in probe(out)["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], int(video["nb_frames"])) == ("h264", 1)
    assert "EGL" not in done.stderr  # Mesa's EGL_BAD_MATCH noise is filtered out


def test_a_missing_backend_names_the_aimv_option(tmp_path, blender_env):
    song = fixtures.write_song(tmp_path / "song.wav")
    done = headless(song, "-o", tmp_path / "v.mp4", "--aimv", "no-such-aimv", env=blender_env)
    assert done.returncode == 2, done.stderr[-3000:]
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "--aimv" in lines[0] and "'no-such-aimv' not found" in lines[0]


def test_a_bad_option_is_one_line_and_an_error_event(tmp_path, blender_env, timelines):
    done = headless(
        "--timeline", timelines["plain"], "-o", tmp_path / "v.mp4", "--fps", "0",
        "--progress", "json", env=blender_env,
    )  # fmt: skip
    assert done.returncode == 2
    errors = [
        json.loads(x.split(" ", 1)[1]) for x in done.stderr.splitlines() if x.startswith(PREFIX)
    ]
    assert errors and errors[-1]["event"] == "error" and "--fps" in errors[-1]["message"]


def test_aimv_stage_renders_a_timeline_and_leaves_only_the_video(tmp_path, timelines, run_aimv):
    out = tmp_path / "staged.mp4"
    result = run_aimv(
        "stage", timelines["plain"], "-o", out, "--resolution", f"{W}x{H}", "--fps", FPS,
        "--blend-out", tmp_path / "scene.blend", "--quiet",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.blend", "staged.mp4"]
    assert len(frames(out)) == len(fixtures.WINDOWS) * FPS
    made = out.stat().st_mtime_ns
    again = run_aimv(
        "stage", timelines["plain"], "-o", out, "--resolution", f"{W}x{H}", "--fps", FPS,
        "--quiet",
    )  # fmt: skip
    assert again.code == 0, again.err  # the same video from the same inputs: up to date
    assert out.stat().st_mtime_ns == made


def _scene_facts(blend, env) -> dict:
    """What an artist opening ``blend`` finds: the render scene's frames and output, the panel's."""
    code = (
        "import sys, json, bpy, aimv_blender; bpy.ops.wm.open_mainfile(filepath=sys.argv[1]); "
        "aimv_blender.register(); rs = bpy.data.scenes['AIMV Render']; "
        "a = bpy.data.scenes['AIMV Stage'].aimv; "
        "print(json.dumps({'frames': [rs.frame_start, rs.frame_end], "
        "'filepath': rs.render.filepath, 'output': bpy.path.abspath(a.output_path)}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(blend)],
        env=dict(env, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _save_as_an_artist(blend, env) -> None:
    """Open the scene, move the camera, save it (Blender keeps the old one as .blend1)."""
    code = (
        "import sys, bpy; bpy.ops.wm.open_mainfile(filepath=sys.argv[1]); "
        "bpy.data.objects['AIMV Camera'].location.x += 1.0; bpy.ops.wm.save_mainfile()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(blend)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_saved_scene_covers_the_song_and_an_artists_save_is_kept(
    tmp_path, timelines, run_aimv, blender_env
):
    """The artist's trial: the saved scene rendered only the first chunk's frames, to '//',
    and a re-run replaced a scene the artist had saved (a second run lost even the backup)."""
    out, blend = tmp_path / "staged.mp4", tmp_path / "scene.blend"
    args = ["stage", timelines["plain"], "-o", out, "--resolution", f"{W}x{H}", "--fps", FPS]
    first = run_aimv(*args, "--blend-out", blend)
    assert first.code == 0, first.err
    assert first.out.splitlines()[-2:] == [f"wrote: {out}", f"wrote: {blend}"]
    facts = _scene_facts(blend, blender_env)
    assert facts["frames"] == [1, len(fixtures.WINDOWS) * FPS]  # the whole song, not chunk 1
    assert facts["filepath"] == "//staged.mp4"  # beside the .blend: moved with it
    assert facts["output"] == str(out.absolute())
    again = run_aimv(*args, "--blend-out", blend)
    assert again.code == 0 and again.out.strip() == f"up to date: {out}", again.out
    _save_as_an_artist(blend, blender_env)
    edited = blend.read_bytes()
    same = run_aimv(*args, "--blend-out", blend)  # the video needs nothing: their scene stays
    assert same.code == 0 and same.out.strip() == f"up to date: {out}", same.err
    assert "saved in Blender since" in same.err and blend.read_bytes() == edited
    refused = run_aimv(*args[:-1], "6", "--blend-out", blend)  # new settings: a new video
    assert refused.code == 2, refused.err
    assert "not the scene AIMV last saved" in refused.err and "--force" in refused.err
    assert len(refused.err.strip().splitlines()) == 1 and "Traceback" not in refused.err
    assert blend.read_bytes() == edited
    forced = run_aimv(*args[:-1], "6", "--blend-out", blend, "--force")
    assert forced.code == 0, forced.err
    assert (tmp_path / "scene.blend1").read_bytes() == edited


def test_a_slow_engine_is_estimated_after_the_first_frame(tmp_path, blender_env, timelines):
    """A slow engine on this CPU (Cycles at many samples: seconds a frame, as EEVEE in software
    GL but without its minutes of shader compiling): after the first frame the user is told how
    long the whole video will take, and the fast path. (The run is stopped once that is said.)"""
    command = [
        sys.executable, str(HEADLESS), "--", "--timeline", str(timelines["textured"]),
        "-o", str(tmp_path / "slow.mp4"), "--resolution", f"{W}x{H}", "--fps", str(FPS),
        "--engine", "cycles", "--samples", "64", "--progress", "json",
    ]  # fmt: skip
    t0 = time.monotonic()
    proc = subprocess.Popen(
        command, env=blender_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    warning, first = None, None
    try:
        for line in proc.stderr:
            event = parse_line(line.rstrip("\n"))
            if event is None:
                continue
            if event.kind == "progress" and first is None:
                first = time.monotonic() - t0
            if event.kind == "warning":
                warning = event.get("message")
                break
    finally:
        proc.kill()  # SIGTERM is only seen between frames' Python handlers, after the render
        proc.wait(timeout=60)
    if warning is None:  # a fast machine: the whole render was estimated under the threshold
        assert first is not None and first * len(fixtures.WINDOWS) * FPS < 2 * 120
        return
    assert "cycles takes" in warning and "48 frames" in warning and "--preset preview" in warning


def test_sigterm_stops_a_standalone_render_at_once_and_leaves_no_partial_video(
    tmp_path, blender_env, timelines
):
    """headless.py run on its own (a job manager, a farm) and told to stop mid-render: it
    stops at the next frame, says so, and leaves neither the video nor a hidden partial one."""
    import signal

    out = tmp_path / "out" / "slow.mp4"
    out.parent.mkdir()
    command = [
        sys.executable, str(HEADLESS), "--", "--timeline", str(timelines["textured"]),
        "-o", str(out), "--resolution", f"{W}x{H}", "--fps", str(FPS),
        "--engine", "cycles", "--samples", "64", "--progress", "json",
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, env=blender_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        for line in proc.stderr:
            event = parse_line(line.rstrip("\n"))
            if event is not None and event.kind == "progress" and event.get("task") == "render":
                break  # the render is under way
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        proc.wait(timeout=120)
        stopped_after = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    assert proc.returncode == 130, rest[-2000:]
    assert "aimv-blender: cancelled" in rest
    assert stopped_after < 60  # at the next frame, not after the whole video
    assert list(out.parent.iterdir()) == []  # no video, no hidden .slow.aimv-part-PID.mp4
