"""Drum-hit sources beyond the General MIDI soundfonts: recorded sample kits and their renders.

Issue 11: a drum-piece classifier trained on one family of samples (FluidR3 / MuseScore) did
not carry its cymbals and toms over to an unseen kit. This module adds independent kits:

* Hydrogen drum kits (Debian ``hydrogen-drumkits``, /usr/share/hydrogen/data/drumkits): real
  recorded acoustic kits and electronic kits. Each kit's ``drumkit.xml`` names its instruments
  ("Kick", "Hat Closed", "Tom Hi" ...); ``SAMPLE_KITS`` maps those names to AIMV's pieces by
  hand, kit by kit, and leaves out what is ambiguous (snare rimshots, semi-open hats, ride
  bells, chinas, crash/rides, chokes, swishes, cowbells and other percussion).
* Soundfont kits that are not GM-mapped (AVL Drumkits' Red Zeppelin, Debian
  ``avldrums.lv2-soundfont``): ``NOTE_MAPS`` gives their note -> piece map.
* Folders of single-hit samples: Sonic Pi's recorded acoustic kit (Debian ``sonic-pi-samples``,
  CC0; soft and hard hits of kick, snare, three toms, hi-hat, crash and splash).

Hydrogen kits are rendered here without a synthesizer: every hit places the kit's sample for
that instrument and velocity layer (resampled to features.RATE, mono) into the track, scaled
by the velocity; a hi-hat hit cuts the hi-hat still ringing (as Hydrogen's mute groups and
GM's exclusive classes do). The "reverb" variant convolves the track with a synthetic room
(exponentially decaying noise, seeded). The score is the same as tools/listen_data.py's:
isolated hits of every mapped instrument at three velocities, then random grooves.

Licences decide the role of a kit (docs/models-and-licences.md): only GPL-2+, CC-BY and CC0
kits are ``train``; GPL-2-only and share-alike-3.0 kits may be ``held_out`` (used only to
measure, never shipped in weights).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import synth_kits

from aimv_backend.listen.drums import features
from aimv_backend.listen.drums.pieces import DRUM_PIECES

HYDROGEN_DIR = Path("/usr/share/hydrogen/data/drumkits")
FREEPATS_DIR = Path("/usr/share/midi/freepats")
SONIC_PI_DIR = Path("/usr/share/sonic-pi/samples")


@dataclass(frozen=True)
class SampleKit:
    """A sample kit: its folder, licence, role and instrument name -> AIMV piece.

    kind "hydrogen": a Hydrogen kit folder (drumkit.xml); "gus": Gravis Ultrasound patches
    (freepats), the instrument names being .pat file names; "files": a folder (``folder``, a
    path) of single-hit samples, the instrument names being file names; "synth": a kit
    synthesised by tools/synth_kits.py, ``folder`` being its seed.
    """

    folder: str
    licence: str
    role: str  # "train" or "held_out"
    recorded: bool  # a real recorded acoustic kit
    pieces: dict[str, str] = field(hash=False)
    kind: str = "hydrogen"


_GM_TEMPLATE = {  # Hydrogen's GM-style instrument names (Audiophob, Millo kits)
    "Kick": "kick",
    "Stick": "rimshot",
    "Snare Jazz": "snare",
    "Hand Clap": "clap",
    "Snare Rock": "snare",
    "Tom Low": "tom_floor",
    "Closed HH": "hihat_closed",
    "Tom Mid": "tom_mid",
    "Pedal HH": "hihat_closed",
    "Tom Hi": "tom_high",
    "Open HH": "hihat_open",
    "Ride Jazz": "ride",
    "Crash": "crash",
    "Ride Rock": "ride",
    "Crash Jazz": "crash",
}

_SONIC_PI_TOMS = (("hi", "tom_high"), ("mid", "tom_mid"), ("lo", "tom_floor"))

SAMPLE_KITS: dict[str, SampleKit] = {
    # ---- training kits (licence allows shipping weights)
    "h2-colombo": SampleKit(
        "ColomboAcousticDrumkit",
        "GPL-2+ with a composition exception",
        "train",
        True,
        {
            "BassDrum": "kick",
            "Stick": "rimshot",
            "Snare1": "snare",
            "Snare Rock": "snare",
            "Tom Low": "tom_floor",
            "Closed HH": "hihat_closed",
            "Tom Mid": "tom_mid",
            "Pedal HH": "hihat_closed",
            "Tom Hi": "tom_high",
            "Open HH": "hihat_open",
            "crash16inch": "crash",
            "crash20inch--2": "crash",
        },
    ),
    "h2-rumpf": SampleKit(
        "rumpf_kit_z01_h2",
        "CC-BY-3.0",
        "train",
        True,
        {
            "c3 - bass drum 1": "kick",
            "c#3 - stick": "rimshot",
            "d3 - snare 1": "snare",
            "d#3 - clap": "clap",
            "e3 - snare 2": "snare",
            "f3 - bass drum 2": "kick",
            "f#3 - hi-hat closed": "hihat_closed",
            "g3 - bass drum 3": "kick",
            "g#3 - hi-hat pedal": "hihat_closed",
            "a3 - bass drum 4": "kick",
            "a#3 - hi-hat open": "hihat_open",
            "b3 - low tom": "tom_floor",
            "c4 - middle tom": "tom_mid",
            "c#4 - crash": "crash",
            "d4 - high tom": "tom_high",
        },
    ),
    "h2-audiophob": SampleKit("Audiophob", "CC0", "train", False, dict(_GM_TEMPLATE)),
    "h2-electricempire": SampleKit(
        "ElectricEmpireKit",
        "GPL-2+",
        "train",
        False,
        {
            **{
                f"Kick {s}": "kick"
                for s in (
                    "Lite 1",
                    "Lite 2",
                    "Low 1",
                    "Low 2",
                    "Nz",
                    "Old",
                    "Power",
                    "Ring",
                    "Stomp",
                    "Dist",
                    "Hard 1",
                    "Hard 2",
                )
            },
            **{f"Snare {s}": "snare" for s in ("1", "2", "3", "Low", "Ring")},
            "Clap": "clap",
            "Clap Hard": "clap",
            "Hat Closed Bs": "hihat_closed",
            "Hat Closed Dirty": "hihat_closed",
            "Hat Op Dirty": "hihat_open",
            "Hat Op Phaser": "hihat_open",
        },
    ),
    "h2-hardelectro": SampleKit(
        "HardElectro1",
        "GPL-2+",
        "train",
        False,
        {
            "Kick 1": "kick",
            "Kick 2": "kick",
            "Kick 3": "kick",
            "Snare": "snare",
            "Clap 1": "clap",
            "Clap 2": "clap",
            **{f"Closed HH {i}": "hihat_closed" for i in (1, 2, 3, 4)},
            "Open HH": "hihat_open",
        },
    ),
    "h2-varibreaks": SampleKit(
        "VariBreaks",
        "GPL-2+",
        "train",
        False,
        {
            **{f"VariBreaks Kick {i}": "kick" for i in (1, 2, 3)},
            **{f"VariBreaks Snare {i}": "snare" for i in (1, 2, 3)},
            "VariBreaks Tom Low": "tom_floor",
            "VariBreaks Tom Mid": "tom_mid",
            "VariBreaks Tom Hi": "tom_high",
            "VariBreaks Hat 1 Cl": "hihat_closed",
            "VariBreaks Hat 1 Pd": "hihat_closed",
            "VariBreaks Hat 1 Op": "hihat_open",
            "VariBreaks Hat 2 Cl": "hihat_closed",
            "VariBreaks Hat 3 Cl": "hihat_closed",
        },
    ),
    # ---- held out (GPL-2 only: measured on, never trained on)
    # (The Black Pearl 1.0, also GPL-2, shares samples with AVL's Red Zeppelin, a training
    # kit: byte-identical stretches, so it is no unseen kit and is not used.)
    "h2-forzee": SampleKit(
        "ForzeeStereo",
        "GPL-2",
        "held_out",
        True,
        {
            'Kick (Tama Superstar 22")': "kick",
            'Tom Low (Tama Superstar 16")': "tom_floor",
            'Tom Mid (Tama Superstar 13")': "tom_mid",
            'Tom High (Tama Superstar 12")': "tom_high",
            "Snare (Pearl Free Floating Maple 14x3.5)": "snare",
            "Snare 2 (Pearl Free Floating Maple 14x3.5)": "snare",
            "Rim Click (Pearl Free Floating Maple 14x3.5)": "rimshot",
            'Hi-Hat Closed (Paiste Alpha Metal edge 14")': "hihat_closed",
            'Hi-Hat Open (Paiste Alpha Metal edge 14")': "hihat_open",
            'Hi-Hat Pedal (Paiste Alpha Metal edge 14")': "hihat_closed",
            'Ride (Custom, Zagrebin 22")': "ride",
            'Ride Bow (Custom, Zagrebin 22")': "ride",
            'Crash (Paiste Rude Thin 18")': "crash",
            'Splash (Paiste Rude 10")': "splash",
        },
    ),
    # share-alike 3.0 (not compatible with GPL-3): measured on only
    "h2-bja": SampleKit(
        "BJA_Pacific",
        "CC-BY-SA-3.0-us",
        "held_out",
        True,
        {
            "BassDrum": "kick",
            "Snare": "snare",
            "Snare Dry": "snare",
            "Hi Hat Closed": "hihat_closed",
            "Hi Hat Opened": "hihat_open",
            "Floor Tom": "tom_floor",
            "Crash Left": "crash",
            "Crash Right": "crash",
            "Ride": "ride",
            "Ride 2": "ride",
        },
    ),
    "h2-millo": SampleKit("Millo_MultiLayered2", "GPL-2", "held_out", True, dict(_GM_TEMPLATE)),
    # freepats' GM drum set (Debian freepats), GUS patches
    "freepats": SampleKit(
        "Drum_000",
        "GPL-2+ with a composition exception",
        "train",
        True,
        {
            "035_Kick_1.pat": "kick",
            "036_Kick_2.pat": "kick",
            "037_Stick_Rim.pat": "rimshot",
            "038_Snare_1.pat": "snare",
            "039_Clap_Hand.pat": "clap",
            "040_Snare_2.pat": "snare",
            "041_Tom_Low_2.pat": "tom_floor",
            "042_Hi-Hat_Closed.pat": "hihat_closed",
            "043_Tom_Low_1.pat": "tom_floor",
            "044_Hi-Hat_Pedal.pat": "hihat_closed",
            "045_Tom_Mid_2.pat": "tom_mid",
            "046_Hi-Hat_Open.pat": "hihat_open",
            "047_Tom_Mid_1.pat": "tom_mid",
            "048_Tom_High_2.pat": "tom_high",
            "049_Cymbal_Crash_1.pat": "crash",
            "050_Tom_High_1.pat": "tom_high",
            "051_Cymbal_Ride_1.pat": "ride",
            "055_Cymbal_Splash.pat": "splash",
            "059_Cymbal_Ride_2.pat": "ride",
        },
        kind="gus",
    ),
    # Sonic Pi's acoustic kit (freesound user menegass, plus Zajo's heavy kick), CC0
    "sonicpi": SampleKit(
        str(SONIC_PI_DIR),
        "CC0",
        "train",
        True,
        {
            "drum_bass_hard.flac": "kick",
            "drum_bass_soft.flac": "kick",
            "drum_heavy_kick.flac": "kick",
            "drum_snare_hard.flac": "snare",
            "drum_snare_soft.flac": "snare",
            "drum_cymbal_closed.flac": "hihat_closed",
            "drum_cymbal_pedal.flac": "hihat_closed",
            "drum_cymbal_open.flac": "hihat_open",
            "drum_cymbal_hard.flac": "crash",
            "drum_cymbal_soft.flac": "crash",
            "drum_splash_hard.flac": "splash",
            "drum_splash_soft.flac": "splash",
            **{f"drum_tom_{t}_{v}.flac": p for t, p in _SONIC_PI_TOMS for v in ("hard", "soft")},
        },
        kind="files",
    ),
    # (LMMS's drum samples, Debian lmms-common, GPL-2+, are not used: its tom_hi01, tom_mid01
    # and tom_low01 are TimGM6mb's toms, correlation 0.99, and its snare_acoustic01 0.93.)
}

# Soundfont kits whose notes are not General MIDI: note -> piece (notes not listed are not
# played). AVL Red Zeppelin: 41/43 floor tom, 45/47 its one rack tom (centre, edge), 48 a hat
# swish, 50/52/58 chokes, 53 the ride bell, 60 an unnamed Paiste: left out.
NOTE_MAPS: dict[str, dict[int, str]] = {
    "avl-redzep": {
        36: "kick",
        37: "rimshot",
        38: "snare",
        39: "clap",
        40: "snare",
        41: "tom_floor",
        42: "hihat_closed",
        43: "tom_floor",
        44: "hihat_closed",
        45: "tom_mid",
        46: "hihat_open",
        47: "tom_mid",
        49: "crash",
        51: "ride",
        55: "splash",
        57: "crash",
        59: "ride",
    },
}

# Synthesised kits (tools/synth_kits.py): no file, no licence; each a seed.
PIECE_IDENTITY = {p: p for p in DRUM_PIECES}
SAMPLE_KITS.update(
    {
        f"synth-{seed}": SampleKit(
            str(seed), synth_kits.LICENCE, "train", False, PIECE_IDENTITY, "synth"
        )
        for seed in range(32)
    }
)
SYNTH_KITS = tuple(name for name, kit in SAMPLE_KITS.items() if kit.kind == "synth")


def kit_available(name: str) -> bool:
    """Whether the kit's files are installed (Debian hydrogen-drumkits / freepats / ...)."""
    kit = SAMPLE_KITS[name]
    if kit.kind == "synth":
        return True
    if kit.kind == "files":
        return Path(kit.folder).is_dir()
    return ((FREEPATS_DIR if kit.kind == "gus" else HYDROGEN_DIR) / kit.folder).is_dir()


def _strip_ns(root: ET.Element) -> ET.Element:
    for el in root.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]
    return root


@lru_cache(maxsize=16)
def load_kit(name: str) -> dict[str, list[tuple[float, float, float, np.ndarray]]]:
    """Instrument name -> [(min velocity, max velocity, gain, mono samples at RATE)]."""
    kit = SAMPLE_KITS[name]
    if kit.kind == "synth":
        return synth_kits.synth_kit(int(kit.folder))
    if kit.kind == "files":
        return {n: [(0.0, 1.0, 1.0, _read_sample(Path(kit.folder) / n))] for n in kit.pieces}
    if kit.kind == "gus":
        return {
            n: [(0.0, 1.0, 1.0, to_rate(*_read_gus(FREEPATS_DIR / kit.folder / n)))]
            for n in kit.pieces
        }
    folder = HYDROGEN_DIR / kit.folder
    root = _strip_ns(ET.parse(folder / "drumkit.xml").getroot())
    out: dict[str, list] = {}
    for inst in root.iter("instrument"):
        iname = (inst.findtext("name") or "").strip()
        if iname not in kit.pieces:
            continue
        volume = float(inst.findtext("volume") or 1.0) * float(inst.findtext("gain") or 1.0)
        layers = []
        for layer in inst.iter("layer"):
            fname = layer.findtext("filename")
            lo, hi = float(layer.findtext("min") or 0), float(layer.findtext("max") or 1)
            layers.append((fname, lo, hi, float(layer.findtext("gain") or 1.0)))
        if not layers and inst.findtext("filename"):
            layers.append((inst.findtext("filename"), 0.0, 1.0, 1.0))
        for fname, lo, hi, gain in layers:
            mono = _read_sample(folder / fname)
            if np.abs(mono).max() < 1e-4:
                continue  # an empty placeholder sample
            out.setdefault(iname, []).append((lo, hi, gain * volume, mono.astype(np.float32)))
    if not out:
        raise RuntimeError(f"{name}: no mapped instrument has samples in {folder}")
    return out


def _read_sample(path: Path) -> np.ndarray:
    """A sound file as mono float32 at features.RATE."""
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return to_rate(data.mean(axis=1), rate)


def to_rate(mono: np.ndarray, rate: int) -> np.ndarray:
    import librosa

    if rate != features.RATE:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=features.RATE)
    return mono.astype(np.float32)


def _read_gus(path: Path) -> tuple[np.ndarray, int]:
    """The first sample of a Gravis Ultrasound patch (.pat): mono float32 and its rate (Hz).

    Played at its recorded pitch, as a drum hit (no loop, no envelope).
    """
    data = path.read_bytes()
    if data[:8] != b"GF1PATCH":
        raise RuntimeError(f"{path} is not a GUS patch")
    head = data[239 : 239 + 96]  # 129 + 63 + 47 bytes of patch, instrument and layer headers
    length = int.from_bytes(head[8:12], "little")
    rate = int.from_bytes(head[20:22], "little")
    modes = head[55]
    raw = data[239 + 96 : 239 + 96 + length]
    wide, unsigned = bool(modes & 1), bool(modes & 2)
    dtype = ("<u2" if unsigned else "<i2") if wide else ("u1" if unsigned else "i1")
    x = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    full = 32768.0 if wide else 128.0
    if unsigned:
        x -= full
    return x / full, rate


def sample_kit_score(rng: np.random.Generator, name: str, *, groove_seconds: float):
    """Hits (time s, instrument, velocity 1-127) and truth DrumEvents for one sample kit."""
    from listen_data import DrumEvent, isolated_gap, random_grooves

    kit = SAMPLE_KITS[name]
    present = load_kit(name)  # mapped names missing from a kit (the GM template) are skipped
    mapped = {n: p for n, p in kit.pieces.items() if n in present}
    by_piece: dict[str, list[str]] = {}
    for iname, piece in mapped.items():
        by_piece.setdefault(piece, []).append(iname)
    hits: list[tuple[float, str, int]] = []
    truth: list[DrumEvent] = []
    t = 0.2
    for iname, piece in mapped.items():
        for vel in (int(rng.integers(35, 70)), int(rng.integers(70, 100)), 120):
            hits.append((t, iname, vel))
            truth.append(DrumEvent(round(t, 4), (piece,), vel))
            t += isolated_gap(piece)

    def strike(at: float, piece: str, vel: int) -> None:
        names = by_piece[piece]
        hits.append((at, names[int(rng.integers(len(names)))], vel))

    grooves, t = random_grooves(
        rng, start=t, seconds=groove_seconds, pieces=by_piece, strike=strike
    )
    return hits, truth + grooves, t + 2.0


def render_sample_kit(name: str, hits, *, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Mix the kit's samples for ``hits`` into a mono track ``seconds`` long at RATE."""
    kit = SAMPLE_KITS[name]
    samples = load_kit(name)
    out = np.zeros(int(round(seconds * features.RATE)) + 1, dtype=np.float32)
    order = sorted(range(len(hits)), key=lambda i: hits[i][0])
    hat_times = sorted({h[0] for h in hits if kit.pieces[h[1]].startswith("hihat")})
    hat_next = dict(zip(hat_times, hat_times[1:] + [None], strict=True))
    fade = int(0.01 * features.RATE)
    for i in order:
        t, iname, vel = hits[i]
        v = vel / 127.0
        layers = samples[iname]
        fit = [x for x in layers if x[0] <= v <= x[1]] or [
            min(layers, key=lambda x: min(abs(v - x[0]), abs(v - x[1])))
        ]
        _, _, gain, wave = fit[int(rng.integers(len(fit)))]
        start = int(round(t * features.RATE))
        length = min(wave.shape[0], out.shape[0] - start)
        if kit.pieces[iname].startswith("hihat") and hat_next[t] is not None:
            length = min(length, int((hat_next[t] - t) * features.RATE) + fade)
        if length <= 0:
            continue
        piece = (wave[:length] * (gain * v)).copy()
        if length < wave.shape[0]:
            ramp = min(fade, length)
            piece[-ramp:] *= np.linspace(1.0, 0.0, ramp, dtype=np.float32)
        out[start : start + length] += piece
    return out[:-1]


def synthetic_room(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``audio`` in a synthetic room: decaying noise (RT60 0.4-1.4 s), 20-40 % wet."""
    from scipy.signal import fftconvolve

    rt60 = float(rng.uniform(0.4, 1.4))
    n = int(rt60 * features.RATE)
    t = np.arange(n) / features.RATE
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir[: int(0.01 * features.RATE)] = 0.0  # pre-delay
    ir /= np.sqrt(np.sum(ir**2))
    wet = fftconvolve(audio, ir.astype(np.float32))[: audio.shape[0]]
    mix = float(rng.uniform(0.2, 0.4))
    return ((1 - mix) * audio + mix * wet).astype(np.float32)
