"""MP3s as a user's files come: made by ffmpeg, with or without a Xing header and cover art.

libsndfile takes an MP3's length from its Xing header, or guesses it from the file's size;
tests and benchmarks need both kinds (``aimv_backend/audio/mp3.py``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np


def write_mp3(source: Path, output: Path, *, cover_art: bool = False) -> Path:
    """Encode the audio file ``source`` to ``output`` with ffmpeg (libmp3lame).

    cover_art: embed a 400x400 noise PNG (about 480 kB, as a real cover is) in an ID3v2.3 tag
    and write no Xing header, so libsndfile's size-based length guess counts the picture.
    """
    command = ["ffmpeg", "-v", "error", "-y", "-i", str(source)]
    if cover_art:
        from PIL import Image

        cover = output.with_suffix(".cover.png")
        noise = np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8)
        Image.fromarray(noise).save(cover)
        command += ["-i", str(cover), "-map", "0", "-map", "1", "-c:v", "copy"]
        command += ["-write_xing", "0", "-id3v2_version", "3"]
    subprocess.run([*command, "-c:a", "libmp3lame", str(output)], check=True)
    return output
