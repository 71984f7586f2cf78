"""The diffusers engine on a tiny random-weight Stable Diffusion pipeline loaded from disk.

The pipeline is real (UNet, VAE, CLIP text encoder, tokenizer, scheduler, saved with
save_pretrained and loaded with from_pretrained offline), only small, so these tests run the
same loading and calling code a user's SD-Turbo run does.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from imagine_helpers import make_timeline
from PIL import Image

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.imagine import TextureOptions, make_textures
from aimv_backend.imagine.diffusion import DiffusionEngine
from aimv_backend.progress import SilentProgress

pytestmark = pytest.mark.slow

TIMELINE = make_timeline(
    [
        ("a red crash impact", 0.0, "loud"),
        ("a blue wave floating", 240.0, "quiet"),
        ("a red crash impact", 0.0, "loud"),
        ("a blue wave and a deep bass", 240.0, "normal"),
    ]
)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models on a shared 2-core machine: one thread is ~10x faster than two fighting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _options(model, **changes) -> TextureOptions:
    base = dict(
        engine="diffusers",
        model=str(model),
        size=(96, 64),
        steps=2,
        seed=5,
        batch_size=2,
        device="cpu",
        allow_download=False,
    )
    return TextureOptions(**{**base, **changes})


def _pixels(folder, result) -> list[np.ndarray]:
    return [np.asarray(Image.open(folder / w.texture)) for w in result.windows]


def test_writes_one_png_of_the_asked_size_per_window(tmp_path, tiny_sd, offline):
    result = make_textures(
        TIMELINE, timeline_dir=tmp_path, options=_options(tiny_sd), progress=SilentProgress()
    )
    assert result.engines["texture"] == f"diffusers:{tiny_sd}"
    textures = [w.texture for w in result.windows]
    assert textures[0] == textures[2] and len(set(textures)) == 3
    for image in _pixels(tmp_path, result):
        assert image.shape == (64, 96, 3)
        assert image.std() > 1  # the random model makes noise, not a blank image
    assert result.settings["textures"]["engine_used"] == "diffusers"


def test_same_seed_same_image_other_seed_other_image(tmp_path, tiny_sd, offline):
    a = make_textures(
        TIMELINE, timeline_dir=tmp_path / "a", options=_options(tiny_sd), progress=SilentProgress()
    )
    b = make_textures(
        TIMELINE, timeline_dir=tmp_path / "b", options=_options(tiny_sd), progress=SilentProgress()
    )
    c = make_textures(
        TIMELINE,
        timeline_dir=tmp_path / "c",
        options=_options(tiny_sd, seed=6),
        progress=SilentProgress(),
    )
    pa, pb, pc = _pixels(tmp_path / "a", a), _pixels(tmp_path / "b", b), _pixels(tmp_path / "c", c)
    for x, y in zip(pa, pb, strict=True):
        assert np.array_equal(x, y)
    assert all(
        np.abs(x.astype(int) - z.astype(int)).mean() > 1 for x, z in zip(pa, pc, strict=True)
    )


CHAIN = make_timeline(
    [
        ("a red crash impact and a deep kick", 0.0, "loud"),
        ("a red crash impact and a deep bass", 0.0, "loud"),
        ("a red crash impact and a deep bass", 0.0, "loud"),
        ("a red wave floating and a deep bass", 0.0, "normal"),
        ("blue sea birds over green hills", 240.0, "quiet"),
        ("blue sea birds over green hills at night", 240.0, "quiet"),
    ]
)


def test_continuity_chains_similar_sentences_and_starts_sections_on_big_changes(
    tmp_path, tiny_sd, offline, monkeypatch
):
    calls = []
    real_i2i, real_t2i = DiffusionEngine.image_to_image, DiffusionEngine.text_to_image

    def spy_i2i(self, prompt, seed, init, strength):
        calls.append(("img2img", prompt, seed, init.size, strength))
        return real_i2i(self, prompt, seed, init, strength)

    def spy_t2i(self, prompts, seeds):
        calls.extend(("txt2img", p, s, None, 1.0) for p, s in zip(prompts, seeds, strict=True))
        return real_t2i(self, prompts, seeds)

    monkeypatch.setattr(DiffusionEngine, "image_to_image", spy_i2i)
    monkeypatch.setattr(DiffusionEngine, "text_to_image", spy_t2i)
    options = _options(tiny_sd, continuity=True)
    result = make_textures(CHAIN, timeline_dir=tmp_path, options=options, progress=SilentProgress())
    by_prompt = {c[1]: c for c in calls}
    prompts = [w.description.prompt for w in CHAIN.windows]
    # Two sections: each opens with a fresh image, the sentences after it start from the image
    # before them; window 2 repeats window 1, so it shows the same image.
    assert [by_prompt[p][0] for p in prompts[:2] + prompts[3:]] == [
        "txt2img", "img2img", "img2img", "txt2img", "img2img"
    ]  # fmt: skip
    assert len(calls) == 5
    assert result.windows[1].texture == result.windows[2].texture
    small, larger = by_prompt[prompts[1]][4], by_prompt[prompts[3]][4]
    assert 0.3 <= small < larger <= 0.9  # the strength grows with the change
    assert all(c[3] == (96, 64) for c in calls if c[0] == "img2img")
    seeds = [by_prompt[p][2] for p in prompts]
    assert len(set(seeds[:4])) == 1 and len(set(seeds[4:])) == 1 and seeds[0] != seeds[4]
    assert all(img.shape == (64, 96, 3) for img in _pixels(tmp_path, result))
    calls.clear()
    again = make_textures(CHAIN, timeline_dir=tmp_path, options=options, progress=SilentProgress())
    assert calls == []  # cached, chain and all
    other = make_textures(
        CHAIN, timeline_dir=tmp_path / "b", options=options, progress=SilentProgress()
    )
    for x, y in zip(_pixels(tmp_path, again), _pixels(tmp_path / "b", other), strict=True):
        assert np.array_equal(x, y)  # same seed, same images


def test_tiny_vae_replaces_the_decoder(tmp_path, tiny_sd, tiny_vae, offline):
    result = make_textures(
        TIMELINE,
        timeline_dir=tmp_path,
        options=_options(tiny_sd, tiny_vae=str(tiny_vae), steps=1),
        progress=SilentProgress(),
    )
    plain = make_textures(
        TIMELINE,
        timeline_dir=tmp_path,
        options=_options(tiny_sd, steps=1),
        progress=SilentProgress(),
    )
    assert result.windows[0].texture != plain.windows[0].texture
    assert all(img.shape == (64, 96, 3) for img in _pixels(tmp_path, result))


def test_hub_id_offline_fails_fast_and_clearly(tmp_path, offline):
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="stabilityai/sd-turbo"):
        make_textures(
            TIMELINE,
            timeline_dir=tmp_path,
            options=_options("stabilityai/sd-turbo", allow_download=True),
            progress=SilentProgress(),
        )
    assert time.perf_counter() - started < 10
    with pytest.raises(ModelUnavailableError, match="no such model folder"):
        make_textures(
            TIMELINE,
            timeline_dir=tmp_path,
            options=_options(str(tmp_path / "missing-model")),
            progress=SilentProgress(),
        )


def test_no_network_fails_fast_without_retries(tmp_path, monkeypatch):
    """Downloads allowed, HF_HUB_OFFLINE unset, but the hub cannot be reached: the client
    would retry with back-off for ~30 s; the stage must answer within seconds."""
    from aimv_backend.imagine import diffusion

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setattr(diffusion, "hub_endpoint", lambda: "http://127.0.0.1:9")  # refused
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="cannot be reached"):
        make_textures(
            TIMELINE,
            timeline_dir=tmp_path,
            options=_options("someone/some-model", allow_download=True),
            progress=SilentProgress(),
        )
    assert time.perf_counter() - started < 10


def test_auto_falls_back_to_procedural_with_a_notice(tmp_path, offline, recording_progress):
    options = _options("stabilityai/sd-turbo", engine="auto")
    result = make_textures(
        TIMELINE, timeline_dir=tmp_path, options=options, progress=recording_progress
    )
    assert result.engines["texture"].startswith("procedural")
    assert any(
        "falling back to procedural" in n and "sd-turbo" in n for n in recording_progress.notices
    )
    assert all(img.shape == (64, 96, 3) for img in _pixels(tmp_path, result))


def test_auto_uses_diffusers_when_the_model_loads(tmp_path, tiny_sd, offline):
    result = make_textures(
        TIMELINE,
        timeline_dir=tmp_path,
        options=_options(tiny_sd, engine="auto"),
        progress=SilentProgress(),
    )
    assert result.engines["texture"].startswith("diffusers")
