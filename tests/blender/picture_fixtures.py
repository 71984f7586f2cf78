"""A song for the picture tests: a piano bed, an espeak-ng word and a kick, with its timeline.

The word's time comes from the synthesiser's truth (where espeak-ng's word really sounds); the
timeline is written by hand as the backend would (no ASR in these tests). Textures are noisy
gradients in the window colours, the pictogram a drawn disc, so no file is one flat colour.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from aimv_testkit import Layer, mix, place_words, render_part, write_audio
from aimv_timeline import schema as ts

RATE = 22050
SECONDS = 4.0
WORD = "sunshine"
KICK_AT = 2.5
COLOURS = (("#2040a0", "blue"), ("#a02050", "berry"), ("#208060", "teal"), ("#c08020", "ochre"))


def texture(path: Path, hex_colour: str, seed: int) -> None:
    """A 256x256 gradient with noise around ``hex_colour``: no colour covers much of it."""
    rng = np.random.default_rng(seed)
    base = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], float)
    y, x = np.mgrid[0:256, 0:256] / 255.0
    shade = 0.55 + 0.6 * (0.5 * x + 0.5 * y)
    img = base * shade[..., None] + rng.normal(0, 18, (256, 256, 3))
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)


def disc(path: Path) -> None:
    """A 128x128 red disc on transparency: the stand-in pictogram."""
    y, x = np.mgrid[0:128, 0:128]
    inside = (x - 64) ** 2 + (y - 64) ** 2 < 56**2
    rgba = np.zeros((128, 128, 4), np.uint8)
    rgba[inside] = (230, 40, 60, 255)
    Image.fromarray(rgba, "RGBA").save(path)


def make(folder: Path) -> tuple[Path, ts.Word]:
    """Write song.wav, textures, a pictogram and timeline.json; return it and the word."""
    folder.mkdir(parents=True, exist_ok=True)
    piano = render_part(instrument="piano", seconds=SECONDS, sample_rate=RATE, seed=1)
    voice, truth = place_words(words=[(WORD, 1.0)], seconds=SECONDS, sample_rate=RATE)
    audio = mix(
        Layer(piano, gain_db=-8.0), Layer(voice, gain_db=0.0), seconds=SECONDS, sample_rate=RATE
    )
    song = write_audio(folder / "song.wav", audio, RATE)
    word = ts.Word(text=WORD, start=truth[0].start, end=truth[0].end, probability=0.95)
    (folder / "textures").mkdir(exist_ok=True)
    (folder / "pictograms").mkdir(exist_ok=True)
    disc(folder / "pictograms" / "disc.png")
    windows = []
    for i, (hex_colour, name) in enumerate(COLOURS):
        texture(folder / "textures" / f"{i:03d}.png", hex_colour, i)
        words = (word,) if i <= (word.start + word.end) / 2 < i + 1 else ()
        windows.append(
            ts.Window(
                index=i,
                start=float(i),
                end=float(i + 1),
                volume=ts.Volume(rms_dbfs=-14.0, peak_dbfs=-6.0, relative_db=0.0, level="normal"),
                colour=ts.Colour(
                    hex=hex_colour,
                    name=name,
                    hue=0.0,
                    saturation=0.6,
                    value=0.6,
                    frequency_hz=220.0,
                    source="pitch",
                ),
                voice=ts.Voice(
                    present=bool(words),
                    probability=0.9,
                    text=" ".join(w.text for w in words),
                    words=words,
                    mode="spoken" if words else None,
                ),
                texture=f"textures/{i:03d}.png",
                hits=tuple(
                    ts.Hit(time=KICK_AT, piece="kick", score=0.95) for _ in range(1) if i == 2
                ),
                pictograms=(
                    ts.Pictogram(
                        word="sun", role="abstraction", path="pictograms/disc.png", code="x"
                    ),
                )
                if i == 3
                else (),
            )
        )
    info = song.stat()
    del info
    timeline = ts.Timeline(
        source=ts.Source(
            path=str(song.absolute()),
            sha256=hashlib.sha256(song.read_bytes()).hexdigest(),
            duration=SECONDS,
            sample_rate=RATE,
            channels=2,
            frames=int(SECONDS * RATE),
        ),
        window_seconds=1.0,
        windows=tuple(windows),
    )
    return ts.write_timeline(timeline, folder / "timeline.json"), word
