"""The front end shared by the drum-piece and instrument-family classifiers.

Mono audio at 22050 Hz -> power mel spectrogram (64 bands, 30 Hz to 11 kHz, 10 ms hop). The
classifiers see log-mel *patches*: drums 0.4 s starting 30 ms before an onset, families 1 s
centred in a window. Each patch is normalised to its own loudest bin, so the level of a song
does not matter. Training (tools/train_listen_models.py) uses exactly these functions.
"""

from __future__ import annotations

import numpy as np

RATE = 22050
HOP = 220  # 9.98 ms
N_FFT = 1024
N_MELS = 64
FMIN = 30.0
FMAX = 11000.0
DRUM_PRE_FRAMES = 3  # a drum patch starts 30 ms before the onset
DRUM_FRAMES = 40  # 0.4 s
FAMILY_FRAMES = 100  # 1 s, averaged in pairs to 50 frames of 20 ms (timbre needs no 10 ms)
FAMILY_POOL = 2
FLOOR_DECADES = 8.0  # dynamic range kept in a patch: 80 dB under its loudest bin


def frame_seconds() -> float:
    """Duration of one spectrogram frame, in seconds."""
    return HOP / RATE


def power_mel(audio: np.ndarray) -> np.ndarray:
    """Power mel spectrogram, (frames, N_MELS) float32, of mono ``audio`` at RATE Hz.

    Frame i is centred on sample i * HOP.
    """
    import librosa

    y = np.ascontiguousarray(audio, dtype=np.float32)
    if y.shape[0] < N_FFT:
        y = np.pad(y, (0, N_FFT - y.shape[0]))
    mel = librosa.feature.melspectrogram(
        y=y,
        sr=RATE,
        n_fft=N_FFT,
        hop_length=HOP,
        n_mels=N_MELS,
        fmin=FMIN,
        fmax=FMAX,
        power=2.0,
    )
    return np.ascontiguousarray(mel.T, dtype=np.float32)


def normalise_patches(power: np.ndarray) -> np.ndarray:
    """log10 power patches (n, frames, bands) scaled to [-1, 1] under each patch's maximum."""
    logp = np.log10(np.maximum(power, 1e-12))
    top = logp.max(axis=(1, 2), keepdims=True)
    x = np.maximum(logp - top, -FLOOR_DECADES)
    return (x / (FLOOR_DECADES / 2) + 1.0).astype(np.float32)


def take_patches(mel: np.ndarray, starts: np.ndarray, frames: int) -> np.ndarray:
    """Patches mel[s : s + frames] for each start frame, zero-padded outside the song."""
    n = mel.shape[0]
    starts = np.asarray(starts, dtype=np.int64)
    idx = starts[:, None] + np.arange(frames)[None, :]
    valid = (idx >= 0) & (idx < n)
    out = mel[np.clip(idx, 0, max(n - 1, 0))]
    out[~valid] = 0.0
    return out


def onset_frames(mel: np.ndarray, *, delta: float = 0.05) -> np.ndarray:
    """Onset frames of a power mel spectrogram (librosa spectral-flux peak picking).

    ``delta`` is the peak-picking threshold on the normalised onset strength; peaks are at
    least 30 ms apart.
    """
    import librosa

    if mel.shape[0] < 3:
        return np.zeros(0, dtype=np.int64)
    db = librosa.power_to_db(mel.T, ref=1.0, top_db=None)
    db = np.maximum(db, db.max() - 80.0)
    env = librosa.onset.onset_strength(S=db, sr=RATE, hop_length=HOP, lag=1, max_size=1)
    frames = librosa.onset.onset_detect(
        onset_envelope=env, sr=RATE, hop_length=HOP, delta=delta, backtrack=False, units="frames"
    )
    return np.asarray(frames, dtype=np.int64)


# librosa's spectral-flux peak comes about 30 ms after a drum's attack (measured on rendered
# kits: 27-45 ms, median 35 ms); hit times and patches are moved back by this much.
ONSET_LAG_FRAMES = 3


def drum_patch_starts(onsets: np.ndarray) -> np.ndarray:
    """Patch start frames for detected onset frames (the patch begins 30 ms before the hit)."""
    return np.asarray(onsets, dtype=np.int64) - ONSET_LAG_FRAMES - DRUM_PRE_FRAMES


def hit_seconds(onsets: np.ndarray) -> np.ndarray:
    """The time (seconds) of the hit behind each detected onset frame."""
    return (np.asarray(onsets, dtype=np.float64) - ONSET_LAG_FRAMES) * frame_seconds()


def family_inputs(power_patches: np.ndarray) -> np.ndarray:
    """Network inputs (n, FAMILY_FRAMES / FAMILY_POOL, bands) from power patches of 1 s."""
    n, frames, bands = power_patches.shape
    pooled = power_patches.reshape(n, frames // FAMILY_POOL, FAMILY_POOL, bands).mean(axis=2)
    return normalise_patches(pooled + 1e-10)
