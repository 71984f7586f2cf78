"""The procedural engine: deterministic, coloured by the window, shaped by words and volume."""

from __future__ import annotations

import numpy as np
import pytest
from imagine_helpers import SONG

from aimv_backend.imagine.procedural import Style, dominant_hue, render
from aimv_backend.imagine.procedural_motifs import choose_motifs, motif_scores

PROMPTS = list(dict.fromkeys(p for p, _, _ in SONG if p)) + [
    "tech synth grid laser",
    "sparkle glitter hihat shimmer",
    "piano bell ripple",
    "a still, calm and dark abstract texture",
]


def _hue_error(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _structure(rgb: np.ndarray) -> tuple[float, float]:
    """(mean |Laplacian| of the 4x box-averaged luminance, share of its spectrum above
    1/16 cycles per pixel): both ~0 for a flat colour or a smooth gradient; the box average
    removes the film grain so only real structure counts."""
    g = rgb.astype(np.float64).mean(axis=-1)
    h, w = (g.shape[0] // 4) * 4, (g.shape[1] // 4) * 4
    g = g[:h, :w].reshape(h // 4, 4, w // 4, 4).mean(axis=(1, 3))
    lap = np.abs(4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:])
    spectrum = np.abs(np.fft.rfft2(g - g.mean())) ** 2
    fy = np.fft.fftfreq(g.shape[0])[:, None]
    fx = np.fft.rfftfreq(g.shape[1])[None, :]
    high = spectrum[np.hypot(fx, fy) > 1 / 16].sum() / spectrum.sum()
    return float(lap.mean()), float(high)


def test_same_prompt_and_seed_give_identical_bytes():
    style = Style(hue=200.0, saturation=0.7, value=0.8, energy=0.6)
    a = render(PROMPTS[0], seed=3, size=(256, 192), style=style)
    b = render(PROMPTS[0], seed=3, size=(256, 192), style=style)
    assert a.tobytes() == b.tobytes()
    c = render(PROMPTS[0], seed=4, size=(256, 192), style=style)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 10


@pytest.mark.parametrize("hue", [0.0, 120.0, 240.0, 45.0, 300.0])
def test_dominant_hue_follows_the_window_colour(hue):
    for prompt in PROMPTS:
        for energy in (0.1, 0.9):
            rgb = render(
                prompt,
                seed=0,
                size=(128, 128),
                style=Style(hue=hue, saturation=0.8, value=0.8, energy=energy),
            )
            assert _hue_error(dominant_hue(rgb), hue) < 20, (prompt, energy)


@pytest.mark.parametrize("size", [(64, 64), (512, 512), (320, 192), (200, 640)])
def test_size_is_as_asked(size):
    rgb = render("wave", seed=0, size=size, style=Style(90.0, 0.6, 0.7, 0.5))
    assert rgb.shape == (size[1], size[0], 3)
    assert rgb.dtype == np.uint8


def test_not_flat_and_rich_in_structure():
    ramp = np.repeat(np.linspace(0, 255, 256)[None, :, None], 256, axis=0)
    ramp = np.repeat(ramp, 3, axis=2).astype(np.uint8)
    ramp_lap, ramp_high = _structure(ramp)
    assert ramp.std() > 20  # a gradient passes a std test, so structure is checked too
    for prompt in PROMPTS:
        for energy in (0.1, 0.5, 0.9):
            rgb = render(prompt, seed=1, size=(256, 256), style=Style(30.0, 0.7, 0.8, energy))
            lap, high = _structure(rgb)
            assert rgb.std() > 15, prompt
            assert lap > 10 * max(ramp_lap, 0.05), prompt
            assert high > 1.5 * ramp_high or lap > 2.0, prompt


def test_different_prompts_differ():
    style = Style(hue=150.0, saturation=0.7, value=0.8, energy=0.5)
    images = [render(p, seed=0, size=(128, 128), style=style).astype(int) for p in PROMPTS]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert np.abs(images[i] - images[j]).mean() > 8, (PROMPTS[i], PROMPTS[j])


def test_words_choose_the_motifs():
    rng = np.random.default_rng(0)
    assert choose_motifs("a crash and an impact", rng)[0][0] == "burst"
    assert choose_motifs("floating on a wave", rng)[0][0] == "flow"
    assert choose_motifs("deep bass", rng)[0][0] == "deep"
    assert choose_motifs("techy synth", rng)[0][0] == "grid"
    assert choose_motifs("piano bell", rng)[0][0] == "rings"
    assert choose_motifs("sparkle hihat", rng)[0][0] == "particles"
    assert sum(motif_scores("nothing here at all").values()) == 0
    assert len(choose_motifs("nothing here at all", rng)) == 1


def test_deep_words_are_darker_and_volume_adds_energy():
    style = Style(hue=260.0, saturation=0.7, value=0.8, energy=0.5)
    deep = render("deep dark bass", seed=0, size=(256, 256), style=style)
    burst = render("crash impact burst", seed=0, size=(256, 256), style=style)
    assert deep.mean() < burst.mean() - 10
    quiet = render("crash impact", seed=0, size=(256, 256), style=Style(260.0, 0.7, 0.8, 0.1))
    loud = render("crash impact", seed=0, size=(256, 256), style=Style(260.0, 0.7, 0.8, 0.9))
    assert loud.std() > quiet.std() + 15
    assert loud.mean() > quiet.mean() + 20


def test_grey_colours_give_grey_textures_with_structure():
    from aimv_timeline.schema import Colour, Volume

    silent = Style.from_window(
        Colour("#000000", "black", 0.0, 0.0, 0.0, None, "silence"),
        Volume(rms_dbfs=-120.0, peak_dbfs=-120.0, relative_db=-40.0, level="silent"),
    )
    assert silent.energy == 0.0
    rgb = render("a still, calm and dark abstract texture", seed=0, size=(256, 256), style=silent)
    spread = rgb.max(axis=-1).astype(int) - rgb.min(axis=-1).astype(int)
    assert spread.mean() < 6  # no invented colour
    assert 10 < rgb.mean() < 120  # dark, but not black
    assert rgb.std() > 8 and _structure(rgb)[0] > 0.5
