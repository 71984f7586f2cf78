"""Drum kits synthesised from random parameters: many kits for the drum-piece classifier.

Issue 11: the classifier trained on one family of soundfont samples names kick, snare and
closed hi-hat on an unseen kit but not its toms and cymbals. Each synthesised kit draws its
own sound for every piece from the ranges that define the piece, so the classifier meets a
different kit every time and must learn what makes a piece (a floor tom rings lower and longer
than a high tom, a ride pings and sustains where a crash washes) instead of one sample of it:

* kick: a sine swept down from 2-6x its pitch (40-70 Hz) in 5-25 ms, a click, optional drive;
* toms: a swept sine with two inharmonic partials; floor 70-110 Hz, mid and high each 1.2-1.6x
  the one below it in the same kit; the lower, the longer;
* snare: a short tone (150-260 Hz) and band-passed noise; rimshot: a short woody click;
  clap: three or four noise bursts and a short tail;
* hi-hats, crash, splash, ride: a metallic cluster (six square waves at inharmonic ratios,
  as analogue kits make them) and noise, high-passed; closed 30-100 ms, open 0.3-0.9 s,
  splash 0.4-1 s, crash 1.2-3 s (broadband wash), ride 1.5-3.5 s (a clearer ping with a bell).

That is the analogue style. Half of the kits (``ACOUSTIC_SHARE``, env
``AIMV_SYNTH_ACOUSTIC_SHARE``) are drawn in an acoustic style instead: drum heads as modal
membranes (circular-membrane mode ratios, a pitch bend at the strike) with stick or beater
noise, snare wires as band noise, cymbals as dense inharmonic partials with a wash. Analogue
kits alone helped electronic kits and hurt recorded acoustic ones (docs/benchmarks.md,
"Synthesised kits").

Every piece has three velocity layers (brighter when harder). A kit is a pure function of its
seed. Audio at features.RATE; no file is read, so the weights trained on it owe no licence.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from aimv_backend.listen.drums import features
from aimv_backend.listen.drums.pieces import DRUM_PIECES

RATE = features.RATE
LICENCE = "AIMV's own (synthesised by tools/synth_kits.py)"
LAYERS = ((0.0, 0.45), (0.45, 0.8), (0.8, 1.0))  # velocity ranges of the three layers
ACOUSTIC_SHARE = float(os.environ.get("AIMV_SYNTH_ACOUSTIC_SHARE", "0.5"))
# Part of the cache key of rendered sets (tools/listen_data.py): change it with the sounds.
VERSION = f"2-{ACOUSTIC_SHARE}"
# Square-wave ratios of an analogue metallic cluster (after the TR-808's six oscillators).
METAL_RATIOS = np.array([1.0, 1.4828, 1.8004, 2.5463, 2.6303, 3.8968])


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * RATE)) / RATE


def _env(t: np.ndarray, decay: float, attack: float = 0.001) -> np.ndarray:
    """Exponential decay to -60 dB in ``decay`` seconds after a linear attack (seconds)."""
    rise = np.clip(t / max(attack, 1e-4), 0.0, 1.0)
    return rise * np.exp(-6.9 * t / decay)


def _filter(x: np.ndarray, kind: str, freq, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    nyq = RATE / 2
    wn = np.clip(np.atleast_1d(freq) / nyq, 1e-4, 0.99)
    sos = butter(order, wn if wn.size > 1 else wn[0], btype=kind, output="sos")
    return sosfilt(sos, x)


def _swept_sine(t, f0, ratio, sweep, rng) -> np.ndarray:
    freq = f0 * (1.0 + (ratio - 1.0) * np.exp(-t / sweep))
    phase = 2 * np.pi * np.cumsum(freq) / RATE + rng.uniform(0, 2 * np.pi)
    return np.sin(phase)


def _metal(t, base, rng) -> np.ndarray:
    ratios = METAL_RATIOS * rng.uniform(0.93, 1.07, METAL_RATIOS.size)
    phases = rng.uniform(0, 1, ratios.size)
    return (
        np.sign(np.sin(2 * np.pi * (base * ratios[:, None] * t[None, :] + phases[:, None]))).sum(
            axis=0
        )
        / ratios.size
    )


class _Draw:
    """The kit's parameters for every piece, drawn once from the kit's generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        u = rng.uniform
        self.kick = dict(
            f0=u(40, 70),
            ratio=u(2, 6),
            sweep=u(0.005, 0.025),
            decay=u(0.15, 0.6),
            click=u(0.05, 0.5),
            drive=u(1, 4),
        )
        floor = u(70, 110)
        mid = floor * u(1.2, 1.6)
        high = mid * u(1.2, 1.6)
        tom_decay = u(0.3, 0.8)
        self.toms = {
            "tom_floor": (floor, tom_decay * u(1.1, 1.4)),
            "tom_mid": (mid, tom_decay),
            "tom_high": (high, tom_decay * u(0.7, 0.9)),
        }
        self.tom_shape = dict(ratio=u(1.1, 1.6), sweep=u(0.03, 0.12), partials=u(1.45, 1.7))
        self.snare = dict(
            f0=u(150, 260),
            tone_decay=u(0.04, 0.15),
            noise_decay=u(0.1, 0.3),
            band=(u(800, 2500), u(5000, 10000)),
            noise=u(0.5, 0.9),
        )
        self.rim = dict(f0=u(400, 900), decay=u(0.015, 0.05), ratio=u(1.5, 2.7))
        self.clap = dict(bursts=int(rng.integers(3, 5)), gap=u(0.007, 0.013), tail=u(0.08, 0.25))
        self.clap_band = u(800, 2500)
        self.hat = dict(base=u(300, 560), cut=u(3500, 8000), noise=u(0.2, 0.6))
        self.hat_closed = u(0.03, 0.1)
        self.hat_open = u(0.3, 0.9)
        self.crash = dict(base=u(250, 500), cut=u(700, 2000), decay=u(1.2, 3.0), noise=u(0.5, 0.8))
        self.splash = dict(
            base=u(400, 700), cut=u(1500, 3500), decay=u(0.4, 1.0), noise=u(0.4, 0.7)
        )
        self.ride = dict(base=u(300, 600), cut=u(1000, 2500), decay=u(1.5, 3.5), bell=u(0.1, 0.5))
        self.eq_tilt = u(-0.5, 0.5)
        self.style = "acoustic" if rng.random() < ACOUSTIC_SHARE else "analogue"
        hat_low = u(3000, 6000)
        self.acoustic = dict(
            kick_f0=u(45, 80),
            kick_decay=u(0.2, 0.5),
            bend=u(0.02, 0.15),
            stick=u(0.1, 0.5),
            snare_f0=u(170, 260),
            snare_decay=u(0.08, 0.2),
            wire_band=(u(1500, 3500), u(7000, 10500)),
            wire_decay=u(0.15, 0.35),
            wires=u(0.4, 0.8),
            rim_decay=u(0.02, 0.06),
            wash=u(0.1, 0.5),
            bell=u(0.1, 0.6),
            cymbals={
                "hihat_closed": (hat_low, 11000, 80, u(0.04, 0.12)),
                "hihat_open": (hat_low, 11000, 80, u(0.4, 1.2)),
                "crash": (u(300, 800), 11000, 150, u(1.5, 4.0)),
                "splash": (u(800, 2000), 11000, 100, u(0.5, 1.2)),
                "ride": (u(1500, 3000), 10000, 60, u(2.0, 5.0)),
            },
        )


def _kick(p, v, rng):
    t = _t(p["decay"] * 1.2)
    body = _swept_sine(t, p["f0"], p["ratio"] * (0.8 + 0.3 * v), p["sweep"], rng) * _env(
        t, p["decay"]
    )
    click = _filter(rng.standard_normal(t.size), "highpass", 2000) * _env(t, 0.004)
    x = body + p["click"] * v * click
    return np.tanh(p["drive"] * x) / np.tanh(p["drive"])


def _tom(f0, decay, shape, v, rng):
    t = _t(decay * 1.2)
    x = _swept_sine(t, f0, shape["ratio"], shape["sweep"], rng) * _env(t, decay)
    x += 0.35 * _swept_sine(t, f0 * shape["partials"], 1.05, 0.05, rng) * _env(t, decay * 0.6)
    x += 0.2 * _swept_sine(t, f0 * 2.2, 1.0, 0.05, rng) * _env(t, decay * 0.4)
    noise = _filter(rng.standard_normal(t.size), "bandpass", (500, 4000)) * _env(t, 0.02)
    return x + (0.1 + 0.3 * v) * noise


def _snare(p, v, rng):
    t = _t(max(p["noise_decay"], p["tone_decay"]) * 1.2)
    tone = _swept_sine(t, p["f0"], 1.3, 0.01, rng) * _env(t, p["tone_decay"])
    tone += 0.5 * _swept_sine(t, p["f0"] * 1.6, 1.2, 0.01, rng) * _env(t, p["tone_decay"] * 0.7)
    noise = _filter(rng.standard_normal(t.size), "bandpass", p["band"]) * _env(t, p["noise_decay"])
    noise = noise / (np.abs(noise).max() + 1e-9)
    return (1 - p["noise"]) * tone + p["noise"] * (0.7 + 0.3 * v) * noise


def _rim(p, v, rng):
    t = _t(p["decay"] * 2)
    x = _swept_sine(t, p["f0"], 1.1, 0.005, rng) + 0.6 * _swept_sine(
        t, p["f0"] * p["ratio"], 1.0, 0.005, rng
    )
    click = _filter(rng.standard_normal(t.size), "highpass", 3000) * _env(t, 0.003)
    return x * _env(t, p["decay"]) + 0.3 * v * click


def _clap(p, band, v, rng):
    t = _t(p["bursts"] * p["gap"] + p["tail"] * 1.2)
    env = np.zeros(t.size)
    for k in range(p["bursts"]):
        start = k * p["gap"] * rng.uniform(0.8, 1.2)
        tk = np.clip(t - start, 0, None)
        env = np.maximum(env, (t >= start) * _env(tk, 0.015 if k < p["bursts"] - 1 else p["tail"]))
    noise = _filter(rng.standard_normal(t.size), "bandpass", (band, band * 3.5))
    return noise * env * (0.8 + 0.2 * v)


def _cymbal(p, decay, v, rng, *, noise_share, bell=0.0):
    t = _t(decay * 1.1)
    metal = _metal(t, p["base"], rng)
    noise = rng.standard_normal(t.size) * 0.5
    x = (1 - noise_share) * metal + noise_share * noise
    x = _filter(x, "highpass", p["cut"] * (1.1 - 0.2 * v), order=4)
    out = x * _env(t, decay, attack=0.002)
    if bell:
        ping = _metal(t, p["base"] * 2.5, rng)
        out += bell * _filter(ping, "bandpass", (700, 3000)) * _env(t, decay * 0.5)
    # the first milliseconds are brighter and louder (the stick's strike)
    strike = _filter(rng.standard_normal(t.size), "highpass", 4000) * _env(t, 0.01)
    return out + 0.3 * v * strike


# Modes of an ideal circular membrane (Bessel zeros over the first): a drum head's partials.
MEMBRANE_RATIOS = np.array([1.0, 1.594, 2.136, 2.296, 2.653, 2.918, 3.156, 3.501])


def _membrane(t, f0, decay, rng, *, bend: float, modes: int = 8) -> np.ndarray:
    """A struck drum head: its modes with random levels (higher ones quieter and shorter) and
    the pitch bend of a head under high tension at the strike (``bend``: 0.02-0.15)."""
    glide = 1.0 + bend * np.exp(-t / rng.uniform(0.02, 0.08))
    out = np.zeros(t.size)
    for k, ratio in enumerate(MEMBRANE_RATIOS[:modes]):
        level = rng.uniform(0.3, 1.0) / (1 + 0.6 * k)
        phase = 2 * np.pi * np.cumsum(f0 * ratio * glide) / RATE + rng.uniform(0, 2 * np.pi)
        out += level * np.sin(phase) * _env(t, decay / (1 + 0.35 * k))
    return out


def _partials(t, low, high, count, decay, rng) -> np.ndarray:
    """A dense metal plate: ``count`` partials spread log-uniformly over low-high Hz, each
    with its own decay around ``decay`` seconds (a cymbal's shimmer)."""
    freqs = np.exp(rng.uniform(np.log(low), np.log(high), count))
    decays = decay * np.exp(rng.normal(0.0, 0.4, count))
    levels = rng.uniform(0.2, 1.0, count)
    phases = rng.uniform(0, 2 * np.pi, count)
    out = np.zeros(t.size)
    for f, d, a, ph in zip(freqs, decays, levels, phases, strict=True):
        out += a * np.sin(2 * np.pi * f * t + ph) * np.exp(-6.9 * t / d)
    return out / np.sqrt(count)


def _acoustic_sound(d: _Draw, piece: str, v: float, rng) -> np.ndarray:
    """The acoustic style: drum heads as modal membranes with a stick or beater noise,
    snare wires as band noise, cymbals as dense inharmonic partials."""
    a = d.acoustic
    if piece == "kick" or piece in d.toms:
        f0, decay = (a["kick_f0"], a["kick_decay"]) if piece == "kick" else d.toms[piece]
        t = _t(decay * 1.2)
        modes = 4 if piece == "kick" else 8
        head = _membrane(t, f0, decay, rng, bend=a["bend"] * (0.5 + v), modes=modes)
        stick_band = (200, 2500) if piece == "kick" else (800, 6000)
        stick = _filter(rng.standard_normal(t.size), "bandpass", stick_band) * _env(t, 0.015)
        return head + a["stick"] * (0.4 + v) * stick
    if piece in ("snare", "rimshot"):
        if piece == "rimshot":
            t = _t(0.12)
            wood = _partials(t, 400, 2500, 12, a["rim_decay"], rng)
            return wood + 0.3 * _filter(rng.standard_normal(t.size), "highpass", 2000) * _env(
                t, 0.004
            )
        t = _t(a["wire_decay"] * 1.3)
        head = _membrane(t, a["snare_f0"], a["snare_decay"], rng, bend=a["bend"] * 0.5)
        wires = _filter(rng.standard_normal(t.size), "bandpass", a["wire_band"])
        wires *= _env(t, a["wire_decay"], attack=0.003)
        return (1 - a["wires"]) * head / 2 + a["wires"] * (0.7 + 0.3 * v) * wires
    if piece == "clap":
        return _clap(d.clap, d.clap_band, v, rng)
    low, high, count, decay = a["cymbals"][piece]
    t = _t(decay * 1.1)
    plate = _partials(t, low, high * (0.9 + 0.2 * v), count, decay, rng)
    wash = _filter(rng.standard_normal(t.size), "highpass", low) * _env(t, decay * 0.6)
    strike = _filter(rng.standard_normal(t.size), "highpass", 3000) * _env(t, 0.008)
    out = plate + a["wash"] * wash + 0.4 * v * strike
    if piece == "ride":
        out += a["bell"] * _partials(t, 600, 2200, 6, decay * 0.7, rng)
    return out


def _piece_sound(d: _Draw, piece: str, v: float, rng) -> np.ndarray:
    if d.style == "acoustic":
        return _acoustic_sound(d, piece, v, rng)
    if piece == "kick":
        return _kick(d.kick, v, rng)
    if piece in d.toms:
        f0, decay = d.toms[piece]
        return _tom(f0, decay, d.tom_shape, v, rng)
    if piece == "snare":
        return _snare(d.snare, v, rng)
    if piece == "rimshot":
        return _rim(d.rim, v, rng)
    if piece == "clap":
        return _clap(d.clap, d.clap_band, v, rng)
    if piece == "hihat_closed":
        return _cymbal(d.hat, d.hat_closed, v, rng, noise_share=d.hat["noise"])
    if piece == "hihat_open":
        return _cymbal(d.hat, d.hat_open, v, rng, noise_share=d.hat["noise"])
    if piece == "crash":
        return _cymbal(d.crash, d.crash["decay"], v, rng, noise_share=d.crash["noise"])
    if piece == "splash":
        return _cymbal(d.splash, d.splash["decay"], v, rng, noise_share=d.splash["noise"])
    if piece == "ride":
        return _cymbal(d.ride, d.ride["decay"], v, rng, noise_share=0.15, bell=d.ride["bell"])
    raise KeyError(piece)


@lru_cache(maxsize=64)
def synth_kit(seed: int) -> dict[str, list[tuple[float, float, float, np.ndarray]]]:
    """Piece -> [(min velocity, max velocity, gain, mono samples at RATE)], as
    drum_sources.load_kit gives for a sample kit; the same seed gives the same kit."""
    return _uncached_kit(seed)


def _uncached_kit(seed: int) -> dict[str, list[tuple[float, float, float, np.ndarray]]]:
    rng = np.random.default_rng([seed, 11])
    draw = _Draw(rng)
    kit: dict[str, list] = {}
    for piece in DRUM_PIECES:
        layers = []
        for lo, hi in LAYERS:
            v = (lo + hi) / 2
            x = _piece_sound(draw, piece, v, rng)
            x = _tilt(x, draw.eq_tilt)
            x = x / (np.abs(x).max() + 1e-9) * (0.3 + 0.7 * v)
            layers.append((lo, hi, 1.0, x.astype(np.float32)))
        kit[piece] = layers
    return kit


def _tilt(x: np.ndarray, tilt: float) -> np.ndarray:
    """A gentle spectral tilt of the whole kit (tilt in decades across the band: +- 0.5)."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(x.size, 1 / RATE)
    pos = np.log10(np.maximum(f, 30.0) / 30.0) / np.log10(11000 / 30.0) - 0.5
    return np.fft.irfft(spec * 10 ** (tilt * pos / 2), n=x.size)
