"""Where and when the generated clips play: frame spans, trimming, looping, visibility keys.

bpy-free (tested without Blender). A clip covers [start, end) seconds of the song; in the
scene it shows from the frame of ``start`` to the frame before ``end``. A movie longer than
that span is trimmed (its first frames are used); a shorter one loops (Blender's cyclic image
user). The movie is played frame for frame at the scene's rate, which is why the backend
writes clips at the render's frame rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .keying import CONSTANT, Channel, time_to_frame

LAYER_DEPTH = 1.4  # metres behind the screen (which is at y = 0); the backdrop is at 1.5
LAYER_MARGIN = 1.15  # the layer overfills the frame so the camera's sway never shows an edge


@dataclass(frozen=True)
class ClipSpan:
    """One clip in scene frames.

    first, last: the first and last scene frame it shows (inclusive).
    duration: frames of the movie used before it loops (Blender's image_user.frame_duration).
    cyclic: the movie is shorter than the span and loops.
    """

    index: int
    path: str
    first: int
    last: int
    movie_frames: int
    duration: int
    cyclic: bool

    def movie_frame(self, frame: int) -> int | None:
        """The 1-based movie frame Blender shows at scene ``frame`` (None: not shown then)."""
        if not self.first <= frame <= self.last:
            return None
        k = frame - self.first
        return (k % self.duration) + 1 if self.cyclic else min(k, self.duration - 1) + 1


def clip_spans(
    clips: Sequence, *, fps: int, frame_end: int, movie_frames: Sequence[int]
) -> list[ClipSpan]:
    """Frame spans of ``clips`` (each with path, start, end in seconds) whose movie has
    ``movie_frames[i]`` frames. Clips that start after ``frame_end`` or last under a frame,
    or whose movie has no frames, are left out; a clip overlapping the next one is cut where
    the next one starts."""
    spans = []
    order = sorted(range(len(clips)), key=lambda i: clips[i].start)
    for n, i in enumerate(order):
        clip, frames = clips[i], int(movie_frames[i])
        first = time_to_frame(clip.start, fps)
        last = min(time_to_frame(clip.end, fps) - 1, frame_end)
        if n + 1 < len(order):
            last = min(last, time_to_frame(clips[order[n + 1]].start, fps) - 1)
        if frames < 1 or last < first:
            continue
        span = last - first + 1
        cyclic = frames < span
        duration = frames if cyclic else span
        spans.append(ClipSpan(i, clip.path, first, last, frames, duration, cyclic))
    return spans


def visibility_channel(span: ClipSpan, *, frame_start: int, frame_end: int) -> Channel:
    """hide_render keys (1 = hidden) that show the clip's object on its span only."""
    keys: list[tuple[float, float]] = []
    if span.first > frame_start:
        keys.append((float(frame_start), 1.0))
    keys.append((float(span.first), 0.0))
    if span.last < frame_end:
        keys.append((float(span.last + 1), 1.0))
    return Channel("clip.hidden", 0, tuple(keys), CONSTANT)


def layer_size(
    *, distance: float, aspect: float, lens_mm: float = 50.0, sensor_mm: float = 36.0
) -> tuple[float, float]:
    """(width, height) in metres of a plane ``distance`` metres from a camera that fills its
    frame (sensor fit AUTO: the sensor spans the longer side), overfilled by LAYER_MARGIN."""
    if distance <= 0 or aspect <= 0:
        raise ValueError(f"distance and aspect must be > 0, got {distance!r}, {aspect!r}")
    side = distance * sensor_mm / lens_mm * LAYER_MARGIN
    return (side, side / aspect) if aspect >= 1.0 else (side * aspect, side)
