"""The camera's slow motion: sway and push-in that follow the drive (no bpy).

Hits add their punch on a separate channel (``camera.punch``, the camera's delta location),
so an artist can mute or edit the punches without touching the sway.
"""

from __future__ import annotations

import math
import random

from .base import BEZIER, Channel, Keys, evaluate

LENS = 50.0  # mm: the AIMV camera's focal length (its sensor: background.SENSOR_WIDTH)
PUSH_DRIVE_MAX = 1.5  # the drive at which the push-in stops growing


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
    beat_seconds: float | None = None,
) -> list[Channel]:
    """Camera location (x, y, z) and roll, sampled ``keys_per_second`` times a second.

    Sway amplitude scales with the drive and the camera pushes towards the screen as the drive
    rises. With a known tempo the faster sway component turns once every two beats.
    """
    rng = random.Random(seed)
    phase_x, phase_z, phase_r, phase_j = (rng.uniform(0, 2 * math.pi) for _ in range(4))
    fast = 1.0 / (2 * beat_seconds) if beat_seconds else 1.7
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
