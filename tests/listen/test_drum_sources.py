"""The drum-piece classifier's training sources: labels, licences and the sample reader.

No kit is needed here (the Debian kit packages are for retraining only): these check the
tables that decide what the shipped weights may be trained on, and the GUS patch reader on a
patch written here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import drum_sources  # noqa: E402
import listen_data  # noqa: E402
import synth_kits  # noqa: E402
import train_listen_models  # noqa: E402

from aimv_timeline.schema import DRUM_PIECES  # noqa: E402

# Licences whose data may go into the shipped (GPL-3.0-or-later) weights.
# (CC-BY-SA-4.0 is one-way compatible with GPL-3.0: Creative Commons, 2015.)
SHIPPABLE = {
    "MIT",
    "GPL-2+",
    "GPL-2+ with a composition exception",
    "CC-BY-3.0",
    "CC-BY-SA-4.0",
    "CC0",
    synth_kits.LICENCE,
}


def test_every_kit_label_is_a_piece_aimv_knows():
    for name, kit in drum_sources.SAMPLE_KITS.items():
        assert set(kit.pieces.values()) <= set(DRUM_PIECES), name
    for name, notes in drum_sources.NOTE_MAPS.items():
        assert set(notes.values()) <= set(DRUM_PIECES), name


def test_shipped_weights_train_only_on_kits_whose_licence_allows_it():
    train = (
        set(train_listen_models.TRAIN_DEFAULT)
        | set(train_listen_models.INDEPENDENT_KITS)
        | set(drum_sources.SYNTH_KITS)
    )
    assert train_listen_models.TEST_DEFAULT not in train
    assert not train & set(train_listen_models.HELD_OUT_KITS)
    for name in train:
        if name in drum_sources.SAMPLE_KITS:
            kit = drum_sources.SAMPLE_KITS[name]
            assert kit.role == "train" and kit.licence in SHIPPABLE, name
        else:
            assert listen_data.LICENCES[name] in SHIPPABLE, name
    for name in train_listen_models.HELD_OUT_KITS:
        assert drum_sources.SAMPLE_KITS[name].role == "held_out"
    for name, kit in drum_sources.SAMPLE_KITS.items():  # any kit --train may name
        assert kit.role == "held_out" or kit.licence in SHIPPABLE, name


def test_a_gus_patch_reads_back_as_the_samples_written(tmp_path):
    wave = (np.sin(np.arange(400) / 5.0) * 20000).astype("<i2")
    head = bytearray(96)
    head[8:12] = (wave.nbytes).to_bytes(4, "little")
    head[20:22] = (32000).to_bytes(2, "little")
    head[55] = 1  # 16-bit signed
    path = tmp_path / "kick.pat"
    path.write_bytes(b"GF1PATCH110\0" + bytes(239 - 12) + bytes(head) + wave.tobytes())
    x, rate = drum_sources._read_gus(path)
    assert rate == 32000
    np.testing.assert_allclose(x, wave / 32768.0)


def _pitch_hz(wave: np.ndarray) -> float:
    """The strongest frequency of a hit's first 0.3 s (Hz)."""
    x = wave[: int(0.3 * synth_kits.RATE)]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), n=1 << 16))
    return float(np.fft.rfftfreq(1 << 16, 1 / synth_kits.RATE)[np.argmax(spectrum)])


def _ring_seconds(wave: np.ndarray) -> float:
    """How long a hit stays within 40 dB of its loudest 10 ms (seconds)."""
    hop = int(0.01 * synth_kits.RATE)
    frames = wave[: wave.size // hop * hop].reshape(-1, hop)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    return float(np.flatnonzero(level > level.max() - 40).max() + 1) * 0.01


def test_a_synthesised_kit_is_its_seed_and_every_piece_has_three_layers():
    kit = synth_kits.synth_kit(3)
    assert set(kit) == set(DRUM_PIECES)
    again = synth_kits._uncached_kit(3)
    other = synth_kits._uncached_kit(4)
    for piece, layers in kit.items():
        assert [(lo, hi) for lo, hi, _, _ in layers] == list(synth_kits.LAYERS)
        for (_, _, _, a), (_, _, _, b) in zip(layers, again[piece], strict=True):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(layers[1][3], other[piece][1][3])
        assert all(np.isfinite(w).all() and 0 < np.abs(w).max() <= 1.0 for *_, w in layers)


def test_synthesised_kits_keep_the_relations_that_name_a_piece():
    """What a piece is, kit after kit: a floor tom rings lower than a mid tom, which rings
    lower than a high tom; the kick is the lowest drum; an open hi-hat rings longer than a
    closed one, a crash and a ride longer than both."""
    for seed in range(6):
        kit = synth_kits.synth_kit(seed)
        loud = {piece: layers[-1][3] for piece, layers in kit.items()}
        pitch = {p: _pitch_hz(loud[p]) for p in ("kick", "tom_floor", "tom_mid", "tom_high")}
        assert pitch["kick"] < pitch["tom_floor"] < pitch["tom_mid"] < pitch["tom_high"], pitch
        ring = {p: _ring_seconds(loud[p]) for p in ("hihat_closed", "hihat_open", "crash", "ride")}
        assert ring["hihat_closed"] < 0.15 < ring["hihat_open"], ring
        assert ring["crash"] > ring["hihat_open"] * 0.9 and ring["ride"] > 0.6, ring


def test_synthesised_kits_render_through_the_sample_kit_path():
    audio, truth = listen_data.drum_set("synth-1", seed=5, groove_seconds=6.0)
    assert {p for e in truth for p in e.pieces} == set(DRUM_PIECES)
    assert audio.dtype == np.float32 and np.isfinite(audio).all() and np.abs(audio).max() > 0.1


@pytest.mark.parametrize("value", ["8,-25", "8", "loud,quiet"])
def test_a_bed_level_range_that_is_not_low_high_stops_training_with_one_line(value, capsys):
    with pytest.raises(SystemExit) as stop:
        train_listen_models.main(["drums", f"--bed-db={value}", "--no-write"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--bed-db" in err and value in err


def test_a_folder_of_samples_is_a_kit_whose_hits_sound_where_the_score_strikes_them(
    tmp_path, monkeypatch
):
    """The "files" kind (Sonic Pi's and LMMS's samples): one file an instrument, read at its
    own rate and resampled; a 48 kHz low thump and a 44.1 kHz stereo hiss land where struck."""
    import soundfile as sf

    t = np.arange(int(0.3 * 48000)) / 48000
    sf.write(tmp_path / "thump.wav", np.sin(2 * np.pi * 60 * t) * np.exp(-t / 0.05), 48000)
    noise = np.random.default_rng(0).standard_normal((int(0.05 * 44100), 2)) * 0.3
    sf.write(tmp_path / "hiss.flac", noise, 44100)
    kit = drum_sources.SampleKit(
        str(tmp_path), "CC0", "train", False,
        {"thump.wav": "kick", "hiss.flac": "hihat_closed"}, kind="files",
    )  # fmt: skip
    monkeypatch.setitem(drum_sources.SAMPLE_KITS, "test-folder", kit)
    drum_sources.load_kit.cache_clear()
    assert drum_sources.kit_available("test-folder")
    rate = drum_sources.features.RATE
    hits = [(0.5, "thump.wav", 127), (1.5, "hiss.flac", 127)]
    audio = drum_sources.render_sample_kit(
        "test-folder", hits, seconds=2.0, rng=np.random.default_rng(1)
    )
    drum_sources.load_kit.cache_clear()
    assert audio.shape == (2 * rate,)

    def low_and_high(at: float) -> tuple[float, float]:
        x = audio[int(at * rate) : int((at + 0.05) * rate)]
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        hz = np.fft.rfftfreq(x.size, 1 / rate)
        return float(spectrum[hz < 200].sum()), float(spectrum[hz > 2000].sum())

    kick_low, kick_high = low_and_high(0.5)
    hat_low, hat_high = low_and_high(1.5)
    assert kick_low > 10 * kick_high and hat_high > 10 * hat_low
    assert np.abs(audio[: int(0.45 * rate)]).max() == 0.0  # nothing before the first hit
