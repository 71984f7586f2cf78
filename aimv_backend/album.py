"""Albums: ``aimv render a.wav b.wav ... -o OUTDIR/`` renders many songs in one run.

Each song gets ``OUTDIR/<name>.mp4`` and its own work folder ``OUTDIR/<name>.aimv/``. The songs
run one after another in this process, so every model (tagger, Whisper, vectors) loads once
and serves them all (the loaders are cached per process). A song that fails (bad audio, a
render error) gets its one-line error and the others go on; the result says which failed.

With ``--ray``, each song's listening and textures also run as Ray tasks (in parallel, on the
cluster's workers, each worker process keeping its models loaded between songs); the chunks
of each video are Ray tasks as always. The work folders must then be on storage every
machine shares (docs/scale.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from aimv_backend.errors import AimvError, ParameterError
from aimv_backend.progress import Progress, SilentProgress
from aimv_backend.render import RenderRequest, RenderResult, render_song
from aimv_timeline.schema import TimelineFormatError

# What one song's failure may raise without stopping the album (as the CLI reports them).
SONG_ERRORS = (AimvError, TimelineFormatError, OSError)


@dataclass(frozen=True)
class SongOutcome:
    """One song of an album: the result, or the one-line error that stopped it."""

    audio: Path
    output: Path
    result: RenderResult | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class AlbumResult:
    songs: tuple[SongOutcome, ...]

    @property
    def failed(self) -> tuple[SongOutcome, ...]:
        return tuple(s for s in self.songs if not s.ok)


def is_album(songs: Sequence[str | Path], output: str | Path) -> bool:
    """Several songs, or an output that names a folder (ends with / or is one)."""
    text = str(output)
    return len(songs) > 1 or text.endswith(("/", "\\")) or Path(text).is_dir()


def album_paths(songs: Sequence[Path], outdir: Path) -> list[tuple[Path, Path]]:
    """(video, work folder) per song: OUTDIR/<stem>.mp4 and OUTDIR/<stem>.aimv/.

    Two songs with one name (a/x.wav, b/x.wav) get x.mp4 and x-2.mp4.
    """
    seen: dict[str, int] = {}
    out = []
    for song in songs:
        stem = Path(song).stem or "song"
        key = stem.lower()
        seen[key] = seen.get(key, 0) + 1
        name = stem if seen[key] == 1 else f"{stem}-{seen[key]}"
        out.append((outdir / f"{name}.mp4", outdir / f"{name}.aimv"))
    return out


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, AimvError):
        where = f" {exc.filename!r}" if exc.filename else ""
        return f"{where.strip()} {exc.strerror or exc}".strip()
    return " ".join(str(exc).split())


def render_album(
    requests: Sequence[RenderRequest],
    *,
    progress: Progress,
    on_song: Callable[[SongOutcome], None] | None = None,
) -> AlbumResult:
    """Render every request; a failing song is recorded and the next one starts.

    With ``requests[0].scale.ray`` set, every song's listening and textures first run as Ray
    tasks in parallel; each song's render then finds them done and goes straight to its chunks.
    """
    if not requests:
        raise ParameterError("an album needs at least one song")
    prepared: dict[int, str] = {}
    ray_address = requests[0].scale.ray
    if ray_address is not None and len(requests) > 1:
        from aimv_backend.stage import ray_backend

        prepared = ray_backend.prepare_songs(list(requests), address=ray_address)
    outcomes = []
    for i, request in enumerate(requests):
        progress.notice(f"song {i + 1}/{len(requests)}: {request.audio}")
        error = prepared.get(i)
        result = None
        if error is None:
            try:
                result = render_song(request, progress=progress)
            except SONG_ERRORS as exc:
                error = _one_line(exc)
        outcome = SongOutcome(request.audio, request.output, result, error)
        outcomes.append(outcome)
        if on_song is not None:
            on_song(outcome)
    return AlbumResult(tuple(outcomes))


def prepare_song(request: RenderRequest) -> str | None:
    """Listen, describe and make textures for one song (a Ray task of an album).

    Returns None, or the song's one-line error. The render that follows reuses the outputs.
    """
    from aimv_backend import render

    try:
        render.prepare_song(request, progress=SilentProgress())
    except SONG_ERRORS as exc:
        return _one_line(exc)
    return None


def with_outputs(request: RenderRequest, output: Path, work_dir: Path) -> RenderRequest:
    return replace(
        request, output=output, work_dir=work_dir, timeline_path=work_dir / "timeline.json"
    )
