"""Build the installable Blender extension zip of AIMV and print its path.

Blender's extension builder wants the manifest and the add-on's ``__init__.py`` at the root of
one folder, so this stages ``aimv_blender/*`` (without caches) plus ``blender_manifest.toml`` in
a temporary folder together with the contract package ``aimv_timeline/`` (so the zip carries it and
nothing is committed twice), then runs
Blender's own ``blender_ext.py validate`` and ``build`` (from the bpy module's files, or
``--blender-ext PATH``; a Blender binary works too: ``blender --command extension build``).

Usage: ``python tools/build_extension.py [--output-dir dist] [--blender-ext PATH]``
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "aimv_blender"
MANIFEST = ROOT / "blender_manifest.toml"
CONTRACT = ROOT / "aimv_timeline"


def find_blender_ext() -> Path:
    """blender_ext.py inside the installed bpy module (found without importing bpy)."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        raise SystemExit("build_extension: bpy is not installed; pass --blender-ext PATH")
    base = Path(spec.origin).parent
    hits = sorted(
        glob.glob(str(base / "*" / "scripts" / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"))
    )
    if not hits:
        raise SystemExit(f"build_extension: no blender_ext.py under {base}")
    return Path(hits[-1])


def stage(dest: Path) -> Path:
    """Copy the add-on and the manifest into ``dest``; returns it."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PACKAGE, dest, ignore=ignore, dirs_exist_ok=True)
    shutil.copytree(CONTRACT, dest / CONTRACT.name, ignore=ignore, dirs_exist_ok=True)
    shutil.copy2(MANIFEST, dest / "blender_manifest.toml")
    return dest


def build(output_dir: Path, blender_ext: Path | None = None) -> Path:
    """Validate and build the extension into ``output_dir``; returns the zip path."""
    manifest = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    output_dir = output_dir.absolute()
    output_dir.mkdir(parents=True, exist_ok=True)
    zip_path = output_dir / f"{manifest['id']}-{manifest['version']}.zip"
    tool = blender_ext or find_blender_ext()
    with tempfile.TemporaryDirectory(prefix="aimv-ext-") as tmp:
        src = stage(Path(tmp) / manifest["id"])
        for cmd in (
            ["validate", str(src)],
            ["build", "--source-dir", str(src), "--output-filepath", str(zip_path)],
            ["validate", str(zip_path)],
        ):
            done = subprocess.run([sys.executable, str(tool), *cmd], capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(
                    f"build_extension: blender_ext {cmd[0]} failed: "
                    f"{(done.stdout + done.stderr).strip()}"
                )
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist")
    parser.add_argument("--blender-ext", type=Path, help="path of blender_ext.py")
    args = parser.parse_args(argv)
    print(build(args.output_dir, args.blender_ext))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
