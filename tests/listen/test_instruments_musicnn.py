"""The offline musicnn tagger: TF checkpoint reader, PyTorch port, and tagging real audio."""

from __future__ import annotations

import numpy as np
import pytest

from aimv_backend.listen.instruments import InstrumentOptions, musicnn_engine, tag_instruments
from aimv_backend.listen.instruments.musicnn_checkpoint import (
    CheckpointFormatError,
    TFCheckpoint,
    crc32c,
    read_index,
    unmask_crc,
)
from aimv_backend.listen.instruments.musicnn_engine import (
    MusicnnEngine,
    musicnn_model_dir,
    patch_starts_for_window,
)
from aimv_backend.listen.instruments.musicnn_model import PATCH_FRAMES
from tests.listen._instrument_clips import (
    RATE,
    RecordingProgress,
    part,
    tools_missing,
    windows_of,
    write_clip,
)

# The tagger alone (its port is what this file checks); drum pieces and families have their own
# tests (test_drums.py, test_families.py).
MUSICNN = InstrumentOptions(engine="musicnn", allow_download=False, drums="none", families="none")
needs_synth = pytest.mark.skipif(tools_missing() is not None, reason=str(tools_missing()))


@pytest.fixture(scope="module")
def engine() -> MusicnnEngine:
    return MusicnnEngine()


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("instrument-clips")


# --------------------------------------------------------------------------------------------
# The TensorFlow checkpoint reader


def test_reader_lists_the_shipped_checkpoint_variables_with_their_shapes():
    ckpt = TFCheckpoint(f"{musicnn_model_dir()}/")
    shapes = ckpt.shapes()
    assert shapes["conv2d/kernel"] == (7, 38, 1, 204)  # timbral 7 x 0.4 * 96 mel bins
    assert shapes["conv2d_2/kernel"] == (128, 1, 1, 51)  # temporal, 128 frames
    assert shapes["conv2d_5/kernel"] == (7, 561, 1, 64)  # mid-end over 561 front-end features
    assert shapes["dense/kernel"] == (1506, 200) and shapes["dense_1/kernel"] == (200, 50)
    assert shapes["batch_normalization/moving_variance"] == (1,)
    model_vars = [n for n in ckpt.names if "Adam" not in n and "power" not in n]
    assert len(model_vars) == 64  # 8 conv + 2 dense (kernel, bias) + 11 batch norms x 4
    kernel = ckpt["dense_1/kernel"]
    assert kernel.dtype == np.float32 and kernel.shape == (200, 50)
    assert np.isfinite(kernel).all() and 0.01 < float(np.abs(kernel).mean()) < 1.0
    variance = ckpt["batch_normalization_9/moving_variance"]
    assert (variance > 0).all()


def test_reader_values_pass_tensorflows_own_crc32c_checksums():
    ckpt = TFCheckpoint(f"{musicnn_model_dir()}/")
    for name in ("batch_normalization/beta", "conv2d_4/bias", "dense_1/bias", "conv2d_6/kernel"):
        assert crc32c(ckpt.raw_bytes(name)) == unmask_crc(ckpt.entries[name].crc32c), name


def test_crc32c_matches_the_published_check_value():
    assert crc32c(b"123456789") == 0xE3069283


def test_reader_refuses_a_damaged_index(tmp_path):
    index = (musicnn_model_dir() / ".index").read_bytes()
    (tmp_path / "cut.index").write_bytes(index[:-10])
    with pytest.raises(CheckpointFormatError, match="not an SSTable"):
        read_index(tmp_path / "cut.index")
    with pytest.raises(CheckpointFormatError, match="cannot be read"):
        read_index(tmp_path / "missing.index")
    (tmp_path / "x.index").write_bytes(index)
    with pytest.raises(CheckpointFormatError, match="missing"):
        TFCheckpoint(tmp_path / "x")  # the data shard is not there


# --------------------------------------------------------------------------------------------
# The PyTorch port

# musicnn's TensorFlow graph (musicnn 0.1.0 models.py under tensorflow-cpu 2.15.1, see
# docs/instruments.md) evaluated on the two patches made by _golden_patches().
TF_REFERENCE = [
    [0.00024, 0.00768, 0.00130, 0.18354, 0.02263, 0.11124, 0.07090, 0.00150, 0.33636, 0.00002,
     0.02438, 0.04196, 0.00376, 0.00193, 0.04034, 0.00160, 0.00562, 0.00255, 0.00028, 0.00073,
     0.00269, 0.05681, 0.00015, 0.00716, 0.00147, 0.00003, 0.00090, 0.00012, 0.02400, 0.00036,
     0.00052, 0.00010, 0.00001, 0.00008, 0.00117, 0.00106, 0.00173, 0.00596, 0.00833, 0.00014,
     0.00017, 0.01346, 0.00002, 0.00001, 0.01988, 0.04940, 0.00001, 0.00050, 0.00029, 0.00071],
    [0.15749, 0.07141, 0.01281, 0.07945, 0.03739, 0.01289, 0.02697, 0.25168, 0.21643, 0.02632,
     0.00107, 0.00812, 0.00119, 0.02723, 0.01168, 0.00821, 0.00160, 0.00093, 0.02608, 0.01927,
     0.02214, 0.04335, 0.13498, 0.17494, 0.00479, 0.00003, 0.00305, 0.01837, 0.03519, 0.01182,
     0.00423, 0.00315, 0.07950, 0.00867, 0.01187, 0.00067, 0.01068, 0.00040, 0.01049, 0.01115,
     0.00366, 0.00224, 0.00513, 0.00039, 0.01606, 0.00759, 0.00121, 0.04338, 0.00369, 0.00085],
]  # fmt: skip


def _golden_patches() -> np.ndarray:
    rng = np.random.default_rng(20261124)
    noise = rng.uniform(0.0, 3.0, size=(187, 96))
    t, f = np.arange(187)[:, None], np.arange(96)[None, :]
    stripes = 1.5 + 1.2 * np.sin(2 * np.pi * f / 12.0) * np.cos(2 * np.pi * t / 31.0) + 0.02 * f
    return np.stack([noise, stripes]).astype(np.float32)


def test_port_reproduces_the_tensorflow_reference_outputs(engine):
    got = engine.patch_probabilities(_golden_patches())
    np.testing.assert_allclose(got, np.array(TF_REFERENCE), atol=2e-5)


def test_fused_front_end_equals_the_layer_by_layer_graph(engine):
    import torch

    x = torch.from_numpy(_golden_patches())
    with torch.inference_mode():
        fused, plain = engine.model(x), engine.model(x, plain=True)
    assert torch.allclose(fused, plain, atol=1e-5)


def test_shared_song_front_end_gives_the_same_scores_as_separate_patches(engine, monkeypatch):
    from aimv_backend.progress import SilentProgress

    rng = np.random.default_rng(7)
    mel = rng.uniform(0.0, 3.0, size=(700, 96)).astype(np.float32)
    monkeypatch.setattr(musicnn_engine, "SEGMENT_FRAMES", 200)  # three shared stretches
    starts = [300, 0, 16, 160, 513, 16]  # overlapping, unsorted, repeated, one ends the song
    separate = engine.patch_probabilities(np.stack([mel[s : s + PATCH_FRAMES] for s in starts]))
    shared = engine.song_patch_probabilities(mel, starts, batch_size=2, progress=SilentProgress())
    np.testing.assert_allclose(shared, separate, atol=1e-5)


def test_patches_are_centred_on_windows_and_stay_inside_the_song():
    n = 1000  # mel frames (16 s)
    (first,) = patch_starts_for_window(0.0, 1.0, n)
    assert first == 0  # clamped at the song start
    (mid,) = patch_starts_for_window(8.0, 9.0, n)
    centre = (mid + PATCH_FRAMES / 2) * 256 / 16000
    assert abs(centre - 8.5) <= 0.13  # within half a 16-frame grid step of the window middle
    assert patch_starts_for_window(15.0, 16.0, n) == [n - PATCH_FRAMES]
    long = patch_starts_for_window(0.0, 10.0, n)  # a 10 s window: 4 patches across it
    assert len(long) == 4 and long == sorted(long)


# --------------------------------------------------------------------------------------------
# Tagging real audio


def _words(result, skip_edges: bool = True):
    windows = result.windows[1:-1] if skip_edges else result.windows
    return [[g.word for g in w] for w in windows]


@needs_synth
def test_piano_clip_puts_piano_among_the_three(clip_dir):
    info = write_clip(clip_dir, "piano", part("piano", 6.0))
    progress = RecordingProgress()
    result = tag_instruments(
        audio_info=info, windows=windows_of(info), options=MUSICNN, progress=progress
    )
    assert result.engine == "musicnn:MTT_musicnn"
    assert len(result.windows) == 6
    assert all(len(w) == 3 for w in result.windows)
    assert all("piano" in words for words in _words(result))
    assert progress.tasks and progress.tasks[0][0] == "instruments (musicnn)"
    assert progress.advanced == progress.tasks[0][1]


@needs_synth
def test_drum_kit_clip_puts_the_drum_category_among_the_three(clip_dir):
    info = write_clip(clip_dir, "drums", part("drum_kit", 6.0))
    result = tag_instruments(
        audio_info=info, windows=windows_of(info), options=MUSICNN, progress=RecordingProgress()
    )
    for window in result.windows:
        assert [g.category for g in window[:2]].count("drum") == 1  # first or second guess
        assert "drums" in [g.word for g in window]


@needs_synth
def test_flute_is_tagged_confidently_and_a_lower_threshold_adds_confidence(clip_dir):
    info = write_clip(clip_dir, "flute", part("flute", 5.0))
    result = tag_instruments(
        audio_info=info, windows=windows_of(info), options=MUSICNN, progress=RecordingProgress()
    )
    firsts = [w[0] for w in result.windows[1:-1]]
    assert all(g.word == "flute" and g.category == "woodwind" and g.confident for g in firsts)
    assert all(g.score >= 0.7 for g in firsts)
    strict = tag_instruments(
        audio_info=info,
        windows=windows_of(info),
        options=InstrumentOptions(engine="musicnn", confidence=1.0, drums="none", families="none"),
        progress=RecordingProgress(),
    )
    assert not any(g.confident for w in strict.windows for g in w)
    assert [[g.word for g in w] for w in strict.windows] == _words(result, skip_edges=False)


@needs_synth
def test_silence_gives_no_instrument_and_no_crash(clip_dir):
    piano = part("piano", 3.0)
    audio = np.concatenate([np.zeros(3 * RATE, np.float32), piano, np.zeros(2 * RATE, np.float32)])
    audio[-RATE:] = 1e-5 * np.sin(np.arange(RATE) * 0.1)  # -100 dBFS hiss: still silence
    info = write_clip(clip_dir, "gap", audio)
    windows = windows_of(info)
    result = tag_instruments(
        audio_info=info, windows=windows, options=MUSICNN, progress=RecordingProgress()
    )
    assert [len(w) for w in result.windows] == [0, 0, 0, 3, 3, 3, 0, 0]
    flagged = [i == 4 for i in range(len(windows))]  # e.g. the volume stage said "silent"
    again = tag_instruments(
        audio_info=info, windows=windows, options=MUSICNN, progress=RecordingProgress(),
        silent=flagged,
    )  # fmt: skip
    assert [len(w) for w in again.windows] == [0, 0, 0, 3, 0, 3, 0, 0]


@needs_synth
def test_all_silent_song_and_a_clip_shorter_than_one_patch(clip_dir):
    silent = write_clip(clip_dir, "silent", np.zeros(4 * RATE, np.float32))
    progress = RecordingProgress()
    result = tag_instruments(
        audio_info=silent, windows=windows_of(silent), options=MUSICNN, progress=progress
    )
    assert result.windows == ((), (), (), ())
    short = write_clip(clip_dir, "short", part("flute", 1.5))
    result = tag_instruments(
        audio_info=short,
        windows=windows_of(short, 0.5),
        options=MUSICNN,
        progress=RecordingProgress(),
    )
    assert len(result.windows) == 3 and all(w and w[0].word == "flute" for w in result.windows)


def test_engine_none_tags_nothing(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(RATE, np.float32), RATE)
    from aimv_backend.audio.io import probe_audio

    info = probe_audio(tmp_path / "a.wav")
    result = tag_instruments(
        audio_info=info,
        windows=windows_of(info),
        options=InstrumentOptions(engine="none"),
        progress=RecordingProgress(),
    )
    assert result.engine == "none" and result.windows == ((),)
