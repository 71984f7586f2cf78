"""`aimv textures timeline.json` through the real CLI entry point."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from aimv_backend.cli.main import main
from aimv_timeline.names import SEQUENCE_DIR, TEXTURES_DIR, TIMELINE_FILE
from aimv_timeline.schema import read_timeline, replace, write_timeline

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def timeline_file(tmp_path, song_timeline):
    path = tmp_path / "out" / TIMELINE_FILE
    path.parent.mkdir()
    write_timeline(song_timeline, path)
    return path


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("aimv: error:")
    for word in words:
        assert word in err, err
    return err


def test_textures_command_writes_pngs_and_updates_the_timeline(timeline_file):
    code = main(
        [
            "textures",
            str(timeline_file),
            "--textures",
            "procedural",
            "--size",
            "128x64",
            "--seed",
            "3",
            "--quiet",
        ]
    )
    assert code == 0
    timeline = read_timeline(timeline_file)
    assert timeline.engines["texture"].startswith("procedural")
    assert timeline.settings["imagine"]["seed"] == 3
    for window in timeline.windows:
        assert window.texture.startswith("textures/")
        with Image.open(timeline_file.parent / window.texture) as img:
            assert img.size == (128, 64)
    assert not [p for p in timeline_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_linked_timeline_is_imagined_where_its_file_is_and_stays_a_link(timeline_file, tmp_path):
    """A project folder holding a symbolic link to a timeline: the textures go beside the real
    file, the real file records them, and the link still leads to it."""
    link = tmp_path / "project" / "song.json"
    link.parent.mkdir()
    link.symlink_to(timeline_file)
    args = ["imagine", str(link), "--textures", "procedural", "--size", "64x64", "--quiet"]
    assert main(args) == 0
    assert link.is_symlink() and link.resolve() == timeline_file.resolve()
    timeline = read_timeline(timeline_file)
    assert all((timeline_file.parent / w.texture).is_file() for w in timeline.windows)
    assert not (link.parent / TEXTURES_DIR).exists()
    assert main(["describe", str(link), "--quiet"]) == 0
    assert link.is_symlink() and read_timeline(timeline_file).windows[0].description is not None


def test_a_picture_set_by_hand_is_kept_until_force(timeline_file, capsys):
    """An artist points two windows at pictures of their own: imagining again keeps them and
    says so; --force puts AIMV's textures back."""
    args = ["imagine", str(timeline_file), "--textures", "procedural", "--size", "64x64"]
    assert main([*args, "--quiet"]) == 0
    made = read_timeline(timeline_file)
    folder = timeline_file.parent
    (folder / "mine").mkdir()
    Image.new("RGB", (64, 64), "red").save(folder / "mine" / "photo.png")
    Image.new("RGB", (64, 64), "blue").save(folder / TEXTURES_DIR / "sky.png")
    windows = list(made.windows)
    windows[0] = replace(windows[0], texture="mine/photo.png")
    windows[2] = replace(windows[2], texture=f"{TEXTURES_DIR}/sky.png")
    write_timeline(replace(made, windows=tuple(windows)), timeline_file)
    capsys.readouterr()
    assert main([*args, "--seed", "5"]) == 0
    said = capsys.readouterr()
    assert "kept the pictures set by hand in 2 windows (0, 2)" in said.err
    assert said.out == f"wrote: {timeline_file}\n"  # stdout: what it wrote, as every command
    again = read_timeline(timeline_file)
    assert [w.texture for w in again.windows][0:3:2] == ["mine/photo.png", "textures/sky.png"]
    assert again.windows[1].texture != made.windows[1].texture  # the new seed's texture
    assert main([*args, "--seed", "5", "--force", "--quiet"]) == 0
    forced = read_timeline(timeline_file)
    assert all(w.texture and w.texture.startswith("textures/") for w in forced.windows)
    assert forced.windows[2].texture != "textures/sky.png"
    assert (folder / "mine" / "photo.png").is_file()  # the picture itself is never touched


def test_out_dir_option(timeline_file, tmp_path):
    out = timeline_file.parent / "pngs"
    assert (
        main(
            [
                "textures",
                str(timeline_file),
                "--textures",
                "procedural",
                "--size",
                "64",
                "--out-dir",
                str(out),
                "--progress",
                "none",
            ]
        )
        == 0
    )
    timeline = read_timeline(timeline_file)
    assert all(w.texture.startswith("pngs/") for w in timeline.windows)
    assert len(list(out.glob("*.png"))) == 4


def test_out_dir_outside_the_timeline_folder_is_refused(timeline_file, tmp_path, capsys):
    """The path rule (issue 13.2): a timeline's paths stay inside its folder."""
    outside = tmp_path.parent / "elsewhere"
    code = main(["textures", str(timeline_file), "--out-dir", str(outside), "--progress", "none"])
    assert code == 2
    assert "inside the timeline's folder" in capsys.readouterr().err
    assert not outside.exists()


def test_missing_timeline_is_one_line_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert main(["textures", str(missing), "--textures", "procedural"]) == 2
    _one_line_error(capsys, "nope.json")


def test_invalid_timeline_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1.0"}')
    assert main(["textures", str(bad), "--textures", "procedural"]) == 2
    _one_line_error(capsys, "source")


@pytest.mark.parametrize("size", ["0", "7", "100", "64x4096", "big"])
def test_bad_size_is_one_line_exit_2(timeline_file, capsys, size):
    assert main(["textures", str(timeline_file), "--size", size]) == 2
    _one_line_error(capsys, "--texture-size")


def test_unwritable_out_dir_is_one_line_exit_2(timeline_file, tmp_path, capsys):
    blocker = timeline_file.parent / "a-file"
    blocker.write_text("x")
    assert (
        main(
            [
                "textures",
                str(timeline_file),
                "--textures",
                "procedural",
                "--out-dir",
                str(blocker / "textures"),
            ]
        )
        == 2
    )
    _one_line_error(capsys, "textures folder")
    assert read_timeline(timeline_file).windows[0].texture is None  # timeline untouched


@pytest.mark.slow
def test_diffusers_hub_id_offline_is_one_line_exit_2(timeline_file, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert (
        main(
            [
                "textures",
                str(timeline_file),
                "--textures",
                "diffusers",
                "--device",
                "cpu",
                "--model",
                "stabilityai/sd-turbo",
                "--size",
                "64",
            ]
        )
        == 2
    )
    _one_line_error(capsys, "--model", "stabilityai/sd-turbo")


@pytest.mark.slow
def test_diffusers_from_a_local_folder(timeline_file, tiny_sd, monkeypatch):
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code = main(
            [
                "textures",
                str(timeline_file),
                "--textures",
                "diffusers",
                "--device",
                "cpu",
                "--model",
                str(tiny_sd),
                "--size",
                "64",
                "--steps",
                "1",
                "--offline",
                "--quiet",
            ]
        )
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    timeline = read_timeline(timeline_file)
    assert timeline.engines["texture"] == f"diffusers:{tiny_sd}"
    assert timeline.settings["imagine"]["steps"] == 1
    with Image.open(timeline_file.parent / timeline.windows[0].texture) as img:
        assert img.size == (64, 64)


def test_a_stale_temporary_texture_is_swept_and_other_files_kept(timeline_file):
    """A worker killed in the middle of a PNG leaves ``.NAME.XXXX.tmp.png``; the next
    ``aimv imagine`` on the folder removes it, and leaves files that are not AIMV's pattern."""
    textures = timeline_file.parent / TEXTURES_DIR
    textures.mkdir()
    stale = textures / ".0123456789abcdef.png.k2j3h4l5.tmp.png"
    stale.write_bytes(b"half a png")
    mine = textures / "notes.tmp"
    mine.write_text("mine")
    args = ["imagine", str(timeline_file), "--textures", "procedural", "--size", "128x64"]
    assert main([*args, "--quiet"]) == 0
    assert not stale.exists()
    assert mine.read_text() == "mine"
    assert read_timeline(timeline_file).windows[0].texture.startswith(f"{TEXTURES_DIR}/")


@contextlib.contextmanager
def _folder_held_by_another_process(folder):
    code = (
        "import time; from aimv_backend.util.locks import folder_lock\n"
        f"with folder_lock({str(folder)!r}):\n"
        "    print('locked', flush=True); time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("command", ["imagine", "describe", "stage"])
def test_a_timeline_in_use_by_another_run_is_refused_untouched(
    timeline_file, tmp_path, capsys, command
):
    """Two runs on one timeline would overwrite each other's writes: the second refuses at
    once with one line naming the holder, and the timeline stays as it was."""
    before = timeline_file.read_bytes()
    video = tmp_path / "video.mp4"
    extra = []
    if command == "stage":
        song = tmp_path / "song.wav"
        sf.write(song, np.zeros(8000, np.float32), 8000)
        extra = ["--audio", str(song), "-o", str(video)]
    with _folder_held_by_another_process(timeline_file.parent) as pid:
        assert main([command, str(timeline_file), "--progress", "none", *extra]) == 2
        _one_line_error(capsys, "in use by another AIMV run", f"pid {pid}")
    assert timeline_file.read_bytes() == before
    assert not (timeline_file.parent / TEXTURES_DIR).exists()
    assert not (timeline_file.parent / SEQUENCE_DIR).exists()
    assert not video.exists()
