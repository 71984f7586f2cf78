"""The beat tracker's parts: onset features, tempo estimation, and beats at a tempo.

librosa's beat tracker (Ellis 2007: an onset-strength envelope, a global tempo from its
autocorrelation, then dynamic programming that places beats on strong onsets at that tempo),
written out in numpy: librosa's numba-compiled tracker costs ~6 s of start-up in every new
process, more than the tracking itself on a 3-minute song. :mod:`aimv_backend.listen.rhythm`
puts them together (with the rules its docstring lists); :mod:`.tempo_sections` runs them per
section of a song whose tempo changes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.fft

from aimv_backend.listen.volume import FLOOR_DBFS, measure_level, song_silence_dbfs

SAMPLE_RATE = 22050
N_FFT = 1024
HOP = 256
FPS = SAMPLE_RATE / HOP  # ~86 envelope frames a second
N_MELS = 64
LOW_HZ = 180.0  # kick and bass (and the snare's body) live below this
TIGHTNESS = 100.0  # how strongly the tracker keeps to the tempo (librosa's default)
# Mid-points this strong relative to the beats are beats too: under ~180 Hz (kick and bass)
# or in all bands. Measured on rendered grooves: a true 70-100 bpm groove gives at most 0.78
# and 0.73, its double at least 1.57 or 0.87 (docs/benchmarks.md).
DOUBLE_LOW_RATIO = 1.2
DOUBLE_ALL_RATIO = 0.85
BLOCK_FRAMES = 1024  # STFT frames per block: bounded memory on long songs

# --------------------------------------------------------------------------------------------
# Features


@dataclass(frozen=True)
class OnsetFeatures:
    """Per envelope frame (``fps`` a second): onset strength, low-band onset strength, chroma."""

    fps: float
    envelope: np.ndarray  # (frames,)
    low: np.ndarray  # (frames,)
    chroma: np.ndarray  # (12, frames), each column summing to 1 (or 0 in silence)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear to 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    step = math.log(6.4) / 27.0
    return np.where(
        hz < 1000.0, hz * 3.0 / 200.0, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / step
    )


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    step = math.log(6.4) / 27.0
    return np.where(mel < 15.0, mel * 200.0 / 3.0, 1000.0 * np.exp(step * (mel - 15.0)))


@functools.lru_cache(maxsize=2)
def _filters(sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mel filter bank (N_MELS triangles to 8 kHz, Slaney area-normalised, as librosa's),
    chroma filter bank (each bin from 55 Hz to 5 kHz shared between its two nearest pitch
    classes), and which mel bands lie under LOW_HZ. Plain numpy: no librosa import."""
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / sample_rate)
    edges = _mel_to_hz(
        np.linspace(_hz_to_mel(0.0), _hz_to_mel(min(8000.0, sample_rate / 2)), N_MELS + 2)
    )
    mel = np.zeros((N_MELS, freqs.shape[0]))
    for i in range(N_MELS):
        lo, mid, hi = edges[i : i + 3]
        rise = (freqs - lo) / max(mid - lo, 1e-9)
        fall = (hi - freqs) / max(hi - mid, 1e-9)
        mel[i] = np.maximum(0.0, np.minimum(rise, fall)) * 2.0 / (hi - lo)
    chroma = np.zeros((12, freqs.shape[0]))
    ok = (freqs >= 55.0) & (freqs <= 5000.0)
    pc = (12.0 * np.log2(np.where(ok, freqs, 1.0) / 16.351597831287414)) % 12.0
    below = np.floor(pc).astype(int) % 12
    frac = pc - np.floor(pc)
    cols = np.flatnonzero(ok)
    chroma[below[cols], cols] += 1.0 - frac[cols]
    chroma[(below[cols] + 1) % 12, cols] += frac[cols]
    return mel.astype(np.float32), chroma.astype(np.float32), edges[1:-1] <= LOW_HZ


def _loudest_second_dbfs(audio: np.ndarray, sample_rate: int) -> float:
    """RMS (the volume's measure) of the loudest whole second of ``audio``, dBFS."""
    seconds = range(0, max(1, audio.shape[0] - sample_rate + 1), sample_rate)
    levels = (measure_level(audio[a : a + sample_rate]).rms_dbfs for a in seconds)
    return max(levels, default=FLOOR_DBFS)


def onset_features(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> OnsetFeatures:
    """Spectral-flux onset strength (all bands and bands under ~180 Hz) and chroma.

    ``audio``: mono float32 at ``sample_rate`` Hz. Computed in blocks of STFT frames, so a long
    song needs memory for the 1-D envelopes and the 12-row chroma only.
    """
    mel_fb, chroma_fb, low_bands = _filters(sample_rate)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    padded = np.pad(np.asarray(audio, dtype=np.float32), (N_FFT // 2, N_FFT // 2))
    frames = 1 + (padded.shape[0] - N_FFT) // HOP if padded.shape[0] >= N_FFT else 0
    logmel = np.empty((N_MELS, frames), dtype=np.float32)
    chroma = np.empty((12, frames), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:frames]
    silent = np.empty(frames, dtype=bool)
    quiet = 10.0 ** (song_silence_dbfs(_loudest_second_dbfs(audio, sample_rate)) / 10.0)
    for a in range(0, frames, BLOCK_FRAMES):
        mean_square = np.mean(np.square(view[a : a + BLOCK_FRAMES], dtype=np.float32), axis=1)
        silent[a : a + BLOCK_FRAMES] = mean_square < quiet
        spec = np.abs(scipy.fft.rfft(view[a : a + BLOCK_FRAMES] * window, axis=1)).T
        power = spec**2
        logmel[:, a : a + BLOCK_FRAMES] = np.log10(mel_fb @ power + 1e-10)
        chroma[:, a : a + BLOCK_FRAMES] = chroma_fb @ spec
    # Log-power in dB, floored 80 dB under the loudest (as librosa's power_to_db(top_db=80)).
    db = 10.0 * logmel
    np.maximum(db, db.max(initial=-100.0) - 80.0, out=db)
    # The frame before the song is silence, so a note at 0 s is an onset too.
    flux = np.maximum(0.0, np.diff(db, axis=1, prepend=np.full((N_MELS, 1), db.min(initial=0.0))))
    # No onset in silence (the volume's rule): dither or hiss under a quiet intro keeps no beat
    flux[:, silent] = 0.0
    envelope = flux.mean(axis=0)
    low = flux[low_bands].mean(axis=0) if low_bands.any() else envelope
    for signal in (envelope, low):  # the jump from silence at 0 s is no louder than a hit
        if signal.shape[0] > 1:
            signal[0] = min(signal[0], float(np.percentile(signal[1:], 99)))
    total = chroma.sum(axis=0, keepdims=True)
    chroma = np.where(total > 0, chroma / np.maximum(total, 1e-12), 0.0).astype(np.float32)
    return OnsetFeatures(
        fps=sample_rate / HOP,
        envelope=envelope.astype(np.float32),
        low=low.astype(np.float32),
        chroma=chroma,
    )


# --------------------------------------------------------------------------------------------
# Tempo and beats


def onset_autocorrelation(envelope: np.ndarray) -> np.ndarray:
    """Unbiased autocorrelation of the mean-removed onset envelope, lag 0 .. len-1 (frames)."""
    env = envelope - envelope.mean()
    n = env.shape[0]
    size = 1 << int(math.ceil(math.log2(max(2, 2 * n))))
    spec = np.fft.rfft(env, size)
    return np.fft.irfft(spec * np.conj(spec), size)[:n] / np.arange(n, 0, -1)


def _peak_lag(acf: np.ndarray, lo: int, hi: int, weight: np.ndarray | None = None) -> float:
    """The lag of the largest (weighted) autocorrelation in [lo, hi], refined to a fraction of
    a frame by a parabola through the peak and its neighbours."""
    lags = np.arange(lo, hi + 1)
    score = np.maximum(acf[lo : hi + 1], 0.0) * (1.0 if weight is None else weight)
    k = int(lags[int(np.argmax(score))])
    lag = float(k)
    if 0 < k < acf.shape[0] - 1:
        a, b, c = acf[k - 1 : k + 2]
        denom = a - 2 * b + c
        if denom < 0:
            lag += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
    return lag


def estimate_tempo(envelope: np.ndarray, fps: float, *, min_bpm: float, max_bpm: float) -> float:
    """The global tempo (bpm): the strongest autocorrelation lag of the onset envelope within
    [min_bpm, max_bpm], weighted by librosa's log-normal prior (120 bpm, one octave)."""
    n = envelope.shape[0]
    if n < 4 or not np.any(envelope - envelope.mean()):
        return 120.0
    acf = onset_autocorrelation(envelope)
    lo = max(1, int(math.floor(60.0 * fps / max_bpm)))
    hi = min(n - 2, int(math.ceil(60.0 * fps / min_bpm)))
    if hi <= lo:
        return 120.0
    bpms = 60.0 * fps / np.arange(lo, hi + 1)
    prior = np.exp(-0.5 * np.log2(bpms / 120.0) ** 2)
    return float(60.0 * fps / _peak_lag(acf, lo, hi, prior))


def refine_tempo(envelope: np.ndarray, fps: float, bpm: float) -> float:
    """``bpm`` moved to the autocorrelation peak within 4 % of it, read at that octave (the
    peak at a multiple of the lag gives the tempo to a finer fraction)."""
    n = envelope.shape[0]
    acf = onset_autocorrelation(envelope)
    lag = 60.0 * fps / bpm
    lo, hi = max(1, int(math.floor(lag * 0.96))), min(n - 2, int(math.ceil(lag * 1.04)))
    if hi <= lo:
        return bpm
    return float(60.0 * fps / _peak_lag(acf, lo, hi))


def track_beats(envelope: np.ndarray, fps: float, bpm: float) -> np.ndarray:
    """Beat frames by dynamic programming at ``bpm`` (Ellis 2007, as librosa.beat.beat_track)."""
    n = envelope.shape[0]
    period = 60.0 * fps / bpm
    std = float(envelope.std())
    if n == 0 or std <= 0:
        return np.zeros(0, dtype=int)
    env = envelope / std
    # Local score: the envelope smoothed by a Gaussian a 32nd of a beat wide.
    half = int(round(period))
    x = np.arange(-half, half + 1)
    local = np.convolve(env, np.exp(-0.5 * (x * 32.0 / period) ** 2), mode="same")
    lags = np.arange(int(round(2 * period)), int(round(period / 2)) - 1, -1)  # 2P .. P/2
    penalty = -TIGHTNESS * np.log(lags / period) ** 2
    cum = np.empty(n)
    back = np.full(n, -1, dtype=int)
    threshold = 0.01 * local.max()
    started = False
    for i in range(n):
        idx = i - lags
        ok = idx >= 0
        if started and ok.any():
            cand = cum[idx[ok]] + penalty[ok]
            j = int(np.argmax(cand))
            cum[i] = local[i] + cand[j]
            back[i] = idx[ok][j]
        else:
            cum[i] = local[i]
        started = started or local[i] >= threshold
    # The last beat: the best cumulative score within the last beat period (beats run on
    # into a silent ending; the trim below removes them).
    tail = max(0, n - int(round(period)))
    beats = [tail + int(np.argmax(cum[tail:]))]
    while back[beats[-1]] >= 0:
        beats.append(int(back[beats[-1]]))
    beats = np.array(beats[::-1])
    # Trim weak beats at both ends (silence before and after the music).
    strength = local[beats]
    floor = 0.5 * math.sqrt(float(np.mean(strength**2)))
    keep = np.flatnonzero(strength >= floor)
    return beats[keep[0] : keep[-1] + 1] if keep.size else beats[:0]


def strength_at(signal: np.ndarray, frames: np.ndarray, radius: int = 2) -> np.ndarray:
    """The largest value of ``signal`` within ``radius`` frames of each of ``frames``."""
    n = signal.shape[0]
    out = np.zeros(frames.shape[0])
    for k, f in enumerate(np.asarray(frames, dtype=int)):
        a, b = max(0, f - radius), min(n, f + radius + 1)
        out[k] = signal[a:b].max() if b > a else 0.0
    return out


def mid_ratios(features: OnsetFeatures, beats: np.ndarray) -> tuple[float, float]:
    """Onset strength half-way between beats over that at the beats: (under ~180 Hz, all
    bands). Near or above 1, the mid-points are beats too."""
    if beats.shape[0] < 8:
        return 0.0, 0.0
    mids = np.round(0.5 * (beats[:-1] + beats[1:])).astype(int)
    out = []
    for signal in (features.low, features.envelope):
        on = float(strength_at(signal, beats).mean())
        out.append(float(strength_at(signal, mids).mean()) / on if on > 0 else 0.0)
    return out[0], out[1]


def beat_envelope(features: OnsetFeatures) -> np.ndarray:
    """What the beats are placed on: the onset strength of all bands plus, equally weighted,
    that under ~180 Hz. Kick, bass and the snare's body mark the beat; a hi-hat on the
    off-beat is as loud in all bands but has nothing down there."""
    out = np.zeros_like(features.envelope, dtype=np.float64)
    for signal in (features.envelope, features.low):
        std = float(signal.std())
        if std > 0:
            out += signal / std
    return out


def choose_tempo(features: OnsetFeatures, *, min_bpm: float, max_bpm: float) -> float:
    """The tempo after the half/double rule (rhythm's module docstring): start from the lowest
    octave of the estimate within range, double while the mid-points hold beats too."""
    bpm = estimate_tempo(features.envelope, features.fps, min_bpm=min_bpm, max_bpm=max_bpm)
    while bpm / 2 >= min_bpm:
        bpm /= 2
    pulse = beat_envelope(features)
    while 2 * bpm <= max_bpm:
        beats = track_beats(pulse, features.fps, bpm)
        low_ratio, all_ratio = mid_ratios(features, beats)
        if low_ratio < DOUBLE_LOW_RATIO and all_ratio < DOUBLE_ALL_RATIO:
            break
        bpm *= 2
    return refine_tempo(features.envelope, features.fps, bpm)
