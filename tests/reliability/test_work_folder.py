"""No lost or corrupt output (issue 13, items 4 and 6-11), through ``aimv render`` with a fake
Blender binary: what a user sees in the output and work folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aimv_backend.util.locks import folder_lock
from aimv_backend.util.workdir import partial_video, sweep_stale
from aimv_timeline import manifest
from tests.blender import fixtures
from tests.blender.conftest import needs_bpy

from .conftest import render_args

ROOT = Path(__file__).resolve().parents[2]


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_scene_saved_in_blender_is_kept_and_a_new_video_needs_force(
    run_aimv, short_song, fake_blender, tmp_path
):
    """The artist's trial: a work folder's scene.blend, opened and saved in Blender, was
    replaced by the next render (and its backup by the one after)."""
    out = tmp_path / "v.mp4"
    assert run_aimv(*render_args(short_song, out, fake_blender)).code == 0
    scene = tmp_path / "v.aimv" / "scene.blend"
    scene.write_bytes(b"BLENDER-v500 the artist's scene")  # saved again in Blender
    same = run_aimv(*render_args(short_song, out, fake_blender))  # nothing to make
    assert same.code == 0 and "up to date" in same.out, same.err
    other = run_aimv(*render_args(short_song, out, fake_blender, "--seed", "3"))
    assert other.code == 2 and "not the scene AIMV last saved" in other.err
    assert len(other.err.strip().splitlines()) == 1
    assert scene.read_bytes() == b"BLENDER-v500 the artist's scene"
    forced = run_aimv(*render_args(short_song, out, fake_blender, "--seed", "3", "--force"))
    assert forced.code == 0, forced.err
    assert (scene.parent / "scene.blend1").read_bytes() == b"BLENDER-v500 the artist's scene"
    again = run_aimv(*render_args(short_song, out, fake_blender, "--seed", "3"))
    assert again.code == 0 and "up to date" in again.out  # AIMV's new scene is recorded


def test_a_render_records_its_files_and_reruns_are_up_to_date(
    run_aimv, short_song, fake_blender, tmp_path
):
    out = tmp_path / "v.mp4"
    first = run_aimv(*render_args(short_song, out, fake_blender))
    assert first.code == 0, first.err
    work = tmp_path / "v.aimv"
    owned = manifest.entries(work)
    assert {"scene.blend", "render.json", "aimv_sequence/"} <= owned
    assert any(name.startswith("textures/") for name in owned)
    again = run_aimv(*render_args(short_song, out, fake_blender))
    assert again.code == 0 and "up to date" in again.out
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_leaving_out_the_lyrics_of_a_song_without_words_is_the_same_video(
    run_aimv, short_song, fake_blender, tmp_path
):
    """An instrumental has no lyric layer: --no-lyrics changes no frame, so the video made
    without it is up to date; another layer left out makes a new video."""
    out = tmp_path / "v.mp4"
    assert run_aimv(*render_args(short_song, out, fake_blender)).code == 0
    timeline = json.loads((tmp_path / "v.aimv" / "timeline.json").read_text())
    assert not any(w["voice"] and w["voice"]["words"] for w in timeline["windows"])
    again = run_aimv(*render_args(short_song, out, fake_blender), "--no-lyrics")
    assert again.code == 0 and "up to date" in again.out, again.err
    other = run_aimv(*render_args(short_song, out, fake_blender), "--no-motion")
    assert other.code == 0 and "up to date" not in other.out, other.err


def test_a_work_folder_named_relative_to_the_working_directory_reruns_up_to_date(
    run_aimv, short_song, fake_blender, tmp_path, monkeypatch
):
    """`make demo` twice: `-o demo-out/demo.mp4` from the project folder. The manifest holds
    names relative to the work folder, whatever folder aimv was started in."""
    monkeypatch.chdir(tmp_path)
    out = Path("out") / "v.mp4"
    assert run_aimv(*render_args(short_song, out, fake_blender)).code == 0
    owned = manifest.entries(tmp_path / "out" / "v.aimv")
    assert any(name.startswith("textures/") for name in owned), owned
    assert not any(name.startswith("out/") for name in owned), owned
    again = run_aimv(*render_args(short_song, out, fake_blender))
    assert again.code == 0 and "up to date" in again.out, again.err


def test_aimv_stage_replaces_its_own_video_and_keeps_the_users(
    run_aimv, short_song, fake_blender, tmp_path
):
    """Restaging a timeline: the same settings are up to date, new ones re-render without
    --force (the video is AIMV's own); a file AIMV did not make is kept."""
    assert run_aimv(*render_args(short_song, tmp_path / "v.mp4", fake_blender)).code == 0
    timeline = tmp_path / "v.aimv" / "timeline.json"
    out = tmp_path / "staged.mp4"
    stage = ["stage", timeline, "-o", out, "--blender", fake_blender, "--resolution", "64x36"]
    stage += ["--progress", "none"]
    first = run_aimv(*stage, "--fps", "8")
    assert first.code == 0 and "wrote" in first.out, first.err
    again = run_aimv(*stage, "--fps", "8")
    assert again.code == 0 and "up to date" in again.out, again.err
    other = run_aimv(*stage, "--fps", "4")
    assert other.code == 0 and "wrote" in other.out, other.err
    out.write_bytes(b"the user's own video")
    refused = run_aimv(*stage, "--fps", "4")
    assert refused.code == 2 and "--force" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert out.read_bytes() == b"the user's own video"


def test_a_preview_and_a_final_staged_from_one_timeline_are_both_up_to_date(
    run_aimv, short_song, fake_blender, tmp_path
):
    assert run_aimv(*render_args(short_song, tmp_path / "v.mp4", fake_blender)).code == 0
    timeline = tmp_path / "v.aimv" / "timeline.json"
    base = ["stage", timeline, "--blender", fake_blender, "--fps", "8", "--progress", "none"]
    preview = [*base, "-o", tmp_path / "preview.mp4", "--resolution", "64x36"]
    final = [*base, "-o", tmp_path / "final.mp4", "--resolution", "128x72"]
    for args in (preview, final):
        assert run_aimv(*args).code == 0
    for args in (preview, final):  # the pipeline's second run
        again = run_aimv(*args)
        assert again.code == 0 and "up to date" in again.out, again.err


def test_aimv_stage_keeps_the_users_files_beside_the_timeline_and_records_its_own(
    run_aimv, short_song, fake_blender, tmp_path
):
    """A timeline copied into a folder of the user's: their render.json and aimv_sequence/
    stay without --force; with it, what aimv stage writes is AIMV's, so a render there later
    may replace it."""
    assert run_aimv(*render_args(short_song, tmp_path / "v.mp4", fake_blender)).code == 0
    mine = tmp_path / "mine"
    (mine / "aimv_sequence").mkdir(parents=True)
    (mine / "render.json").write_text('{"mine": true}')
    (mine / "aimv_sequence" / "aimv_00001.png").write_bytes(b"my picture")
    for item in (tmp_path / "v.aimv").iterdir():
        if item.name in ("timeline.json", "textures"):
            os.rename(item, mine / item.name)
    out = tmp_path / "staged.mp4"
    stage = ["stage", mine / "timeline.json", "-o", out, "--blender", fake_blender]
    stage += ["--resolution", "64x36", "--fps", "8", "--progress", "none"]
    refused = run_aimv(*stage)
    assert refused.code == 2 and "AIMV did not make" in refused.err, refused.err
    assert "render.json" in refused.err and "aimv_sequence" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert json.loads((mine / "render.json").read_text()) == {"mine": True}
    assert (mine / "aimv_sequence" / "aimv_00001.png").read_bytes() == b"my picture"
    assert not out.exists()
    forced = run_aimv(*stage, "--force")
    assert forced.code == 0, forced.err
    assert {"render.json", "aimv_sequence/"} <= manifest.entries(mine)
    again = run_aimv(*stage, "--fps", "4")  # AIMV's own record and sequence now
    assert again.code == 0 and "wrote" in again.out, again.err


def test_a_song_named_relative_to_the_timeline_is_found_from_any_folder(
    run_aimv, short_song, fake_blender, tmp_path, monkeypatch
):
    """A project folder moved to another machine: its timeline names "song.wav" beside it."""
    assert run_aimv(*render_args(short_song, tmp_path / "v.mp4", fake_blender)).code == 0
    work = tmp_path / "v.aimv"
    (work / "song.wav").write_bytes(short_song.read_bytes())
    data = json.loads((work / "timeline.json").read_text())
    data["source"]["path"] = "song.wav"
    (work / "timeline.json").write_text(json.dumps(data))
    monkeypatch.chdir(short_song.parent)  # where another "song.wav" would mislead
    out = tmp_path / "moved.mp4"
    args = ["stage", work / "timeline.json", "-o", out, "--blender", fake_blender]
    result = run_aimv(*args, "--resolution", "64x36", "--fps", "8", "--progress", "none")
    assert result.code == 0 and out.is_file(), result.err
    (short_song.parent / "elsewhere").mkdir(exist_ok=True)
    monkeypatch.chdir(short_song.parent / "elsewhere")
    (work / "song.wav").unlink()
    missing = run_aimv(*args, "--force", "--resolution", "64x36", "--progress", "none")
    assert missing.code == 2 and str(work / "song.wav") in missing.err, missing.err


def test_a_timeline_from_a_newer_aimv_stops_a_render_before_any_work(
    run_aimv, short_song, fake_blender, tmp_path
):
    out = tmp_path / "v.mp4"
    assert run_aimv(*render_args(short_song, out, fake_blender)).code == 0
    timeline = tmp_path / "v.aimv" / "timeline.json"
    data = json.loads(timeline.read_text())
    data.update(schema_version="1.99", storyboard={"shots": [1, 2]})
    timeline.write_text(json.dumps(data))
    before = timeline.read_bytes()
    refused = run_aimv(*render_args(short_song, out, fake_blender, "--seed", "2"))
    assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1, refused.err
    assert "newer AIMV" in refused.err and "--force" in refused.err
    assert timeline.read_bytes() == before
    forced = run_aimv(*render_args(short_song, out, fake_blender, "--seed", "2", "--force"))
    assert forced.code == 0, forced.err
    assert "storyboard" not in json.loads(timeline.read_text())  # made anew, as asked


def test_a_run_without_seed_is_seed_0_whatever_ran_in_its_folder_before(
    run_aimv, short_song, fake_blender, tmp_path
):
    """--seed 5, then the same command without --seed: the sentences and the textures are
    both seed 0's, as in a fresh folder (the sentences kept seed 5 before)."""
    reused, fresh = tmp_path / "reused.mp4", tmp_path / "fresh.mp4"
    with_describe = [
        a for a in render_args(short_song, reused, fake_blender) if a != "--no-describe"
    ]
    assert run_aimv(*with_describe, "--seed", "5").code == 0
    assert run_aimv(*with_describe).code == 0
    fresh_args = [str(fresh) if a == str(reused) else a for a in with_describe]
    assert run_aimv(*fresh_args).code == 0

    def made(video):
        data = json.loads(video.with_suffix(".aimv").joinpath("timeline.json").read_text())
        return [(w["description"]["sentence"], w["texture"]) for w in data["windows"]]

    assert made(reused) == made(fresh)


def test_json_progress_has_an_error_event_for_every_failure(
    run_aimv, short_song, fake_blender, tmp_path
):
    """Tools read --progress json: a bad flag (with -q too) and each failed song of an album
    are error events, beside the one line for a person."""
    from aimv_timeline.events import parse_line

    def errors(result):
        events = [parse_line(line) for line in result.err.splitlines()]
        return [e.get("message") for e in events if e is not None and e.kind == "error"]

    bad_flag = run_aimv("render", short_song, "--seed", "-1", "--progress", "json", "-q")
    assert bad_flag.code == 2 and len(errors(bad_flag)) == 1 and "--seed" in errors(bad_flag)[0]
    corrupt = tmp_path / "broken.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt no audio at all")
    args = render_args(short_song, tmp_path / "album", fake_blender)
    args[1:2] = [str(short_song), str(corrupt)]
    args[args.index(str(tmp_path / "album"))] = f"{tmp_path / 'album'}/"
    args[args.index("--progress") + 1] = "json"
    album = run_aimv(*args)
    assert album.code == 2
    assert [m.split(":")[0] for m in errors(album)] == [str(corrupt)]
    assert (tmp_path / "album" / f"{short_song.stem}.mp4").is_file()


def test_a_song_named_twice_in_an_album_is_one_video(
    run_aimv, short_song, fake_blender, tmp_path, monkeypatch
):
    monkeypatch.chdir(short_song.parent)
    album = tmp_path / "album"
    args = render_args(short_song, album, fake_blender)
    args[1:2] = [str(short_song), f"./{short_song.name}"]  # one file by two names
    args[args.index(str(album))] = f"{album}/"
    result = run_aimv(*args)
    assert result.code == 0, result.err
    assert sorted(p.name for p in album.glob("*.mp4")) == [f"{short_song.stem}.mp4"]


def test_a_truncated_video_never_takes_the_name_and_the_old_one_stays(
    run_aimv, short_song, fake_blender, tmp_path, monkeypatch
):
    """13.4: a full disk during the encode leaves a half MP4: it is checked and refused."""
    out = tmp_path / "v.mp4"
    assert run_aimv(*render_args(short_song, out, fake_blender)).code == 0
    before = out.read_bytes()
    monkeypatch.setenv("FAKE_BLENDER_MODE", "truncate")
    result = run_aimv(*render_args(short_song, out, fake_blender, "--seed", "3"))
    assert result.code == 2
    assert "incomplete" in result.err and len(result.err.strip().splitlines()) == 1
    assert out.read_bytes() == before  # the previous video, as it was
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    monkeypatch.setenv("FAKE_BLENDER_MODE", "ok")  # and the re-run accepts AIMV's own file
    assert run_aimv(*render_args(short_song, out, fake_blender, "--seed", "3")).code == 0


def test_hash_in_the_output_name_is_not_expanded(
    run_aimv, short_song, fake_blender, tmp_path, monkeypatch
):
    """13.9: Blender turns '#' into the frame number; the partial file AIMV hands it has none."""
    monkeypatch.setenv("FAKE_BLENDER_MODE", "hash")
    out = tmp_path / "take #1.mp4"
    result = run_aimv(*render_args(short_song, out, fake_blender))
    assert result.code == 0, result.err
    assert out.is_file()
    assert "#" not in partial_video(out).name
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_video_name_as_long_as_the_file_system_allows_is_rendered(
    run_aimv, short_song, fake_blender, tmp_path
):
    """A 254-byte name is legal; the hidden partial names beside it must fit too."""
    out = tmp_path / ("é" * 100 + "x" * 50 + ".mp4")  # 254 bytes in UTF-8
    assert len(out.name.encode()) == 254
    result = run_aimv(
        *render_args(short_song, out, fake_blender, "--work-dir", str(tmp_path / "w"))
    )
    assert result.code == 0 and out.is_file(), result.err
    assert len(partial_video(out).name.encode()) <= 255


def test_the_output_is_never_the_song_even_with_force(run_aimv, short_song, fake_blender, tmp_path):
    """13.10"""
    song = tmp_path / "song.mp4"
    song.write_bytes(short_song.read_bytes())  # a WAV named .mp4: still the input
    before = song.read_bytes()
    result = run_aimv(*render_args(song, song, fake_blender, "--force"))
    assert result.code == 2 and "is the song itself" in result.err
    assert song.read_bytes() == before


def test_an_existing_folder_as_work_dir_keeps_the_users_files(
    run_aimv, short_song, fake_blender, tmp_path
):
    """13.8: --work-dir pointing at a user's folder touches only files AIMV made there."""
    mine = tmp_path / "mine"
    (mine / "aimv_sequence").mkdir(parents=True)
    (mine / "scene.blend").write_bytes(b"my scene")
    (mine / "render.json").write_text('{"mine": true}')
    (mine / "aimv_sequence" / "aimv_00001.png").write_bytes(b"my picture")
    out = tmp_path / "v.mp4"
    result = run_aimv(*render_args(short_song, out, fake_blender, "--work-dir", str(mine)))
    assert result.code == 2
    assert "AIMV did not make" in result.err and "scene.blend" in result.err
    assert (mine / "scene.blend").read_bytes() == b"my scene"
    assert json.loads((mine / "render.json").read_text()) == {"mine": True}
    assert (mine / "aimv_sequence" / "aimv_00001.png").read_bytes() == b"my picture"
    assert not out.exists()


def test_stale_temporary_files_are_swept(run_aimv, short_song, fake_blender, tmp_path):
    """13.11: interrupted PNG and JSON saves, and partial videos of dead processes, go away."""
    work = tmp_path / "v.aimv"
    (work / "textures").mkdir(parents=True)
    (work / "chunks" / "0123abcd").mkdir(parents=True)
    stale = [
        work / "textures" / ".0123456789abcdef.png.k2j3h4l5.tmp.png",
        work / ".timeline.json.abcd1234.tmp",
        work / "chunks" / "0123abcd" / ".seg_000001-000024.h264.999999.partial",  # kill -9
        work / "chunks" / "0123abcd" / ".audio.m4a.999999.partial.m4a",
        tmp_path / ".v.partial-999999.mp4",
        tmp_path / "..v.partial-999999.aimv-part-999998.mp4",
    ]
    for path in stale:
        path.write_bytes(b"x")
    keep = tmp_path / "notes.tmp"  # not AIMV's pattern
    keep.write_text("mine")
    assert run_aimv(*render_args(short_song, tmp_path / "v.mp4", fake_blender)).code == 0
    assert [p for p in stale if p.exists()] == []
    assert keep.read_text() == "mine"


def test_a_live_partial_video_of_another_run_is_kept(tmp_path):
    other = tmp_path / f".v.partial-{os.getppid()}.mp4"  # a live process: our parent
    other.write_bytes(b"x")
    sweep_stale([], video_dir=tmp_path)
    assert other.exists()


def test_two_runs_on_one_work_folder_the_second_refuses_at_once(
    run_aimv, short_song, fake_blender, tmp_path
):
    """13.7: the second run refuses with one line instead of deleting the first one's files."""
    work = tmp_path / "v.aimv"
    work.mkdir()
    code = (
        "import sys, time; from aimv_backend.util.locks import folder_lock\n"
        f"with folder_lock({str(work)!r}):\n"
        "    print('locked', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        result = run_aimv(*render_args(short_song, tmp_path / "v.mp4", fake_blender))
        assert time.monotonic() - t0 < 10
        assert result.code == 2
        assert "in use by another AIMV run" in result.err and f"pid {holder.pid}" in result.err
    finally:
        holder.kill()
        holder.wait()
    assert run_aimv(*render_args(short_song, tmp_path / "v.mp4", fake_blender)).code == 0


def test_the_lock_is_reentrant_in_one_process(tmp_path):
    with folder_lock(tmp_path), folder_lock(tmp_path):
        pass
    with folder_lock(tmp_path):
        pass


def _render_process(song, out, blender, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FAKE_BLENDER_MODE": "hang",
        "FAKE_BLENDER_PIDFILE": str(tmp_path / "blender.pid"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "aimv_backend", *render_args(song, out, blender)],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(path: Path, timeout_s: float = 120.0) -> int:
    t0 = time.monotonic()
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() - t0 < timeout_s, "the fake Blender did not start"
        time.sleep(0.1)
    return int(path.read_text())


def _gone(pid: int, timeout_s: float = 15.0) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_blender_dies_with_aimv(short_song, fake_blender, tmp_path, sig, run_aimv):
    """13.6 and issue 10: SIGTERM cleans up like Ctrl-C (no hidden partial file is left);
    even SIGKILL of aimv stops Blender at once (parent-death signal); and the next run
    resumes without --force (the scene.blend the killed run began is AIMV's)."""
    out = tmp_path / "v.mp4"
    proc = _render_process(short_song, out, fake_blender, tmp_path)
    try:
        blender = _wait_for(tmp_path / "blender.pid")
        proc.send_signal(sig)
        proc.wait(timeout=60)
        assert _gone(blender), "Blender went on after aimv was killed"
    finally:
        if proc.poll() is None:
            proc.kill()
    if sig == signal.SIGTERM:
        assert proc.returncode == 130
        assert "cancelled" in proc.stderr.read()
        assert _hidden(tmp_path) == []  # no ..v.partial-PID.aimv-part-PID.mp4 left
    assert not out.exists()
    again = run_aimv(*render_args(short_song, out, fake_blender))
    assert again.code == 0 and out.is_file(), again.err


def test_a_refused_render_leaves_no_work_folder_behind(
    run_aimv, short_song, fake_blender, tmp_path
):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"the user's own video")
    result = run_aimv(*render_args(short_song, video, fake_blender))
    assert result.code == 2 and "--force" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-blender", "v.mp4"]


@pytest.mark.blender
@pytest.mark.slow
@needs_bpy
def test_headless_blender_keeps_a_hash_in_the_output_name(tmp_path, blender_env):
    """13.9 in Blender itself: '#' in -o used to become the frame number (the render then
    failed after all frames and left an orphan file)."""
    timeline = fixtures.make_timeline(tmp_path / "work", textures=False)
    out = tmp_path / "take #1.mp4"
    done = subprocess.run(
        [sys.executable, str(ROOT / "aimv_blender" / "headless.py"), "--", "--timeline",
         str(timeline), "-o", str(out), "--resolution", "32x18", "--fps", "4"],
        env=blender_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take #1.mp4", "work"]
