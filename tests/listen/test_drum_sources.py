"""The drum-piece classifier's training sources: labels, licences and the sample reader.

No kit is needed here (the Debian kit packages are for retraining only): these check the
tables that decide what the shipped weights may be trained on, and the GUS patch reader on a
patch written here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import drum_sources  # noqa: E402
import listen_data  # noqa: E402
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
}


def test_every_kit_label_is_a_piece_aimv_knows():
    for name, kit in drum_sources.SAMPLE_KITS.items():
        assert set(kit.pieces.values()) <= set(DRUM_PIECES), name
    for name, notes in drum_sources.NOTE_MAPS.items():
        assert set(notes.values()) <= set(DRUM_PIECES), name


def test_shipped_weights_train_only_on_kits_whose_licence_allows_it():
    train = set(train_listen_models.TRAIN_DEFAULT) | set(train_listen_models.INDEPENDENT_KITS)
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
