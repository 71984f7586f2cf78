"""Beat and downbeat F-measure on songs whose tempo changes, drifts or breathes (issue 11).

Bands rendered by ``aimv_testkit.grooves.render_tempo_map`` (exact beats): steps from one
tempo to another, three steps, a 15 % drift up and a ritardando, +-4 % rubato, a steady song
and a steady song whose drums rest for 28 beats. Two bands (seeds) per case, with FluidR3_GM
(where the section rules were set) and TimGM6mb (held out). ``--one-tempo`` tracks every song
at one global tempo, as before the tempo sections.

    .venv/bin/python bench/tempo_changes.py [--one-tempo] [--soundfont PATH ...]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402

SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")
BANDS = (("drum_kit", "bass", "piano"), ("drum_kit", "bass", "acoustic_guitar", "strings"))


def _cases() -> dict[str, tuple[list[float], tuple[int, int] | None]]:
    def ramp(a: float, b: float, n: int) -> list[float]:
        return [a + (b - a) * min(k, 80) / 80 for k in range(n)]

    return {
        "step 96 -> 128": ([96.0] * 32 + [128.0] * 40, None),
        "step 120 -> 90": ([120.0] * 40 + [90.0] * 32, None),
        "step 140 -> 80": ([140.0] * 44 + [80.0] * 28, None),
        "steps 90 -> 120 -> 100": ([90.0] * 24 + [120.0] * 28 + [100.0] * 44, None),
        "drift 100 -> 115": (ramp(100.0, 115.0, 72), None),
        "ritardando 120 -> 100": (ramp(120.0, 100.0, 72), None),
        "rubato 110 +-4 %": (
            [110.0 * (1 + 0.04 * math.sin(math.pi * k / 8)) for k in range(72)],
            None,
        ),
        "steady 104": ([104.0] * 72, None),
        "breakdown 110 (no drums, beats 32-60)": ([110.0] * 96, (32, 60)),
    }


def run(*, soundfonts: list[str], one_tempo: bool) -> list[dict]:
    from aimv_backend.listen import tempo_sections
    from aimv_backend.listen.rhythm import track_rhythm
    from aimv_testkit.grooves import beat_f_measure, render_tempo_map

    if one_tempo:
        tempo_sections.split_sections = lambda centres, curve, *, frames, fps: [(0, frames)]
    rows = []
    for soundfont in soundfonts:
        for name, (tempi, quiet) in _cases().items():
            for seed in (0, 1):
                groove = render_tempo_map(
                    tempi=tempi,
                    seed=seed,
                    parts=BANDS[seed],
                    soundfont=soundfont,
                    quiet_drums=quiet,
                )
                rhythm = track_rhythm(audio=groove.audio, sample_rate=groove.sample_rate).rhythm
                rows.append(
                    {
                        "soundfont": Path(soundfont).stem,
                        "case": name,
                        "seed": seed,
                        "beat_f": beat_f_measure(groove.beats, rhythm.beats),
                        "downbeat_f": beat_f_measure(groove.downbeats, rhythm.downbeats),
                        "tempo": rhythm.tempo_bpm,
                    }
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soundfont", action="append", help="render with this .sf2 (repeatable)")
    parser.add_argument("--one-tempo", action="store_true", help="one global tempo (as before)")
    args = parser.parse_args()
    rows = run(soundfonts=args.soundfont or list(SOUNDFONTS), one_tempo=args.one_tempo)
    print(f"machine: {machine_line()}")
    print(f"tracker: {'one global tempo' if args.one_tempo else 'tempo sections'}")
    print(f"{'soundfont':10} {'case':40} {'beat F (2 bands)':>18} {'downbeat F':>14}")
    for k in range(0, len(rows), 2):
        a, b = rows[k], rows[k + 1]
        print(
            f"{a['soundfont']:10} {a['case']:40} {a['beat_f']:8.3f} {b['beat_f']:8.3f}  "
            f"{a['downbeat_f']:6.3f} {b['downbeat_f']:6.3f}"
        )
    for font in dict.fromkeys(r["soundfont"] for r in rows):
        mine = [r for r in rows if r["soundfont"] == font]
        print(
            f"{font}: mean beat F {sum(r['beat_f'] for r in mine) / len(mine):.3f}, "
            f"mean downbeat F {sum(r['downbeat_f'] for r in mine) / len(mine):.3f}"
        )


if __name__ == "__main__":
    main()
