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


def test_describe_options_survive_a_later_render(run_aimv, song, tmp_path):
    """`aimv describe --top-k 4` is not undone by the next `aimv render` (options not given
    keep what the timeline was described with); a describe option that is given applies."""
    import json

    from aimv_timeline.names import TIMELINE_FILE

    work = tmp_path / "w"
    fast = ("--instruments", "none", "--no-voice", "--quiet")
    assert run_aimv("listen", song, "-o", work, *fast).code == 0
    path = work / TIMELINE_FILE
    assert run_aimv("describe", path, "--top-k", "4", "--quiet").code == 0
    described = path.read_bytes()
    assert json.loads(described)["settings"]["describe"]["top_k"] == 4
    render = ("render", song, "--work-dir", work, "--until", "describe", *fast)
    assert run_aimv(*render).code == 0
    assert path.read_bytes() == described, "the render described the song again"
    assert run_aimv(*render, "--style", "in ink").code == 0
    settings = json.loads(path.read_text())["settings"]["describe"]
    assert (settings["top_k"], settings["style"]) == (4, "in ink")


def test_until_imagine_makes_textures_and_no_video(run_aimv, song, tmp_path):
    """What the add-on's Generate runs: listen, describe and imagine, no Blender."""
    from aimv_timeline.names import TIMELINE_FILE
    from aimv_timeline.schema import read_timeline

    work = tmp_path / "w"
    result = run_aimv(
        "render", song, "--work-dir", work, "--until", "imagine", "--textures", "procedural",
        "--instruments", "none", "--no-voice", "--progress", "json",
    )  # fmt: skip
    assert result.code == 0, result.err
    timeline = read_timeline(work / TIMELINE_FILE)
    assert all(w.texture and (work / w.texture).is_file() for w in timeline.windows)
    assert timeline.settings["imagine"]["size"] == [512, 512]  # the preview preset's
    stages = [line for line in result.err.splitlines() if '"event": "stage"' in line]
    assert [s.split('"stage": "')[1].split('"')[0] for s in stages] == [
        "listen",
        "describe",
        "imagine",
    ]
    assert not list(tmp_path.glob("*.mp4"))
