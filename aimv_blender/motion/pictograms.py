"""Pictograms for the sentence's nouns, placed as the design's sentence is built (no bpy).

- instruments sit in the background layer, small, along the top, just in front of the texture;
- abstractions sit in the foreground, close to the camera, in the lower corners;
- the sung object sits next to its lyric (right of the word when it is on screen).

A pictogram pops in at its window's start and fades at its end; the same image in consecutive
windows stays up. Objects are reused: one per image, more only where it must show twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..contract import Timeline
from .background import SENSOR_WIDTH
from .base import WindowFrames, fit_name, time_to_frame
from .camera import LENS
from .lyrics import Appearance, pop_channels, word_width

NAME_PREFIX = "AIMV Pictogram "
FADE_S = 0.25
SAFE = 0.95  # the share of the view's half-width (half-height) a pictogram's edge may reach
POP = 1.12  # the pop-in's overshoot (see lyrics.pop_channels)
# role -> (y depth, size, places (x, z)), designed for a 16:9 frame and fitted to the real one
PLACES = {
    "instrument": (-0.6, 0.9, ((-2.2, 1.3), (2.2, 1.3), (0.0, 1.45))),
    "abstraction": (-4.0, 0.36, ((-0.62, -0.28), (0.62, -0.28), (-0.62, 0.3))),
    "object": (-1.6, 0.6, ((1.5, 0.45), (-1.5, 0.45))),
}


@dataclass(frozen=True)
class View:
    """What the camera sees: the frame's aspect (width / height), the distance (m) from the
    camera to the background plane (y = 0) at rest and at its closest (pushed in by a loud
    passage and a kick's punch), and the lens (mm). (The camera's sway, a tenth of a metre,
    is left to the SAFE margin.)"""

    aspect: float = 16 / 9
    distance: float = 8.5
    lens: float = LENS  # mm, on the 36 mm sensor
    closest: float | None = None  # None: the camera never moves in

    def fit(self, x: float, z: float, *, depth: float, size: float) -> tuple[float, float]:
        """(x, z) of a pictogram ``size`` m wide at ``depth`` (y), moved inside the frame.

        Places are designed for 16:9: a narrower frame scales them in; then each is clamped so
        the popped-in pictogram stays within SAFE of the view's edges however close the camera
        comes (the trial found pictograms cut by the frame's edge while it was pushed in).
        """
        closest = self.distance if self.closest is None else min(self.closest, self.distance)
        half = max(0.0, (closest + depth) * SENSOR_WIDTH / (2.0 * self.lens))  # longer side
        half_w, half_h = (
            (half, half / self.aspect) if self.aspect >= 1 else (half * self.aspect, half)
        )
        x *= min(1.0, self.aspect)  # a portrait frame: the 16:9 places scaled in
        reach = POP * size / 2.0
        lim_x, lim_z = max(0.0, SAFE * half_w - reach), max(0.0, SAFE * half_h - reach)
        return min(max(x, -lim_x), lim_x), min(max(z, -lim_z), lim_z)


@dataclass(frozen=True)
class PictogramPlacement:
    """One pictogram on screen: the image, its role and frames [pop, gone)."""

    path: str
    word: str
    role: str
    pop: int
    hold_end: int
    gone: int
    location: tuple[float, float, float]
    size: float


@dataclass(frozen=True)
class PictogramSlot:
    name: str
    path: str
    word: str
    role: str
    placements: tuple[PictogramPlacement, ...]


def placements(
    timeline: Timeline,
    spans: tuple[WindowFrames, ...],
    fps: int,
    lyrics: list[Appearance] | tuple[Appearance, ...] = (),
    view: View | None = None,
) -> list[PictogramPlacement]:
    """Where and when each window's pictograms show (consecutive repeats are merged), inside
    ``view`` (by default a 16:9 frame)."""
    view = view or View()
    runs: dict[tuple[str, str], list[list[int]]] = {}
    order: list[tuple[str, str]] = []
    for i, w in enumerate(timeline.windows):
        for p in w.pictograms or ():
            key = (p.path, p.role)
            if key not in runs:
                runs[key] = []
                order.append(key)
            lanes = runs[key]
            if lanes and lanes[-1][-1] == i - 1:
                lanes[-1].append(i)
            else:
                lanes.append([i])
    words = {(p.path, p.role): p.word for w in timeline.windows for p in (w.pictograms or ())}
    fade = max(1, int(round(FADE_S * fps)))
    out = []
    taken: list[tuple[str, int, int, int]] = []  # (role, place, pop, hold_end) of those placed
    placed_lanes = sorted(
        ((n, key, lane) for n, key in enumerate(order) for lane in runs[key]),
        key=lambda item: spans[item[2][0]].start,
    )
    for n, key, lane in placed_lanes:
        path, role = key
        depth, size, places = PLACES[role]
        first, last = spans[lane[0]], spans[lane[-1]]
        pop, hold_end, gone = first.start, last.end - 1, last.end - 1 + fade
        # its own place, or the next one no pictogram of its role holds meanwhile (one that
        # fades out as this one pops in may share it)
        busy = {k for r, k, a, b in taken if r == role and a <= hold_end and pop <= b}
        place = next(
            (k % len(places) for k in range(n, n + len(places)) if k % len(places) not in busy),
            n % len(places),
        )
        taken.append((role, place, pop, hold_end))
        x, z = places[place]
        y = depth
        if role == "object":
            near = [
                a
                for a in lyrics
                if first.start - fps <= a.pop < last.end
                and a.text.strip(".,!?;:'\"").lower() == words[key].lower()
            ]
            if near:
                a = near[0]
                x = a.location[0] + word_width(a.text, a.size) / 2 + 0.45 * size
                y, z = a.location[1], a.location[2] + 0.35 * a.size
        x, z = view.fit(x, z, depth=y, size=size)
        out.append(
            PictogramPlacement(
                path=path,
                word=words[key],
                role=role,
                pop=pop,
                hold_end=hold_end,
                gone=gone,
                location=(x, y, z),
                size=size,
            )
        )
    return out


def slots(found: list[PictogramPlacement]) -> tuple[PictogramSlot, ...]:
    lanes_by: dict[str, list[list[PictogramPlacement]]] = {}
    for p in sorted(found, key=lambda p: p.pop):
        lanes = lanes_by.setdefault(p.path, [])
        lane = next((ln for ln in lanes if ln[-1].gone + 1 < p.pop - 1), None)
        if lane is None:
            lanes.append([p])
        else:
            lane.append(p)
    out = []
    for path, lanes in lanes_by.items():
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        for k, lane in enumerate(lanes):
            name = fit_name(NAME_PREFIX + stem, "" if k == 0 else f" #{k + 1}", room=10)
            out.append(
                PictogramSlot(
                    name=name,
                    path=path,
                    word=lane[0].word,
                    role=lane[0].role,
                    placements=tuple(lane),
                )
            )
    return tuple(out)


def pictogram_channels(
    timeline: Timeline,
    spans: tuple[WindowFrames, ...],
    *,
    fps: int,
    frame_end: int,
    lyrics: list[Appearance] | tuple[Appearance, ...] = (),
    view: View | None = None,
):
    """All pictogram objects with their channels (subject = the object's name)."""
    packed = slots(placements(timeline, spans, fps, lyrics, view))
    channels = []
    for slot in packed:
        channels += pop_channels(
            slot.name, "pictogram", list(slot.placements), frame_end=frame_end, colour=False
        )
    return channels, packed


__all__ = ["PictogramPlacement", "PictogramSlot", "View", "pictogram_channels", "time_to_frame"]
