"""Copy aimv_backend/timeline_schema.py verbatim into the Blender add-on.

The add-on runs in Blender's Python and must not import the backend, so it carries its own
copy of the stdlib-only timeline reader; tests/blender/test_schema_copy.py fails when the two
differ. Usage: ``python tools/sync_schema.py`` (``--check`` only reports, exit 1 if stale).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "aimv_backend" / "timeline_schema.py"
COPY = ROOT / "aimv_blender" / "timeline_schema.py"


def main(argv: list[str]) -> int:
    data = SOURCE.read_bytes()
    same = COPY.is_file() and COPY.read_bytes() == data
    if "--check" in argv:
        print(f"{COPY}: {'up to date' if same else 'STALE'}")
        return 0 if same else 1
    if not same:
        tmp = COPY.with_suffix(".py.tmp")
        tmp.write_bytes(data)
        tmp.replace(COPY)
    print(COPY)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
