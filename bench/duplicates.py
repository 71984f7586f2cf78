"""Count the pairs of repeated code in the product (aimv_backend, aimv_blender, aimv_timeline).

Runs the ``duplicates`` command (see /work/.library/duplicates/README.md on the dev box) over
a copy of the three product folders only, as they are at a git revision or in the working tree,
and prints its summary line. Usage: ``python bench/duplicates.py [--rev REV] [--rows]``.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("aimv_backend", "aimv_blender", "aimv_timeline")


def copy_product(dest: Path, rev: str | None) -> None:
    if rev is None:
        for name in PRODUCT:
            shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        return
    tree = subprocess.run(
        ["git", "ls-tree", "--name-only", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    present = [name for name in PRODUCT if name in tree]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, *present], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="a git revision (default: the working tree)")
    parser.add_argument("--rows", action="store_true", help="print every pair, not the count")
    args = parser.parse_args()
    if shutil.which("duplicates") is None:
        raise SystemExit("bench/duplicates.py: the duplicates command is not on PATH")
    with tempfile.TemporaryDirectory(prefix="aimv-dup-") as tmp:
        copy_product(Path(tmp), args.rev)
        done = subprocess.run(
            ["duplicates", "--most", "200", "--seconds", "120"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=True,
        )
    lines = done.stdout.strip().splitlines()
    print("\n".join(lines if args.rows else lines[:1]))


if __name__ == "__main__":
    main()
