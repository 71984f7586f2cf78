"""The work folder's housekeeping: whose files are whose, stale temporaries, partial videos.

- :func:`claim` refuses (without ``--force``) to overwrite or delete files in a work folder that
  AIMV did not make there (recorded in the manifest, :mod:`aimv_timeline.manifest`).
- :func:`sweep_stale` removes AIMV's own temporary files that an interrupted run left: the
  ``.NAME.XXXX.tmp[.png]`` of atomic writes, and partial videos of processes that are gone.
- :func:`partial_video` names the temporary video of this process, free of ``#`` (Blender
  expands ``#`` in an output path into the frame number).
- :func:`check_not_input` refuses an output that is the song itself, even with ``--force``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from aimv_backend.errors import OutputError, TimelineError
from aimv_backend.util.locks import folder_lock
from aimv_backend.util.procs import pid_alive
from aimv_timeline import manifest, names

# An atomic write's temporary file: ".NAME.<random>.tmp" or ".NAME.<random>.tmp.png".
_ATOMIC_TMP = re.compile(r"^\..+\.[A-Za-z0-9_]{6,}\.tmp(\.[A-Za-z0-9]+)?$")
# A partial video of process PID: ".STEM.partial-PID.mp4" and Blender's
# "..STEM.partial-PID.aimv-part-PID2.mp4" beside it.
_PARTIAL = re.compile(r"^\..*\.partial-(\d+)(\.aimv-part-\d+)?\.mp4$")
# The private folder of process PID's render (aimv_backend/stage/run.py): ".STEM.partial-PID".
_PARTIAL_DIR = re.compile(r"^\..*\.partial-(\d+)$")
# A segment or the soundtrack being encoded by process PID in WORK/chunks/<key>/
# (stage/chunks.py): ".seg_000001-000024.h264.PID.partial", ".audio.m4a.PID.partial.m4a".
# ... and a scene being saved by process PID (stage/scene_file.py):
# ".scene.blend.PID.partial.blend".
_PARTIAL_ENCODE = re.compile(r"^\..+\.(\d+)\.partial(\.m4a|\.blend)?$")


NAME_MAX = 255  # bytes in one file name (ext4, APFS, NTFS)


def _partial_name(stem: str, tail: str) -> str:
    """``.STEM<tail>`` with no ``#`` (Blender would expand it), STEM cut (on a character) so
    the name fits NAME_MAX: a legal 254-byte video name must not fail at the last stage."""
    room = NAME_MAX - 1 - len(tail.encode())
    cut = stem.replace("#", "_").encode()[:room].decode("utf-8", errors="ignore")
    return f".{cut}{tail}"


def partial_video(output: Path) -> Path:
    """``.STEM.partial-PID.mp4`` beside ``output``: this process's, with no ``#`` in it."""
    return output.with_name(_partial_name(output.stem, f".partial-{os.getpid()}.mp4"))


def partial_folder(output: Path) -> Path:
    """``.STEM.partial-PID/`` beside ``output``: this process's private render folder (Blender
    writes its video, and its own temporary files, in there), with no ``#`` in it."""
    return output.with_name(_partial_name(output.stem, f".partial-{os.getpid()}"))


def encoding_partial(final: Path, *, suffix: str = "") -> Path:
    """``.NAME.PID.partial[SUFFIX]`` beside ``final``: this process's file while it encodes a
    segment or the soundtrack (``suffix`` ".m4a" lets ffmpeg choose the container) or saves a
    scene (".blend"); swept once the process is gone (:data:`_PARTIAL_ENCODE`)."""
    return final.with_name(f".{final.name}.{os.getpid()}.partial{suffix}")


def _dead_encoding(name: str) -> bool:
    """Whether ``name`` is an :func:`encoding_partial` of a process that is gone."""
    m = _PARTIAL_ENCODE.match(name)
    return m is not None and not pid_alive(int(m.group(1)))


def _remove_file(entry: Path) -> bool:
    """Unlink ``entry`` if it is a plain file (never through a link); whether it went."""
    if not entry.is_file() or entry.is_symlink():
        return False
    with contextlib.suppress(OSError):
        entry.unlink()
        return True
    return False


def sweep_partials_of(final: Path) -> None:
    """Remove the files :func:`encoding_partial` left beside ``final`` for processes that are
    gone (a scene saved outside the work folder, which no other sweep visits)."""
    for entry in _entries(final.parent):
        if entry.name.startswith(f".{final.name}.") and _dead_encoding(entry.name):
            _remove_file(entry)


def partial_leftovers(partial: Path) -> list[Path]:
    """The partial video and Blender's own temporary file for it (a stopped Blender leaves it)."""
    return [partial, *partial.parent.glob(f".{partial.stem}.aimv-part-*")]


def sweep_stale(folders: Iterable[Path], *, video_dir: Path | None = None) -> list[Path]:
    """Remove AIMV's stale temporary files; returns what was removed.

    Called while holding the work folder's lock, so an atomic-write temporary file in the work
    folder (or its textures/) belongs to no live run. In the video folder only partial videos
    of processes that no longer exist are removed (another run may own a live one).
    """
    removed: list[Path] = []
    for folder in folders:
        for entry in _entries(folder):
            stale = _ATOMIC_TMP.match(entry.name) or _dead_encoding(entry.name)
            if stale and _remove_file(entry):
                removed.append(entry)
    if video_dir is not None:
        for entry in _entries(video_dir):
            m = _PARTIAL.match(entry.name)
            if m and not pid_alive(int(m.group(1))) and entry.is_file():
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
            d = _PARTIAL_DIR.match(entry.name)
            if d and not pid_alive(int(d.group(1))) and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def _entries(folder: Path) -> list[Path]:
    try:
        return list(Path(folder).iterdir())
    except OSError:
        return []


def claim(work_dir: Path, names: Iterable[str], *, force: bool) -> None:
    """Refuse to touch files in ``work_dir`` that AIMV did not make, unless ``force``.

    ``names``: what this run will overwrite or delete (``name/`` for a folder whose
    ``aimv_*`` files it replaces). With ``force`` they are taken over (and recorded).
    """
    names = list(names)
    foreign = manifest.foreign(work_dir, names)
    if foreign and not force:
        listed = ", ".join(repr(n) for n in foreign)
        raise OutputError(
            f"work folder {str(work_dir)!r} holds {listed}, which AIMV did not make; use "
            f"another --work-dir, or --force to overwrite"
        )


def record(work_dir: Path, paths: Iterable[str | os.PathLike[str]]) -> None:
    """Note ``paths`` in the work folder's manifest as AIMV's own (best effort)."""
    with contextlib.suppress(OSError):
        manifest.record(work_dir, paths)


def check_not_input(output: Path, *, inputs: Iterable[tuple[str, Path]]) -> None:
    """OutputError when ``output`` is one of the ``inputs`` (what, path): never, even with
    --force, is the song (or the timeline) written over."""
    for what, path in inputs:
        same = False
        with contextlib.suppress(OSError):
            same = output.exists() and os.path.samefile(output, path)
        if same or os.path.realpath(output) == os.path.realpath(path):
            raise OutputError(
                f"--output {str(output)!r} is the {what} itself; writing the video there would "
                f"destroy it (refused even with --force)"
            )


# What ``aimv stage`` overwrites or replaces beside its timeline (chunks: scale.md).
STAGE_OUTPUTS = (names.RENDER_RECORD_FILE, f"{names.SEQUENCE_DIR}/", f"{names.CHUNKS_DIR}/")
# What ``aimv render`` overwrites or replaces in its work folder (besides timeline.json, which
# has its own rule: same song and settings, else --force).
RENDER_OUTPUTS = (names.SCENE_FILE, *STAGE_OUTPUTS)


def _legacy_work_folder(work_dir: Path) -> bool:
    """A work folder of an AIMV from before manifests: its render.json is AIMV's stamp."""
    import json

    if (work_dir / manifest.MANIFEST_FILE).exists():
        return False
    try:
        stamp = json.loads((work_dir / "render.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(stamp, dict) and {"output", "fingerprint", "settings"} <= set(stamp)


def work_folders(work_dir: Path) -> list[Path]:
    """The folders of a work folder where AIMV writes atomically (its temporaries may be left):
    the folder, textures/, aimv_sequence/ and each segment cache in chunks/."""
    chunks = [p for p in _entries(work_dir / names.CHUNKS_DIR) if p.is_dir() and not p.is_symlink()]
    return [work_dir, work_dir / names.TEXTURES_DIR, work_dir / names.SEQUENCE_DIR, *chunks]


@contextlib.contextmanager
def timeline_folder(timeline_path: Path) -> Iterator[Path]:
    """Hold the lock of a timeline's folder (``aimv describe`` and ``aimv imagine`` on a
    timeline file), its stale temporaries swept once held; yields the folder. TimelineError
    when the file does not exist (no lock file is made then). A folder, FIFO or device in its
    place is left to the reader, whose message says which."""
    if not Path(timeline_path).exists():
        raise TimelineError(f"timeline {str(timeline_path)!r}: no such file")
    folder = Path(timeline_path).resolve().parent
    with folder_lock(folder, what="timeline folder"):
        sweep_stale(work_folders(folder))
        yield folder


def prepare_render(
    work_dir: Path, *, output: Path, force: bool, outputs: tuple[str, ...] = RENDER_OUTPUTS
) -> None:
    """Before a render (holding the lock): sweep stale temporaries, refuse foreign files among
    the ``outputs`` it will write (``aimv stage``: :data:`STAGE_OUTPUTS`)."""
    sweep_stale(work_folders(work_dir), video_dir=output.parent)
    if _legacy_work_folder(work_dir):
        record(work_dir, outputs)
    claim(work_dir, outputs, force=force)
