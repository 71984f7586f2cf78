"""Frequency to colour: a pitch-class colour wheel, shaped by tonality, brightness and loudness.

Why a pitch-class wheel: the same note must always give the same hue, and notes an octave apart
must be related. Mapping the pitch class (position within the octave) onto the hue circle gives
both: A4 (440 Hz) and A5 (880 Hz) share a hue; a fifth away is 210 degrees away.

- hue = 30 degrees x semitones above C (C = 0 red, E = 120 green, G# = 240 blue, ...), continuous
  in cents, from the power-weighted pitch-class histogram of the window's spectrum.
- Pitched windows (spectral flatness below 0.25 and a quarter of the power within a semitone of
  the peak pitch class) take the hue of their dominant pitch class;
  unpitched windows (noise, drums) take the hue of their spectral centroid's pitch class, so a
  bright hi-hat and a dark kick still differ.
- saturation rises with tonality (how peaked the histogram is): noise is greyish, a tone vivid.
- value rises with loudness (dBFS) and brightness (spectral centroid), so loud bright windows
  are brighter and an octave higher is a lighter shade of the same hue.
- Where basic-pitch hears a played note (aimv_backend.listen.notes), that note's pitch class
  gives the hue instead (:func:`colour_from_notes`): the spectrum's strongest pitch class is
  often a harmonic. Energy and notes below 60 Hz are ignored (a sub-bass drone is not the
  colour of the music over it).
- Silent windows are black. The name is the nearest XKCD colour in CIELAB (Delta E 1976),
  among the neutral names only (no "ugly brown" or "boring green" in a prompt).
"""

from __future__ import annotations

import colorsys
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from aimv_timeline.schema import Colour

if TYPE_CHECKING:
    from aimv_backend.listen.notes import PlayedNote

C0_HZ = 16.351597831287414  # C0; pitch class 0 = C
HIST_BINS = 120  # 10 cents per bin
# Energy below 60 Hz is ignored: a sub-bass drone (30 Hz) under the music pinned the colour of
# whole passages to its pitch class, and the room rumble and DC leaks live there too.
PITCH_FMIN_HZ = 60.0
PITCH_FMAX_HZ = 5000.0
PITCHED_FLATNESS = 0.25  # spectral flatness below which a window can count as pitched
PITCHED_CONCENTRATION = 0.25  # and the share of power within a semitone of the peak class
FUNDAMENTAL_SHARE = 0.1  # a peak an octave under the chosen one, this strong (-10 dB), is the note


@dataclass(frozen=True)
class SpectralFacts:
    """What the colour is made from (also useful for tests and debugging)."""

    hue: float  # degrees
    frequency_hz: float
    source: str  # "pitch" | "centroid"
    tonality: float  # 0 (noise) .. 1 (one pure tone)
    centroid_hz: float


def pitch_class_hue(frequency_hz: float) -> float:
    """Hue in degrees of a frequency on the pitch-class wheel (C = 0, 30 degrees a semitone)."""
    semitones = 12.0 * math.log2(frequency_hz / C0_HZ)
    return (semitones % 12.0) * 30.0 % 360.0


@functools.lru_cache(maxsize=8)
def _hann(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


def power_spectrum(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch's averaged power spectrum with Hann segments of ~0.25-0.37 s, 50% overlap.

    Written out with numpy because scipy.signal.welch's per-call set-up cost dominated the
    whole analysis (it ran at 7 ms a window).
    """
    n = samples.shape[0]
    nperseg = min(n, 1 << int(math.ceil(math.log2(max(256, sample_rate / 4.0)))))
    hop = max(1, nperseg // 2)
    count = 1 + (n - nperseg) // hop
    frames = np.lib.stride_tricks.sliding_window_view(samples, nperseg)[::hop][:count]
    spectrum = np.fft.rfft(frames * _hann(nperseg), axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).mean(axis=0)
    return np.fft.rfftfreq(nperseg, 1.0 / sample_rate), power


def analyse_spectrum(samples: np.ndarray, sample_rate: int) -> SpectralFacts:
    """Dominant pitch class (or centroid), tonality and centroid of a mono window."""
    freqs, power = power_spectrum(samples, sample_rate)
    audible = freqs >= PITCH_FMIN_HZ
    total = float(power[audible].sum())
    centroid = float((freqs[audible] * power[audible]).sum() / total) if total > 0 else 1000.0
    centroid = min(max(centroid, 20.0), sample_rate / 2.0)

    band = (freqs >= PITCH_FMIN_HZ) & (freqs <= min(PITCH_FMAX_HZ, sample_rate / 2.0))
    f, p = freqs[band], power[band]
    if f.size == 0 or p.sum() <= 0:
        return SpectralFacts(pitch_class_hue(centroid), centroid, "centroid", 0.0, centroid)
    # Spectral flatness (geometric / arithmetic mean): ~0 for tones, ~1 for white noise.
    flatness = float(np.exp(np.mean(np.log(p + 1e-20))) / (np.mean(p) + 1e-20))
    # Keep the peaks: bins below 1% of the strongest carry noise, not pitch.
    p = np.where(p >= 0.01 * p.max(), p, 0.0)
    pc_bins = ((12.0 * np.log2(f / C0_HZ)) % 12.0) * (HIST_BINS / 12.0)
    hist = np.bincount(np.floor(pc_bins).astype(int) % HIST_BINS, weights=p, minlength=HIST_BINS)
    # Circular smoothing by a 5-bin (50 cent) window.
    kernel = np.array([0.1, 0.2, 0.4, 0.2, 0.1])
    padded = np.concatenate([hist[-2:], hist, hist[:2]])
    smooth = np.convolve(padded, kernel, mode="valid")
    peak = int(np.argmax(smooth))
    # Tonality: share of the histogram's mass within +-1 semitone of the peak.
    near = np.array([(peak + k) % HIST_BINS for k in range(-10, 11)])
    concentration = float(hist[near].sum() / max(hist.sum(), 1e-30))
    tonality = float(np.clip((concentration - 0.15) / 0.85, 0.0, 1.0))
    if flatness > PITCHED_FLATNESS or concentration < PITCHED_CONCENTRATION:
        return SpectralFacts(pitch_class_hue(centroid), centroid, "centroid", tonality, centroid)
    # Refine: circular mean of the pitch classes near the peak, weighted by power.
    angles = (pc_bins / HIST_BINS) * 2 * np.pi
    peak_angle = (peak + 0.5) / HIST_BINS * 2 * np.pi
    close = np.abs(np.angle(np.exp(1j * (angles - peak_angle)))) <= (2 * np.pi / 12.0)
    vec = (p[close] * np.exp(1j * angles[close])).sum()
    hue = float((np.angle(vec) % (2 * np.pi)) / (2 * np.pi) * 360.0) % 360.0
    # The frequency: the strongest spectral peak within that pitch class, or the peak an
    # octave under it where one is there: a piano's second harmonic often outsounds its
    # fundamental, and the note is the fundamental (the colour's shade follows the octave).
    candidates = np.where(close, p, 0.0)
    k = int(np.argmax(candidates))
    while True:
        under = np.abs(f - f[k] / 2.0) <= 0.03 * f[k] / 2.0
        if not under.any() or candidates[under].max() < FUNDAMENTAL_SHARE * candidates[k]:
            break
        k = int(np.flatnonzero(under)[np.argmax(candidates[under])])
    frequency = float(f[k])
    if 0 < k < f.size - 1 and candidates[k - 1] > 0 and candidates[k + 1] > 0:
        a, b, c = np.log(candidates[k - 1 : k + 2])
        denom = a - 2 * b + c
        if denom != 0:
            frequency = float(f[k] + 0.5 * (a - c) / denom * (f[1] - f[0]))
    return SpectralFacts(hue, frequency, "pitch", tonality, centroid)


def colour_of_window(
    samples: np.ndarray, sample_rate: int, *, rms_dbfs: float, silent: bool
) -> Colour:
    """The :class:`Colour` of one window (see the module docstring for the rules)."""
    if silent or samples.size == 0:
        return Colour(
            hex="#000000",
            name="black",
            hue=0.0,
            saturation=0.0,
            value=0.0,
            frequency_hz=None,
            source="silence",
        )
    facts = analyse_spectrum(samples, sample_rate)
    loudness = float(np.clip((rms_dbfs + 60.0) / 60.0, 0.0, 1.0))
    brightness = float(np.clip(math.log2(facts.centroid_hz / 100.0) / 7.0, 0.0, 1.0))
    saturation = 0.35 + 0.6 * facts.tonality
    value = 0.3 + 0.45 * loudness + 0.25 * brightness
    return _hsv_colour(facts.hue, saturation, value, facts.frequency_hz, facts.source)


def _hsv_colour(hue: float, saturation: float, value: float, frequency: float, source: str):
    r, g, b = colorsys.hsv_to_rgb(hue / 360.0, saturation, value)
    hex_code = "#{:02x}{:02x}{:02x}".format(*(int(round(x * 255)) for x in (r, g, b)))
    return Colour(
        hex=hex_code,
        name=nearest_colour_name(hex_code),
        hue=round(hue, 2) % 360.0,
        saturation=round(saturation, 4),
        value=round(value, 4),
        frequency_hz=round(frequency, 2),
        source=source,
    )


def colour_from_notes(colour: Colour, notes: Sequence[PlayedNote]) -> Colour:
    """The window's colour with its hue taken from the played note (basic-pitch, see
    aimv_backend.listen.notes); unchanged when no note at or above 60 Hz is heard or the
    window is silent.

    basic-pitch says which notes sound, not which one carries the music: its activations come
    close to 1 for every clear note of a chord. Among the notes within half of the strongest
    activation, the one whose pitch class the spectrum found strongest wins (a note, never a
    harmonic of one); when the spectrum's class is none of them, the highest note (the tune
    usually lies on top). Saturation rises with the note's strength; value stays.
    """
    if colour.source == "silence":
        return colour
    heard = [n for n in notes if n.frequency_hz >= PITCH_FMIN_HZ]
    if not heard:
        return colour
    top = max(n.strength for n in heard)
    strong = [n for n in heard if n.strength >= 0.5 * top]
    spectral = int(round(colour.hue / 30.0)) % 12 if colour.source == "pitch" else None
    matching = [n for n in strong if n.midi % 12 == spectral]
    note = (
        max(matching, key=lambda n: n.strength) if matching else max(strong, key=lambda n: n.midi)
    )
    saturation = max(colour.saturation, 0.35 + 0.6 * min(1.0, note.strength))
    return _hsv_colour(
        pitch_class_hue(note.frequency_hz), saturation, colour.value, note.frequency_hz, "pitch"
    )


# --------------------------------------------------------------------------------------------
# Colour names


def hex_to_rgb(hex_code: str) -> tuple[float, float, float]:
    h = hex_code.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., 3) to CIELAB (D65)."""
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = linear @ m.T / np.array([0.95047, 1.0, 1.08883])
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


# Colour names go into image prompts, so they must describe, not judge, disgust or name a brand:
# XKCD survey names with these words ("ugly brown", "boring green", "sickly yellow", "barney
# purple") are never chosen, and the describe stage drops them from a name edited by hand.
NON_NEUTRAL_WORDS = frozenset(
    {
        "ugly", "boring", "sick", "sickly", "gross", "dirty", "dirt", "dull", "drab", "bruise",
        "blood", "nasty", "icky", "toxic", "poison", "weird", "bland", "murky", "snot", "booger",
        "puke", "vomit", "poo", "poop", "barf", "shit", "pee", "piss",
        # brands and characters (a prompt would draw them), and praise
        "barney", "kermit", "barbie", "windows", "tiffany", "nice", "radioactive", "hospital",
    }
)  # fmt: skip


def is_neutral_colour_name(name: str) -> bool:
    """Whether a colour name is free of judging or disgusting words (see NON_NEUTRAL_WORDS)."""
    return neutral_colour_name(name) == " ".join(name.split())


def neutral_colour_name(name: str) -> str:
    """``name`` without the words of NON_NEUTRAL_WORDS ("puke green" -> "green"; "" if none
    is left)."""
    kept = []
    for word in name.replace("/", " / ").split():
        parts = [p for p in word.split("-") if p.lower().strip("'") not in NON_NEUTRAL_WORDS]
        if parts and any(parts):
            kept.append("-".join(p for p in parts if p))
    return " ".join(kept).replace(" / ", "/").strip(" /")


@functools.lru_cache(maxsize=1)
def _named_colours() -> tuple[tuple[str, ...], np.ndarray]:
    text = resources.files("aimv_backend.data").joinpath("xkcd_colours.tsv").read_text("utf-8")
    names, rgbs = [], []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, code = line.split("\t")
        if not is_neutral_colour_name(name):
            continue
        names.append(name)
        rgbs.append(hex_to_rgb(code))
    return tuple(names), srgb_to_lab(np.array(rgbs))


def nearest_colour_name(hex_code: str) -> str:
    """The XKCD colour name nearest to ``hex_code`` in CIELAB."""
    names, labs = _named_colours()
    lab = srgb_to_lab(np.array(hex_to_rgb(hex_code)))
    return names[int(np.argmin(((labs - lab) ** 2).sum(axis=1)))]
