"""The render record: which video a folder's timeline last became, and from what.

``render.json`` in the timeline's folder (names.RENDER_RECORD_FILE) holds the video's resolved
path, size and mtime, and a fingerprint of everything the frames depend on; and under
``videos`` the same for every video recently made from it (a preview and a final staged from
one timeline are both AIMV's, and both up to date on a re-run). ``aimv render``
and ``aimv stage`` both read it: a video that matches it is AIMV's own (a re-run may replace
it without ``--force``), and one whose fingerprint matches too is up to date (not rendered
again). Any other file at the output path is the user's and is kept unless ``--force``.
``scenes`` does the same for the .blend saved beside the video (``--blend-out``, a work folder's
scene.blend): one saved again in Blender is the artist's, and is not replaced without
``--force``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from aimv_backend import __version__
from aimv_backend.errors import OutputError
from aimv_backend.stage.options import StageOptions
from aimv_timeline.names import SCENE_FILE
from aimv_timeline.schema import Timeline, write_json_atomic


def render_fingerprint(
    timeline_path: Path, timeline: Timeline, options: StageOptions, *, audio: Path, seed: int
) -> str:
    """Hash of everything the video depends on: the timeline, its textures, the options, the
    song put under it (path, size, mtime) and the seed.

    The scale options (--workers, --chunks, --ray, --ray-ship) are left out on purpose: they
    say how the frames are spread over processes and machines, not what the frames are. Each
    segment sits on a fixed grid of the song's frames (stage/chunks.py) and is encoded alone,
    so any split decodes to the same frames (tests/blender/test_chunked_render.py compares
    them), and a video made with 2 workers is up to date for a run asking for 4.
    """
    digest = hashlib.sha256(timeline_path.read_bytes())
    for window in timeline.windows:
        if window.texture:
            tex = timeline_path.parent / window.texture
            stat = tex.stat()
            digest.update(f"{window.texture}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for clip in timeline.clips:
        stat = (timeline_path.parent / clip.path).stat()
        digest.update(f"{clip.path}:{clip.start}:{clip.end}:{stat.st_size}".encode())
    digest.update(json.dumps(asdict(_as_seen(options, timeline)), sort_keys=True).encode())
    song = audio.stat()
    digest.update(f"{audio.resolve()}:{song.st_size}:{song.st_mtime_ns}:{seed}".encode())
    digest.update(staging_code().encode())  # new keying or render code makes a new video
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def staging_code() -> str:
    """AIMV's version and a hash of the code that makes the frames (the add-on and the
    timeline contract): a video or segment made by other keying code is made again, even
    within one version."""
    import aimv_blender
    import aimv_timeline

    roots = [Path(package.__file__).parent for package in (aimv_blender, aimv_timeline)]
    return f"{__version__}+{code_digest(roots)}"


def code_digest(roots: list[Path]) -> str:
    """16 hex digits of sha256 over every .py file under ``roots`` (names and bytes)."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            digest.update(f"{root.name}/{path.relative_to(root).as_posix()}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _as_seen(options: StageOptions, timeline: Timeline) -> StageOptions:
    """``options`` less what cannot change a frame of this timeline's video: leaving out the
    lyrics of a song without words (an instrumental rendered again with --no-lyrics) is the
    same video, and up to date."""
    from aimv_blender.motion.lyrics import shown_text  # plain Python: what a word shows as

    if "lyrics" in options.layers_off and not any(shown_text(w.text) for w in timeline.words):
        return replace(options, layers_off=tuple(n for n in options.layers_off if n != "lyrics"))
    return options


def video_is_ours(record_path: Path, output: Path, fingerprint: str | None = None) -> bool:
    """Whether ``output`` is the video AIMV last wrote there (and, given a fingerprint, from
    the same inputs)."""
    if not record_path.exists() or not output.exists():
        return False
    try:
        record = json.loads(record_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if not isinstance(record, dict):
        return False
    path = str(output.resolve())
    videos = record.get("videos") if isinstance(record.get("videos"), dict) else {}
    entry = videos.get(path) if isinstance(videos.get(path), dict) else None
    if entry is None and record.get("output") == path:
        entry = record  # a record of before ``videos``
    if entry is None:
        return False
    stat = output.stat()
    ours = entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns
    return ours and (fingerprint is None or entry.get("fingerprint") == fingerprint)


def write_record(
    record_path: Path,
    output: Path,
    *,
    fingerprint: str,
    options: StageOptions,
    scene: Path | None = None,
) -> None:
    """Note ``output`` (just written) as the latest video of this folder's timeline, beside
    the others made from it (the :data:`KEPT_VIDEOS` most recent), and ``scene``, the .blend
    saved with it, as AIMV's own."""
    latest = {**_stamp(output), "fingerprint": fingerprint}
    videos = _entries(record_path, "videos")
    videos.pop(str(output.resolve()), None)
    videos[str(output.resolve())] = latest  # the newest last
    videos = dict(list(videos.items())[-KEPT_VIDEOS:])
    scenes = _entries(record_path, "scenes")
    if scene is not None:
        scenes.pop(str(scene.resolve()), None)
        scenes[str(scene.resolve())] = {**_stamp(scene), "fingerprint": fingerprint}
    write_json_atomic(
        {
            "output": str(output.resolve()),
            **latest,
            "settings": asdict(options),
            "videos": videos,
            "scenes": dict(list(scenes.items())[-KEPT_VIDEOS:]),
        },
        record_path,
    )


def _stamp(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def scene_is_ours(record_path: Path, scene: Path, fingerprint: str | None = None) -> bool:
    """Whether ``scene`` (a .blend) is the one AIMV last saved there, unchanged since (and,
    given a fingerprint, made from the same inputs). Saved again in Blender, it is the
    artist's. A record from before scenes were recorded counts the work folder's scene.blend,
    if no newer than the video it was saved with, as AIMV's."""
    try:
        record = json.loads(record_path.read_text())
        stat = scene.stat()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if not isinstance(record, dict):
        return False
    if not isinstance(record.get("scenes"), dict):  # only a work folder's own scene.blend
        video = record.get("mtime_ns")
        own = scene.resolve() == (record_path.parent / SCENE_FILE).resolve()
        return own and fingerprint is None and isinstance(video, int) and stat.st_mtime_ns <= video
    entry = _entries(record_path, "scenes").get(str(scene.resolve()))
    if entry is None:
        return False
    ours = entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns
    return ours and (fingerprint is None or entry.get("fingerprint") == fingerprint)


def check_scene_out(record_path: Path, scene: Path, *, force: bool) -> None:
    """Refuse (OutputError, one line) to save a scene over a .blend that is not the one AIMV
    last saved there: it may hold an artist's edits. ``force`` replaces it (the old one is
    kept as FILE.blend1)."""
    if force or not scene.exists() or scene_is_ours(record_path, scene):
        return
    raise OutputError(
        f"{str(scene)!r} exists and is not the scene AIMV last saved there (it may hold your "
        "edits): open it in Blender and press Build scene to rebuild it keeping them, or use "
        f"--force to replace it (the old one is kept as {scene.name}1)"
    )


@dataclass(frozen=True)
class StageWork:
    """What a stage run must make, from render.json: the video, the scene beside it, and
    whether an artist's scene beside an up-to-date video is left as it is (said in one line)."""

    video: bool
    scene: bool
    scene_kept: bool = False


def stage_work(
    record_path: Path,
    *,
    output: Path,
    scene: Path | None,
    fingerprint: str,
    force: bool,
    remake_video: bool = False,
) -> StageWork:
    """Decide what ``aimv stage`` and ``aimv render`` make (``remake_video``: make the video
    even when it is up to date). A scene saved again in Blender is left alone while the video
    needs nothing, and refused (OutputError, one line) without ``force`` when it would be
    replaced: before any work."""
    video = remake_video or not video_is_ours(record_path, output, fingerprint)
    if scene is None:
        return StageWork(video=video, scene=False)
    if not video and scene_is_ours(record_path, scene, fingerprint):
        return StageWork(video=False, scene=False)
    if not video and not force and scene.exists() and not scene_is_ours(record_path, scene):
        return StageWork(video=False, scene=False, scene_kept=True)
    check_scene_out(record_path, scene, force=force)
    return StageWork(video=video, scene=True)


KEPT_VIDEOS = 16


def _entries(record_path: Path, key: str) -> dict[str, dict]:
    """The record's ``videos`` or ``scenes``: {resolved path: {size, mtime_ns, fingerprint}}."""
    try:
        record = json.loads(record_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    entries = record.get(key) if isinstance(record, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, dict)}
