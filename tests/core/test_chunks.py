"""The chunked render's plan, cache and ffmpeg steps, without Blender.

Frames here are synthetic PNGs (numbers drawn as grey levels and bars), so what is checked is
what a viewer would notice: every frame present once and in order, the split not changing a
single decoded pixel, audio and video ending together.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from aimv_backend.errors import ParameterError, RenderError
from aimv_backend.stage.chunks import (
    FRAME_NAME,
    EncoderSettings,
    FrameRange,
    SegmentCache,
    decoded_frame_hashes,
    encode_audio,
    encode_segment,
    inputs_fingerprint,
    join_and_mux,
    plan_chunks,
    probe_video,
    video_frame_count,
)

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg is not installed (scripts/setup.sh --dev installs it)",
)


@given(
    last=st.integers(1, 20_000),
    fps=st.integers(1, 120),
    a=st.integers(1, 64),
    b=st.integers(1, 64),
)
@settings(max_examples=200, deadline=None)
def test_any_split_covers_every_frame_once_on_the_same_grid(last, fps, a, b):
    frames = FrameRange(1, last)
    one, other = (plan_chunks(frames=frames, fps=fps, chunks=n) for n in (a, b))
    assert one.segments == other.segments  # the grid never depends on the split
    for plan in (one, other):
        flat = [s for chunk in plan.chunks for s in chunk]
        assert tuple(flat) == plan.segments
        covered = [f for s in flat for f in range(s.first, s.last + 1)]
        assert covered == list(range(1, last + 1))
        sizes = [len(c) for c in plan.chunks]
        assert max(sizes) - min(sizes) <= 1 and all(sizes)


@given(
    samples=st.integers(1, 10**10),
    rate=st.sampled_from([8000, 22050, 44100, 48000, 96000]),
    fps=st.sampled_from([1, 12, 23, 24, 25, 30, 50, 60, 120]),
)
@settings(max_examples=300, deadline=None)
def test_video_length_is_within_half_a_frame_of_the_audio_at_any_length(samples, rate, fps):
    frames = video_frame_count(samples=samples, sample_rate=rate, fps=fps)
    drift = abs(Fraction(frames, fps) - Fraction(samples, rate))
    assert drift <= Fraction(1, 2 * fps) or frames == 1


def test_bad_ranges_and_settings_are_refused_with_their_values():
    with pytest.raises(ParameterError, match="first <= last"):
        FrameRange(5, 4)
    with pytest.raises(ParameterError, match="chunks must be >= 1, got 0"):
        plan_chunks(frames=FrameRange(1, 10), fps=24, chunks=0)
    with pytest.raises(ParameterError, match="crf must be 0 to 51, got 99"):
        EncoderSettings(crf=99)
    with pytest.raises(ParameterError, match="fps"):
        video_frame_count(samples=10, sample_rate=44100, fps=0)


def test_the_fingerprint_follows_texture_content_not_file_times(tmp_path):
    timeline = tmp_path / "timeline.json"
    timeline.write_text("{}")
    tex = tmp_path / "t.png"
    tex.write_bytes(b"one")

    def fp():
        return inputs_fingerprint(
            timeline_path=timeline, textures=[tex], settings={"fps": 24}, code={}
        )

    first = fp()
    tex.touch()
    assert fp() == first
    tex.write_bytes(b"two")
    assert fp() != first


def _frames(folder: Path, first: int, last: int, size=(64, 48)) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for f in range(first, last + 1):
        img = np.zeros((size[1], size[0], 3), np.uint8)
        img[..., 0] = (f * 37) % 256
        img[:, : (f % size[0]), 1] = 255  # a bar that grows frame by frame
        Image.fromarray(img).save(folder / FRAME_NAME.format(f))


@needs_ffmpeg
def test_segments_joined_with_audio_give_every_frame_once_at_exact_times(tmp_path):
    fps, rate = 12, 22050
    total = 41  # 3 segments of 24 frames at 12 fps: 24 + 17
    song = tmp_path / "song.wav"
    sf.write(song, 0.1 * np.ones(int(round(total / fps * rate)), np.float32), rate)
    _frames(tmp_path / "frames", 1, total)
    plan = plan_chunks(frames=FrameRange(1, total), fps=fps, chunks=2)
    cache = SegmentCache(tmp_path / "cache").prepare("x")
    encoder = EncoderSettings(preset="veryfast")
    for segment in plan.segments:
        encode_segment(
            frames_dir=tmp_path / "frames", segment=segment, fps=fps, encoder=encoder, cache=cache
        )
        assert cache.is_done(segment)
    audio = encode_audio(song=song, output=tmp_path / "a.m4a", encoder=encoder)
    out = join_and_mux(
        segments=[cache.video(s) for s in plan.segments],
        audio=audio,
        fps=fps,
        output=tmp_path / "out.mp4",
    )
    probe = probe_video(out)
    assert probe.frames == total and probe.fps == fps
    assert abs(probe.video_seconds - total / fps) < 1e-6
    assert abs(probe.audio_seconds - probe.video_seconds) <= 1 / fps
    hashes = decoded_frame_hashes(out)
    assert len(hashes) == total and len(set(hashes)) == total  # none lost, none repeated

    # One segment re-encoded alone gives the same bytes: the split cannot change the video.
    again = SegmentCache(tmp_path / "again").prepare("x")
    encode_segment(
        frames_dir=tmp_path / "frames",
        segment=plan.segments[1],
        fps=fps,
        encoder=encoder,
        cache=again,
    )
    assert again.video(plan.segments[1]).read_bytes() == cache.video(plan.segments[1]).read_bytes()


@needs_ffmpeg
def test_the_video_is_bt709_and_says_so_so_editors_show_the_rendered_colours(tmp_path):
    """Premiere, Resolve and browsers read HD video as BT.709: an orange frame must come back
    orange when decoded that way, and the file must name its colour."""
    import json
    import subprocess

    from PIL import Image

    colour = (0xE0, 0x60, 0x3A)
    frames = tmp_path / "frames"
    frames.mkdir()
    for f in range(1, 13):
        Image.new("RGB", (1280, 720), colour).save(frames / FRAME_NAME.format(f))
    cache = SegmentCache(tmp_path / "cache").prepare("x")
    segment = FrameRange(1, 12)
    encode_segment(
        frames_dir=frames, segment=segment, fps=12, encoder=EncoderSettings(), cache=cache
    )
    out = join_and_mux(
        segments=[cache.video(segment)], audio=None, fps=12, output=tmp_path / "v.mp4"
    )
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=color_space,color_primaries,color_transfer,color_range", "-of", "json", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    tags = json.loads(probe.stdout)["streams"][0]
    assert tags == {
        "color_range": "tv",
        "color_space": "bt709",
        "color_transfer": "bt709",
        "color_primaries": "bt709",
    }
    rgb = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(out), "-frames:v", "1", "-vf",
         "scale=in_color_matrix=bt709:in_range=tv,format=rgb24", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    mean = np.frombuffer(rgb, np.uint8).reshape(720, 1280, 3).reshape(-1, 3).mean(axis=0)
    assert np.abs(mean - np.array(colour)).max() < 4, mean


@needs_ffmpeg
def test_a_damaged_segment_is_not_taken_as_done(tmp_path):
    _frames(tmp_path / "frames", 1, 12)
    cache = SegmentCache(tmp_path / "cache").prepare("x")
    segment = FrameRange(1, 12)
    encode_segment(
        frames_dir=tmp_path / "frames",
        segment=segment,
        fps=12,
        encoder=EncoderSettings(preset="veryfast"),
        cache=cache,
    )
    data = bytearray(cache.video(segment).read_bytes())
    data[-5] ^= 0xFF
    cache.video(segment).write_bytes(bytes(data))
    assert not cache.is_done(segment)


@needs_ffmpeg
def test_a_missing_frame_is_named(tmp_path):
    _frames(tmp_path / "frames", 1, 12)
    (tmp_path / "frames" / FRAME_NAME.format(7)).unlink()
    cache = SegmentCache(tmp_path / "cache").prepare("x")
    with pytest.raises(RenderError, match="frame 7"):
        encode_segment(
            frames_dir=tmp_path / "frames",
            segment=FrameRange(1, 12),
            fps=12,
            encoder=EncoderSettings(),
            cache=cache,
        )
    assert not any(cache.root.glob("*.h264"))


def test_only_aimv_cache_folders_are_swept(tmp_path):
    keep = SegmentCache(tmp_path / "chunks" / "new").prepare("new")
    old = SegmentCache(tmp_path / "chunks" / "old").prepare("old")
    users = tmp_path / "chunks" / "mine"
    users.mkdir()
    removed = keep.sweep_siblings()
    assert removed == [old.root] and users.is_dir() and keep.root.is_dir()


STOP_SCRIPT = """
import subprocess, sys
from aimv_backend.stage.chunked import stop_children
sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
plain = subprocess.Popen(sleeper)
leader = subprocess.Popen(
    [sys.executable, "-c", "import subprocess, sys; subprocess.run(sys.argv[1:])", *sleeper],
    start_new_session=True,
)
stopped = set(stop_children())
codes = [plain.wait(timeout=10), leader.wait(timeout=10)]
print({plain.pid, leader.pid} <= stopped, all(c != 0 for c in codes))
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_an_interrupted_render_stops_its_child_processes_and_their_groups():
    """Run in a process of its own: stop_children signals every child of its caller."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", STOP_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split() == ["True", "True"]


def _flaky_runner(fail_times: dict[int, int], reported_before_failing: int):
    """A chunk runner that fails ``fail_times[i]`` times for chunk i (after reporting some
    frames, as a Blender that crashed mid-chunk would), then renders the whole chunk."""
    from aimv_backend.stage.chunk_worker import ChunkResult

    calls: list[int] = []

    def run(job, *, on_frames):
        calls.append(job.index)
        if calls.count(job.index) <= fail_times.get(job.index, 0):
            on_frames(reported_before_failing)
            raise RenderError(f"chunk {job.index + 1}: Blender exited with signal 11")
        on_frames(job.frames.count)
        return ChunkResult(job.index, job.segments, (), 0.01)

    return run, calls


def _jobs(tmp_path, n=2, frames_each=24):
    from aimv_backend.stage.chunk_worker import ChunkJob
    from aimv_backend.stage.options import StageOptions

    return [
        ChunkJob(
            index=i,
            segments=(FrameRange(1 + i * frames_each, (i + 1) * frames_each),),
            cache_dir=tmp_path,
            timeline_path=tmp_path / "timeline.json",
            song=tmp_path / "song.wav",
            settings=StageOptions(),
        )
        for i in range(n)
    ]


def test_a_chunk_whose_blender_crashed_is_tried_again_and_counted_once(tmp_path):
    from aimv_backend.stage.chunked import run_chunks_local

    runner, calls = _flaky_runner({0: 1}, reported_before_failing=10)
    frames, notices = [], []
    results = run_chunks_local(
        _jobs(tmp_path), workers=2, on_frames=frames.append, runner=runner, notice=notices.append
    )
    assert sorted(r.index for r in results) == [0, 1]
    assert sorted(calls) == [0, 0, 1]
    assert sum(frames) == 48  # the progress bar ends at 100 %, not past it
    assert len(notices) == 1 and "chunk 1 failed" in notices[0] and "signal 11" in notices[0]


def test_a_chunk_that_keeps_failing_stops_the_render_with_its_error(tmp_path):
    from aimv_backend.stage.chunked import LOCAL_RETRIES, run_chunks_local

    runner, calls = _flaky_runner({1: 99}, reported_before_failing=5)
    with pytest.raises(RenderError, match="chunk 2: Blender exited with signal 11"):
        run_chunks_local(_jobs(tmp_path), workers=1, on_frames=lambda n: None, runner=runner)
    assert calls.count(1) == LOCAL_RETRIES + 1


def test_a_5_1_song_is_folded_to_stereo_without_clipping(tmp_path):
    import subprocess

    rate = 48000
    t = np.arange(2 * rate) / rate
    six = np.stack([0.7 * np.sin(2 * np.pi * (200 + 50 * k) * t) for k in range(6)], axis=1)
    song = tmp_path / "surround.wav"
    sf.write(song, six.astype(np.float32), rate, subtype="PCM_24")
    audio = encode_audio(song=song, output=tmp_path / "a.m4a", encoder=EncoderSettings())
    decoded = tmp_path / "back.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(audio), "-c:a", "pcm_f32le", str(decoded)], check=True
    )
    stereo, _ = sf.read(decoded)
    assert stereo.shape[1] == 2
    assert np.abs(stereo).max() < 0.98  # the default fold reached full scale and clipped


def test_a_float_song_over_full_scale_is_lowered_to_fit_and_others_are_not(tmp_path):
    """A float WAV mixed hot (+6 dBFS peaks) would clip on every player once in AAC: its
    soundtrack is brought down to peak at -1 dBFS. A song within full scale keeps its level."""
    import subprocess

    from aimv_backend.audio.io import soundtrack_gain_db

    rate = 44100
    t = np.arange(2 * rate) / rate
    hot = (2.0 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # +6 dBFS
    song = tmp_path / "hot.wav"
    sf.write(song, np.stack([hot, hot], axis=1), rate, subtype="FLOAT")
    gain = soundtrack_gain_db(song)
    assert gain == pytest.approx(-7.02, abs=0.01)

    def decoded_peak(gain_db: float) -> float:
        audio = encode_audio(
            song=song,
            output=tmp_path / f"{gain_db}.m4a",
            encoder=EncoderSettings(),
            gain_db=gain_db,
        )
        back = tmp_path / f"{gain_db}.wav"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(audio), "-c:a", "pcm_f32le", str(back)], check=True
        )
        return float(np.abs(sf.read(back)[0]).max())

    assert decoded_peak(0.0) > 1.5  # as it was: far over what a player can play
    assert 0.8 < decoded_peak(gain) < 1.0
    quiet = tmp_path / "fine.wav"
    sf.write(quiet, 0.5 * hot, rate, subtype="FLOAT")
    pcm = tmp_path / "pcm.wav"
    sf.write(pcm, 0.5 * hot, rate, subtype="PCM_16")
    assert soundtrack_gain_db(quiet) == 0.0 and soundtrack_gain_db(pcm) == 0.0


def test_a_float_songs_peak_is_read_once_per_version_of_the_file(tmp_path, monkeypatch):
    """A render probes the song for its checks, its listening and its soundtrack's level; a
    float song is read through once for its peak, and read again only once it has changed."""
    import os

    from aimv_backend.audio import io

    reads = []
    real = io.iter_mono_blocks
    monkeypatch.setattr(io, "iter_mono_blocks", lambda *a, **k: reads.append(1) or real(*a, **k))
    song = tmp_path / "hot.wav"
    t = np.arange(44100) / 44100
    sf.write(song, (2.0 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100, subtype="FLOAT")
    first = io.soundtrack_gain_db(song)
    assert io.probe_audio(song).peak == pytest.approx(2.0, rel=1e-3)
    assert io.soundtrack_gain_db(song) == first and len(reads) == 1
    sf.write(song, (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100, subtype="FLOAT")
    os.utime(song, ns=(1, 1))  # a new version even where the clock is coarse
    assert io.soundtrack_gain_db(song) == 0.0 and len(reads) == 2
