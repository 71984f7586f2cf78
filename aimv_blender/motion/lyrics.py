"""Lyrics as kinetic 3D type: phrases, layout, pop-in/hold/fade, size and colour (no bpy).

Every transcribed word (sung or spoken) is shown from its start: it pops in on its onset
(70 % of its size on the onset frame, a small overshoot, settled three frames later), holds
while its phrase lasts (at least to its own end), then fades out. The words of a phrase sit
together on one line, over a translucent plate in a dark shade of the window's hue that keeps
them readable on any texture. A word's size, depth and weight follow its window's drive: loud
words are bigger, closer to the camera and thicker. Its colour is a pale tint of the window's
hue with a WCAG contrast of at least 4.5 against the plate.

Objects are reused: one object per distinct word text, and a second one only where the same
text must show twice at once, so 600 sung words make a few hundred light objects. A word is set
without the transcript's commas, full stops and quotes around it ("fire," shows, and is keyed,
as "fire"); they still end its phrase.
"""

from __future__ import annotations

import colorsys
import hashlib
from collections import Counter
from dataclasses import dataclass

from ..contract import Timeline
from .base import (
    CONSTANT,
    LINEAR,
    Channel,
    WindowFrames,
    dedupe,
    fit_name,
    hex_to_srgb,
    srgb_to_linear,
    time_to_frame,
    volume_drive,
    window_at,
)

PHRASE_GAP_S = 0.6  # a longer silence between words starts a new phrase
PHRASE_WORDS = 5
PHRASE_CHARS = 26
# advances of Blender's built-in font, in em (narrow, wide, capitals, the rest)
NARROW, WIDE = set("ijlt.,;:!'|fr()[]"), set("mwMW")
SPACE_WIDTH = 0.3
PLATE = "AIMV Lyric Plate"
PLATE_ALPHA = 0.65
PLATE_PAD = 0.5  # em around the phrase
FADE_S = 0.25
NAME_PREFIX = "AIMV Lyric "
NAME_ROOM = 10  # bytes kept free for " TextCurve", the longest action suffix
# The transcript's punctuation around a word, which the lyric is set without ("!" and "?" stay:
# they are part of how it is sung; an apostrophe may be part of the word: 'cause, singin').
_AROUND = ',.;:"\u201c\u201d\u201e\u00ab\u00bb()[]{}\u2026\u2013\u2014'


@dataclass(frozen=True)
class LyricLayout:
    """Where the lyrics live: a plane ``depth`` metres in front of the background (y < 0).

    width: the widest a phrase may be (m); size: the em height of a normal word (m);
    rows: the heights (z, m) that successive phrases alternate between.
    """

    depth: float = -1.5
    width: float = 2.8
    size: float = 0.42
    rows: tuple[float, ...] = (-0.4, 0.0)


@dataclass(frozen=True)
class Appearance:
    """One word on screen: frames [pop, gone), the place, size, colour and weight."""

    text: str
    pop: int
    hold_end: int
    gone: int
    location: tuple[float, float, float]
    size: float
    colour: tuple[float, float, float]  # linear RGB
    weight: float
    window: int


@dataclass(frozen=True)
class LyricSlot:
    """One reusable text object: its name, its body and the appearances it shows."""

    name: str
    text: str
    appearances: tuple[Appearance, ...]


def luminance(srgb: tuple[float, float, float]) -> float:
    """WCAG relative luminance of an sRGB colour (channels in [0, 1])."""
    r, g, b = (srgb_to_linear(c) for c in srgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG contrast ratio of two sRGB colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def plate_colour(window_hex: str) -> tuple[float, float, float]:
    """The plate behind a phrase: a dark shade of the window's hue (sRGB)."""
    h, _s, _v = colorsys.rgb_to_hsv(*hex_to_srgb(window_hex))
    return colorsys.hsv_to_rgb(h, 0.7, 0.1)


def text_colour(window_hex: str) -> tuple[float, float, float]:
    """The palette colour of a word (sRGB): a pale tint of the window's hue, contrast >= 4.5
    against its plate (white when no tint reaches it)."""
    h, _s, _v = colorsys.rgb_to_hsv(*hex_to_srgb(window_hex))
    plate = plate_colour(window_hex)
    for s in (0.3, 0.2, 0.1):
        c = colorsys.hsv_to_rgb(h, s, 1.0)
        if contrast(c, plate) >= 4.5:
            return c
    return (1.0, 1.0, 1.0)


def shown_text(word: str) -> str:
    """What a transcribed word shows as: without the whitespace and punctuation around it."""
    return word.strip().strip(_AROUND).strip()


def phrases(words) -> list[list]:
    """Words grouped into phrases: split on a pause (> 0.6 s), after punctuation, before a
    capitalised word (the transcriber's line starts; not "I"), or when the line is full.
    A word that is only punctuation ("...") is left out."""
    out: list[list] = []
    for w in words:
        text = w.text.strip()
        if not shown_text(text):
            continue
        cur = out[-1] if out else None
        if (
            cur is None
            or w.start - cur[-1].end > PHRASE_GAP_S
            or len(cur) >= PHRASE_WORDS
            or sum(len(x.text.strip()) + 1 for x in cur) + len(text) > PHRASE_CHARS
            or cur[-1].text.strip()[-1:] in ",.;:!?"  # the transcript's punctuation ends a line
            or (text[:1].isupper() and text != "I" and len(cur) >= 2)  # so does a capital
        ):
            out.append([w])
        else:
            cur.append(w)
    return out


def word_width(text: str, size: float) -> float:
    """Estimated width (m) of ``text`` at em height ``size`` in the built-in font."""
    em = sum(
        0.27 if c in NARROW else 0.8 if c in WIDE else 0.64 if c.isupper() else 0.53 for c in text
    )
    return em * size


@dataclass(frozen=True)
class Plate:
    """The translucent plate behind one phrase: frames [pop, gone), its centre and size (m)."""

    pop: int
    hold_end: int
    gone: int
    location: tuple[float, float, float]
    width: float
    height: float
    colour: tuple[float, float, float]  # linear RGB


def slot_name(text: str, k: int, *, cut: bool = False) -> str:
    """The object name of a word's k-th reusable object (room left for its action names).
    ``cut``: the text is too long to tell apart by its first bytes; a short hash of it keeps
    two such words on two objects, under the same name on every build."""
    tag = f" ~{hashlib.sha1(text.encode()).hexdigest()[:6]}" if cut else ""
    return fit_name(NAME_PREFIX + text, tag + ("" if k == 0 else f" #{k + 1}"), room=NAME_ROOM)


def appearances(
    timeline: Timeline, spans: tuple[WindowFrames, ...], fps: int, layout: LyricLayout
) -> tuple[list[Appearance], list[Plate]]:
    """Every word's appearance on screen and each phrase's plate (see the module docstring)."""
    out = []
    plates = []
    groups = phrases(timeline.words)
    for p, group in enumerate(groups):
        nxt = time_to_frame(groups[p + 1][0].start, fps) if p + 1 < len(groups) else None
        hold_end = max(time_to_frame(w.end, fps) for w in group)
        fade = max(1, int(round(FADE_S * fps)))
        gone = hold_end + fade
        if nxt is not None:
            gone = max(hold_end + 1, min(gone, nxt - 1))
        wins = [window_at(spans, time_to_frame(w.start, fps)) for w in group]
        drives = [min(1.5, volume_drive(timeline.windows[i].volume)) for i in wins]
        sizes = [layout.size * (0.8 + 0.35 * d) for d in drives]
        texts = [shown_text(w.text) for w in group]
        total = sum(word_width(t, s) for t, s in zip(texts, sizes, strict=True))
        total += SPACE_WIDTH * layout.size * (len(group) - 1)
        shrink = min(1.0, layout.width / total) if total > 0 else 1.0
        x = -0.5 * total * shrink
        z = layout.rows[p % len(layout.rows)]
        # one plate object serves every phrase: it leaves when the next phrase comes, even where
        # the last word still sounds (that word's own object stays to its end)
        pop = time_to_frame(group[0].start, fps)
        plate_gone = max(pop + 1, min(gone, nxt - 1)) if nxt is not None else gone
        plates.append(
            Plate(
                pop=pop,
                hold_end=min(hold_end, plate_gone - 1),
                gone=plate_gone,
                location=(0.0, layout.depth + 0.05, z),
                width=total * shrink + PLATE_PAD * layout.size,
                height=max(sizes) * shrink * 1.25,
                colour=tuple(
                    srgb_to_linear(c) for c in plate_colour(timeline.windows[wins[0]].colour.hex)
                ),
            )
        )
        for w, text, size, drive, win in zip(group, texts, sizes, drives, wins, strict=True):
            s = size * shrink
            width = word_width(text, s)
            colour = text_colour(timeline.windows[win].colour.hex)
            out.append(
                Appearance(
                    text=text,
                    pop=time_to_frame(w.start, fps),
                    hold_end=max(hold_end, time_to_frame(w.end, fps)),
                    gone=max(gone, time_to_frame(w.end, fps) + 1),
                    location=(x + width / 2, layout.depth - 0.4 * drive, z),
                    size=s,
                    colour=tuple(srgb_to_linear(c) for c in colour),
                    weight=0.04 + 0.06 * drive,
                    window=win,
                )
            )
            x += width + SPACE_WIDTH * layout.size * shrink
    return out, plates


def plate_channels(plates: list[Plate]) -> list[Channel]:
    """The one plate object's keys: placed and sized per phrase, faded in and out with it."""
    if not plates:
        return []
    first = plates[0]
    loc = {i: [(1.0, first.location[i])] for i in range(3)}
    size = {0: [(1.0, first.width)], 2: [(1.0, first.height)]}
    rgb = {i: [(1.0, first.colour[i])] for i in range(3)}
    alpha, hidden = [(1.0, 0.0)], [(1.0, 1.0)]
    for pl in plates:
        before = float(max(1, pl.pop - 1))
        for i in range(3):
            loc[i].append((before, pl.location[i]))
            rgb[i].append((before, pl.colour[i]))
        size[0].append((before, pl.width))
        size[2].append((before, pl.height))
        alpha += [(before, 0.0), (float(pl.pop), PLATE_ALPHA), (float(pl.hold_end), PLATE_ALPHA)]
        alpha.append((float(pl.gone), 0.0))
        if len(hidden) > 1 and hidden[-1][0] >= before:  # the next phrase follows at once
            hidden[-1] = (float(pl.gone + 1), 1.0)
        else:
            hidden += [(before, 0.0), (float(pl.gone + 1), 1.0)]
    out = [Channel("plate.location", i, dedupe(k), CONSTANT, subject=PLATE) for i, k in loc.items()]
    out += [Channel("plate.size", i, dedupe(k), CONSTANT, subject=PLATE) for i, k in size.items()]
    out += [Channel("plate.colour", i, dedupe(k), CONSTANT, subject=PLATE) for i, k in rgb.items()]
    out.append(Channel("plate.alpha", 3, dedupe(alpha), LINEAR, subject=PLATE))
    out.append(Channel("plate.hidden", 0, dedupe(hidden), CONSTANT, subject=PLATE))
    return out


def slots(apps: list[Appearance]) -> tuple[LyricSlot, ...]:
    """Appearances packed onto reusable objects: one per text, more only where they overlap."""
    by_text: dict[str, list[list[Appearance]]] = {}
    for a in sorted(apps, key=lambda a: a.pop):
        lanes = by_text.setdefault(a.text, [])
        lane = next((ln for ln in lanes if ln[-1].gone + 1 < a.pop - 1), None)
        if lane is None:
            lanes.append([a])
        else:
            lane.append(a)
    # texts whose names, cut to fit, would be one; and the plate's name, which "Plate" would take
    first = {text: slot_name(text, 0) for text in by_text}
    taken = Counter([PLATE, *first.values()])
    return tuple(
        LyricSlot(
            name=slot_name(text, k, cut=taken[first[text]] > 1),
            text=text,
            appearances=tuple(lane),
        )
        for text, lanes in by_text.items()
        for k, lane in enumerate(lanes)
    )


def pop_channels(
    subject: str,
    kind: str,
    apps,
    *,
    frame_end: int,
    colour: bool = True,
) -> list[Channel]:
    """The shared pop-in/hold/fade keys of a reusable object (lyrics and pictograms).

    ``apps`` need pop, hold_end, gone, location, size (and colour, weight when ``colour``).
    Every key lies within the scene (frames 1 .. ``frame_end``): an appearance that would
    fade out after the song's end fades out in its last frames instead.
    """
    loc = {i: [(1.0, apps[0].location[i])] for i in range(3)}
    scale = [(1.0, 0.0)]
    alpha = [(1.0, 0.0)]
    hidden = [(1.0, 1.0)]
    rgb = {i: [(1.0, apps[0].colour[i])] for i in range(3)} if colour else {}
    weight = [(1.0, apps[0].weight)] if colour else []
    for a in apps:
        before = float(max(1, a.pop - 1))
        for i in range(3):
            loc[i].append((before, a.location[i]))
            if colour:
                rgb[i].append((before, a.colour[i]))
        if colour:
            weight.append((before, a.weight))
        gone = min(a.gone, frame_end)
        hold_end = min(a.hold_end, max(a.pop, gone - max(1, a.gone - a.hold_end)))
        after = [(float(gone + 1), 1.0)] if gone < frame_end else []
        hidden += [(before, 0.0), *after]
        s = a.size
        scale += [
            (before, 0.0),
            (float(a.pop), 0.7 * s),
            (float(min(a.pop + 1, gone)), 1.12 * s),
            (float(min(a.pop + 3, hold_end)), s),
            (float(min(max(hold_end, a.pop + 3), gone)), s),
            (float(gone), 0.9 * s),
            *([(float(gone + 1), 0.0)] if gone < frame_end else []),
        ]
        alpha += [
            (before, 0.0),
            (float(a.pop), 1.0),
            (float(hold_end), 1.0),
            (float(gone), 0.0),
        ]
    out = [Channel(f"{kind}.location", i, dedupe(loc[i]), CONSTANT, subject=subject) for i in loc]
    out.append(Channel(f"{kind}.scale", 0, dedupe(scale), LINEAR, subject=subject))
    out.append(Channel(f"{kind}.alpha", 3, dedupe(alpha), LINEAR, subject=subject))
    out.append(Channel(f"{kind}.hidden", 0, dedupe(hidden), CONSTANT, subject=subject))
    if colour:
        out += [
            Channel(f"{kind}.colour", i, dedupe(rgb[i]), CONSTANT, subject=subject) for i in rgb
        ]
        out.append(Channel(f"{kind}.weight", 0, dedupe(weight), CONSTANT, subject=subject))
    return out


def lyric_channels(
    timeline: Timeline,
    spans: tuple[WindowFrames, ...],
    *,
    fps: int,
    frame_end: int,
    layout: LyricLayout | None = None,
) -> tuple[list[Channel], tuple[LyricSlot, ...]]:
    """All lyric objects with their channels (subject = the object's name)."""
    layout = layout or LyricLayout()
    apps, plates = appearances(timeline, spans, fps, layout)
    packed = slots(apps)
    channels: list[Channel] = plate_channels(plates)
    for slot in packed:
        channels += pop_channels(slot.name, "lyric", list(slot.appearances), frame_end=frame_end)
    return channels, packed
