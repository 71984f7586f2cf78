"""Fixture songs, timelines and textures for the Blender tests (no bpy, no backend).

The timeline is built with the add-on's own timeline_schema, as the backend would write it:
4 windows of 1 s with distinct colours, a loud and a quiet window, and a few lyric words.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

from aimv_timeline import schema as ts

SAMPLE_RATE = 22050
# (hex colour, name, rms dBFS, relative dB, level): red loud, green quiet, blue normal, yellow loud
WINDOWS = (
    ("#e01010", "red", -8.0, 6.0, "loud"),
    ("#10c020", "green", -38.0, -12.0, "quiet"),
    ("#1030e0", "blue", -20.0, 0.0, "normal"),
    ("#f0e010", "yellow", -6.0, 8.0, "loud"),
)
WORDS = (("hello", 0.2, 0.6), ("bright", 1.3, 1.8), ("world", 3.1, 3.6))


def write_song(path: Path, seconds: float = 4.0) -> Path:
    """A 4 s stereo tone whose loudness follows WINDOWS (loud, quiet, normal, loud)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    gain = np.ones_like(t)
    for i, (_hex, _name, rms, _rel, _level) in enumerate(WINDOWS):
        gain[(t >= i) & (t < i + 1)] = 10 ** (rms / 20) * np.sqrt(2)
    mono = gain * np.sin(2 * np.pi * 330 * t)
    sf.write(path, np.stack([mono, mono], axis=1).astype(np.float32), SAMPLE_RATE)
    return path


def write_png(path: Path, rgb: tuple[int, int, int], size: int = 32) -> Path:
    """A solid-colour RGB PNG (zlib only, no Pillow needed)."""
    row = b"\x00" + bytes(rgb) * size
    raw = row * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
    path.write_bytes(data + chunk(b"IEND", b""))
    return path


def hex_rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def make_timeline(folder: Path, *, textures: bool, seconds: float = 4.0) -> Path:
    """Write song.wav, (textures/NNN.png) and timeline.json into ``folder``; return the json."""
    folder.mkdir(parents=True, exist_ok=True)
    song = write_song(folder / "song.wav", seconds)
    info = sf.info(song)
    windows = []
    for i, (hex_colour, name, rms, rel, level) in enumerate(WINDOWS):
        texture = None
        if textures:
            (folder / "textures").mkdir(exist_ok=True)
            # the texture is the window colour, so a frame's mean colour tells which one shows
            write_png(folder / "textures" / f"{i:03d}.png", hex_rgb(hex_colour))
            texture = f"textures/{i:03d}.png"
        words = tuple(
            ts.Word(text=w, start=s, end=e, probability=0.9)
            for w, s, e in WORDS
            if i <= (s + e) / 2 < i + 1
        )
        windows.append(
            ts.Window(
                index=i,
                start=float(i),
                end=float(i + 1),
                volume=ts.Volume(rms_dbfs=rms, peak_dbfs=rms + 3, relative_db=rel, level=level),
                colour=ts.Colour(
                    hex=hex_colour,
                    name=name,
                    hue=0.0,
                    saturation=1.0,
                    value=1.0,
                    frequency_hz=330.0,
                    source="pitch",
                ),
                voice=ts.Voice(
                    present=bool(words),
                    probability=0.9 if words else 0.1,
                    text=" ".join(w.text for w in words),
                    words=words,
                ),
                texture=texture,
            )
        )
    timeline = ts.Timeline(
        source=ts.Source(
            path=str(song.absolute()),
            sha256=hashlib.sha256(song.read_bytes()).hexdigest(),
            duration=info.frames / info.samplerate,
            sample_rate=info.samplerate,
            channels=info.channels,
            frames=info.frames,
        ),
        window_seconds=1.0,
        windows=tuple(windows),
    )
    return ts.write_timeline(timeline, folder / "timeline.json")
