"""Piano in band mixes: is it among a window's three instruments where it plays, and not where
it does not?

A musician's trial found that band mixes never listed piano: two runner-up drum pieces and the
bass took the three places. Each song here has six sections of 9.6 s at 100 bpm: three bands
with a piano (or electric piano) and three without (acoustic or electric guitar, organ, synth
pad, harp in its place), each with drums, bass and a melody. Every 1 s window but the first of
each section is scored with the whole instrument stage (musicnn, the family classifier, the
drum pieces: ``tag_instruments``). Printed per soundfont: piano listed where it plays, piano
listed where none plays, and the bands' melodic parts listed where they play.

FluidR3 and MuseScore are the training soundfonts (the rule was set on them); TimGM6mb is held
out. ``--band-floor inf`` scores the rule before it (the pieces always took up to two places).

    .venv/bin/python bench/band_instruments.py [--seeds 8] [--soundfont NAME ...]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402

SOUNDFONTS = {
    "fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "musescore": "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
    "timgm6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2",
}
PIANO_WORDS = frozenset({"piano", "electric piano", "keyboard", "harpsichord"})
# the words that name each melodic part (a family's word counts: "brass" for a trumpet)
PART_WORDS = {
    "flute": {"flute"},
    "saxophone": {"saxophone"},
    "strings": {"strings", "violin", "cello"},
    "violin": {"violin", "strings"},
    "electric_guitar": {"guitar", "electric guitar"},
    "acoustic_guitar": {"guitar", "acoustic guitar"},
    "distortion_guitar": {"guitar", "electric guitar"},
    "trumpet": {"brass", "trumpet"},
    "brass": {"brass", "trumpet"},
    "synth_lead": {"synth"},
    "synth_pad": {"synth"},
    "organ": {"organ"},
    "harp": {"harp"},
}
DRUM_WORDS = frozenset(
    {"drums", "kick", "snare", "hi-hat", "crash", "ride", "tom", "clap", "rimshot", "splash"}
)
BAR = 2.4  # seconds at 100 bpm


def _bands():
    from aimv_testkit import PartSpec as P

    with_piano = [
        (P("drum_kit"), P("bass"), P("piano"), P("flute", -3, 0.3)),
        (P("drum_kit"), P("bass", 1), P("piano"), P("saxophone", -2, 0.3)),
        (
            P("drum_kit"),
            P("bass", 1),
            P("piano"),
            P("strings", -3, 0.4),
            P("electric_guitar", -4, -0.6),
        ),
        (P("drum_kit", -3), P("bass"), P("piano", -2, -0.2), P("trumpet", -2, 0.3)),
        (P("drum_kit"), P("bass"), P("electric_piano"), P("synth_lead", -4, 0.3)),
        (P("drum_kit", -5), P("bass"), P("piano", -2, -0.2), P("acoustic_guitar", -6, 0.5)),
    ]
    without = [
        (P("drum_kit"), P("bass"), P("acoustic_guitar"), P("flute", -3, 0.3)),
        (P("drum_kit"), P("bass", 1), P("organ", -2), P("saxophone", -2, 0.3)),
        (
            P("drum_kit"),
            P("bass", 1),
            P("electric_guitar", -2),
            P("strings", -3, 0.4),
            P("trumpet", -4),
        ),
        (P("drum_kit"), P("bass"), P("synth_pad", -3), P("synth_lead", -3, 0.3)),
        (P("drum_kit", -3), P("bass"), P("harp", -2), P("violin", -3, 0.3)),
        (P("drum_kit"), P("bass"), P("distortion_guitar", -3), P("brass", -4)),
    ]
    return with_piano, without


def song(seed: int):
    """The song of ``seed``: (its spec, [(start, end, piano plays)] per section)."""
    import numpy as np

    from aimv_testkit import Section, SongSpec

    with_piano, without = _bands()
    half = seed % 2  # fluidsynth renders at most 15 tracks: three bands of each kind a song
    bands = [(b, True) for b in with_piano[3 * half : 3 * half + 3]]
    bands += [(b, False) for b in without[3 * half : 3 * half + 3]]
    order = np.random.default_rng(seed).permutation(len(bands))
    sections, marks, t = [], [], 0.0
    for k, i in enumerate(order):
        parts, piano = bands[i]
        sections.append(Section(f"s{k}", t, t + 4 * BAR, parts, "normal"))
        marks.append((t, t + 4 * BAR, piano, [p.instrument for p in parts]))
        t += 4 * BAR
    spec = SongSpec(
        sections=tuple(sections), bpm=100.0, key="D", progression=(5, 3, 0, 4), seed=seed
    )
    return spec, marks


def score(font: str, seeds: int, folder: Path) -> dict[str, list[int]]:
    """Counts [listed, windows] of piano where it plays, where not, and of the melodic parts."""
    from aimv_backend.audio.io import probe_audio
    from aimv_backend.listen.instruments import InstrumentOptions, tag_instruments
    from aimv_backend.listen.windows import make_windows
    from aimv_backend.progress import SilentProgress
    from aimv_testkit import render_song, write_audio

    os.environ["AIMV_SOUNDFONT"] = SOUNDFONTS[font]
    counts = {"piano": [0, 0], "false piano": [0, 0], "other melodic parts": [0, 0]}
    counts["a drum word"] = [0, 0]
    for seed in range(seeds):
        spec, marks = song(seed)
        rendered = render_song(spec, sample_rate=44100)
        wav = folder / f"{font}-{seed}.wav"
        write_audio(wav, rendered.audio, 44100)
        info = probe_audio(wav)
        windows = make_windows(frames=info.frames, sample_rate=info.sample_rate, window_seconds=1)
        result = tag_instruments(
            audio_info=info,
            windows=windows,
            options=InstrumentOptions(allow_download=False),
            progress=SilentProgress(),
        )
        for span, guesses in zip(windows, result.windows, strict=True):
            mark = next((m for m in marks if m[0] + 1.0 <= span.start and span.end <= m[1]), None)
            if mark is None:
                continue
            words = {g.word for g in guesses}
            key = "piano" if mark[2] else "false piano"
            counts[key][0] += bool(words & PIANO_WORDS)
            counts[key][1] += 1
            counts["a drum word"][0] += bool(words & DRUM_WORDS)
            counts["a drum word"][1] += 1
            for part in mark[3]:
                if part in PART_WORDS:
                    counts["other melodic parts"][0] += bool(words & PART_WORDS[part])
                    counts["other melodic parts"][1] += 1
        print(f"  {font} seed {seed} done", file=sys.stderr, flush=True)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--soundfont", action="append", choices=sorted(SOUNDFONTS))
    parser.add_argument("--band-floor", type=float, help="drums.BAND_FLOOR (inf: the rule off)")
    args = parser.parse_args()
    if args.band_floor is not None:
        from aimv_backend.listen import drums

        drums.BAND_FLOOR = math.inf if math.isinf(args.band_floor) else args.band_floor
    fonts = [f for f in (args.soundfont or SOUNDFONTS) if Path(SOUNDFONTS[f]).is_file()]
    with tempfile.TemporaryDirectory() as tmp:
        for font in fonts:
            c = score(font, args.seeds, Path(tmp))
            line = ", ".join(
                f"{name} listed {k}/{n} ({100 * k / max(n, 1):.1f} %)" for name, (k, n) in c.items()
            )
            print(f"{font}: {line}", flush=True)
    print(machine_line())


if __name__ == "__main__":
    main()
