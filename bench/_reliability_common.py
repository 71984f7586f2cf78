"""Shared parts of bench/reliability.py's table: the context, the case registry, checks.

Every case is ``run(ctx, folder) -> (handled, note)`` and works in its own empty ``folder``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
FAKE_BLENDER = ROOT / "tests" / "reliability" / "fake_blender.py"
SONG_SECONDS = 3.0
FAST = ("--instruments", "none", "--no-voice", "--no-describe", "--progress", "none")
RENDER_FAST = (*FAST, "--textures", "procedural", "--texture-size", "64")
RENDER_FAST += ("--resolution", "64x36", "--fps", "8")
Result = tuple[bool, str]


class Context:
    """Shared state: helpers, the reference MP4, and the two figures."""

    def __init__(self, root: Path):
        self.root = root
        self.outside_touched = 0
        self.offline_connections: int | None = None
        self._mp4: Path | None = None
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "AIMV_NO_NETWORK": "1"}
        self.env["AIMV_CACHE_DIR"] = str(root / "aimv-cache")
        self.env["HOME"] = str(root / "home")

    # -- inputs ----------------------------------------------------------------------------
    def song(self, folder: Path, name: str = "song.wav", **kw) -> Path:
        rate = kw.pop("rate", 22050)
        seconds = kw.pop("seconds", SONG_SECONDS)
        t = np.arange(int(round(seconds * rate))) / rate
        audio = (kw.pop("amplitude", 0.3) * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        path = folder / name
        sf.write(path, audio, rate, **kw)
        return path

    def mp4(self) -> Path:
        if self._mp4 is None:
            out = self.root / "ref.mp4"
            d = str(SONG_SECONDS)
            subprocess.run(
                ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color=c=blue:s=64x36:d={d}:r=8",
                 "-f", "lavfi", "-i", f"sine=d={d}", "-c:v", "libx264", "-c:a", "aac",
                 "-shortest", str(out)],
                check=True, timeout=120,
            )  # fmt: skip
            self._mp4 = out
        return self._mp4

    def blender(self, folder: Path) -> Path:
        exe = folder / "fake-blender"
        exe.write_text(f"#!{sys.executable}\n" + FAKE_BLENDER.read_text())
        exe.chmod(0o755)
        return exe

    # -- running ---------------------------------------------------------------------------
    def cli(self, *args, env: dict | None = None, timeout: float = 600):
        return subprocess.run(
            [sys.executable, "-m", "aimv_backend", *map(str, args)],
            cwd=ROOT, env={**self.env, **(env or {})}, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip

    def render(self, folder: Path, song: Path, out: Path, *extra, mode: str = "ok", env=None):
        env = {"FAKE_BLENDER_MODE": mode, "FAKE_BLENDER_VIDEO": str(self.mp4()), **(env or {})}
        blender = self.blender(folder)
        return self.cli(
            "render", song, "-o", out, "--blender", blender, *RENDER_FAST, *extra, env=env
        )

    # -- victims outside the work folder ---------------------------------------------------
    def victims(self, folder: Path) -> dict[Path, tuple]:
        outside = folder / "outside"
        outside.mkdir()
        for name in ("victim.png", "secret.txt"):
            (outside / name).write_bytes(f"{name} of the user".encode())
        return {p: _state(p) for p in outside.iterdir()}

    def count_touched(self, before: dict[Path, tuple]) -> int:
        touched = sum(1 for p, s in before.items() if _state(p) != s)
        self.outside_touched += touched
        return touched


def _state(path: Path) -> tuple:
    st = os.stat(path)
    return (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_nlink, st.st_mtime_ns)


def one_line_error(done, *words: str) -> Result:
    """Handled = exit 2, one line 'aimv: error: ...' (or aimv-blender), no traceback."""
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    if "Traceback" in done.stderr:
        return False, "traceback: " + done.stderr.strip().splitlines()[-1][:160]
    if done.returncode != 2 or len(lines) != 1 or "error:" not in lines[0]:
        return False, f"exit {done.returncode}, stderr {done.stderr.strip()[:200]!r}"
    missing = [w for w in words if w.lower() not in lines[0].lower()]
    return (not missing, f"message lacks {missing}: {lines[0][:200]}" if missing else "")


def succeeded(done) -> Result:
    if done.returncode == 0:
        return True, ""
    return False, f"exit {done.returncode}: {done.stderr.strip()[-200:]}"


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    run: Callable[[Context, Path], Result]
    blender: bool = False


CASES: list[Case] = []


def case(name: str, group: str, *, blender: bool = False):
    def register(fn):
        CASES.append(Case(name, group, fn, blender))
        return fn

    return register


def make_timeline(ctx: Context, folder: Path) -> Path:
    work = folder / "work"
    done = ctx.cli("analyze", ctx.song(folder), "-o", work, *FAST[:-2], "--progress", "none")
    if done.returncode:
        raise RuntimeError(done.stderr)
    ctx.cli(
        "textures",
        work / "timeline.json",
        "--textures",
        "procedural",
        "--size",
        "64",
        "--progress",
        "none",
    )
    return work / "timeline.json"
