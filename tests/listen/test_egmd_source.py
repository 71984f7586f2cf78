"""E-GMD as a drum training source (tools/egmd.py), on a small folder laid out like it.

E-GMD itself is tens of GB online and never downloaded by tests: the folder here has its CSV, its
.wav/.midi pairs and its Roland note numbers, with clicks rendered where the MIDI strikes.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import egmd  # noqa: E402
import listen_data  # noqa: E402
import train_listen_models  # noqa: E402

from aimv_backend.listen.drums import features  # noqa: E402

AUDIO_RATE = 44100
# (seconds, Roland note): a kick, a snare with a closed hi-hat edge, tom 3's rim, a crash edge
PERFORMANCE = [(0.5, 36), (1.0, 38), (1.0, 22), (1.5, 58), (2.0, 55), (2.5, 99)]


def _write_performance(folder: Path, stem: str, *, tempo: int) -> tuple[str, str]:
    """A .midi at ``tempo`` (us per beat) and the .wav of a click at every note (5 s)."""
    import mido
    import soundfile as sf

    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    last = 0
    for t, note in PERFORMANCE:
        tick = int(round(t * 1e6 / tempo * 480))
        track.append(mido.Message("note_on", channel=9, note=note, velocity=100, time=tick - last))
        track.append(mido.Message("note_on", channel=9, note=note, velocity=0, time=0))
        last = tick
    folder.mkdir(parents=True, exist_ok=True)
    mid.save(str(folder / f"{stem}.midi"))
    audio = np.zeros((5 * AUDIO_RATE, 2), np.float32)
    noise = np.random.default_rng(0).standard_normal(int(0.03 * AUDIO_RATE)) * 0.5
    for t, _ in PERFORMANCE:
        s = int(t * AUDIO_RATE)
        audio[s : s + noise.size] += noise[:, None]
    sf.write(folder / f"{stem}.wav", audio, AUDIO_RATE)
    rel = folder.relative_to(folder.parents[1])
    return f"{rel}/{stem}.wav", f"{rel}/{stem}.midi"


@pytest.fixture
def egmd_folder(tmp_path, monkeypatch):
    root = tmp_path / "e-gmd-v1.0.0"
    rows = []
    for kit, split, tempo in (("Acoustic", "train", 500000), ("Jazz", "train", 400000)):
        wav, midi = _write_performance(root / "drummer1" / kit, "1_beat", tempo=tempo)
        rows.append({"kit_name": kit, "split": split, "audio_filename": wav, "midi_filename": midi})
    wav, midi = _write_performance(root / "drummer9" / "Unseen", "9_beat", tempo=500000)
    rows.append(
        {"kit_name": "Unseen", "split": "test", "audio_filename": wav, "midi_filename": midi}
    )
    rows.append(
        {"kit_name": "Escape", "split": "train", "audio_filename": "../../etc/x.wav",
         "midi_filename": midi}
    )  # fmt: skip
    with open(root / egmd.CSV_NAME, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv(egmd.ENV_DIR, str(root))
    monkeypatch.setenv("AIMV_CACHE_DIR", str(tmp_path / "cache"))
    return root


def test_only_the_train_split_inside_the_folder_is_read(egmd_folder):
    kits = egmd.train_performances(egmd.egmd_dir())
    assert set(kits) == {"Acoustic", "Jazz"}  # not the test split, nor a path outside


def test_roland_notes_become_pieces_at_their_time_whatever_the_tempo(egmd_folder):
    for kit in ("Acoustic", "Jazz"):
        ((_, midi),) = egmd.train_performances(egmd_folder)[kit]
        hits = egmd.midi_hits(midi)
        assert [(round(t, 3), p) for t, p, _ in hits] == [
            (0.5, "kick"),
            (1.0, "snare"),
            (1.0, "hihat_closed"),
            (1.5, "tom_floor"),
            (2.0, "crash"),
        ]  # note 99 is no Roland drum: left out


def test_a_set_is_resampled_drumming_whose_truth_sits_on_its_clicks(egmd_folder):
    audio, truth = listen_data.drum_set("egmd", seed=3, groove_seconds=1.0)
    assert audio.dtype == np.float32
    # 8 x 1 s asked for: two 5 s clips with their 1 s gaps
    assert audio.shape[0] == pytest.approx(2 * 6 * features.RATE, abs=2)
    assert [e.pieces for e in truth[:4]] == [
        ("kick",),
        ("hihat_closed", "snare"),
        ("tom_floor",),
        ("crash",),
    ]
    assert [round(e.time, 3) for e in truth] == [0.5, 1.0, 1.5, 2.0, 6.5, 7.0, 7.5, 8.0]
    rms = lambda t: float(np.sqrt(np.mean(audio[int(t * features.RATE) :][:500] ** 2)))  # noqa: E731
    for e in truth:
        assert rms(e.time) > 0.1 and rms(e.time + 0.2) == 0.0
    again, truth_again = listen_data.drum_set("egmd", seed=3, groove_seconds=1.0)  # cached
    np.testing.assert_array_equal(again, audio)
    assert truth_again == truth


def test_training_on_egmd_without_its_folder_stops_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(egmd.ENV_DIR, "")  # restored after: --egmd sets it for the run
    for extra in ([], ["--egmd", str(tmp_path)]):
        with pytest.raises(SystemExit) as stop:
            train_listen_models.main(["drums", "--train", "fluidr3,egmd", "--no-write", *extra])
        assert stop.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert egmd.ENV_DIR in err and "E-GMD" in err
