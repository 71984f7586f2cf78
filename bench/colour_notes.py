"""How often the colour's note is a played one: basic-pitch notes against the spectrum method.

Issue 11: the spectrum method picked the played note in 13 of 28 windows of real recordings
(it often lands on a harmonic); basic-pitch found it in 26 of 28. Here, on rendered parts whose
notes are known: solo instruments, a band (drum kit + bass + piano + a louder melody), and the
same with a loud 30 Hz drone under it. A window counts as right when the pitch class of its
colour is that of a note sounding in its middle (+-0.2 s): any note of a solo, the melody's
in a band. The spectrum method is scored as it is now (energy under 60 Hz ignored) and as it was
(from 27.5 Hz), and for its frequency: the played note itself, octave included, with and without
the rule that takes a peak an octave under the strongest (colour.FUNDAMENTAL_SHARE). Run with
``--soundfont`` for a soundfont the colour rules were not tuned on (TimGM6mb).

    .venv/bin/python bench/colour_notes.py [--soundfont /usr/share/sounds/sf2/TimGM6mb.sf2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402

SOLOS = ("flute", "violin", "piano", "trumpet", "saxophone", "organ", "synth_lead",
         "acoustic_guitar", "cello", "bass", "electric_piano", "harp")  # fmt: skip
SECONDS = 8.0
RATE = 22050


def _score(audio, truth_notes, *, drone: bool) -> tuple[int, ...]:
    from aimv_backend.listen import colour
    from aimv_backend.listen.notes import window_notes
    from aimv_backend.listen.volume import measure_level
    from aimv_backend.listen.windows import make_windows

    if drone:
        t = np.arange(audio.shape[0]) / RATE
        audio = 0.3 * audio / np.abs(audio).max() + 0.5 * np.sin(2 * np.pi * 30.0 * t)
        audio = audio.astype(np.float32)
    wins = make_windows(frames=audio.shape[0], sample_rate=RATE, window_seconds=1.0)
    found = window_notes(audio=audio, sample_rate=RATE, windows=wins)
    total = notes_right = spectrum_right = before_right = octave_right = octave_before = 0
    for w, played in zip(wins, found, strict=True):
        m = 0.5 * (w.start + w.end)
        pitches = {n.pitch for n in truth_notes if n.start <= m + 0.2 and n.end >= m - 0.2}
        sounding = {pitch % 12 for pitch in pitches}
        if not sounding:
            continue
        total += 1
        samples = audio[int(w.start * RATE) : int(w.end * RATE)]
        level = measure_level(samples).rms_dbfs
        spectral = colour.colour_of_window(samples, RATE, rms_dbfs=level, silent=False)
        final = colour.colour_from_notes(spectral, played)
        spectrum_right += int(round(spectral.hue / 30.0)) % 12 in sounding
        notes_right += int(round(final.hue / 30.0)) % 12 in sounding
        octave_right += _midi(spectral.frequency_hz) in pitches  # the note itself, octave too
        share, colour.FUNDAMENTAL_SHARE = colour.FUNDAMENTAL_SHARE, np.inf  # no octave-under rule
        try:
            plain = colour.colour_of_window(samples, RATE, rms_dbfs=level, silent=False)
            octave_before += _midi(plain.frequency_hz) in pitches
        finally:
            colour.FUNDAMENTAL_SHARE = share
        floor, colour.PITCH_FMIN_HZ = colour.PITCH_FMIN_HZ, 27.5  # the rule before issue 11
        try:
            before = colour.colour_of_window(samples, RATE, rms_dbfs=level, silent=False)
            before_right += int(round(before.hue / 30.0)) % 12 in sounding
        finally:
            colour.PITCH_FMIN_HZ = floor
    return total, notes_right, spectrum_right, before_right, octave_right, octave_before


def _midi(frequency_hz: float | None) -> int | None:
    return None if not frequency_hz else int(round(69 + 12 * np.log2(frequency_hz / 440.0)))


def run(soundfont: str | None) -> dict:
    from aimv_testkit import get_instrument, make_harmony, render_part
    from aimv_testkit.midi import Track, render_tracks
    from aimv_testkit.patterns import part_notes

    if soundfont:
        os.environ["AIMV_SOUNDFONT"] = soundfont
    rows = {}
    solo = [0] * 6
    for k, name in enumerate(SOLOS):
        h = make_harmony(seed=k, bpm=60.0)
        audio = render_part(instrument=name, seconds=SECONDS, harmony=h, seed=k)
        notes = part_notes(get_instrument(name), harmony=h, seconds=SECONDS, seed=k)
        solo = [a + b for a, b in zip(solo, _score(audio, notes, drone=False), strict=True)]
    rows["solo instruments"] = solo
    for drone in (False, True):
        band = [0] * 6
        for k, lead in enumerate(("flute", "violin", "trumpet", "synth_lead")):
            h = make_harmony(seed=10 + k, bpm=90.0)
            parts = ("drum_kit", "bass", "piano", lead)
            tracks, lead_notes = [], []
            for name in parts:
                inst = get_instrument(name)
                notes = tuple(part_notes(inst, harmony=h, seconds=SECONDS, seed=k))
                tracks.append(Track(inst, notes, volume=110 if name == lead else 80))
                if name == lead:  # the played note of a band is its melody's
                    lead_notes.extend(notes)
            audio = render_tracks(tracks, seconds=SECONDS, sample_rate=RATE).mean(axis=1)
            band = [
                a + b for a, b in zip(band, _score(audio, lead_notes, drone=drone), strict=True)
            ]
        rows["band" + (" + 30 Hz drone" if drone else "")] = band
    return {
        "soundfont": soundfont or "FluidR3_GM (default)",
        "rows": {
            name: {
                "windows": t,
                "notes": n,
                "spectrum": s,
                "spectrum_27_hz_floor": b,
                "spectrum_right_octave": o,
                "spectrum_right_octave_without_octave_under_rule": ob,
            }
            for name, (t, n, s, b, o, ob) in rows.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soundfont", default=None)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run(args.soundfont)
    print(json.dumps(report, indent=2))
    print(machine_line())
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
