"""The background layer's maths: full-frame textures, transitions, colour and slow motion.

Transitions start AT the window boundary, never before it: over ``F`` frames from the
boundary frame ``b`` the next window's texture (and colour) blends in, and on frame ``b + F - 1``
the "current" texture switches to it, so the blend is seamless on whole frames. When the
timeline knows downbeats, a boundary that has a downbeat in the first half of the next window
hard-cuts on that downbeat instead; failing that, when it knows beats and the next window is not
quiet, the boundary cuts on the first beat in that half, as an editor cuts a music video. Quiet
passages and songs without a beat keep the crossfade.

The background plane is sized to cover the camera's whole view with a margin for the camera's
sway and the background's own push-in and drift, so no frame shows a backdrop.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from ..contract import Timeline
from .base import (
    BEZIER,
    CONSTANT,
    LINEAR,
    Channel,
    Keys,
    WindowFrames,
    dedupe,
    evaluate,
    time_to_frame,
)

SENSOR_WIDTH = 36.0  # mm, Blender's default camera sensor (fit AUTO: the longer side)


@dataclass(frozen=True)
class Transition:
    """From window ``before`` to the next: blend over frames [start, switch], cut if start == switch."""

    before: int  # position of the window before the boundary
    start: int  # first frame that shows any of the next window
    switch: int  # first frame that shows only the next window
    on_downbeat: bool = False

    @property
    def frames(self) -> int:
        return self.switch - self.start + 1


def _first_in(frames: list[int], lo: int, hi: int) -> int | None:
    """The first of the sorted ``frames`` in [lo, hi), or None."""
    j = bisect.bisect_left(frames, lo)
    return frames[j] if j < len(frames) and frames[j] < hi else None


def transitions(
    spans: tuple[WindowFrames, ...],
    *,
    crossfade: float,
    fps: int,
    downbeats: tuple[float, ...] = (),
    beats: tuple[float, ...] = (),
    quiet: tuple[bool, ...] = (),
) -> tuple[Transition, ...]:
    """One transition per window boundary (see the module docstring for the rule).

    quiet: per window, whether it is a quiet one (no beat cut into it); empty: none is.
    """
    down = sorted(time_to_frame(t, fps) for t in downbeats)
    pulse = sorted(time_to_frame(t, fps) for t in beats)
    out = []
    for i, nxt in enumerate(spans[1:]):
        b = nxt.start
        half = max(1, (nxt.end - nxt.start) // 2)
        cut = _first_in(down, b, b + half)
        on_downbeat = cut is not None
        if cut is None and not (i + 1 < len(quiet) and quiet[i + 1]):
            cut = _first_in(pulse, b, b + half)
        if cut is not None:
            out.append(Transition(before=i, start=cut, switch=cut, on_downbeat=on_downbeat))
            continue
        fade = max(1, min(int(round(crossfade * fps)), half))
        out.append(Transition(before=i, start=b, switch=b + fade - 1))
    return tuple(out)


def held_keys(values: list[float], spans, trans: tuple[Transition, ...]) -> Keys:
    """LINEAR keys holding each window's value, blending into the next one over a transition."""
    keys = [(float(spans[0].start), values[0])]
    for t in trans:
        keys.append((float(t.start - 1), values[t.before]))
        keys.append((float(t.switch), values[t.before + 1]))
    keys.append((float(spans[-1].end - 1), values[-1]))
    return dedupe(keys)


def texture_keys(
    numbers: list[int], spans, trans: tuple[Transition, ...]
) -> tuple[Keys, Keys, Keys, tuple[str, ...]]:
    """Current and next texture numbers (CONSTANT) and the crossfade factor with its interpolations.

    The factor is 0 (only the current texture) except during a blend, where frame ``start + k``
    shows (k + 1) / F of the next texture; on ``switch`` the current number becomes the next.
    """
    nxt = [*numbers[1:], numbers[-1]]
    current = [(float(spans[0].start), float(numbers[0]))]
    coming = [(float(spans[0].start), float(nxt[0]))]
    mix, interps = [(float(spans[0].start), 0.0)], [CONSTANT]
    for t in trans:
        current.append((float(t.switch), float(numbers[t.before + 1])))
        coming.append((float(t.switch), float(nxt[t.before + 1])))
        f = t.frames
        if f >= 2:
            mix.append((float(t.start), 1.0 / f))
            interps.append(LINEAR)
            mix.append((float(t.switch - 1), (f - 1) / f))
            interps.append(CONSTANT)
        mix.append((float(t.switch), 0.0))
        interps.append(CONSTANT)
    k, i = dedupe(mix, interps)
    return dedupe(current), dedupe(coming), k, i


def motion_channels(
    drive_keys: Keys, frame_end: int, *, fps: int, speed: float, keys_per_second: float, seed: int
) -> list[Channel]:
    """The background's slow push-in and drift; their speed follows the drive (the volume).

    A phase advances at (1/20 + speed * drive / 8) turns a second; the plane's scale breathes
    between 1.0 and 1.1 and it drifts up to 0.25 m sideways and 0.12 m up and down with it.
    """
    step = max(1, int(round(fps / keys_per_second)))
    frames = list(range(1, frame_end + 1, step))
    if frames[-1] != frame_end:
        frames.append(frame_end)
    a = (seed % 97) * 0.37
    phase, last = 0.0, 1
    zoom, drift_x, drift_z = [], [], []
    for f in frames:
        for g in range(last, f):  # integrate per frame, so the speed follows the drive exactly
            phase += 2 * math.pi * (1 / 20 + speed * evaluate(drive_keys, g) / 8) / fps
        last = f
        zoom.append((float(f), 1.05 - 0.05 * math.cos(phase)))
        drift_x.append((float(f), 0.25 * math.sin(0.5 * phase + a)))
        drift_z.append((float(f), 0.12 * math.sin(0.37 * phase + 2 * a)))
    return [
        Channel("background.zoom", 0, tuple(zoom), BEZIER),
        Channel("background.drift", 0, tuple(drift_x), BEZIER),
        Channel("background.drift", 2, tuple(drift_z), BEZIER),
    ]


def hidden_keys(shown: list[tuple[int, int]], frame_end: int) -> Keys:
    """CONSTANT keys (1 = hidden) that hide the screen over the frames [first, last] of
    ``shown`` (the clips' spans, in order) and show it elsewhere."""
    keys = [(1.0, 0.0)]
    for first, last in shown:
        keys.append((float(first), 1.0))
        if last < frame_end:
            keys.append((float(last + 1), 0.0))
    return dedupe(keys)


def cover_size(
    *, aspect: float, distance: float, lens: float, margin_x: float, margin_z: float
) -> tuple[float, float]:
    """Width and height (m) of a plane at ``distance`` that covers the camera's view.

    margin_x, margin_z: metres the view may move sideways/up (sway, drift); 12 % more covers
    the camera's roll.
    """
    if aspect >= 1.0:
        width = distance * SENSOR_WIDTH / lens
        height = width / aspect
    else:
        height = distance * SENSOR_WIDTH / lens
        width = height * aspect
    return 1.12 * (width + 2 * margin_x), 1.12 * (height + 2 * margin_z)


def crop_uv(texture_aspect: float, plane_aspect: float) -> tuple[float, float, float, float]:
    """The centred part (u0, v0, u1, v1) of a texture that fills a plane without stretching."""
    if texture_aspect > plane_aspect:
        w = plane_aspect / texture_aspect
        return (0.5 - w / 2, 0.0, 0.5 + w / 2, 1.0)
    h = texture_aspect / plane_aspect
    return (0.0, 0.5 - h / 2, 1.0, 0.5 + h / 2)


def texture_numbers(timeline: Timeline) -> list[int | None]:
    """Per window, the 0-based number of the texture it shows in the image sequence.

    Windows without a texture show the previous window's (or the next one's at the start);
    None everywhere when the timeline has no texture at all.
    """
    numbers: list[int | None] = [w.index if w.texture else None for w in timeline.windows]
    if all(n is None for n in numbers):
        return numbers
    last = next(n for n in numbers if n is not None)
    for i, n in enumerate(numbers):
        if n is None:
            numbers[i] = last
        else:
            last = n
    return numbers
