"""End to end: a 10-second song with spoken words becomes an MP4 that follows it.

Real audio in (General MIDI parts from fluidsynth, words from espeak-ng), the default offline
engines (musicnn, silero-vad + faster-whisper base, shipped vectors, procedural textures), the
bpy module for staging and rendering.
"""

from __future__ import annotations

import colorsys
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from aimv_timeline.names import TIMELINE_FILE

pytestmark = [pytest.mark.slow, pytest.mark.blender]

SECONDS = 10.0
RATE = 22050
FPS = 12
SIZE = (192, 108)
WORDS = [("the", 3.0), ("ocean", 3.45), ("is", 4.3), ("on", 4.65), ("fire", 5.1)]

for tool in ("fluidsynth", "espeak-ng", "ffprobe", "ffmpeg"):
    if shutil.which(tool) is None:
        if os.environ.get("CI"):  # CI installs them (scripts/setup.sh --dev): never skip there
            raise RuntimeError(f"{tool} is not installed")
        pytest.skip(
            f"{tool} is not installed (scripts/setup.sh --dev installs it)", allow_module_level=True
        )


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    from aimv_testkit import Layer, mix, place_words, render_part, write_audio

    piano = render_part(instrument="piano", seconds=SECONDS, sample_rate=RATE, seed=1)
    drums = render_part(instrument="drum_kit", seconds=SECONDS, sample_rate=RATE, seed=1)
    voice, _truth = place_words(words=WORDS, seconds=SECONDS, sample_rate=RATE)
    # A quiet first half, a loud second half, the words on top.
    audio = mix(
        Layer(piano, -14.0),
        Layer(drums[: int(5 * RATE)], -30.0),
        Layer(drums[int(5 * RATE) :], -8.0, start=5.0),
        Layer(voice, -2.0),
        seconds=SECONDS,
        sample_rate=RATE,
    )
    return write_audio(tmp_path_factory.mktemp("song") / "song.wav", audio, RATE)


def _render(run_aimv, song: Path, out: Path, *extra: str):
    return run_aimv(
        "render",
        song,
        "-o",
        out,
        "--resolution",
        f"{SIZE[0]}x{SIZE[1]}",
        "--fps",
        str(FPS),
        "--language",
        "en",
        "--texture-size",
        "256",
        "--quiet",
        *extra,
    )


def _streams(video: Path) -> dict[str, dict]:
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,duration",
            "-of",
            "json",
            str(video),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return {s["codec_type"]: s for s in json.loads(probe.stdout)["streams"]}


def _frame(video: Path, seconds: float) -> np.ndarray:
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-ss",
            f"{seconds:.3f}",
            "-i",
            str(video),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(SIZE[1], SIZE[0], 3).astype(float)


def _hex_rgb(code: str) -> np.ndarray:
    return np.array([int(code[i : i + 2], 16) for i in (1, 3, 5)], float)


def test_song_to_video_then_resume_without_redoing_textures(run_aimv, song, tmp_path):
    from aimv_timeline.schema import read_timeline

    out = tmp_path / "video.mp4"
    work = tmp_path / "video.aimv"
    # 1. Interrupted after the textures: a "Blender" that fails at once.
    broken = _render(run_aimv, song, out, "--blender", shutil.which("false"))
    assert broken.code == 2 and "Blender failed" in broken.err
    assert not out.exists()
    textures = sorted((work / "textures").glob("*.png"))
    assert textures, "the textures stage finished before the render failed"
    stamps = {p: p.stat().st_mtime_ns for p in textures}

    # 2. The re-run finishes without making any texture again.
    result = _render(run_aimv, song, out)
    assert result.code == 0, result.err
    assert {p: p.stat().st_mtime_ns for p in textures} == stamps
    assert sorted((work / "textures").glob("*.png")) == textures

    # The video: H.264 and AAC, as long as the song (within one frame).
    streams = _streams(out)
    assert streams["video"]["codec_name"] == "h264"
    assert streams["audio"]["codec_name"] == "aac"
    assert abs(float(streams["video"]["duration"]) - SECONDS) <= 1.0 / FPS + 1e-6
    assert abs(float(streams["audio"]["duration"]) - SECONDS) <= 1.0 / FPS + 0.03

    # The timeline heard the words where they were said, and the loud half.
    timeline = read_timeline(work / TIMELINE_FILE)
    said = {w.text.strip(".,!?").lower(): w for w in timeline.words}
    assert "ocean" in said and "fire" in said
    # Each word belongs to the window holding its middle.
    assert "ocean" in timeline.windows[3].voice.text.lower()
    assert "fire" in timeline.windows[5].voice.text.lower()
    assert timeline.windows[3].voice.present
    # The sung word becomes the design's object: "..., holding an ocean, ...".
    assert "ocean" in timeline.windows[3].description.sentence.lower()
    assert all(w.description and w.texture for w in timeline.windows)

    # Frames follow the timeline's colours: the full-frame background at each window's middle
    # frame has the window's hue (its brightness follows the volume, so only the hue is compared).
    for window in timeline.windows:
        frame = _frame(out, window.middle)
        border = np.concatenate([frame[:6].reshape(-1, 3), frame[-6:].reshape(-1, 3)])
        seen = colorsys.rgb_to_hsv(*(np.median(border, axis=0) / 255.0))
        want = colorsys.rgb_to_hsv(*(_hex_rgb(window.colour.hex) / 255.0))
        hue_gap = abs(seen[0] - want[0]) % 1.0
        hue_gap = min(hue_gap, 1.0 - hue_gap) * 360.0
        if want[1] > 0.3:
            assert seen[1] > 0.2 and hue_gap < 30.0, (window.index, seen, window.colour.hex)

    # 3. A third run has nothing to do.
    mtime = out.stat().st_mtime_ns
    assert _render(run_aimv, song, out).code == 0
    assert out.stat().st_mtime_ns == mtime


def test_a_moved_song_renders_again_from_its_new_place(run_aimv, song, tmp_path):
    fast = ("--instruments", "none", "--no-voice", "--fps", "6", "--quiet")
    first = tmp_path / "a" / "song.wav"
    first.parent.mkdir()
    first.write_bytes(song.read_bytes())
    out = tmp_path / "v.mp4"
    assert run_aimv("render", first, "-o", out, "--resolution", "96x54", *fast).code == 0
    moved = tmp_path / "b" / "renamed.wav"
    moved.parent.mkdir()
    first.rename(moved)
    # Same audio bytes: the timeline is reused, but Blender must read the song where it is now.
    result = run_aimv("render", moved, "-o", out, "--resolution", "128x72", *fast)
    assert result.code == 0, result.err
    assert _streams(out)["audio"]["codec_name"] == "aac"
