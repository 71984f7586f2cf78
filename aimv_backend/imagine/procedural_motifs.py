"""Motif layers of the procedural engine, and which words call for which motif.

Each motif is a vectorised numpy function of (warped) image coordinates that returns a float32
field in [0, 1] at the working resolution. The words of the window's prompt (instrument words
and the describe stage's abstractions such as "impact", "wave", "deep", "tech") pick the motifs,
so a crash cymbal window bursts and a cello window flows.
"""

from __future__ import annotations

import re

import numpy as np
from scipy import ndimage

MOTIFS = ("burst", "flow", "deep", "grid", "rings", "particles")

# Word stems -> motif. Stems of four letters or more match as prefixes ("vibrat" matches
# "vibrate", "vibrating"); shorter ones match the word or its plural only ("hit", "hits").
# The words are the instrument words and the describe stage's evocative vocabulary.
MOTIF_STEMS: dict[str, tuple[str, ...]] = {
    "burst": tuple(
        """impact crash hit explo burst punch strik strike snare splash cymbal clap shatter
        blast bang cannon canon rimshot scream yell fire flame blaze inferno volcan erupt
        detonat firework flare flash shout collision collid smash thunder lightning shock thump
        thud slam crack ruptur jolt intens dramat rocket launch""".split()
    ),
    "flow": tuple(
        """wave float flow water drift string violin viola cello glid ocean river smooth pedal
        breath wind choir sing sung vocal voice whisper silk liquid fluid sway dream waterfall
        dive swim soar hover cascade tide surf sea stream current mist fog smoke breeze cloud
        aurora ribbon weav undulat melt pour wing feather flight""".split()
    ),
    "deep": tuple(
        """deep bass kick low dark heavy boom tom sub rumble night midnight shadow abyss depth
        trench underwater submerg cave silen quiet calm hush grave earth gloom dim sink
        plung""".split()
    ),
    "grid": tuple(
        """tech synth digital electr crystal futur grid laser robot machine circuit neon glitch
        code pixel cyber metal chrome hologra prism mirror strobe matrix chip organ keyboard
        arpeggi shard glacier frozen""".split()
    ),
    "rings": tuple(
        """vibrat echo bell ring piano pulse ripple resonan hum humm gong heart circle orbit
        bounc rebound drum beat throb loop halo marimba oscillat wobble quake trembl quiver
        spin twirl whirl spiral vortex whirlpool""".split()
    ),
    "particles": tuple(
        """spark star stars starry starlight glitter particle rain dust hat hats hihat shimmer
        twinkl glimmer glint flute harp bright vivid snow glow light firefl tambourine shaker
        chime sitar guitar pluck pick bubble fizz droplet drizzl ember galax nebula cosmos
        cosmic scatter debris fragment confetti dew hail""".split()
    ),
}

_WORD = re.compile(r"[a-z]+")


def _matches(word: str, stem: str) -> bool:
    if len(stem) >= 4:
        return word.startswith(stem)
    return word == stem or word == stem + "s"


def motif_scores(prompt: str) -> dict[str, float]:
    """How strongly the prompt's words call for each motif (count of matching words)."""
    scores = dict.fromkeys(MOTIFS, 0.0)
    for word in _WORD.findall(prompt.lower()):
        for motif, stems in MOTIF_STEMS.items():
            if any(_matches(word, stem) for stem in stems):
                scores[motif] += 1.0
    return scores


def choose_motifs(
    prompt: str, rng: np.random.Generator, *, most: int = 2
) -> list[tuple[str, float]]:
    """The one or two strongest motifs, weights in (0, 1]; a seeded pick when no word matches."""
    scores = motif_scores(prompt)
    ranked = sorted((s, -MOTIFS.index(m), m) for m, s in scores.items() if s > 0)[::-1]
    if not ranked:
        return [(MOTIFS[int(rng.integers(len(MOTIFS)))], 0.8)]
    top = ranked[0][0]
    return [(m, 0.45 + 0.55 * s / top) for s, _, m in ranked[:most]]


# --------------------------------------------------------------------------------------------
# Motif fields. x, y: warped coordinates (float32 arrays, shorter side spans [0, 1]);
# xs, ys: unwarped ones; energy in [0, 1]; every function returns float32 in [0, 1].


def _centre(rng: np.random.Generator, width: float, height: float) -> tuple[float, float]:
    return (float(rng.uniform(0.25, 0.75)) * width, float(rng.uniform(0.3, 0.7)) * height)


def burst(x, y, xs, ys, rng, energy, noise):
    """Rays and shock rings from one or two impact points: crashes, hits, impacts."""
    width, height = float(xs.max()), float(ys.max())
    out = np.zeros(np.broadcast_shapes(x.shape, y.shape), np.float32)
    for _ in range(1 + int(rng.random() < 0.35 + 0.3 * energy)):
        cx, cy = _centre(rng, width, height)
        dx, dy = x - cx, y - cy
        r = np.sqrt(dx * dx + dy * dy) + 1e-3
        theta = np.arctan2(dy, dx)
        k = int(rng.integers(7, 15 + int(14 * energy)))
        rays = np.abs(np.cos(theta * (k * 0.5) + 2.5 * noise))
        rays = rays ** (6.0 - 3.0 * energy)
        reach = 0.25 + 0.45 * energy
        fall = np.exp(-r / reach)
        core = np.exp(-((r / (0.06 + 0.06 * energy)) ** 2))
        shock_r = float(rng.uniform(0.18, 0.35))
        shock = np.exp(-(((r - shock_r) / 0.025) ** 2)) * (0.4 + 0.6 * energy)
        out = np.maximum(out, rays * fall + core + shock * (0.5 + 0.5 * rays))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def flow(x, y, xs, ys, rng, energy, noise):
    """Silky bands bent by the flow field: waves, floating, strings, voices."""
    angle = float(rng.uniform(-0.6, 0.6))
    s = y * np.float32(np.cos(angle)) + x * np.float32(np.sin(angle))
    freq = float(rng.uniform(3.0, 5.0)) + 4.0 * energy
    bend = 3.0 + 3.0 * float(rng.random())
    a = np.sin(2 * np.pi * s * freq + bend * noise)
    b = np.sin(2 * np.pi * s * freq * 2.03 + 1.7 * bend * noise + 1.3)
    bands = 0.5 + 0.5 * (0.7 * a + 0.3 * b)
    threads = (1.0 - np.abs(b)) ** (6.0 - 2.0 * energy)  # thin silk lines between the bands
    out = 0.7 * bands ** (1.5 + 2.0 * energy) + 0.35 * threads
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def deep(x, y, xs, ys, rng, energy, noise):
    """Large dark swells with a low glow: deep, bass, kick."""
    width, height = float(xs.max()), float(ys.max())
    cx, cy = float(rng.uniform(0.3, 0.7)) * width, float(rng.uniform(0.55, 0.95)) * height
    r = np.sqrt((x - cx) ** 2 + ((y - cy) * 1.4) ** 2)
    glow = np.exp(-((r / (0.35 + 0.25 * energy)) ** 2))
    swell = 0.5 + 0.5 * np.sin(2 * np.pi * (r * (1.5 + 1.5 * energy)) - 2.0 * noise)
    return np.clip(glow * (0.3 + 0.7 * swell**2), 0.0, 1.0).astype(np.float32)


def grid(x, y, xs, ys, rng, energy, noise):
    """Lines, lit cells and scanlines on lightly warped coordinates: tech, synth, crystal."""
    n = float(rng.integers(6, 12)) + 6.0 * energy
    gx = x * 0.15 + xs * 0.85
    gy = y * 0.15 + ys * 0.85
    fx = np.abs((gx * n) % 1.0 - 0.5)
    fy = np.abs((gy * n) % 1.0 - 0.5)
    lines = np.exp(-(((0.5 - np.minimum(fx, fy)) / 0.05) ** 2))
    cell_x = np.floor(gx * n).astype(np.int32)
    cell_y = np.floor(gy * n).astype(np.int32)
    table = rng.random((64, 64)).astype(np.float32)
    lit = table[cell_y % 64, cell_x % 64]
    lit = np.where(lit > 0.8 - 0.25 * energy, lit, 0.0) * (1.0 - 2.0 * np.maximum(fx, fy)) ** 0.5
    scan = 0.5 + 0.5 * np.sin(2 * np.pi * ys * (60.0 + 60.0 * energy))
    out = 0.75 * lines + 0.6 * lit + 0.25 * scan * (0.4 + 0.6 * noise)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def rings(x, y, xs, ys, rng, energy, noise):
    """Concentric ripples around one or more centres: bells, pianos, pulses, vibration."""
    width, height = float(xs.max()), float(ys.max())
    out = np.zeros(np.broadcast_shapes(x.shape, y.shape), np.float32)
    count = 1 + int(rng.integers(0, 3))
    for _ in range(count):
        cx, cy = _centre(rng, width, height)
        r = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
        freq = float(rng.uniform(7.0, 12.0)) + 10.0 * energy
        wave = 0.5 + 0.5 * np.cos(2 * np.pi * r * freq)
        fade = np.exp(-r / (0.3 + 0.3 * energy))
        out = np.maximum(out, (wave ** (2.0 + 4.0 * energy)) * fade)
    return np.clip(out * 1.2, 0.0, 1.0).astype(np.float32)


def particles(x, y, xs, ys, rng, energy, noise):
    """Glowing dots with soft halos: sparkles, hi-hats, plucked strings, light."""
    h, w = np.broadcast_shapes(x.shape, y.shape)
    field = np.zeros((h, w), np.float32)
    count = int((60 + 340 * energy) * (h * w) / 65536.0) + 20
    # Cluster particles along the flow field's bright parts for structure.
    py = rng.integers(0, h, count)
    px = rng.integers(0, w, count)
    keep = noise[py % noise.shape[0], px % noise.shape[1]] > rng.random(count) * 0.9
    py, px = py[keep], px[keep]
    np.add.at(field, (py, px), rng.uniform(0.4, 1.0, py.size).astype(np.float32))
    scale = max(h, w) / 256.0
    sharp = ndimage.gaussian_filter(field, 0.8 * scale) * (6.0 * scale * scale)
    halo = ndimage.gaussian_filter(field, 4.0 * scale) * (60.0 * scale * scale)
    return np.clip(sharp + 0.6 * halo, 0.0, 1.0).astype(np.float32)


MOTIF_FUNCTIONS = {
    "burst": burst,
    "flow": flow,
    "deep": deep,
    "grid": grid,
    "rings": rings,
    "particles": particles,
}
