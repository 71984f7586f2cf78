"""Time to give every window of a 60-minute song its voice mode (sung or spoken) from the
words' timing (aimv_backend/listen/voice/mode.py). Each window looks only at the phrases and
words near it; before 2026-12-03 it looked at all of them (O(windows x words)).

    .venv/bin/python bench/voice_modes.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_line  # noqa: E402


def main() -> None:
    from aimv_backend.listen.voice.mode import window_modes
    from aimv_backend.listen.windows import WindowSpan
    from aimv_timeline.schema import Word

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    seconds = int(args.minutes * 60)
    words, t = [], 0.0
    while t < seconds - 1:  # phrases of 12 words, 0.4 s apart, 1.5 s between phrases
        for k in range(12):
            words.append(Word("la", round(t, 3), round(t + 0.3, 3), 0.9))
            t += 0.4 if k < 11 else 1.5
    windows = [WindowSpan(k, float(k), float(k + 1), 0, 0) for k in range(seconds)]
    started = time.perf_counter()
    modes = window_modes(words=words, windows=windows, voiced=[True] * seconds)
    elapsed = time.perf_counter() - started
    print(machine_line())
    print(
        f"{len(windows)} windows, {len(words)} words: {elapsed:.3f} s "
        f"({sum(m == 'sung' for m in modes)} sung, {sum(m == 'spoken' for m in modes)} spoken)"
    )


if __name__ == "__main__":
    main()
