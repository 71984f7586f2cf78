"""Procedural textures written by worker processes: the same files as one process, and a
failure in a worker stops the stage with only complete PNGs left behind."""

from __future__ import annotations

import pytest
from imagine_helpers import make_timeline

from aimv_backend.imagine import TextureOptions, make_textures, procedural, procedural_pool
from aimv_backend.imagine.cache import png_size
from aimv_backend.progress import SilentProgress

OPTIONS = TextureOptions(engine="procedural", size=(96, 64), seed=3)
RENDER_IMAGE = procedural.render_image
SPECS = [(f"a river of light number {i}", 15.0 * i, "normal") for i in range(24)]


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.skipif(not procedural_pool.sys.platform.startswith("linux"), reason="Linux only")
def test_two_workers_write_the_same_textures_as_one(tmp_path, monkeypatch):
    timeline = make_timeline(SPECS)
    results = {}
    for workers in (1, 2):
        monkeypatch.setattr(procedural_pool, "worker_count", lambda jobs, n=workers: n)
        folder = tmp_path / f"w{workers}"
        results[workers] = make_textures(
            timeline, timeline_dir=folder, options=OPTIONS, progress=SilentProgress()
        )
        assert len(list((folder / "textures").glob("*.png"))) == 24
    assert results[1] == results[2]  # the timeline records the same files
    assert _files(tmp_path / "w1" / "textures") == _files(tmp_path / "w2" / "textures")


class FailsOn:
    """A renderer that fails on one prompt (the pool's workers are forked: they inherit it)."""

    def __init__(self, prompt: str):
        self.prompt = prompt

    def __call__(self, prompt, **kwargs):
        if prompt == self.prompt:
            raise OSError(28, "No space left on device")
        return RENDER_IMAGE(prompt, **kwargs)


@pytest.mark.skipif(not procedural_pool.sys.platform.startswith("linux"), reason="Linux only")
def test_a_worker_failure_stops_the_stage_and_a_rerun_makes_only_the_rest(tmp_path, monkeypatch):
    timeline = make_timeline(SPECS)
    monkeypatch.setattr(procedural_pool, "worker_count", lambda jobs: 2)
    monkeypatch.setattr(procedural, "render_image", FailsOn(SPECS[12][0]))
    with pytest.raises(OSError, match="No space left"):
        make_textures(timeline, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress())
    written = list((tmp_path / "textures").iterdir())
    assert 12 <= len(written) < 24  # everything before the failure, nothing half-written
    assert all(png_size(p) == (96, 64) for p in written)
    monkeypatch.setattr(procedural, "render_image", RENDER_IMAGE)
    result = make_textures(
        timeline, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress()
    )
    assert all(w.texture for w in result.windows)
    assert len(list((tmp_path / "textures").glob("*.png"))) == 24


def test_few_textures_are_not_worth_a_pool():
    assert procedural_pool.worker_count(jobs=3) == 1
    assert procedural_pool.worker_count(jobs=1000) >= 1
