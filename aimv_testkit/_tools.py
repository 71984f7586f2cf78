"""Finding the Debian programs the generator drives (fluidsynth, espeak-ng) and their versions.

The versions go into the cache keys, so a new synthesiser release re-renders the clips.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from aimv_backend.errors import ModelUnavailableError


@functools.cache
def require_tool(name: str, *, purpose: str, packages: str) -> str:
    """The path of program ``name``; ModelUnavailableError naming the apt packages if missing."""
    exe = shutil.which(name)
    if exe is None:
        raise ModelUnavailableError(
            f"{name} is not installed (needed to synthesize {purpose}); "
            f"install it with `apt-get install {packages}`"
        )
    return exe


@functools.cache
def tool_version(exe: str, *, words: int | None = None) -> str:
    """What ``exe --version`` prints: its first line, or its first ``words`` words."""
    out = subprocess.run(
        [exe, "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    if words is not None:
        return " ".join(out.stdout.split()[:words])
    return (out.stdout.splitlines() or ["unknown"])[0].strip()
