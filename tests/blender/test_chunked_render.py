"""The chunked render on this machine: N Blender processes give the 1-process video exactly.

A 4-second fixture song (textured windows, camera sway) at 160x90 and 12 fps: 48 frames, two
2-second segments, so 2 workers render 2 chunks. The videos are compared by their decoded
frames (md5 of each frame's pixels), which is what a viewer sees.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aimv_backend.errors import RenderError
from aimv_backend.progress import SilentProgress
from aimv_backend.stage.chunk_worker import render_chunk
from aimv_backend.stage.chunked import ChunkedRequest, ScaleOptions, render_chunked
from aimv_backend.stage.chunks import decoded_frame_hashes, probe_video
from aimv_backend.stage.options import StageOptions
from tests.blender import fixtures
from tests.blender.conftest import needs_bpy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.blender,
    needs_bpy,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed"),
]

FPS = 12
SIZE = (160, 90)


def chunked_request(timeline: Path, work: Path, **scale) -> ChunkedRequest:
    return ChunkedRequest(
        song=timeline.parent / "song.wav",
        timeline_path=timeline,
        work_dir=work,
        output=work / "video.mp4",
        settings=StageOptions(resolution=SIZE, fps=FPS),
        scale=ScaleOptions(**scale),
    )


@pytest.fixture(scope="module")
def timeline(tmp_path_factory) -> Path:
    return fixtures.make_timeline(tmp_path_factory.mktemp("song") / "work", textures=True)


@pytest.fixture(scope="module")
def one_process(timeline, tmp_path_factory) -> list[str]:
    """The reference: one worker, one chunk, one Blender process."""
    work = tmp_path_factory.mktemp("one")
    result = render_chunked(chunked_request(timeline, work, workers=1), progress=SilentProgress())
    assert result.chunks == 1 and result.rendered == 2
    return decoded_frame_hashes(result.output)


def test_two_workers_give_the_one_process_video_frame_for_frame(timeline, one_process, tmp_path):
    result = render_chunked(
        chunked_request(timeline, tmp_path, workers=2), progress=SilentProgress()
    )
    assert result.chunks == 2 and result.workers == 2
    frames = decoded_frame_hashes(result.output)
    assert len(frames) == 48 == len(one_process)
    assert frames == one_process
    assert len(set(frames)) > 20  # the camera moves: most frames differ
    probe = probe_video(result.output)
    assert abs(probe.audio_seconds - probe.video_seconds) <= 1 / FPS


def test_a_killed_run_resumes_without_rendering_the_finished_chunk(timeline, one_process, tmp_path):
    def dies_in_chunk_two(job, **kwargs):
        if job.index == 1:
            raise RenderError("Blender failed (exit -9): killed on purpose")
        return render_chunk(job, **kwargs)

    request = chunked_request(timeline, tmp_path, workers=2)
    with pytest.raises(RenderError, match="killed on purpose"):
        render_chunked(request, progress=SilentProgress(), chunk_runner=dies_in_chunk_two)
    assert not request.output.exists()
    done = sorted(tmp_path.glob("chunks/*/seg_*.h264"))
    assert len(done) == 1  # chunk 1's segment survived the failure
    stamp = done[0].stat().st_mtime_ns

    result = render_chunked(request, progress=SilentProgress())
    assert (result.reused, result.rendered) == (1, 1)
    assert done[0].stat().st_mtime_ns == stamp  # not rendered again
    assert decoded_frame_hashes(result.output) == one_process


def test_changed_settings_do_not_reuse_old_chunks(timeline, tmp_path):
    first = render_chunked(
        chunked_request(timeline, tmp_path, workers=2), progress=SilentProgress()
    )
    assert first.rendered == 2
    again = render_chunked(
        chunked_request(timeline, tmp_path, workers=2), progress=SilentProgress()
    )
    assert (again.reused, again.rendered) == (2, 0)
    seeded = chunked_request(timeline, tmp_path, workers=2)
    seeded = ChunkedRequest(**{**seeded.__dict__, "seed": 7})
    third = render_chunked(seeded, progress=SilentProgress())
    assert (third.reused, third.rendered) == (0, 2)
    assert len(list(tmp_path.glob("chunks/*/"))) == 1  # the stale fingerprint was swept


def test_new_keying_code_does_not_reuse_old_chunks(timeline, tmp_path, monkeypatch):
    """Segments and videos were fingerprinted with AIMV's version only: after an update of the
    add-on's keying (same version), a re-run joined the old frames. The code is hashed now."""
    from aimv_backend.stage import chunked, record

    first = render_chunked(
        chunked_request(timeline, tmp_path, workers=2), progress=SilentProgress()
    )
    assert first.rendered == 2
    copy = tmp_path / "addon"
    shutil.copytree(Path(record.__file__).parents[2] / "aimv_blender", copy / "aimv_blender")
    before = record.code_digest([copy / "aimv_blender"])
    motion = copy / "aimv_blender" / "motion" / "pictograms.py"
    motion.write_text(motion.read_text().replace("FADE_S = 0.25", "FADE_S = 0.3"))
    after = record.code_digest([copy / "aimv_blender"])
    assert after != before
    monkeypatch.setattr(chunked, "staging_code", lambda: f"0.1.0+{after}")
    again = render_chunked(
        chunked_request(timeline, tmp_path, workers=2), progress=SilentProgress()
    )
    assert (again.reused, again.rendered) == (0, 2)


def test_a_saved_scene_renders_in_chunks_as_the_panel_asks(
    timeline, one_process, tmp_path, run_aimv
):
    """The panel saves the stage and runs `aimv render --blend`: the same frames come out."""
    import subprocess
    import sys

    from aimv_backend.stage.blender_runner import headless_script

    song = timeline.parent / "song.wav"
    blend = tmp_path / "render-scene.blend"
    staged = subprocess.run(
        [
            sys.executable,
            str(headless_script()),
            "--",
            str(song),
            "--timeline",
            str(timeline),
            "--blend-out",
            str(blend),
            "--resolution",
            f"{SIZE[0]}x{SIZE[1]}",
            "--fps",
            str(FPS),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert staged.returncode == 0, staged.stderr[-500:]
    video = tmp_path / "panel.mp4"
    args = ["render", song, "-o", video, "--blend", blend, "--scene", "AIMV Stage"]
    args += ["--frames", "1:48", "--resolution", f"{SIZE[0]}x{SIZE[1]}", "--fps", str(FPS)]
    result = run_aimv(*args, "--workers", "2", "--progress", "none", "--quiet")
    assert result.code == 0, result.err
    assert decoded_frame_hashes(video) == one_process
    again = run_aimv(*args, "--progress", "none", "--quiet")
    assert again.code == 2 and "exists" in again.err  # never replaced without --force


def test_the_panel_asks_the_backend_with_an_argument_list():
    from aimv_blender.render_job import ChunkedRender, render_steps

    job = ChunkedRender(
        song=Path("/music/a song.wav"),
        blend=Path("/work/render-scene.blend"),
        scene="AIMV Stage",
        frames=(1, 480),
        output=Path("/out/my video.mp4"),
        work_dir=Path("/work"),
        resolution=(1280, 720),
        fps=30,
        engine="eevee",
        samples=32,
        overwrite=True,
    )
    (step,) = render_steps(job, ["/venv/bin/aimv"])
    argv = list(step.argv)
    assert argv[:3] == ["/venv/bin/aimv", "render", "/music/a song.wav"]
    assert argv[argv.index("--frames") + 1] == "1:480"
    assert argv[argv.index("--scene") + 1] == "AIMV Stage"
    assert argv[argv.index("-o") + 1] == "/out/my video.mp4" and argv[-1] == "--force"
    with pytest.raises(ValueError, match="first <= last"):
        ChunkedRender(**{**job.__dict__, "frames": (10, 2)})


def test_a_render_killed_with_sigkill_resumes_from_its_finished_chunk(
    timeline, one_process, tmp_path
):
    """kill -9 of the whole render (parent, Blender, ffmpeg) after chunk 1 ended: the next run
    renders only chunk 2 and the video still equals the one-process render."""
    import os
    import signal
    import subprocess
    import sys
    import time

    code = (
        "import sys; from pathlib import Path\n"
        "from tests.blender.test_chunked_render import chunked_request\n"
        "from aimv_backend.progress import SilentProgress\n"
        "from aimv_backend.stage.chunked import render_chunked\n"
        "render_chunked(chunked_request(Path(sys.argv[1]), Path(sys.argv[2]), workers=1,"
        " chunks=2), progress=SilentProgress())\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(timeline), str(tmp_path)],
        cwd=root,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not list(tmp_path.glob("chunks/*/seg_*.json")):
            assert proc.poll() is None and time.monotonic() < deadline, "chunk 1 never finished"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (tmp_path / "video.mp4").exists()

    result = render_chunked(
        chunked_request(timeline, tmp_path, workers=1, chunks=2), progress=SilentProgress()
    )
    assert (result.reused, result.rendered) == (1, 1)
    assert decoded_frame_hashes(result.output) == one_process
