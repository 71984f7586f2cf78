"""A stand-in for the ``aimv`` backend: the add-on's one command, events, a timeline out.

``render SONG --work-dir DIR --until imagine ...`` copies the fixture timeline named by
$AIMV_FAKE_TIMELINE (with its textures) into DIR, announcing each stage and its progress as
events. Every call's argv is appended to DIR/calls.jsonl. ``$AIMV_FAKE_SLEEP`` makes it hang
(for cancel tests), ``$AIMV_FAKE_FAIL`` makes it fail like the real CLI (an ``error`` event
and one line, exit 2) after Mesa-style noise on stderr, and ``$AIMV_FAKE_STOPPED`` makes it stop
as the real CLI does when something else cancels it (SIGTERM from a job manager): a
``cancelled`` event, one line, exit 130.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the checkout

from aimv_timeline.events import error_line, format_event  # noqa: E402
from aimv_timeline.names import STAGES, TIMELINE_FILE  # noqa: E402


def emit(kind: str, **fields) -> None:
    sys.stderr.write(format_event(kind, **fields) + "\n")
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    work = Path(argv[argv.index("--work-dir") + 1])
    until = argv[argv.index("--until") + 1]
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "calls.jsonl", "a") as fh:
        fh.write(json.dumps(argv) + "\n")
    if os.environ.get("AIMV_FAKE_FAIL"):
        print("EGL Error (0x3009): EGL_BAD_MATCH: Arguments are inconsistent", file=sys.stderr)
        message = "--window must be in [0.25, 10], got 99"
        sys.stderr.write(error_line(ValueError(message)) + "\n")
        print(f"aimv: error: {message}", file=sys.stderr)
        return 2
    if os.environ.get("AIMV_FAKE_STOPPED"):
        emit("cancelled", message="rendering was interrupted")
        print("aimv: cancelled: rendering was interrupted", file=sys.stderr)
        return 130
    stages = STAGES[: STAGES.index(until) + 1]
    try:
        for index, stage in enumerate(stages, 1):
            emit("stage", stage=stage, index=index, total=len(stages), message=stage)
            emit("start", task=stage, total=2)
            for i in range(2):
                if os.environ.get("AIMV_FAKE_SLEEP"):
                    time.sleep(float(os.environ["AIMV_FAKE_SLEEP"]))
                emit("progress", task=stage, done=i + 1, total=2)
            emit("end", task=stage, done=2)
    except KeyboardInterrupt:
        print("aimv: cancelled", file=sys.stderr)
        return 130
    src = Path(os.environ["AIMV_FAKE_TIMELINE"])
    shutil.copyfile(src, work / TIMELINE_FILE)
    if (src.parent / "textures").is_dir():
        shutil.copytree(src.parent / "textures", work / "textures", dirs_exist_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
