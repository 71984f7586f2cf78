"""Mixing, levels, resampling and writing: the glue between rendered parts and a test file.

All arrays are float32, mono ``(frames,)`` or stereo ``(frames, 2)``. Levels are in dB; the
speech level used for SNR is the *active* level (RMS over frames within 40 dB of the loudest),
so silence between words does not make a "0 dB" mix quieter than it sounds.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aimv_backend.errors import OutputError, ParameterError
from aimv_backend.util.files import atomic_path

FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}


def as_float32(audio: np.ndarray, *, name: str = "audio") -> np.ndarray:
    arr = np.asarray(audio, dtype=np.float32)
    if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[1] not in (1, 2)):
        raise ParameterError(f"{name} must be (frames,) or (frames, 2), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ParameterError(f"{name} contains NaN or infinite samples")
    return arr


def resample(audio: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample along axis 0 with soxr (high quality); float32 out."""
    if int(orig_rate) == int(target_rate):
        return np.asarray(audio, dtype=np.float32)
    import soxr

    return np.asarray(
        soxr.resample(
            np.asarray(audio, dtype=np.float32), int(orig_rate), int(target_rate), quality="HQ"
        ),
        dtype=np.float32,
    )


def to_mono(audio: np.ndarray) -> np.ndarray:
    arr = as_float32(audio)
    return arr if arr.ndim == 1 else np.ascontiguousarray(arr.mean(axis=1, dtype=np.float32))


def to_stereo(audio: np.ndarray, *, pan: float = 0.0) -> np.ndarray:
    """Mono -> (frames, 2) with constant-power ``pan`` in [-1 (left), 1 (right)]."""
    arr = as_float32(audio)
    if arr.ndim == 2 and arr.shape[1] == 2:
        if pan == 0.0:
            return arr
        arr = arr.mean(axis=1)
    elif arr.ndim == 2:
        arr = arr[:, 0]
    if not -1.0 <= float(pan) <= 1.0:
        raise ParameterError(f"pan must be in [-1, 1], got {pan!r}")
    angle = (float(pan) + 1.0) * math.pi / 4
    return np.stack([arr * math.cos(angle), arr * math.sin(angle)], axis=1).astype(np.float32)


def db_to_gain(db: float) -> float:
    return float(10 ** (float(db) / 20))


def rms(audio: np.ndarray) -> float:
    arr = np.asarray(audio, dtype=np.float64)
    return float(np.sqrt(np.mean(arr**2))) if arr.size else 0.0


def active_rms(audio: np.ndarray, *, rate: int = 22050, floor_db: float = -40.0) -> float:
    """RMS over 20 ms frames within ``floor_db`` of the loudest frame (speech 'active level')."""
    mono = np.asarray(to_mono(audio), dtype=np.float64)
    hop = max(1, rate // 50)
    n = mono.size // hop
    if n == 0:
        return rms(mono)
    power = np.mean(mono[: n * hop].reshape(n, hop) ** 2, axis=1)
    if power.max() <= 0:
        return 0.0
    keep = power >= power.max() * 10 ** (floor_db / 10)
    return float(np.sqrt(power[keep].mean()))


def scale_to_snr(
    signal: np.ndarray, noise: np.ndarray, *, snr_db: float, rate: int = 22050
) -> np.ndarray:
    """Return ``noise`` scaled so that active_rms(signal) / rms(noise) is ``snr_db`` dB."""
    if not math.isfinite(float(snr_db)):
        raise ParameterError(f"snr_db must be a finite number of dB, got {snr_db!r}")
    s, n = active_rms(signal, rate=rate), rms(noise)
    if s <= 0 or n <= 0:
        raise ParameterError("snr_db needs a non-silent signal and a non-silent noise")
    return (np.asarray(noise, dtype=np.float32) * (s / n / db_to_gain(snr_db))).astype(np.float32)


@dataclass(frozen=True)
class Layer:
    """One input of :func:`mix`: audio, a gain in dB, a pan and a start offset in seconds."""

    audio: np.ndarray
    gain_db: float = 0.0
    pan: float = 0.0
    start: float = 0.0


def mix(
    *layers: Layer, seconds: float, sample_rate: int, stereo: bool = True, peak: float | None = 0.89
) -> np.ndarray:
    """Sum layers into ``seconds`` of audio; stereo (frames, 2) unless ``stereo=False``.

    Layers are cut at the end; ``peak`` (linear, None to keep levels) normalises the result
    down when louder than that, never up, so relative levels and SNRs are preserved.
    """
    if not layers:
        raise ParameterError("mix needs at least one layer")
    frames = int(round(float(seconds) * int(sample_rate)))
    if frames <= 0:
        raise ParameterError(f"seconds must be positive, got {seconds!r}")
    out = np.zeros((frames, 2) if stereo else frames, dtype=np.float32)
    for k, layer in enumerate(layers):
        arr = as_float32(layer.audio, name=f"layer {k} audio")
        arr = to_stereo(arr, pan=layer.pan) if stereo else to_mono(arr)
        a = int(round(float(layer.start) * sample_rate))
        if a < 0:
            raise ParameterError(f"layer {k} start must be >= 0 seconds, got {layer.start!r}")
        n = max(0, min(frames - a, arr.shape[0]))
        out[a : a + n] += arr[:n] * np.float32(db_to_gain(layer.gain_db))
    if peak is not None:
        top = float(np.max(np.abs(out))) if out.size else 0.0
        if top > peak:
            out *= np.float32(peak / top)
    return out


def write_audio(
    path: str | os.PathLike[str], audio: np.ndarray, sample_rate: int, *, subtype: str | None = None
) -> Path:
    """Write WAV/FLAC/OGG (chosen by the extension) atomically; samples clipped to [-1, 1].

    Default subtypes: 16-bit PCM for WAV and FLAC, Vorbis for OGG. Raises OutputError for an
    unknown extension or an unwritable folder.
    """
    import soundfile as sf

    target = Path(path)
    ext = target.suffix.lower()
    if ext not in FORMATS:
        raise OutputError(f"audio output {str(target)!r} must end in .wav, .flac or .ogg")
    fmt, default_subtype = FORMATS[ext]
    arr = np.clip(as_float32(audio), -1.0, 1.0)
    if not target.parent.is_dir():
        raise OutputError(f"audio output folder {str(target.parent)!r} does not exist")
    try:
        with atomic_path(target, suffix=ext) as tmp:
            sf.write(
                str(tmp), arr, int(sample_rate), format=fmt, subtype=subtype or default_subtype
            )
            _chmod_like_new_file(tmp)
    except OSError as exc:
        raise OutputError(f"audio output {str(target)!r} cannot be written: {exc}") from None
    return target


def _chmod_like_new_file(path: Path) -> None:
    """Temporary files are created 0600; give the output the permissions open() would."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)
