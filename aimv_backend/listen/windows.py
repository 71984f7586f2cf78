"""The window grid: where each record of the timeline starts and ends."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aimv_backend.errors import ParameterError

MIN_WINDOW_SECONDS = 0.25
MAX_WINDOW_SECONDS = 10.0
MIN_LAST_FRACTION = 0.1


@dataclass(frozen=True)
class WindowSpan:
    """One window in seconds, and in samples at the rate it was made for."""

    index: int
    start: float
    end: float
    start_frame: int
    end_frame: int

    @property
    def duration(self) -> float:
        return self.end - self.start


def check_window_seconds(window_seconds: float) -> float:
    """Validate --window: a finite number of seconds in [0.25, 10]."""
    try:
        value = float(window_seconds)
    except (TypeError, ValueError):
        raise ParameterError(
            f"--window must be a number of seconds, got {window_seconds!r}"
        ) from None
    if not math.isfinite(value) or not MIN_WINDOW_SECONDS <= value <= MAX_WINDOW_SECONDS:
        raise ParameterError(
            f"--window must be between {MIN_WINDOW_SECONDS} and {MAX_WINDOW_SECONDS} seconds, "
            f"got {window_seconds!r}"
        )
    return value


def make_windows(*, frames: int, sample_rate: int, window_seconds: float) -> list[WindowSpan]:
    """Cut ``frames`` samples into consecutive windows of ``window_seconds``.

    The last partial window is kept with its true end time; a remainder shorter than a tenth
    of a window is added to the window before it. Times are the nominal
    ``i * window_seconds`` (so a 0.25 s grid reads 1.25, not 1.249977); sample boundaries are
    ``round(i * window * rate)``, computed from the index so they do not drift over a long song.
    """
    window_seconds = check_window_seconds(window_seconds)
    if frames <= 0 or sample_rate <= 0:
        raise ParameterError(
            f"frames and sample_rate must be positive, got {frames}, {sample_rate}"
        )
    step = window_seconds * sample_rate
    count = max(1, math.ceil(frames / step - 1e-9))
    # A remainder under a tenth of a window (a few stray samples) joins the window before it
    # rather than becoming a window of its own with a colour, a sentence and a texture.
    if count > 1 and frames - (count - 1) * step < MIN_LAST_FRACTION * step:
        count -= 1
    spans = []
    for i in range(count):
        a = int(round(i * step))
        b = frames if i == count - 1 else min(frames, int(round((i + 1) * step)))
        start = i * window_seconds
        end = frames / sample_rate if i == count - 1 else (i + 1) * window_seconds
        spans.append(WindowSpan(i, round(start, 6), round(end, 6), a, b))
    return spans
