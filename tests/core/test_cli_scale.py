"""`aimv render`'s scale options fail before any work, in one line, naming the value."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest


@pytest.fixture
def song(write_wav):
    t = np.arange(22050) / 22050
    return write_wav("song.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--workers", "0"], "--workers must be 1 to 64, got 0"),
        (["--chunks", "0"], "--chunks must be 1 to 100000, got 0"),
        (["--ray-ship"], "--ray-ship needs --ray"),
        (["--blend", "x.blend", "--frames", "9:2"], "--frames must be START:END"),
        (["--blend", "x.blend", "--frames", "1:2"], "--blend must be an existing .blend file"),
        (["--blend", "x.blend"], "--blend needs --frames START:END"),
        (["--scene", "S"], "--scene needs --blend FILE"),
        (["--frames", "5:1"], "--frames needs --blend FILE"),
        (["--scene", "S", "--frames", "1:5"], "--scene and --frames need --blend FILE"),
    ],
)
def test_bad_scale_options_fail_before_any_work(run_aimv, song, tmp_path, extra, needle):
    out = tmp_path / "v.mp4"
    result = run_aimv("render", song, "-o", out, *extra)
    assert result.code == 2
    assert needle in result.err and "Traceback" not in result.err
    assert not out.exists() and not (tmp_path / "v.aimv").exists()


def test_an_album_refuses_one_work_folder_for_all_songs(run_aimv, song, tmp_path):
    result = run_aimv("render", song, song, "-o", f"{tmp_path}/album/", "--work-dir", tmp_path)
    assert result.code == 2 and "--work-dir is for one song" in result.err


def test_an_album_needs_a_folder_not_a_video(run_aimv, song, tmp_path):
    result = run_aimv("render", song, song, "-o", tmp_path / "v.mp4")
    assert result.code == 2 and "need -o OUTDIR/" in result.err
    assert not (tmp_path / "v.mp4").exists()


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")
def test_a_ray_address_with_no_cluster_is_one_line(run_aimv, song, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    if ray.is_initialized():
        pytest.skip("a Ray cluster is connected in this process")
    result = run_aimv("render", song, "-o", tmp_path / "v.mp4", "--ray", "auto")
    assert result.code == 2 and "--ray 'auto': cannot connect to a Ray cluster there" in result.err
    assert not (tmp_path / "v.aimv" / "timeline.json").exists()
