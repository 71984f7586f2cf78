"""Reliability: a fixed table of bad inputs, faults and hostile timelines thrown at AIMV.

    python bench/reliability.py            # every case (needs ffmpeg; bpy and strace for 2)
    python bench/reliability.py --quick    # without the two cases that run Blender

Each case runs the real ``aimv`` (``python -m aimv_backend``) or the add-on's headless script
in a fresh folder and checks what a user would see: a refused input is one line starting with
``aimv: error:`` and exit code 2 (never a traceback), a fault leaves the previous output as it
was and no stray files, an accepted input succeeds. It prints how many cases were tried and
handled, the list of any not handled, and two figures: the files outside the work folder that
hostile timelines touched, and the non-local connections of an offline render (strace).
Rendering uses a fake Blender binary (tests/reliability/fake_blender.py) except in the two
Blender cases. Cases live in bench/_reliability_cases.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import machine_line  # noqa: E402
from _reliability_cases import CASES, Context  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the cases that run Blender")
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    args = parser.parse_args()
    cases = [c for c in CASES if args.k in c.name and not (args.quick and c.blender)]
    failed: list[str] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aimv-reliability-") as tmp:
        ctx = Context(Path(tmp))
        for i, case in enumerate(cases, 1):
            folder = ctx.root / f"{i:03d}"
            folder.mkdir()
            started = time.perf_counter()
            try:
                ok, note = case.run(ctx, folder)
            except Exception as exc:  # noqa: BLE001 - a crash of the check is "not handled"
                ok, note = False, f"the check crashed: {type(exc).__name__}: {exc}"
            mark = "ok  " if ok else "FAIL"
            print(f"{mark} {case.group:8s} {case.name:58s} {time.perf_counter() - started:5.1f} s")
            if not ok:
                failed.append(f"{case.name}: {note}")
        touched = ctx.outside_touched
        connections = ctx.offline_connections
    print()
    print(f"machine: {machine_line()}")
    print(
        f"tried: {len(cases)}  handled: {len(cases) - len(failed)}  ({time.perf_counter() - t0:.0f} s)"
    )
    print(f"files outside the work folder touched by hostile timelines: {touched}")
    shown = "not run" if connections is None else str(connections)
    print(f"non-local connections in an offline render: {shown}")
    if failed:
        print("not handled:")
        for line in failed:
            print(f"  - {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
