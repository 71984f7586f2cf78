"""A stand-in for the ``aimv`` backend: same arguments, JSON progress, a timeline out.

``analyze SONG -o DIR ...`` copies the fixture timeline named by $AIMV_FAKE_TIMELINE (with its
textures) into DIR; ``textures TIMELINE ...`` only reports progress. Every call's argv is
appended to DIR/calls.jsonl. ``$AIMV_FAKE_SLEEP`` makes it hang (for cancel tests), and
``$AIMV_FAKE_FAIL`` makes it fail like the real CLI (one line, exit 2).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path


def emit(event: dict) -> None:
    sys.stderr.write("AIMV-PROGRESS " + json.dumps(event) + "\n")
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    command = argv[0]
    if command == "analyze":
        work = Path(argv[argv.index("-o") + 1])
    else:
        work = Path(argv[1]).parent
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "calls.jsonl", "a") as fh:
        fh.write(json.dumps(argv) + "\n")
    if os.environ.get("AIMV_FAKE_FAIL"):
        print("aimv: error: --window must be in [0.25, 10], got 99", file=sys.stderr)
        return 2
    emit({"event": "start", "task": command, "total": 4})
    try:
        for i in range(4):
            if os.environ.get("AIMV_FAKE_SLEEP"):
                time.sleep(float(os.environ["AIMV_FAKE_SLEEP"]))
            emit({"event": "progress", "task": command, "done": i + 1, "total": 4})
    except KeyboardInterrupt:
        print("aimv: cancelled", file=sys.stderr)
        return 130
    if command == "analyze":
        src = Path(os.environ["AIMV_FAKE_TIMELINE"])
        shutil.copyfile(src, work / "timeline.json")
        if (src.parent / "textures").is_dir():
            shutil.copytree(src.parent / "textures", work / "textures", dirs_exist_ok=True)
    emit({"event": "end", "task": command, "done": 4})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
