"""The offline texture engine: layered, domain-warped noise plus word-chosen motifs, coloured
from the window's colour and shaped by its volume.

Why procedural: it runs anywhere in tens of milliseconds, needs no model and is exactly
reproducible, so every user gets a video even without a GPU. The image is a pure function of
(prompt, seed, size, style): the seed of the random generator is a sha256 of prompt and seed.

Pipeline (all numpy, vectorised, at half the output resolution for speed):
1. value-noise octaves made by smooth interpolation matrices (two small matrix products each);
2. a flow field (two noise fields) warps the coordinates (domain warping);
3. motifs chosen from the prompt's words (procedural_motifs) are drawn on warped coordinates;
4. clouds and motifs are mixed, contrast and brightness follow the volume (energy);
5. the field is upscaled, mapped through a 2-D palette built around the window colour's hue
   (intensity x a slow hue drift of a few degrees) and a fine film grain is added.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

from aimv_backend.imagine.procedural_motifs import MOTIF_FUNCTIONS, choose_motifs
from aimv_timeline.schema import Colour, Volume

ENGINE_VERSION = "procedural-v1"
_LEVEL_ENERGY = {"silent": 0.05, "quiet": 0.3, "normal": 0.55, "loud": 0.85}
_HUE_ROWS = 16


@dataclass(frozen=True)
class Style:
    """What besides prompt and seed shapes a procedural texture.

    hue: degrees [0, 360); saturation, value: [0, 1] (the window colour);
    energy: [0, 1] from the volume level and relative_db (quantised to 0.05 so that
    near-identical windows share an image).
    """

    hue: float
    saturation: float
    value: float
    energy: float

    @classmethod
    def from_window(cls, colour: Colour, volume: Volume) -> Style:
        energy = _LEVEL_ENERGY.get(volume.level, 0.5)
        energy += max(-12.0, min(12.0, volume.relative_db)) / 48.0
        energy = round(max(0.0, min(1.0, energy)) * 20.0) / 20.0
        return cls(
            hue=round(colour.hue, 1) % 360.0,
            saturation=round(colour.saturation, 3),
            value=round(colour.value, 3),
            energy=energy,
        )

    def key(self) -> str:
        return f"h{self.hue:.1f}s{self.saturation:.3f}v{self.value:.3f}e{self.energy:.2f}"


def prompt_seed(prompt: str, seed: int, *, salt: str = ENGINE_VERSION) -> int:
    """A 64-bit seed from prompt and seed (sha256: stable across runs, unlike hash())."""
    digest = hashlib.sha256(f"{salt}|{seed}|{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


# --------------------------------------------------------------------------------------------
# Noise


@lru_cache(maxsize=64)
def _interp_matrix(n_out: int, n_in: int) -> np.ndarray:
    """(n_out, n_in) matrix that resamples n_in grid values smoothly (smoothstep weights)."""
    pos = (np.arange(n_out, dtype=np.float64) + 0.5) / n_out * (n_in - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, n_in - 2)
    t = pos - lo
    t = t * t * (3.0 - 2.0 * t)
    m = np.zeros((n_out, n_in), np.float32)
    rows = np.arange(n_out)
    m[rows, lo] = 1.0 - t
    m[rows, lo + 1] += t
    m.setflags(write=False)
    return m


def _octave(rng: np.random.Generator, h: int, w: int, cells: float) -> np.ndarray:
    short = min(h, w)
    gh = max(2, round(cells * h / short) + 1)
    gw = max(2, round(cells * w / short) + 1)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    return _interp_matrix(h, gh) @ grid @ _interp_matrix(w, gw).T


def fbm(
    rng: np.random.Generator, h: int, w: int, *, cells: float, octaves: int, persistence: float
) -> np.ndarray:
    """Fractal value noise, normalised to mean 0.5 and std ~0.17 (float32, h x w)."""
    total = np.zeros((h, w), np.float32)
    amp = 1.0
    for i in range(octaves):
        c = cells * 2.0**i
        if c > min(h, w) / 2:
            break
        total += np.float32(amp) * _octave(rng, h, w, c)
        amp *= persistence
    total -= total.mean()
    total *= np.float32(0.17 / (total.std() + 1e-6))
    total += np.float32(0.5)
    return total


# --------------------------------------------------------------------------------------------
# Palette


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised HSV (all in [0, 1]) to RGB floats."""
    i = np.floor(h * 6.0).astype(int) % 6
    f = h * 6.0 - np.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    choices = [
        np.stack([v, t, p], -1),
        np.stack([q, v, p], -1),
        np.stack([p, v, t], -1),
        np.stack([p, q, v], -1),
        np.stack([t, p, v], -1),
        np.stack([v, p, q], -1),
    ]
    out = np.zeros(h.shape + (3,), np.float64)
    for k, c in enumerate(choices):
        out[i == k] = c[i == k]
    return out


def palette_lut(style: Style, rng: np.random.Generator, *, dark: bool) -> np.ndarray:
    """(_HUE_ROWS * 256, 3) uint8 lookup: row = slow hue drift, column = intensity.

    Hues stay within about +-22 degrees of the window colour, so the image's dominant hue is
    the colour's; shadows lean one way, highlights the other (a split tone an artist would pick).
    """
    t = np.linspace(0.0, 1.0, 256)[None, :]
    u = np.linspace(-1.0, 1.0, _HUE_ROWS)[:, None]
    tilt = float(rng.choice([-1.0, 1.0])) * float(rng.uniform(6.0, 12.0))
    hue = (style.hue + 10.0 * u + tilt * (t - 0.5) * 2.0) / 360.0 % 1.0
    grey = style.saturation < 0.08
    sat0 = style.saturation if grey else 0.35 + 0.65 * style.saturation
    sat = sat0 * (1.0 - 0.55 * t**4) * (0.85 + 0.15 * np.cos(u * 1.3))
    top = 0.6 + 0.4 * max(style.value, 0.35 + 0.65 * style.energy)
    floor = 0.015 + 0.05 * style.energy
    gamma = 1.6 if dark else 1.05
    val = floor + (top - floor) * t**gamma
    shape = (_HUE_ROWS, 256)
    rgb = _hsv_to_rgb(*(np.broadcast_to(a, shape) for a in (hue, sat, val)))
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8).reshape(-1, 3)


# --------------------------------------------------------------------------------------------
# Rendering


def _resize(field: np.ndarray, width: int, height: int) -> np.ndarray:
    if field.shape == (height, width):
        return field
    img = Image.fromarray(np.ascontiguousarray(field, np.float32), mode="F")
    return np.asarray(img.resize((width, height), Image.BICUBIC), np.float32)


def render(prompt: str, *, seed: int, size: tuple[int, int], style: Style) -> np.ndarray:
    """The texture for one prompt as an (height, width, 3) uint8 RGB array.

    size: (width, height) in pixels. Deterministic for equal arguments.
    """
    width, height = size
    rng = np.random.default_rng(prompt_seed(prompt, seed))
    scale = 2 if min(width, height) >= 192 else 1
    w, h = max(8, width // scale), max(8, height // scale)
    energy = style.energy
    short = float(min(w, h))

    motifs = choose_motifs(prompt, rng)
    dark = any(m == "deep" for m, _ in motifs) or energy < 0.15

    # 1-2. Flow field and domain-warped clouds.
    warp_x = fbm(rng, h, w, cells=2.0, octaves=3, persistence=0.5) - 0.5
    warp_y = fbm(rng, h, w, cells=2.0, octaves=3, persistence=0.5) - 0.5
    detail = 0.45 + 0.2 * energy
    clouds = fbm(rng, h, w, cells=3.0, octaves=6, persistence=detail)
    strength = (0.25 + 0.35 * float(rng.random())) * short
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    coords = np.stack([yy + warp_y * strength, xx + warp_x * strength])
    warped = ndimage.map_coordinates(clouds, coords, order=1, mode="mirror")
    ridges = 1.0 - np.abs(2.0 * warped - 1.0)  # bright veins where the clouds cross 0.5

    # 3. Motifs on warped coordinates (shorter side spans [0, 1]).
    xs = (np.arange(w, dtype=np.float32) / short)[None, :]
    ys = (np.arange(h, dtype=np.float32) / short)[:, None]
    bend = 0.18 + 0.12 * energy
    x = xs + warp_x * bend
    y = ys + warp_y * bend
    flow_noise = warped
    layer = np.zeros((h, w), np.float32)
    for name, weight in motifs:
        field = MOTIF_FUNCTIONS[name](x, y, xs, ys, rng, energy, flow_noise)
        layer = np.maximum(layer, field * np.float32(weight))

    # 4. Mix, tone by energy, vignette.
    base = 0.55 * warped + 0.45 * ridges**3
    if dark:
        base = base * 0.6
    motif_gain = 0.55 + 0.35 * energy
    f = base * (1.0 - 0.45 * layer) + layer * motif_gain
    contrast = 3.0 + 5.0 * energy
    f = 1.0 / (1.0 + np.exp(-contrast * (f - float(np.median(f)) - 0.05 + 0.1 * energy)))
    r2 = ((xs - w / short / 2) ** 2 + (ys - h / short / 2) ** 2) / 0.5
    vignette = 1.0 - (0.35 + (0.25 if dark else 0.0)) * r2
    f = f * vignette
    drift = fbm(rng, h, w, cells=1.5, octaves=2, persistence=0.5)

    # 5. Upscale, palette, grain.
    f = _resize(f, width, height)
    drift = _resize(drift, width, height)
    ti = np.clip(f * 255.0, 0, 255).astype(np.int32)
    ui = np.clip((drift - 0.2) * (_HUE_ROWS / 0.6), 0, _HUE_ROWS - 1).astype(np.int32)
    rgb = palette_lut(style, rng, dark=dark)[ui * 256 + ti]
    grain_amp = 3 + int(5 * energy)
    grain = rng.integers(-grain_amp, grain_amp + 1, (height, width, 1), dtype=np.int16)
    return np.clip(rgb.astype(np.int16) + grain, 0, 255).astype(np.uint8)


def render_image(prompt: str, *, seed: int, size: tuple[int, int], style: Style) -> Image.Image:
    """render() as a PIL RGB image."""
    return Image.fromarray(render(prompt, seed=seed, size=size, style=style), "RGB")


def dominant_hue(rgb: np.ndarray) -> float:
    """The saturation-and-value weighted circular mean hue of an image, in degrees."""
    small = np.asarray(Image.fromarray(rgb).resize((64, 64)), np.float64) / 255.0
    hsv = np.array([colorsys.rgb_to_hsv(*p) for p in small.reshape(-1, 3)])
    weight = hsv[:, 1] * hsv[:, 2]
    angle = hsv[:, 0] * 2 * math.pi
    mean = math.atan2((weight * np.sin(angle)).sum(), (weight * np.cos(angle)).sum())
    return math.degrees(mean) % 360.0
