"""Beat, downbeat and tempo accuracy on rendered grooves at 70-180 bpm (issue 11).

Grooves (drum kit, bass, piano) are rendered by ``aimv_testkit.grooves`` with a soundfont, so
the beats are exact. The half/double-tempo rule was tuned on FluidR3_GM; the figures that
count are on TimGM6mb, which the rule never saw (``--soundfont``).

Reported per tempo: the tempo found, beat F-measure (+-70 ms), downbeat F-measure, and
in total the mean beat F-measure and the share of grooves with the tempo within 4 %.

    .venv/bin/python bench/beats_accuracy.py [--soundfont /usr/share/sounds/sf2/TimGM6mb.sf2]
        [--engine onset|madmom] [--seeds 2] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402

TEMPI = tuple(range(70, 181, 10))
# The band changes with the seed, and the music starts a little after 0 s.
BANDS = (
    ("drum_kit", "bass", "piano"),
    ("drum_kit", "bass", "acoustic_guitar", "strings"),
    ("drum_kit", "bass", "electric_piano", "synth_pad"),
)


def run(*, soundfont: str | None, engine: str, seeds: int, seconds: float) -> dict:
    from aimv_backend.listen.rhythm import RhythmOptions, track_rhythm
    from aimv_testkit.grooves import beat_f_measure, render_groove

    rows = []
    for bpm in TEMPI:
        for k in range(seeds):
            groove = render_groove(
                bpm=bpm,
                seconds=seconds,
                seed=100 + 7 * k + bpm,
                parts=BANDS[k % len(BANDS)],
                lead_in=round(0.37 * k, 2),
                soundfont=soundfont,
            )
            t0 = time.perf_counter()
            result = track_rhythm(
                audio=groove.audio,
                sample_rate=groove.sample_rate,
                options=RhythmOptions(engine=engine),
            )
            elapsed = time.perf_counter() - t0
            r = result.rhythm
            rows.append(
                {
                    "bpm": bpm,
                    "seed": k,
                    "band": "+".join(BANDS[k % len(BANDS)]),
                    "tempo": r.tempo_bpm,
                    "beat_f": round(beat_f_measure(groove.beats, r.beats), 4),
                    "downbeat_f": round(beat_f_measure(groove.downbeats, r.downbeats), 4),
                    "rtf": round(elapsed / seconds, 4),
                }
            )
            print(
                f"{bpm:4d} bpm seed {k}: tempo {r.tempo_bpm}  beat F {rows[-1]['beat_f']:.3f}  "
                f"downbeat F {rows[-1]['downbeat_f']:.3f}  RTF {rows[-1]['rtf']:.3f}",
                flush=True,
            )
    n = len(rows)
    summary = {
        "soundfont": soundfont or "FluidR3_GM (default)",
        "engine": engine,
        "grooves": n,
        "mean_beat_f": round(sum(r["beat_f"] for r in rows) / n, 4),
        "mean_downbeat_f": round(sum(r["downbeat_f"] for r in rows) / n, 4),
        "tempo_within_4pct": round(
            sum(r["tempo"] is not None and abs(r["tempo"] / r["bpm"] - 1) <= 0.04 for r in rows)
            / n,
            4,
        ),
        "mean_rtf": round(sum(r["rtf"] for r in rows) / n, 4),
    }
    return {"summary": summary, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soundfont", default=None, help="a .sf2 (default: FluidR3_GM)")
    parser.add_argument("--engine", default="onset", choices=("onset", "madmom"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run(
        soundfont=args.soundfont, engine=args.engine, seeds=args.seeds, seconds=args.seconds
    )
    print(json.dumps(report["summary"], indent=2))
    print(machine_line())
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
