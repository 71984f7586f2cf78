"""Timelines built in memory for the describe tests (the listen stage is not needed)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from aimv_timeline.schema import (
    Colour,
    InstrumentGuess,
    Source,
    Timeline,
    Voice,
    Volume,
    Window,
    Word,
)


def guess(word: str, category: str, score: float, label: str | None = None) -> InstrumentGuess:
    return InstrumentGuess(
        label=label or word.title(),
        word=word,
        category=category,
        score=score,
        confident=score >= 0.7,
    )


def window(
    index: int,
    *,
    level: str = "normal",
    relative_db: float = 0.0,
    colour: str = "teal",
    instruments: Sequence[InstrumentGuess] | None = (),
    text: str | None = None,
    voice_present: bool | None = None,
) -> Window:
    voice = None
    if text is not None or voice_present:
        words = tuple(
            Word(text=w, start=index + 0.1 * k, end=index + 0.1 * k + 0.05, probability=0.9)
            for k, w in enumerate((text or "").split())
        )
        voice = Voice(
            present=True if voice_present is None else voice_present,
            probability=0.9,
            text=text or "",
            words=words,
            language="en",
        )
    return Window(
        index=index,
        start=float(index),
        end=float(index + 1),
        volume=Volume(
            rms_dbfs=-20.0 + relative_db, peak_dbfs=-6.0, relative_db=relative_db, level=level
        ),
        colour=Colour(
            hex="#008080",
            name=colour,
            hue=180.0,
            saturation=1.0,
            value=0.5,
            frequency_hz=440.0,
            source="pitch",
        ),
        instruments=None if instruments is None else tuple(instruments),
        voice=voice,
    )


def timeline(windows: Sequence[Window]) -> Timeline:
    n = len(windows)
    return Timeline(
        source=Source(
            path="/tmp/song.wav",
            sha256="0" * 64,
            duration=float(n),
            sample_rate=16000,
            channels=1,
            frames=16000 * n,
        ),
        window_seconds=1.0,
        windows=tuple(windows),
        settings={"analyze": {"window_seconds": 1.0}},
        engines={"instruments": "musicnn:MTT_musicnn"},
        language="en",
    )


SONG = [
    dict(
        level="loud",
        relative_db=6.0,
        text="heart",
        instruments=[
            guess("crash", "drum", 0.92),
            guess("splash", "drum", 0.55),
            guess("synth", "synth", 0.31),
        ],
    ),
    dict(
        level="loud",
        instruments=[
            guess("kick", "drum", 0.9),
            guess("bass", "bass", 0.8),
            guess("tom", "drum", 0.4),
        ],
    ),
    dict(
        level="quiet",
        voice_present=True,
        instruments=[
            guess("cello", "strings", 0.85),
            guess("vocal", "vocal", 0.75),
            guess("guitar", "guitar", 0.3),
        ],
    ),
    dict(level="silent", colour="black", instruments=()),
    dict(
        level="normal",
        text="I love you baby",
        instruments=[guess("piano", "keys", 0.9), guess("violin", "strings", 0.6)],
    ),
    dict(level="quiet", voice_present=True, instruments=[guess("flute", "woodwind", 0.8)]),
    dict(
        level="loud",
        relative_db=14.0,
        text="corazón",
        instruments=[
            guess("trumpet", "brass", 0.8),
            guess("snare", "drum", 0.7),
            guess("hi-hat", "drum", 0.5, label="Hi-hat"),
        ],
    ),
    dict(level="normal", instruments=None),
]


@pytest.fixture
def song_timeline() -> Timeline:
    """Eight windows covering the design's examples and the edge cases."""
    return timeline([window(i, **spec) for i, spec in enumerate(SONG)])
