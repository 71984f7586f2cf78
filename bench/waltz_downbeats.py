"""Downbeats of waltzes (3/4): the bass alone on beat 1, the chord on beats 2 and 3.

The musician's trial found every such downbeat a beat late (on the chord) until the downbeat
rule compared a beat with the middle of an odd bar. Rendered with each soundfont, at three
tempi and two chord registers, a new chord each bar; prints the downbeat F-measure
(+-70 ms) and the share of bars whose downbeat was found on beat 1.

    .venv/bin/python bench/waltz_downbeats.py [--soundfont SF2 ...]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402

FONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")


def main() -> None:
    from aimv_backend.listen.rhythm import RhythmOptions, track_rhythm
    from aimv_testkit.grooves import beat_f_measure, render_waltz

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soundfont", action="append", default=None)
    args = parser.parse_args()
    for font in args.soundfont or [f for f in FONTS if Path(f).is_file()]:
        os.environ["AIMV_SOUNDFONT"] = font
        for octave, bpm in ((o, b) for o in (1, 2) for b in (100.0, 120.0, 150.0)):
            waltz = render_waltz(bpm=bpm, chord_octaves=octave)
            truth = waltz.downbeats
            options = RhythmOptions(beats_per_bar=3)
            rhythm = track_rhythm(
                audio=waltz.audio, sample_rate=waltz.sample_rate, options=options
            ).rhythm
            found = sum(any(abs(d - t) <= 0.07 for d in rhythm.downbeats) for t in truth)
            f = beat_f_measure(truth, rhythm.downbeats, 0.07)
            print(
                f"{Path(font).stem:<12} chords +{octave} oct {bpm:5.0f} bpm: "
                f"tempo {rhythm.tempo_bpm:6.1f}  "
                f"downbeat F {f:.3f}  bars found on beat 1: {found}/{len(truth)}"
            )
    print(machine_line())


if __name__ == "__main__":
    main()
