"""Beats in a bar heard from the song (3 or 4): how often each meter is named right.

Rendered bands in 4/4 and 3/4 at 70-180 bpm (three bands with drums, two without), waltzes
with the bass alone on beat 1, songs that change tempo, and, with ``--loops``, Sonic Pi's
recorded drum loops (4/4), each repeated to 30 s. Prints, per case and meter, how many were
named right, the scores behind the choice (summed F ratios of three and four beats a bar:
``aimv_backend/listen/meter.py``) and the downbeat F-measure (+-70 ms) with the meter heard.
The rule was set on FluidR3_GM; TimGM6mb and the loops are held out.

    .venv/bin/python bench/meter.py [--soundfont SF2 ...] [--loops | --loops-only] [--verbose] [--beats-per-bar 4]
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402
from bench.beats_accuracy import BANDS as DRUM_BANDS  # noqa: E402
from bench.beats_accuracy import TEMPI  # noqa: E402

FONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")
BANDS = (*DRUM_BANDS, ("bass", "piano"), ("bass", "strings", "electric_piano"))
TEMPO_MAPS = (((96,) * 40 + (128,) * 48), ((120,) * 40 + (90,) * 32), tuple(range(100, 116)) * 5)
LOOPS = "/usr/share/sonic-pi/samples/loop_*.flac"
SECONDS = 30.0


def _cases(soundfont: str):
    """(case, true beats per bar, audio, sample rate, true downbeats) for one soundfont."""
    from aimv_testkit.grooves import render_groove, render_tempo_map, render_waltz

    for meter in (4, 3):
        for k, band in enumerate(BANDS):
            for bpm in TEMPI:
                groove = render_groove(
                    bpm=bpm, seconds=SECONDS, seed=300 + bpm + k, parts=band,
                    lead_in=round(0.37 * (k % 3), 2), soundfont=soundfont, beats_per_bar=meter,
                )  # fmt: skip
                kind = "band" if "drum_kit" in band else "no drums"
                yield f"{meter}/4 {kind}", meter, groove
    for octave in (1, 2):
        for bpm in (100.0, 120.0, 150.0):
            yield "waltz, bass alone on 1", 3, render_waltz(bpm=bpm, chord_octaves=octave)
    for seed, tempi in enumerate(TEMPO_MAPS):
        yield "4/4 tempo changes", 4, render_tempo_map(tempi=tempi, seed=seed, soundfont=soundfont)


LOOP_SECONDS: dict[str, float] = {}


def _fits(bpm: float, seconds: float) -> bool:
    """Whether ``seconds`` holds a power of two of beats at ``bpm`` (within 2 %)."""
    beats = bpm * seconds / 60.0
    return any(abs(beats / 2**k - 1.0) <= 0.02 for k in range(6))


def _librosa_tempo(audio, rate) -> float:
    import librosa
    import numpy as np

    tempo, _ = librosa.beat.beat_track(y=librosa.resample(audio, orig_sr=rate, target_sr=22050))
    return float(np.atleast_1d(tempo)[0])


def _loops():
    import numpy as np
    import soundfile as sf

    for path in sorted(glob.glob(LOOPS)):
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
        mono = audio.mean(axis=1)
        LOOP_SECONDS[Path(path).stem] = mono.shape[0] / rate
        if mono.shape[0] < rate:
            mono = np.tile(mono, int(np.ceil(rate / mono.shape[0])))
        reps = int(np.ceil(SECONDS * rate / mono.shape[0]))
        yield (
            Path(path).stem,
            mono if reps <= 1 else np.tile(mono, reps)[: int(SECONDS * rate)],
            rate,
        )


def main() -> None:
    from aimv_backend.listen.rhythm import RhythmOptions, track_rhythm
    from aimv_testkit.grooves import beat_f_measure

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soundfont", action="append", default=None)
    parser.add_argument("--loops", action="store_true", help="also Sonic Pi's drum loops")
    parser.add_argument("--loops-only", action="store_true", help="Sonic Pi's loops alone")
    parser.add_argument("--verbose", action="store_true", help="a line per song")
    parser.add_argument(
        "--beats-per-bar", type=int, default=None,
        help="bars of N beats, as with aimv's flag (the downbeats before the meter was heard: 4)",
    )  # fmt: skip
    args = parser.parse_args()

    def heard(audio, rate, beats_per_bar=None):
        options = RhythmOptions(beats_per_bar=beats_per_bar)
        return track_rhythm(audio=audio, sample_rate=rate, options=options)

    print(machine_line())
    fonts = args.soundfont or [f for f in FONTS if Path(f).is_file()]
    for font in [] if args.loops_only else fonts:
        print(f"\n{Path(font).name}")
        table: dict[str, list] = {}
        t_all = 0.0
        for case, meter, groove in _cases(font):
            t0 = time.perf_counter()
            result = heard(groove.audio, groove.sample_rate, args.beats_per_bar)
            t_all += time.perf_counter() - t0
            est = heard(groove.audio, groove.sample_rate).meter
            down_f = beat_f_measure(groove.downbeats, result.rhythm.downbeats)
            beat_f = beat_f_measure(groove.beats, result.rhythm.beats)
            table.setdefault(case, []).append((result.beats_per_bar == meter, down_f, beat_f))
            if args.verbose:
                print(f"  {case:24s} {groove.bpm:5.0f} bpm heard {result.beats_per_bar} "
                      f"(three {est.score_three:6.2f}, four {est.score_four:6.2f}) "
                      f"downbeat F {down_f:.2f}, beat F {beat_f:.2f}")  # fmt: skip
        for case, rows in table.items():
            right = sum(r for r, _, _ in rows)
            down_f = sum(f for _, f, _ in rows) / len(rows)
            beat_f = sum(f for _, _, f in rows) / len(rows)
            print(f"  {case:24s} meter right {right:3d} / {len(rows):3d}   downbeat F {down_f:.3f}"
                  f"   beat F {beat_f:.3f}")  # fmt: skip
        print(f"  tracking time {t_all:.1f} s")
    if args.loops or args.loops_only:
        print("\nSonic Pi loops (4/4), repeated to 30 s; a tempo 'fits' when the loop holds 1, 2,")
        print("4, ... 32 of its beats (within 2 %); librosa.beat.beat_track's tempo beside ours")
        right = fits = librosa_fits = 0
        rows = list(_loops())
        for name, audio, rate in rows:
            result = heard(audio, rate)
            est = result.meter
            right += est.beats_per_bar == 4
            ours, theirs = result.rhythm.tempo_bpm or 0.0, _librosa_tempo(audio, rate)
            seconds = LOOP_SECONDS[name]
            fit = [_fits(t, seconds) for t in (ours, theirs)]
            fits, librosa_fits = fits + fit[0], librosa_fits + fit[1]
            print(f"  {name:18s} heard {est.beats_per_bar} "
                  f"(three {est.score_three:6.2f}, four {est.score_four:6.2f}); "
                  f"{ours:6.1f} bpm {'fits' if fit[0] else '    '}, librosa {theirs:6.1f} "
                  f"{'fits' if fit[1] else ''}")  # fmt: skip
        print(f"  heard as 4/4: {right} / {len(rows)}; tempo fits the loop: ours {fits}, "
              f"librosa {librosa_fits}")  # fmt: skip


if __name__ == "__main__":
    main()
