"""Real instrument audio for the instrument-tagger tests (fluidsynth through aimv_testkit).

Clips are rendered once per process (and cached on disk by aimv_testkit) and written as
WAV files, so the taggers read them through aimv_backend.audio.io like a user's song.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from aimv_backend.audio.io import AudioInfo, probe_audio
from aimv_backend.listen.windows import WindowSpan, make_windows
from aimv_backend.progress import SilentProgress

RATE = 22_050
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def tools_missing() -> str | None:
    if shutil.which("fluidsynth") is None:
        return "fluidsynth is not installed"
    if not SOUNDFONT.is_file():
        return f"{SOUNDFONT} is missing"
    return None


@lru_cache(maxsize=32)
def part(instrument: str, seconds: float, seed: int = 0) -> np.ndarray:
    """A mono General MIDI part from the synth library (float32 at RATE)."""
    from aimv_testkit import render_part

    return render_part(instrument=instrument, seconds=seconds, sample_rate=RATE, seed=seed)


def write_clip(folder: Path, name: str, audio: np.ndarray) -> AudioInfo:
    from aimv_testkit import write_audio

    return probe_audio(write_audio(folder / f"{name}.wav", audio, RATE))


def windows_of(info: AudioInfo, seconds: float = 1.0) -> list[WindowSpan]:
    return make_windows(frames=info.frames, sample_rate=info.sample_rate, window_seconds=seconds)


class RecordingProgress(SilentProgress):
    """Keeps notices and task names so tests can check what the user would have seen."""

    def __init__(self) -> None:
        self.notices: list[str] = []
        self.tasks: list[tuple[str, int | None]] = []
        self.advanced = 0

    def task(self, name: str, total: int | None):
        self.tasks.append((name, total))
        owner = self

        class _Task:
            def advance(self, n: int = 1) -> None:
                owner.advanced += n

            def close(self) -> None:
                pass

            def __enter__(self):
                return self

            def __exit__(self, *exc: object) -> None:
                pass

        return _Task()

    def notice(self, message: str) -> None:
        self.notices.append(message)


def no_network(monkeypatch, calls: list[str]) -> Callable[..., None]:
    """Make every urllib download attempt fail loudly (and record it)."""
    import urllib.request

    def refuse(url, *args, **kwargs):
        calls.append(str(getattr(url, "full_url", url)))
        raise OSError("network disabled in this test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return refuse
