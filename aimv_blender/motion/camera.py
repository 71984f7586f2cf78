"""The camera's slow motion: sway and push-in that follow the drive (no bpy).

With a known pulse the sway's faster part swings with the music: once every two beats in an
even metre, once a bar in an odd one (a waltz sways on its bars, not across them), peaking on
the first downbeat.

Hits add their punch on a separate channel (``camera.punch``, the camera's delta location),
so an artist can mute or edit the punches without touching the sway.
"""

from __future__ import annotations

import bisect
import math
import random
import statistics
from dataclasses import dataclass

from ..contract import Rhythm
from .base import BEZIER, Channel, Keys, evaluate

LENS = 50.0  # mm: the AIMV camera's focal length (its sensor: background.SENSOR_WIDTH)
PUSH_DRIVE_MAX = 1.5  # the drive at which the push-in stops growing
UNKNOWN_PULSE_HZ = 1.7  # the faster sway's rate without a tempo


@dataclass(frozen=True)
class SwayPulse:
    """The faster sway's period (s) and a time (s) it peaks at."""

    period: float
    peak: float


def beats_in_a_bar(rhythm: Rhythm) -> int | None:
    """The median count of beats from one downbeat to the next, or None without bars."""
    beats, downs = sorted(rhythm.beats), sorted(rhythm.downbeats)
    edges = [bisect.bisect_left(beats, t - 1e-3) for t in downs]
    counts = [b - a for a, b in zip(edges, edges[1:], strict=False) if b > a]
    return int(statistics.median_low(counts)) if counts else None


def sway_pulse(rhythm: Rhythm | None) -> SwayPulse | None:
    """How the faster sway follows ``rhythm`` (module docstring); None without a tempo."""
    if rhythm is None or not rhythm.tempo_bpm:
        return None
    beat = 60.0 / rhythm.tempo_bpm
    bar = beats_in_a_bar(rhythm)
    period = beat * (bar if bar is not None and bar % 2 else 2)
    peak = (rhythm.downbeats or rhythm.beats or (0.0,))[0]
    return SwayPulse(period=period, peak=peak)


def camera_channels(
    drive_keys: Keys,
    frame_end: int,
    *,
    fps: int,
    seed: int,
    sway: float,
    push_in: float,
    distance: float,
    keys_per_second: float,
    pulse: SwayPulse | None = None,
) -> list[Channel]:
    """Camera location (x, y, z) and roll, sampled ``keys_per_second`` times a second.

    Sway amplitude scales with the drive and the camera pushes towards the screen as the drive
    rises. ``pulse``: the faster sway's period and peak (:func:`sway_pulse`); None: a free
    1.7 Hz.
    """
    rng = random.Random(seed)
    phase_x, phase_z, phase_r, phase_j = (rng.uniform(0, 2 * math.pi) for _ in range(4))
    if pulse is not None:
        fast = 1.0 / pulse.period
        phase_j = math.pi / 2 - 2 * math.pi * fast * pulse.peak  # sin(...) = 1 at the peak
    else:
        fast = UNKNOWN_PULSE_HZ
    step = max(1, int(round(fps / keys_per_second)))
    frames = list(range(1, frame_end + 1, step))
    if frames[-1] != frame_end:
        frames.append(frame_end)
    xs, ys, zs, rolls = [], [], [], []
    for f in frames:
        t = (f - 1) / fps
        d = evaluate(drive_keys, f)
        xs.append(
            sway
            * d
            * (
                math.sin(2 * math.pi * t / 3.1 + phase_x)
                + 0.5 * math.sin(2 * math.pi * fast * t + phase_j)
            )
        )
        zs.append(
            0.6
            * sway
            * d
            * (
                math.sin(2 * math.pi * t / 2.3 + phase_z)
                + 0.5 * math.sin(2 * math.pi * 1.35 * fast * t + phase_j)
            )
        )
        ys.append(-distance + push_in * min(d, PUSH_DRIVE_MAX))
        rolls.append(0.03 * d * math.sin(2 * math.pi * t / 4.7 + phase_r))
    fr = [float(f) for f in frames]
    return [
        Channel("camera.location", 0, tuple(zip(fr, xs, strict=True)), BEZIER),
        Channel("camera.location", 1, tuple(zip(fr, ys, strict=True)), BEZIER),
        Channel("camera.location", 2, tuple(zip(fr, zs, strict=True)), BEZIER),
        Channel("camera.roll", 1, tuple(zip(fr, rolls, strict=True)), BEZIER),
    ]
