"""Reading songs: every format AIMV promises, and every bad input refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from aimv_backend.audio.io import iter_mono_blocks, load_mono, probe_audio
from aimv_backend.errors import AudioInputError
from tests.conftest import sine


@pytest.mark.parametrize(
    ("subtype", "tolerance"),
    [
        ("PCM_U8", 2e-2),
        ("PCM_16", 1e-3),
        ("PCM_24", 1e-5),
        ("PCM_32", 1e-6),
        ("FLOAT", 1e-7),
        ("DOUBLE", 1e-7),
    ],
)
def test_wav_sample_formats_read_back_as_the_same_tone(write_wav, subtype, tolerance):
    tone = sine(440, 1.0, 16000)
    path = write_wav(f"tone-{subtype}.wav", tone, 16000, subtype=subtype)
    info = probe_audio(path)
    audio = np.concatenate(list(iter_mono_blocks(info)))
    assert audio.dtype == np.float32
    assert info.sample_rate == 16000 and info.frames == 16000
    assert np.max(np.abs(audio - tone)) < tolerance


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_channels_are_mixed_down_to_mono(write_wav, channels):
    tone = sine(440, 0.5, 22050)
    # Channel k carries the tone scaled by k+1: the mono mix is the mean.
    data = np.stack([tone * (k + 1) / channels for k in range(channels)], axis=1)
    path = write_wav(f"ch{channels}.wav", data if channels > 1 else tone, 22050, subtype="FLOAT")
    info = probe_audio(path)
    mono = load_mono(info)
    expected = data.mean(axis=1) if channels > 1 else tone
    assert info.channels == channels
    # the mean of the channels, through load_mono's 5 Hz high-pass: 0.65 degrees of phase at
    # 440 Hz (1.2 % of the peak), twice that while it settles in the first 30 ms
    peak = np.abs(expected).max()
    np.testing.assert_allclose(mono, expected, atol=0.025 * peak)
    np.testing.assert_allclose(mono[2205:], expected[2205:], atol=0.013 * peak)


@pytest.mark.parametrize("rate", [8000, 11025, 44100, 48000, 96000, 192000])
def test_sample_rates_from_8k_to_192k(write_wav, rate):
    path = write_wav(f"r{rate}.wav", sine(440, 0.5, rate), rate)
    info = probe_audio(path)
    assert info.sample_rate == rate
    resampled = load_mono(info, sample_rate=16000)
    assert abs(resampled.shape[0] - 8000) <= 2
    spectrum = np.abs(np.fft.rfft(resampled))
    assert abs(np.argmax(spectrum) * 16000 / resampled.shape[0] - 440) < 3


@pytest.mark.parametrize(("fmt", "ext"), [("FLAC", "flac"), ("OGG", "ogg")])
def test_other_libsndfile_formats(write_wav, fmt, ext):
    path = write_wav(f"tone.{ext}", sine(440, 1.0, 44100), 44100, format=fmt)
    info = probe_audio(path)
    assert info.format == fmt
    assert abs(info.duration - 1.0) < 0.01


def test_sample_rate_outside_the_supported_range_is_refused(write_wav):
    path = write_wav("low.wav", sine(100, 0.5, 4000), 4000)
    with pytest.raises(AudioInputError, match="4000 Hz"):
        probe_audio(path)


def test_missing_folder_empty_and_junk_inputs(tmp_path):
    with pytest.raises(AudioInputError, match="does not exist"):
        probe_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioInputError, match="is a folder"):
        probe_audio(tmp_path)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioInputError, match="empty"):
        probe_audio(empty)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is a text file, not a song\n" * 100)
    with pytest.raises(AudioInputError, match="not audio"):
        probe_audio(junk)


def test_truncated_header_is_refused(write_wav):
    path = write_wav("t.wav", sine(440, 1.0, 16000), 16000)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(AudioInputError):
        probe_audio(path)


def test_truncated_data_is_refused(write_wav):
    path = write_wav("t.wav", sine(440, 2.0, 16000), 16000, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # header still promises 2 s
    with pytest.raises(AudioInputError, match="truncated|damaged"):
        info = probe_audio(path)
        list(iter_mono_blocks(info))


def test_zero_length_audio_is_refused(write_wav):
    path = write_wav("zero.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioInputError, match="no audio"):
        probe_audio(path)


def test_nan_and_inf_samples_are_refused_with_their_time(write_wav):
    tone = sine(440, 2.0, 8000)
    tone[12000] = np.nan
    path = write_wav("nan.wav", tone, 8000, subtype="FLOAT")
    with pytest.raises(AudioInputError, match=r"NaN or infinite samples \(first at 1.500 s\)"):
        list(iter_mono_blocks(probe_audio(path)))
    tone[12000] = np.inf
    path = write_wav("inf.wav", tone, 8000, subtype="FLOAT")
    with pytest.raises(AudioInputError, match="NaN or infinite"):
        load_mono(probe_audio(path))


def test_long_song_is_streamed_in_bounded_blocks(write_wav):
    rate = 8000
    path = write_wav("long.wav", sine(220, 60.0, rate), rate, subtype="PCM_16")
    info = probe_audio(path)
    sizes = [b.shape[0] for b in iter_mono_blocks(info, block_frames=rate)]
    assert max(sizes) == rate and sum(sizes) == 60 * rate
    assert sf.info(str(path)).frames == 60 * rate
