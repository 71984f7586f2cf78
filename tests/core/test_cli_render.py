"""``aimv render``: bad input fails before any work, in one line, and nothing is overwritten."""

from __future__ import annotations

import pytest

from tests.conftest import sine


@pytest.fixture
def song(write_wav):
    return write_wav("song.wav", sine(440, 2.0, 16000), 16000)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("-o", "{tmp}/v.avi"), "--output must name an .mp4"),
        (("-o", "{tmp}/v.mp4", "--resolution", "10x10"), "--resolution"),
        (("-o", "{tmp}/v.mp4", "--resolution", "wide"), "--resolution"),
        (("-o", "{tmp}/v.mp4", "--fps", "0"), "--fps"),
        (("-o", "{tmp}/v.mp4", "--blender", "{tmp}/no-blender"), "--blender"),
        (("-o", "{tmp}/v.mp4", "--window", "0.1"), "--window"),
    ],
)
def test_bad_options_fail_before_any_work(run_aimv, song, tmp_path, args, needle):
    result = run_aimv("render", song, *(a.format(tmp=tmp_path) for a in args))
    assert result.code == 2
    assert needle in result.err and "Traceback" not in result.err
    assert not (tmp_path / "v.aimv").exists() and not (tmp_path / "v.mp4").exists()


def test_missing_song_creates_nothing(run_aimv, tmp_path):
    result = run_aimv("render", tmp_path / "none.wav", "-o", tmp_path / "v.mp4")
    assert result.code == 2 and "does not exist" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_video_aimv_did_not_make_is_not_overwritten(run_aimv, song, tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"the user's own video")
    result = run_aimv("render", song, "-o", video, "--quiet")
    assert result.code == 2 and "--force" in result.err
    assert video.read_bytes() == b"the user's own video"


def test_bad_texture_size_fails_before_any_work(run_aimv, song, tmp_path):
    result = run_aimv("render", song, "-o", tmp_path / "v.mp4", "--texture-size", "7")
    assert result.code == 2 and "size" in result.err
    assert not (tmp_path / "v.aimv").exists()


def test_a_failed_run_leaves_no_empty_folders(run_aimv, song, tmp_path):
    result = run_aimv(
        "render",
        song,
        "-o",
        tmp_path / "new" / "v.mp4",
        "--vectors",
        "no-such",
        "--offline",
        "--quiet",
    )
    assert result.code == 2 and "--vectors" in result.err
    assert not (tmp_path / "new").exists()
