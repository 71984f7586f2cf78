"""Generated clips on the background layer: the frame maths (no bpy) and a headless render
whose frames show each clip's own frames at the right times, trimmed or looped."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys

import numpy as np
import pytest

from aimv_blender import clip_keys
from aimv_timeline import schema as ts
from tests.blender import fixtures
from tests.blender.conftest import FPS, ROOT, needs_bpy

W, H = 160, 90
CYAN, MAGENTA = (0, 230, 230), (230, 0, 230)
WHITE, ORANGE, PURPLE = (240, 240, 240), (240, 120, 0), (120, 0, 240)


def _clip(start, end, path="clips/a.mp4"):
    return ts.Clip(path=path, start=start, end=end, prompt="p", seed=1)


# -------------------------------------------------------------------------------- maths


def test_a_short_movie_loops_and_a_long_one_is_trimmed():
    short, long_ = clip_keys.clip_spans(
        [_clip(0.0, 2.0), _clip(2.0, 4.0, "clips/b.mp4")],
        fps=12,
        frame_end=48,
        movie_frames=[12, 36],
    )
    assert (short.first, short.last, short.cyclic, short.duration) == (1, 24, True, 12)
    assert (long_.first, long_.last, long_.cyclic, long_.duration) == (25, 48, False, 24)
    assert [short.movie_frame(f) for f in (1, 12, 13, 24, 25)] == [1, 12, 1, 12, None]
    assert [long_.movie_frame(f) for f in (24, 25, 48)] == [None, 1, 24]


def test_overlapping_clips_hand_over_and_late_ones_are_dropped():
    a, b = clip_keys.clip_spans(
        [_clip(0.0, 3.0), _clip(2.0, 4.0), _clip(9.0, 10.0)],
        fps=10,
        frame_end=40,
        movie_frames=[50, 50, 50],
    )
    assert (a.first, a.last, b.first, b.last) == (1, 20, 21, 40)


def test_visibility_keys_show_a_clip_on_its_span_only():
    span = clip_keys.clip_spans([_clip(1.0, 2.0)], fps=10, frame_end=40, movie_frames=[10])[0]
    ch = clip_keys.visibility_channel(span, frame_start=1, frame_end=40)
    assert ch.name == "clip.hidden" and ch.interpolation == "CONSTANT"
    assert ch.keys == ((1.0, 1.0), (11.0, 0.0), (21.0, 1.0))


def test_the_layer_fills_the_frame_with_a_margin():
    width, height = clip_keys.layer_size(distance=10.0, aspect=16 / 9)
    assert width == pytest.approx(10.0 * 36 / 50 * clip_keys.LAYER_MARGIN)
    assert width / height == pytest.approx(16 / 9)
    with pytest.raises(ValueError):
        clip_keys.layer_size(distance=0.0, aspect=1.0)


# -------------------------------------------------------------------------------- render


def _write_movie(path, colours, frames_each, size=32):
    import av

    with av.open(str(path), mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "10"}
        for colour in colours:
            for _ in range(frames_each):
                frame = np.zeros((size, size, 3), np.uint8)
                frame[:] = colour
                out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))


@pytest.mark.slow
@pytest.mark.blender
@needs_bpy
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_clip_frames_reach_the_video_at_their_times(tmp_path, blender_env):
    pytest.importorskip("av")
    path = fixtures.make_timeline(tmp_path / "song", textures=True)
    (path.parent / "clips").mkdir()
    # clip A: 1 s (12 frames) for a 2 s span: loops. Clip B: 3 s for 2 s: trimmed.
    _write_movie(path.parent / "clips" / "a.mp4", [CYAN, MAGENTA], FPS // 2)
    _write_movie(path.parent / "clips" / "b.mp4", [WHITE, ORANGE, PURPLE], FPS)
    timeline = dataclasses.replace(
        ts.read_timeline(path),
        clips=(_clip(0.0, 2.0, "clips/a.mp4"), _clip(2.0, 4.0, "clips/b.mp4")),
    )
    ts.write_timeline(timeline, path)
    out = tmp_path / "video.mp4"
    done = subprocess.run(
        [sys.executable, str(ROOT / "aimv_blender" / "headless.py"), "--", "--timeline",
         str(path), "-o", str(out), "--resolution", f"{W}x{H}", "--fps", str(FPS),
         "--engine", "workbench", "--no-hits"],  # flashes would tint the clip's colours
        env=blender_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(out), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3).astype(float)
    corner = frames[:, 4:14, 4:20].mean(axis=(1, 2))  # the background, beside the screen
    half = FPS // 2
    # 0-based video frame i shows scene frame i + 1 (t = i / FPS)
    expected = {
        2: CYAN,  # clip A, movie frames 1-6
        half + 2: MAGENTA,  # movie frames 7-12
        FPS + 2: CYAN,  # looped
        FPS + half + 2: MAGENTA,
        2 * FPS + 4: WHITE,  # clip B from its first frame
        3 * FPS + 4: ORANGE,  # ... trimmed at the span's end: PURPLE never shows
    }
    for i, colour in expected.items():
        assert np.abs(corner[i] - np.array(colour)).max() < 45, (i, corner[i], colour)
    purple = np.array(PURPLE)
    assert all(np.abs(c - purple).max() > 60 for c in corner)
