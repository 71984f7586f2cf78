"""A stand-in for a Blender binary (``--blender``): it writes a video the way Blender would.

Run as ``fake_blender.py -b --factory-startup --python headless.py -- SONG --timeline T -o OUT
... --blend-out B ...``. $FAKE_BLENDER_MODE chooses what it does:

- ok: copy $FAKE_BLENDER_VIDEO to OUT (through Blender's hidden ``.STEM.aimv-part-PID.mp4``);
- truncate: write half of it, as a full disk does, and exit 0;
- hang: write the hidden part file and $FAKE_BLENDER_PIDFILE, then sleep (to be killed);
- hash: expand "#" in OUT into the frame number, as Blender does with output paths.

The chunked render's call (``--image-sequence DIR --frames A:B``, no ``-o``) gets PNG frames
``DIR/f_NNNNNN.png`` instead; in truncate mode only the first half of them (a full disk).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def frames(argv: list[str], mode: str) -> int:
    """The chunked render's protocol: PNG frames of the asked range."""
    from PIL import Image

    folder = Path(argv[argv.index("--image-sequence") + 1])
    first, last = (int(x) for x in argv[argv.index("--frames") + 1].split(":"))
    w, h = (int(x) for x in argv[argv.index("--resolution") + 1].split("x"))
    folder.mkdir(parents=True, exist_ok=True)
    if mode == "hang":
        Path(os.environ["FAKE_BLENDER_PIDFILE"]).write_text(str(os.getpid()))
        time.sleep(300)
        return 0
    if mode == "truncate":
        last = first + (last - first) // 2
    for f in range(first, last + 1):
        Image.new("RGB", (w, h), ((f * 40) % 256, 80, 160)).save(folder / f"f_{f:06d}.bmp")
    return 0


def main() -> int:
    argv = sys.argv[sys.argv.index("--") + 1 :]
    mode = os.environ.get("FAKE_BLENDER_MODE", "ok")
    if "--blend-out" in argv:
        Path(argv[argv.index("--blend-out") + 1]).write_bytes(b"BLENDER-v500 fake scene")
    if "--image-sequence" in argv:
        return frames(argv, mode)
    if "-o" not in argv:  # the scene alone (stage/scene_file.py)
        return 0
    out = Path(argv[argv.index("-o") + 1])
    blend = Path(argv[argv.index("--blend-out") + 1]) if "--blend-out" in argv else None
    mode = os.environ.get("FAKE_BLENDER_MODE", "ok")
    video = Path(os.environ["FAKE_BLENDER_VIDEO"]).read_bytes()
    if blend is not None:
        blend.write_bytes(b"BLENDER-v500 fake scene")
    part = out.with_name(f".{out.stem}.aimv-part-{os.getpid()}.mp4")
    if mode == "hash":
        out = out.with_name(out.name.replace("#", "0001"))
    if mode == "hang":
        part.write_bytes(video[:1000])
        Path(os.environ["FAKE_BLENDER_PIDFILE"]).write_text(str(os.getpid()))
        time.sleep(300)
        return 0
    part.write_bytes(video if mode != "truncate" else video[: len(video) // 2])
    os.replace(part, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
