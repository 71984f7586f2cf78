"""Loudness of each window, absolute (dBFS) and relative to the running average of the song.

The design asks for "volume relative to the running average volume": a window is loud when it
stands out from what came just before it, so a quiet song still has loud moments.

Rules (documented in docs/timeline.md):
- rms_dbfs = 20 log10(RMS) of the mono mix, floored at FLOOR_DBFS (-120 dBFS) so digital silence
  gives a finite number.
- The running average is the mean *power* of the non-silent windows whose end lies within the
  preceding ``span_seconds`` (default 8 s), expressed in dB. The current window is excluded.
- relative_db = rms_dbfs - running average; 0 when there is no history yet (first window, or
  only silence before).
- level: "silent" when rms_dbfs < the song's silence: silence_dbfs (-60 dBFS), or in a quiet
  song 35 dB under its loudest window, down to -80 dBFS (song_silence_dbfs); else "loud" when
  relative_db >= loud_db (+6 dB); "quiet" when relative_db <= quiet_db (-6 dB); otherwise
  "normal".
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from aimv_backend.errors import ParameterError
from aimv_timeline.schema import Volume

FLOOR_DBFS = -120.0


SILENCE_DBFS = -60.0  # quieter than this is silence: no level, colour, instrument or beat
# ... unless the song itself is quiet (unmastered, or classical with a wide range): then silence
# is what lies SILENCE_RANGE_DB under its loudest window, but never above -60 nor under -80 dBFS
# (a pianissimo opening 30 dB under the song's forte is music; hiss 37 dB under it, or
# dither, is not). Only a song whose loudest window reaches MUSIC_DBFS counts: room tone, hum
# or hiss alone (a loudest window near -70 dBFS) stays silence.
SILENCE_RANGE_DB = 35.0
SILENCE_FLOOR_DBFS = -80.0
MUSIC_DBFS = -45.0


def song_silence_dbfs(loudest_dbfs: float, silence_dbfs: float = SILENCE_DBFS) -> float:
    """The silence threshold (dBFS) of a song whose loudest window has RMS ``loudest_dbfs``.
    A threshold other than the default (``VolumeOptions.silence_dbfs``) is the caller's own,
    and kept as it is."""
    if silence_dbfs != SILENCE_DBFS or loudest_dbfs < MUSIC_DBFS:
        return silence_dbfs
    return min(silence_dbfs, max(SILENCE_FLOOR_DBFS, loudest_dbfs - SILENCE_RANGE_DB))


@dataclass(frozen=True)
class VolumeOptions:
    """Thresholds of the loudness labels. All in dB; span in seconds. Validated on construction."""

    span_seconds: float = 8.0
    loud_db: float = 6.0
    quiet_db: float = -6.0
    silence_dbfs: float = SILENCE_DBFS

    def __post_init__(self) -> None:
        if not (math.isfinite(self.span_seconds) and 0.5 <= self.span_seconds <= 600):
            raise ParameterError(f"span_seconds must be in [0.5, 600], got {self.span_seconds!r}")
        if not (self.loud_db > 0 > self.quiet_db):
            raise ParameterError(
                f"loud_db must be > 0 and quiet_db < 0, got {self.loud_db!r}, {self.quiet_db!r}"
            )
        if not (FLOOR_DBFS < self.silence_dbfs < 0):
            raise ParameterError(f"silence_dbfs must be in (-120, 0), got {self.silence_dbfs!r}")


@dataclass(frozen=True)
class WindowLevel:
    """Absolute levels of one window before the running average is known."""

    rms_dbfs: float
    peak_dbfs: float


def to_dbfs(amplitude: float) -> float:
    """Amplitude (RMS or peak, full scale = 1.0) to dBFS, floored at -120 dBFS."""
    if amplitude <= 10 ** (FLOOR_DBFS / 20):
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * math.log10(amplitude))


def measure_level(samples: np.ndarray) -> WindowLevel:
    """RMS and peak of a mono float32 window, computed in float64 accumulators (no copy)."""
    if samples.size == 0:
        return WindowLevel(FLOOR_DBFS, FLOOR_DBFS)
    # A constant offset (DC) is not sound: the RMS is measured around the window's mean, so a
    # DC-shifted recording (or pure DC) is not rated louder than it sounds. The peak is the
    # samples' own, DC included: it says how close the file comes to clipping.
    mean = float(np.mean(samples, dtype=np.float64))
    power = max(0.0, float(np.dot(samples, samples)) / samples.size - mean * mean)
    peak = max(abs(float(np.max(samples))), abs(float(np.min(samples))))
    return WindowLevel(to_dbfs(math.sqrt(power)), to_dbfs(peak))


class RunningVolume:
    """Turns a stream of window levels into :class:`Volume` records with relative levels."""

    def __init__(self, options: VolumeOptions):
        self.options = options
        self._history: deque[tuple[float, float]] = deque()  # (end time, power)
        self._sum = 0.0

    def push(self, level: WindowLevel, *, start: float, end: float) -> Volume:
        opts = self.options
        # Drop history that ended before the span that precedes this window.
        while self._history and self._history[0][0] <= start - opts.span_seconds + 1e-9:
            self._sum -= self._history.popleft()[1]
        if self._history:
            mean_power = max(self._sum / len(self._history), 1e-30)
            relative = level.rms_dbfs - 10.0 * math.log10(mean_power)
        else:
            relative = 0.0
        silent = level.rms_dbfs < opts.silence_dbfs
        if silent:
            label = "silent"
        elif relative >= opts.loud_db:
            label = "loud"
        elif relative <= opts.quiet_db:
            label = "quiet"
        else:
            label = "normal"
        if not silent:
            power = 10.0 ** (level.rms_dbfs / 10.0)
            self._history.append((end, power))
            self._sum += power
        return Volume(
            rms_dbfs=round(level.rms_dbfs, 3),
            peak_dbfs=round(level.peak_dbfs, 3),
            relative_db=round(max(-200.0, min(200.0, relative)), 3),
            level=label,
        )
