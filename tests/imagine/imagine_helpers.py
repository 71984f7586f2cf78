"""Helpers of the texture tests: timelines built in the test, a recording Progress."""

from __future__ import annotations

import colorsys

from aimv_timeline.schema import Colour, Description, Source, Timeline, Volume, Window


def colour_of(
    hue: float, name: str = "colour", saturation: float = 0.8, value: float = 0.8
) -> Colour:
    r, g, b = colorsys.hsv_to_rgb(hue / 360.0, saturation, value)
    return Colour(
        hex="#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in (r, g, b))),
        name=name,
        hue=float(hue),
        saturation=saturation,
        value=value,
        frequency_hz=440.0,
        source="pitch",
    )


def make_timeline(
    specs: list[tuple[str | None, float, str]], *, relative_db: float = 0.0
) -> Timeline:
    """One 1 s window per (prompt or None, hue, volume level)."""
    windows = []
    for i, (prompt, hue, level) in enumerate(specs):
        description = None if prompt is None else Description(sentence=prompt, prompt=prompt)
        windows.append(
            Window(
                index=i,
                start=float(i),
                end=float(i + 1),
                volume=Volume(rms_dbfs=-20.0, peak_dbfs=-6.0, relative_db=relative_db, level=level),
                colour=colour_of(hue, name=f"hue{int(hue)}"),
                description=description,
            )
        )
    source = Source(
        path="/music/song.wav",
        sha256="0" * 64,
        duration=float(len(specs)),
        sample_rate=16000,
        channels=1,
        frames=16000 * len(specs),
    )
    return Timeline(
        source=source,
        window_seconds=1.0,
        windows=tuple(windows),
        settings={"analyze": {"window_seconds": 1.0}},
        engines={"colour": "test"},
    )


SONG = [
    (
        "Kick hits and Bass plays in the background. In the foreground a bouncey tom deep canon",
        220.0,
        "loud",
    ),
    (
        "Cello plays and Vocal sings in the background. In the foreground a pedaly guitar vibrate "
        "floating",
        130.0,
        "quiet",
    ),
    (
        "Kick hits and Bass plays in the background. In the foreground a bouncey tom deep canon",
        220.0,
        "loud",
    ),
    (
        "Person loudly sings, holding a heart, alongside a Crash and Splash hit with a foreground "
        "techy synth wave impact",
        10.0,
        "loud",
    ),
    (None, 280.0, "normal"),
]


class RecordingProgress:
    """A Progress that remembers notices and task totals (what the user would see)."""

    def __init__(self):
        self.notices: list[str] = []
        self.tasks: list[list] = []

    def task(self, name, total):
        record = [name, total, 0]
        self.tasks.append(record)

        class _Task:
            def advance(self, n=1):
                record[2] += n

            def close(self):
                pass

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return None

        return _Task()

    def notice(self, message):
        self.notices.append(message)
