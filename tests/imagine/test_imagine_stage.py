"""make_textures with the procedural engine: files, timeline records, cache and resume."""

from __future__ import annotations

import numpy as np
import pytest
from imagine_helpers import make_timeline
from PIL import Image

from aimv_backend.errors import OutputError, ParameterError
from aimv_backend.imagine import (
    TextureOptions,
    continuity_strength,
    make_textures,
    procedural,
    window_prompt,
)
from aimv_backend.imagine import make as run_module
from aimv_backend.imagine.cache import png_size
from aimv_backend.progress import SilentProgress
from aimv_timeline.names import TIMELINE_FILE
from aimv_timeline.schema import read_timeline, write_timeline

OPTIONS = TextureOptions(engine="procedural", size=(128, 96), seed=7)


class CountingRender:
    """Wraps the real renderer: counts calls and can fail after a number of images."""

    def __init__(self, monkeypatch, fail_after: int | None = None):
        self.calls = 0
        self.fail_after = fail_after
        self._real = procedural.render_image
        monkeypatch.setattr(procedural, "render_image", self)

    def __call__(self, *args, **kwargs):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        self.calls += 1
        return self._real(*args, **kwargs)


def test_one_png_per_distinct_prompt_recorded_in_the_timeline(
    tmp_path, song_timeline, recording_progress
):
    path = tmp_path / TIMELINE_FILE
    write_timeline(song_timeline, path)
    result = make_textures(
        song_timeline,
        timeline_dir=tmp_path,
        options=OPTIONS,
        progress=recording_progress,
        timeline_path=path,
    )
    textures = [w.texture for w in result.windows]
    assert all(t and t.startswith("textures/") and t.endswith(".png") for t in textures)
    assert textures[0] == textures[2]  # same prompt, colour and volume: one shared image
    assert len(set(textures)) == 4
    for t in textures:
        with Image.open(tmp_path / t) as img:
            assert img.size == (128, 96) and img.mode == "RGB"
    assert sorted(p.name for p in (tmp_path / "textures").iterdir()) == sorted(
        {t.split("/")[1] for t in textures}
    )
    back = read_timeline(path)
    assert [w.texture for w in back.windows] == textures
    assert back.engines["texture"] == "procedural:procedural-v1"
    assert back.engines["colour"] == "test"  # other stages' records kept
    assert back.settings["imagine"]["size"] == [128, 96]
    assert back.settings["imagine"]["seed"] == 7
    assert back.settings["imagine"]["images"] == 4
    assert "analyze" in back.settings
    assert recording_progress.tasks == [["textures", 4, 4]]
    assert any("4 images for 5 windows, 4 made" in n for n in recording_progress.notices)


def test_out_dir_and_relative_paths(tmp_path, song_timeline):
    out = tmp_path / "elsewhere" / "tex"
    result = make_textures(
        song_timeline,
        timeline_dir=tmp_path / "tl",
        out_dir=out,
        options=OPTIONS,
        progress=SilentProgress(),
    )
    assert result.windows[0].texture.startswith("../elsewhere/tex/")
    assert (tmp_path / "tl" / result.windows[0].texture).resolve().is_file()


def test_rerun_generates_nothing(tmp_path, song_timeline, monkeypatch):
    first = make_textures(
        song_timeline, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress()
    )
    files = sorted((tmp_path / "textures").iterdir())
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    counter = CountingRender(monkeypatch)
    again = make_textures(
        song_timeline, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress()
    )
    assert counter.calls == 0
    assert again == first  # nothing changes, so a later stage's fingerprint holds
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before
    forced = make_textures(
        song_timeline, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress(), force=True
    )
    assert counter.calls == 4 and forced == first
    assert {p: p.read_bytes() for p in files} == {p: b for p, (_, b) in before.items()}


def test_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    timeline = make_timeline([(f"wave number {i}", 36.0 * i, "normal") for i in range(8)])
    path = tmp_path / TIMELINE_FILE
    write_timeline(timeline, path)
    monkeypatch.setattr(run_module, "CHECKPOINT_SECONDS", 0.0)
    counter = CountingRender(monkeypatch, fail_after=3)
    with pytest.raises(KeyboardInterrupt):
        make_textures(
            timeline,
            timeline_dir=tmp_path,
            options=OPTIONS,
            progress=SilentProgress(),
            timeline_path=path,
        )
    done = sorted((tmp_path / "textures").iterdir())
    assert len(done) == 3 and all(png_size(p) == (128, 96) for p in done)  # no temp files
    partial = read_timeline(path)  # the checkpoint records what was finished
    assert [w.texture is not None for w in partial.windows] == [True] * 3 + [False] * 5
    assert partial.settings["imagine"]["complete"] is False
    counter.fail_after = None
    counter.calls = 0
    result = make_textures(
        timeline,
        timeline_dir=tmp_path,
        options=OPTIONS,
        progress=SilentProgress(),
        timeline_path=path,
    )
    assert counter.calls == 5
    assert len({w.texture for w in result.windows}) == 8
    assert read_timeline(path).settings["imagine"]["complete"] is True


def test_a_truncated_png_is_made_again(tmp_path, song_timeline, monkeypatch):
    result = make_textures(
        song_timeline, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress()
    )
    broken = tmp_path / result.windows[1].texture
    good = broken.read_bytes()
    broken.write_bytes(good[: len(good) // 2])
    counter = CountingRender(monkeypatch)
    make_textures(song_timeline, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress())
    assert counter.calls == 1 and broken.read_bytes() == good


def test_cache_key_follows_seed_size_and_colour(tmp_path, song_timeline):
    def names(**changes):
        options = TextureOptions(**{**OPTIONS.__dict__, **changes})
        result = make_textures(
            song_timeline, timeline_dir=tmp_path, options=options, progress=SilentProgress()
        )
        return [w.texture for w in result.windows]

    base = names()
    assert names() == base
    assert set(names(seed=8)).isdisjoint(base)
    assert set(names(size=(96, 128))).isdisjoint(base)
    recoloured = make_timeline([("wave", 10.0, "loud"), ("wave", 200.0, "loud")])
    result = make_textures(
        recoloured, timeline_dir=tmp_path, options=OPTIONS, progress=SilentProgress()
    )
    a, b = (np.asarray(Image.open(tmp_path / w.texture)) for w in result.windows)
    assert result.windows[0].texture != result.windows[1].texture
    assert abs(procedural.dominant_hue(a) - 10.0) < 20
    assert abs(procedural.dominant_hue(b) - 200.0) < 20


def test_windows_without_description_get_a_colour_and_volume_prompt():
    timeline = make_timeline([(None, 120.0, "quiet"), (None, 0.0, "loud")])
    quiet, loud = (window_prompt(w) for w in timeline.windows)
    assert "hue120" in quiet and "soft" in quiet
    assert "hue0" in loud and "burst" in loud


def test_continuity_strength_follows_how_much_the_sentence_changed():
    assert continuity_strength("a red wave", "a red wave") == 0.3
    assert continuity_strength("a red wave", "deep blue kick") == 0.9
    middle = continuity_strength("kick hits and bass plays", "kick hits and cello plays")
    assert 0.3 < middle < 0.9


def test_auto_without_gpu_falls_back_to_procedural_with_a_notice(
    tmp_path, song_timeline, recording_progress
):
    from aimv_backend.imagine.diffusion import has_gpu

    if has_gpu():
        pytest.skip("this machine has a GPU: auto would use diffusers")
    result = make_textures(
        song_timeline,
        timeline_dir=tmp_path,
        options=TextureOptions(engine="auto", size=(64, 64)),
        progress=recording_progress,
    )
    assert result.engines["texture"].startswith("procedural")
    assert any("no GPU" in n for n in recording_progress.notices)


def test_bad_options_and_unwritable_folder(tmp_path, song_timeline):
    for bad in (
        {"size": (0, 64)},
        {"size": (7, 64)},
        {"size": (4096, 64)},
        {"engine": "magic"},
        {"steps": 0},
        {"batch_size": 0},
        {"device": "tpu"},
    ):
        with pytest.raises(ParameterError):
            TextureOptions(**bad)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError):
        make_textures(
            song_timeline,
            timeline_dir=tmp_path,
            out_dir=blocker / "textures",
            options=OPTIONS,
            progress=SilentProgress(),
        )


def test_default_options_and_size_parsing():
    from aimv_backend.imagine import parse_size

    o = TextureOptions()
    assert (o.engine, o.model, o.size, o.steps, o.guidance) == (
        "auto",
        "stabilityai/sd-turbo",
        (512, 512),
        1,
        0.0,
    )
    assert (o.seed, o.batch_size, o.tiny_vae, o.continuity, o.device, o.allow_download) == (
        0,
        4,
        None,
        False,
        None,
        True,
    )
    assert parse_size("768x512") == (768, 512)
    assert parse_size("256") == (256, 256)
    for bad in ("0", "7", "64x", "x", "2056", "-64"):
        with pytest.raises(ParameterError, match="--texture-size"):
            parse_size(bad)
