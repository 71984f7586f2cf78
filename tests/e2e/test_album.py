"""Albums: ``aimv render a.wav b.wav c.wav -o OUTDIR/`` renders every song it can.

Three 4-second songs, the middle one corrupt: two videos come out, the corrupt song gets one
clear error line, the exit code says a song failed, and the instrument model was loaded once
for the two good songs.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.blender.conftest import needs_bpy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.blender,
    needs_bpy,
    pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg is not installed"),
]

RATE = 22050


def _song(write_wav, name: str, freq: float):
    t = np.arange(4 * RATE) / RATE
    beat = (np.sin(2 * np.pi * 2 * t) > 0.9).astype(np.float32)
    audio = 0.3 * np.sin(2 * np.pi * freq * t) * (0.5 + 0.5 * beat)
    return write_wav(name, audio.astype(np.float32), RATE)


def test_an_album_with_one_corrupt_song_gives_two_videos_and_one_error(
    run_aimv, write_wav, tmp_path
):
    from aimv_backend.listen.instruments import musicnn_engine

    first = _song(write_wav, "first.wav", 220.0)
    corrupt = tmp_path / "broken.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage that is no audio at all")
    last = _song(write_wav, "last.wav", 330.0)
    out = tmp_path / "album"
    musicnn_engine._cached_model.cache_clear()

    result = run_aimv(
        "render",
        first,
        corrupt,
        last,
        "-o",
        f"{out}/",
        "--instruments",
        "musicnn",
        "--no-voice",
        "--no-describe",
        "--textures",
        "procedural",
        "--texture-size",
        "64",
        "--resolution",
        "160x90",
        "--fps",
        "12",
        "--workers",
        "2",
        "--offline",
        "--progress",
        "none",
    )

    assert result.code == 2, result.err
    assert sorted(p.name for p in out.glob("*.mp4")) == ["first.mp4", "last.mp4"], result.err
    errors = [line for line in result.err.splitlines() if line.startswith("aimv: error:")]
    assert len(errors) == 1 and "broken.wav" in errors[0]
    assert "Traceback" not in result.err
    assert "1 of 3 songs failed" in result.err
    assert not (out / "broken.aimv" / "timeline.json").exists()
    loads = musicnn_engine._cached_model.cache_info()
    assert loads.misses == 1 and loads.hits >= 1  # one model load served both songs
