"""Hits become visible events: kick = camera punch + scale pulse, snare/clap = flash,
crash/splash = a burst of brightness and scale, hi-hat/ride = a small flicker.

The events come from the timeline's drum hits when the listen stage found them, plus a small
"note" pulse and flash for each onset (``rhythm.onsets``, sized by ``rhythm.onset_strengths``)
that no hit explains: a chord, a sung syllable. Without hits, the onsets punch and flash a little
each; without onsets either, the beats do; else the windows' loudness jumps. When beats are known, onsets lock to the nearest beat (within 70 ms) and every
downbeat adds a scale pulse. Each effect jumps on the hit's own frame (the key one frame before
holds the previous value) and decays exponentially; its size follows the window's drive.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from ..contract import Timeline, Window
from .base import (
    CONSTANT,
    LINEAR,
    Channel,
    WindowFrames,
    dedupe,
    idle_keys,
    time_to_frame,
    volume_drive,
    window_at,
)

# piece -> (punch metres, pulse scale, flash alpha)
EFFECTS: dict[str, tuple[float, float, float]] = {
    "kick": (0.45, 0.035, 0.0),
    "snare": (0.0, 0.0, 0.35),
    "clap": (0.0, 0.0, 0.35),
    "rimshot": (0.0, 0.0, 0.2),
    "crash": (0.1, 0.09, 0.55),
    "splash": (0.05, 0.06, 0.4),
    "hihat_closed": (0.0, 0.0, 0.06),
    "hihat_open": (0.0, 0.0, 0.1),
    "ride": (0.0, 0.0, 0.07),
    "tom_high": (0.12, 0.01, 0.0),
    "tom_mid": (0.15, 0.012, 0.0),
    "tom_floor": (0.18, 0.015, 0.0),
    "onset": (0.4, 0.03, 0.18),
    "note": (0.0, 0.015, 0.12),
    "downbeat": (0.0, 0.03, 0.0),
}
DECAY_S = {"punch": 0.18, "pulse": 0.25, "flash": 0.09}
OFFSETS = (-1, 0, 1, 2, 4, 7, 12)  # frames around a hit that get keys
BEAT_SNAP_S = 0.07
HIT_EXPLAINS_S = 0.06  # an onset this close to a drum hit is that hit
FLASH_MAX = 0.8
FLASH_FLOOR = 1 / 510  # a flash this faint moves no pixel by half a level in 8 bits


@dataclass(frozen=True)
class Event:
    """One visible event: its frame, the kit piece (or "onset"/"downbeat") and its strength."""

    frame: int
    piece: str
    strength: float


def _drive(windows: tuple[Window, ...], spans, frame: int) -> float:
    return volume_drive(windows[window_at(spans, frame)].volume)


def _volume_onsets(timeline: Timeline) -> list[float]:
    out = []
    prev = None
    for w in timeline.windows:
        if w.volume.level == "loud" and (
            prev is None
            or prev.volume.level != "loud"
            or w.volume.rms_dbfs - prev.volume.rms_dbfs >= 6.0
        ):
            out.append(w.start)
        prev = w
    return out


def _nearest(times: list[float], t: float, *, within: float) -> float | None:
    """The time of the sorted ``times`` nearest to ``t`` (s), if it is ``within`` seconds."""
    j = bisect.bisect_left(times, t)
    near = [x for x in times[max(0, j - 1) : j + 1] if abs(x - t) <= within]
    return min(near, key=lambda x: abs(x - t)) if near else None


def events(timeline: Timeline, spans: tuple[WindowFrames, ...], fps: int) -> tuple[Event, ...]:
    """The visible events of a timeline, in frame order (see the module docstring)."""
    rhythm = timeline.rhythm
    beats = list(rhythm.beats) if rhythm is not None else []
    found: list[tuple[float, str, float]] = []
    hits = [h for w in timeline.windows for h in (w.hits or ())]
    onsets = list(rhythm.onsets) if rhythm is not None else []
    strengths = list(rhythm.onset_strengths) if rhythm is not None else []
    if len(strengths) != len(onsets):
        strengths = [1.0] * len(onsets)
    if hits:
        found = [(h.time, h.piece, h.score) for h in hits]
        times = sorted(h.time for h in hits)
        for t, strength in zip(onsets, strengths, strict=True):
            if _nearest(times, t, within=HIT_EXPLAINS_S) is None:
                found.append((t, "note", strength))
    else:
        if not onsets and beats:  # a pulse but no onsets: the beats, a little softer
            onsets, strengths = list(beats), [0.6] * len(beats)
        if not onsets:
            onsets = _volume_onsets(timeline)
        if len(strengths) != len(onsets):
            strengths = [1.0] * len(onsets)
        for t, strength in zip(onsets, strengths, strict=True):
            snapped = _nearest(beats, t, within=BEAT_SNAP_S)
            found.append((t if snapped is None else snapped, "onset", strength))
    if rhythm is not None:
        found += [(t, "downbeat", 1.0) for t in rhythm.downbeats]
    out = []
    for t, piece, score in found:
        frame = time_to_frame(t, fps)
        drive = 0.5 + 0.5 * min(1.5, _drive(timeline.windows, spans, frame))
        out.append(Event(frame=frame, piece=piece, strength=max(0.0, min(1.0, score)) * drive))
    return tuple(sorted(out, key=lambda e: (e.frame, e.piece)))


def _decay_channel(
    evts: list[tuple[int, float]],
    *,
    tau_frames: float,
    frame_end: int,
    cap: float,
    floor: float = 0.0,
) -> tuple[tuple[float, float], ...]:
    """Keys of the sum of decaying pulses (value jumps on each event frame). A pulse ends
    ``horizon`` frames after its event (at 0.25 % of its height); sums below ``floor`` are 0."""
    if not evts:
        return ((1.0, 0.0), (float(frame_end), 0.0))
    frames_ev = [f for f, _a in evts]
    horizon = int(6 * tau_frames) + 1
    wanted = {1, frame_end}
    for f, _a in evts:
        wanted.update(f + o for o in OFFSETS if 1 <= f + o <= frame_end)
        if f + horizon <= frame_end:
            wanted.add(f + horizon)
    keys = []
    for g in sorted(wanted):
        lo = bisect.bisect_left(frames_ev, g - horizon + 1)
        hi = bisect.bisect_right(frames_ev, g)
        v = sum(a * math.exp(-(g - f) / tau_frames) for f, a in evts[lo:hi])
        keys.append((float(g), min(cap, v) if v >= floor else 0.0))
    return dedupe(keys)


def hit_channels(
    timeline: Timeline,
    spans: tuple[WindowFrames, ...],
    *,
    fps: int,
    frame_end: int,
    strength: float = 1.0,
) -> tuple[list[Channel], tuple[Event, ...]]:
    """The punch, pulse and flash channels (LINEAR) and the events they come from."""
    evs = events(timeline, spans, fps)
    per: dict[str, list[tuple[int, float]]] = {"punch": [], "pulse": [], "flash": []}
    for e in evs:
        punch, pulse, flash = EFFECTS.get(e.piece, (0.0, 0.0, 0.0))
        for name, amount in (("punch", punch), ("pulse", pulse), ("flash", flash)):
            if amount > 0:
                per[name].append((e.frame, amount * e.strength * strength))
    out = []
    for name, channel, cap in (
        ("punch", "camera.punch", 2.0),
        ("pulse", "background.pulse", 0.3),
        ("flash", "flash", FLASH_MAX),
    ):
        keys = _decay_channel(
            per[name],
            tau_frames=max(0.5, DECAY_S[name] * fps),
            frame_end=frame_end,
            cap=cap,
            floor=FLASH_FLOOR if name == "flash" else 0.0,
        )
        if name == "pulse":  # delta_scale multiplies: 1 is at rest
            keys = tuple((f, 1.0 + v) for f, v in keys)
        out.append(Channel(channel, 3 if name == "flash" else 0, keys, LINEAR))
        if name == "flash":  # off the picture while dark: no transparent pass to draw
            hidden = idle_keys(keys, (LINEAR,) * len(keys), frame_end)
            out.append(Channel("flash.hidden", 0, hidden, CONSTANT))
    return out, evs
