"""Render General MIDI parts to audio with fluidsynth and the FluidR3_GM soundfont.

The notes come from :mod:`aimv_testkit.patterns`; pretty_midi writes them to a MIDI file
and fluidsynth renders it faster than real time into float WAV (no clipping inside the
renderer). Output is deterministic for the same fluidsynth version and settings, so clips are
cached by a hash of their parameters.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from aimv_backend.errors import ModelUnavailableError, ParameterError
from aimv_testkit._cache import cached_array
from aimv_testkit._tools import require_tool, tool_version
from aimv_testkit.instruments import InstrumentDef, get_instrument
from aimv_testkit.patterns import Harmony, NoteEvent, make_harmony, part_notes

DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
ENV_SOUNDFONT = "AIMV_SOUNDFONT"
MAX_SECONDS = 600.0


def fluidsynth_exe() -> str:
    return require_tool(
        "fluidsynth", purpose="test audio", packages="fluidsynth fluid-soundfont-gm"
    )


def fluidsynth_version() -> str:
    return tool_version(fluidsynth_exe())


def soundfont_path() -> Path:
    """$AIMV_SOUNDFONT, else Debian's FluidR3_GM.sf2 (MIT licence)."""
    path = Path(os.environ.get(ENV_SOUNDFONT) or DEFAULT_SOUNDFONT)
    if not path.is_file():
        raise ModelUnavailableError(
            f"soundfont {str(path)!r} does not exist; install fluid-soundfont-gm or set "
            f"{ENV_SOUNDFONT} to a .sf2 file"
        )
    return path


def check_seconds(seconds: float, *, name: str = "seconds") -> float:
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number of seconds, got {seconds!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_SECONDS:
        raise ParameterError(f"{name} must be in (0, {MAX_SECONDS:g}] seconds, got {seconds!r}")
    return value


def check_rate(sample_rate: int) -> int:
    if not isinstance(sample_rate, int | np.integer) or not 8000 <= int(sample_rate) <= 96000:
        raise ParameterError(
            f"sample_rate must be an integer in 8000-96000 Hz, got {sample_rate!r}"
        )
    return int(sample_rate)


def check_velocity(velocity: int) -> int:
    if not isinstance(velocity, int | np.integer) or not 1 <= int(velocity) <= 127:
        raise ParameterError(f"velocity must be an integer in 1-127, got {velocity!r}")
    return int(velocity)


@dataclass(frozen=True)
class Track:
    """One MIDI track for :func:`render_tracks`: an instrument, its notes and mixer settings.

    ``volume``/``pan``/``reverb`` are MIDI controller values 0-127 (CC7, CC10, CC91).
    """

    instrument: InstrumentDef
    notes: tuple[NoteEvent, ...]
    volume: int = 100
    pan: int = 64
    reverb: int = 0
    volume_changes: tuple[tuple[float, int], ...] = ()  # (seconds, CC7 value) later on


def _write_midi(tracks: Sequence[Track], path: Path) -> None:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    for tr in tracks:
        inst = pretty_midi.Instrument(
            program=tr.instrument.program, is_drum=tr.instrument.is_drum, name=tr.instrument.name
        )
        for number, value in ((7, tr.volume), (10, tr.pan), (91, tr.reverb), (93, 0)):
            inst.control_changes.append(pretty_midi.ControlChange(number, int(value), 0.0))
        for when, value in tr.volume_changes:
            inst.control_changes.append(pretty_midi.ControlChange(7, int(value), float(when)))
        for n in tr.notes:
            inst.notes.append(
                pretty_midi.Note(
                    velocity=int(n.velocity),
                    pitch=int(n.pitch),
                    start=float(n.start),
                    end=float(max(n.end, n.start + 0.01)),
                )
            )
        pm.instruments.append(inst)
    pm.write(str(path))


def render_tracks(
    tracks: Sequence[Track], *, seconds: float, sample_rate: int, reverb: bool = False
) -> np.ndarray:
    """Render tracks together to a (frames, 2) float32 array of exactly ``seconds``.

    pretty_midi gives each non-drum track its own channel (at most 15); the drum tracks share
    channel 10. ``reverb`` turns fluidsynth's (deterministic) reverb on; per-track amounts come
    from Track.reverb. The last 10 ms fade out so a cut note does not click.
    """
    seconds = check_seconds(seconds)
    sample_rate = check_rate(sample_rate)
    if sum(not t.instrument.is_drum for t in tracks) > 15:
        raise ParameterError(
            f"at most 15 melodic tracks can be rendered together, got {len(tracks)}"
        )
    exe, sf2 = fluidsynth_exe(), soundfont_path()
    frames = int(round(seconds * sample_rate))
    with tempfile.TemporaryDirectory(prefix="aimv-synth-") as tmp:
        mid, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        _write_midi(tracks, mid)
        cmd = [
            exe,
            "-q",
            "-ni",
            "-R",
            "1" if reverb else "0",
            "-C",
            "0",
            "-g",
            "0.5",
            "-O",
            "float",
            "-T",
            "wav",
            "-F",
            str(wav),
            "-r",
            str(sample_rate),
            str(sf2),
            str(mid),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
        if proc.returncode != 0 or not wav.is_file():
            msg = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ModelUnavailableError(f"fluidsynth failed (exit {proc.returncode}): {msg[0]}")
        data, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    if rate != sample_rate:
        raise ModelUnavailableError(f"fluidsynth wrote {rate} Hz instead of {sample_rate} Hz")
    out = np.zeros((frames, 2), dtype=np.float32)
    n = min(frames, data.shape[0])
    out[:n] = remove_dc(data[:n, :2], sample_rate)
    fade = min(frames, int(0.01 * sample_rate))
    out[frames - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return out


def remove_dc(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """High-pass at 20 Hz: some FluidR3 samples (e.g. the warm pad) carry a DC offset."""
    from scipy.signal import butter, sosfilt

    sos = butter(2, 20.0, btype="highpass", fs=sample_rate, output="sos")
    return sosfilt(sos, audio, axis=0).astype(np.float32)


def render_part(
    *,
    instrument: str,
    seconds: float,
    sample_rate: int = 22050,
    seed: int = 0,
    velocity: int = 90,
    bpm: float = 100.0,
    key: str | None = None,
    stereo: bool = False,
    reverb: bool = False,
    harmony: Harmony | None = None,
) -> np.ndarray:
    """Render ``seconds`` of one part (e.g. "piano", "drum_kit", "crash") as float32 audio.

    Mono (frames,) unless ``stereo``. The chords, melody and key follow ``seed`` unless
    ``key`` is given; a ``harmony`` (shared key, tempo and chords) overrides seed/bpm/key for the
    harmony, the seed still varies the melody and dynamics. The same arguments give the same
    samples, cached on disk. Raises ParameterError for an unknown instrument or bad numbers.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    inst = get_instrument(instrument)
    seconds = check_seconds(seconds)
    sample_rate = check_rate(sample_rate)
    velocity = check_velocity(velocity)
    h = harmony or make_harmony(seed=seed, bpm=bpm, key=key)
    params = {
        "inst": inst.name,
        "seconds": seconds,
        "rate": sample_rate,
        "seed": int(seed),
        "velocity": velocity,
        "harmony": repr(h),
        "reverb": bool(reverb),
        "fluidsynth": fluidsynth_version(),
        "sf2": soundfont_id(),
    }

    def make() -> np.ndarray:
        notes = tuple(part_notes(inst, harmony=h, seconds=seconds, seed=seed, velocity=velocity))
        return render_tracks(
            [Track(inst, notes, reverb=40 if reverb else 0)],
            seconds=seconds,
            sample_rate=sample_rate,
            reverb=reverb,
        )

    audio = cached_array("part", params, make)
    return audio if stereo else np.ascontiguousarray(audio.mean(axis=1, dtype=np.float32))


def soundfont_id() -> str:
    """The soundfont in use, for cache keys: its file name and size."""
    p = soundfont_path()
    return f"{p.name}:{p.stat().st_size}"
