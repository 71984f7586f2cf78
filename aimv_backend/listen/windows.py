"""The window grid: where each record of the timeline starts and ends."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aimv_backend.errors import ParameterError
from aimv_timeline.names import MAX_WINDOW_SECONDS, MIN_WINDOW_SECONDS

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


WINDOW_MODES = ("seconds", "beats", "bars")


def check_window_mode(mode: str) -> str:
    """Validate --windows: seconds, beats or bars."""
    if mode not in WINDOW_MODES:
        raise ParameterError(f"--windows must be one of {', '.join(WINDOW_MODES)}, got {mode!r}")
    return mode


def make_beat_windows(
    *,
    frames: int,
    sample_rate: int,
    window_seconds: float,
    marks: Sequence[float],
    pulse: tuple[float, float] | None = None,
) -> list[WindowSpan]:
    """Windows whose boundaries lie on ``marks`` (beat or bar times, seconds, increasing).

    Each window spans as many consecutive marks as come closest to ``window_seconds`` (at
    least one interval), so a 1 s window at 150 bpm holds 2 or 3 beats. ``pulse``: where the
    beats start and where the last one ends (s); the pickup before the first bar and the last
    beat or bar up to that end are windows of their own, so a song's last bar is not cut off
    the beat. Before the pulse and after it (or, without ``pulse``, before the first mark and
    after the last) the song is cut into ``window_seconds`` windows ending (starting) exactly
    on the pulse; a remainder under a tenth of a window joins its neighbour, as in
    :func:`make_windows`. With fewer than two marks the seconds grid is used.
    """
    window_seconds = check_window_seconds(window_seconds)
    if frames <= 0 or sample_rate <= 0:
        raise ParameterError(
            f"frames and sample_rate must be positive, got {frames}, {sample_rate}"
        )
    duration = frames / sample_rate
    points = sorted({round(float(m), 6) for m in marks if 0.0 <= float(m) < duration})
    if len(points) < 2:
        return make_windows(frames=frames, sample_rate=sample_rate, window_seconds=window_seconds)
    step = max(1, int(round(window_seconds / float(np.median(np.diff(points))))))
    edges = points[::step]
    if edges[-1] != points[-1] and points[-1] - edges[-1] >= MIN_LAST_FRACTION * window_seconds:
        edges.append(points[-1])
    shortest = MIN_LAST_FRACTION * window_seconds
    first, end = pulse if pulse is not None else (edges[0], edges[-1])
    if first < edges[0] - shortest:  # the pickup: one window from the first beat to the bar
        head = [*_inner(0.0, first, window_seconds, from_end=True), first]
    else:
        head = _inner(0.0, edges[0], window_seconds, from_end=True)
    if end <= edges[-1] + shortest:
        tail = _inner(edges[-1], duration, window_seconds, from_end=False)
    elif end >= duration - shortest:  # the last beat or bar runs to the end of the song
        tail = []
    else:
        tail = [end, *_inner(end, duration, window_seconds, from_end=False)]
    bounds = []
    for b in (0.0, *head, *edges, *tail, duration):
        if not bounds or b - bounds[-1] > 1e-6:
            bounds.append(b)
    if bounds[1] - bounds[0] < shortest:
        del bounds[1]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < shortest:
        del bounds[-2]
    spans = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        start_frame = int(round(a * sample_rate))
        end_frame = frames if i == len(bounds) - 2 else int(round(b * sample_rate))
        spans.append(WindowSpan(i, round(a, 6), round(b, 6), start_frame, end_frame))
    return spans


def _inner(start: float, end: float, window_seconds: float, *, from_end: bool) -> list[float]:
    """Boundaries strictly between ``start`` and ``end``, ``window_seconds`` apart (counted
    back from ``end`` when ``from_end``); a remainder under a tenth of a window is merged."""
    length = end - start
    count = max(1, math.ceil(length / window_seconds - 1e-9))
    if count > 1 and length - (count - 1) * window_seconds < MIN_LAST_FRACTION * window_seconds:
        count -= 1
    if from_end:
        return [end - k * window_seconds for k in range(count - 1, 0, -1)]
    return [start + k * window_seconds for k in range(1, count)]
