"""`aimv render`'s picture-layer flags and --font: one flag table row each, checked before any
work, and passed on to every chunk's Blender."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aimv_backend.errors import ParameterError
from aimv_backend.stage.chunk_worker import ChunkJob, _arguments
from aimv_backend.stage.chunks import FrameRange
from aimv_backend.stage.options import StageOptions


@pytest.fixture
def song(write_wav):
    t = np.arange(22050) / 22050
    return write_wav("song.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050)


def test_a_missing_font_fails_before_any_work(run_aimv, song, tmp_path):
    out = tmp_path / "v.mp4"
    result = run_aimv("render", song, "-o", out, "--font", tmp_path / "nope.ttf")
    assert result.code == 2
    assert "--font" in result.err and "nope.ttf" in result.err
    assert "Traceback" not in result.err
    assert not out.exists() and not (tmp_path / "v.aimv").exists()


def test_layers_off_must_name_picture_layers():
    with pytest.raises(ParameterError, match="'sparkles'"):
        StageOptions(layers_off=("lyrics", "sparkles"))


def test_each_chunk_blender_gets_the_layer_flags_and_the_font(tmp_path):
    font = tmp_path / "font.ttf"
    font.write_bytes(b"not really a font")
    job = ChunkJob(
        index=0,
        segments=(FrameRange(1, 24),),
        cache_dir=tmp_path,
        timeline_path=tmp_path / "timeline.json",
        song=tmp_path / "song.wav",
        settings=StageOptions(layers_off=("lyrics", "motion"), font=str(font)),
    )
    args = _arguments(job)
    assert "--no-lyrics" in args and "--no-motion" in args
    assert "--no-hits" not in args and "--no-pictograms" not in args
    assert args[args.index("--font") + 1] == str(Path(font).absolute())
