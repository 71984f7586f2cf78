"""Drum hits from a local copy of E-GMD, the Expanded Groove MIDI Dataset (Magenta, CC BY 4.0).

Issue 11: the drum-piece classifier names an unseen kit's kick, snare and closed hi-hat but not
its toms and cymbals, and no further kit on this machine helped (docs/benchmarks.md). E-GMD is
444 hours of human drumming on a Roland TD-17 with 43 kits, each performance a .wav beside the
.midi that played it, so the truth is exact: the training data the classifier lacks, under a
licence that lets weights trained on it ship (with the attribution in
docs/models-and-licences.md). It is tens of GB and online, so nothing here downloads it: point
``AIMV_EGMD_DIR`` (or ``tools/train_listen_models.py drums --egmd DIR``) at the unpacked
``e-gmd-v1.0.0`` folder, the one holding ``e-gmd-v1.0.0.csv``, and train with
``--train fluidr3,musescore,egmd``.

Only the CSV's ``train`` split is read, so its ``validation`` and ``test`` splits stay unseen.
A set is the first CLIP_SECONDS of performances drawn (seeded) in turn from every kit, with a
second of silence between them; notes struck within CHORD_SECONDS are one event.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from aimv_backend.listen.drums import features
from aimv_timeline.paths import is_inside

ENV_DIR = "AIMV_EGMD_DIR"
CSV_NAME = "e-gmd-v1.0.0.csv"
LICENCE = "CC-BY-4.0"
CLIP_SECONDS = 20.0
GAP_SECONDS = 1.0
CHORD_SECONDS = 0.01
SET_GROOVES = 8  # a set holds as much drumming as a GM soundfont's eight kits of grooves
# The Roland TD-17's notes as E-GMD records them (Gillick et al. 2019, the Groove MIDI
# Dataset's table) -> AIMV's pieces. A snare rim shot sounds as a loud snare (GM's 40 is a
# snare too); a crash's edge (55) is a crash here, not GM's splash; the ride's bell is the ride.
ROLAND_PIECES = {
    36: "kick",
    38: "snare",
    40: "snare",
    37: "rimshot",
    48: "tom_high",
    50: "tom_high",
    45: "tom_mid",
    47: "tom_mid",
    43: "tom_floor",
    58: "tom_floor",
    46: "hihat_open",
    26: "hihat_open",
    42: "hihat_closed",
    22: "hihat_closed",
    44: "hihat_closed",
    49: "crash",
    55: "crash",
    57: "crash",
    52: "crash",
    51: "ride",
    59: "ride",
    53: "ride",
}


class EgmdError(RuntimeError):
    """The E-GMD folder is missing or not E-GMD (the message names the folder)."""


def egmd_dir() -> Path:
    """The unpacked E-GMD folder named by AIMV_EGMD_DIR; EgmdError when it is not one."""
    value = os.environ.get(ENV_DIR, "")
    if not value:
        raise EgmdError(f"{ENV_DIR} is not set: point it (or --egmd) at the unpacked E-GMD folder")
    root = Path(value).expanduser()
    if not (root / CSV_NAME).is_file():
        raise EgmdError(f"{ENV_DIR}={value!r}: no {CSV_NAME} there (the unpacked E-GMD folder)")
    return root


def available() -> bool:
    try:
        egmd_dir()
    except EgmdError:
        return False
    return True


def train_performances(root: Path) -> dict[str, list[tuple[Path, Path]]]:
    """kit name -> [(audio, MIDI)] of the CSV's train split whose files are present."""
    kits: dict[str, list[tuple[Path, Path]]] = {}
    with open(root / CSV_NAME, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("split") != "train":
                continue
            audio, midi = root / row["audio_filename"], root / row["midi_filename"]
            # a CSV row may not name a file outside the dataset folder
            if (
                is_inside(audio, root)
                and is_inside(midi, root)
                and audio.is_file()
                and midi.is_file()
            ):
                kits.setdefault(row.get("kit_name", ""), []).append((audio, midi))
    if not kits:
        raise EgmdError(f"{root}: no performance of the train split has its files there")
    return kits


def midi_hits(path: Path) -> list[tuple[float, str, int]]:
    """(seconds, piece, velocity) of every mapped note-on of a performance's MIDI file."""
    import mido

    out, t = [], 0.0
    for msg in mido.MidiFile(str(path)):  # iterating a MidiFile gives delta times in seconds
        t += msg.time
        if msg.type == "note_on" and msg.velocity > 0 and msg.note in ROLAND_PIECES:
            out.append((t, ROLAND_PIECES[msg.note], int(msg.velocity)))
    return out


def drum_set(rng: np.random.Generator, *, seconds: float):
    """(mono audio at features.RATE, truth DrumEvents) of about ``seconds`` of E-GMD drumming."""
    import soundfile as sf
    from drum_sources import to_rate

    kits = train_performances(egmd_dir())
    names = sorted(kits)
    rng.shuffle(names)
    parts: list[np.ndarray] = []
    truth: list = []  # listen_data.DrumEvent
    start = 0.0
    turn = 0
    while start < seconds and names:
        name = names[turn % len(names)]
        turn += 1
        audio_path, midi_path = kits[name][int(rng.integers(len(kits[name])))]
        rate = sf.info(str(audio_path)).samplerate  # read the clip only, not the performance
        data, _ = sf.read(
            str(audio_path), frames=int(CLIP_SECONDS * rate), dtype="float32", always_2d=True
        )
        clip = to_rate(data.mean(axis=1), rate)
        length = clip.shape[0] / features.RATE
        hits = [h for h in midi_hits(midi_path) if h[0] < length - 0.05]
        truth += _events(hits, offset=start)
        parts += [clip, np.zeros(int(GAP_SECONDS * features.RATE), np.float32)]
        start += length + GAP_SECONDS
    return np.concatenate(parts).astype(np.float32), truth


def _events(hits: list[tuple[float, str, int]], *, offset: float):
    """Notes struck within CHORD_SECONDS of the first of them are one DrumEvent."""
    from listen_data import DrumEvent

    events: list[DrumEvent] = []
    group: list[tuple[float, str, int]] = []
    for hit in sorted(hits) + [(float("inf"), "", 0)]:
        if group and hit[0] - group[0][0] > CHORD_SECONDS:
            pieces = tuple(sorted({p for _, p, _ in group}))
            vel = max(v for _, _, v in group)
            events.append(DrumEvent(round(offset + group[0][0], 4), pieces, vel))
            group = []
        group.append(hit)
    return events
