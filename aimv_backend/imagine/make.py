"""The texture stage: plan one image per distinct prompt, make the missing ones, record paths.

Why a plan first: windows with the same prompt share one image, every image is named by its
cache key, and knowing all keys up front gives an honest progress total and lets a re-run (or
a resumed run) skip every finished PNG.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.imagine import procedural
from aimv_backend.imagine.cache import (
    TextureLedger,
    cache_key,
    is_texture_name,
    save_png,
    texture_path,
)
from aimv_backend.imagine.continuity import (  # noqa: F401 - strengths re-exported
    MAX_STRENGTH,
    MIN_STRENGTH,
    continues,
    continuity_strength,
    section_seed,
)
from aimv_backend.imagine.options import ImagineOptions
from aimv_backend.progress import Progress
from aimv_backend.util.files import ensure_output_dir
from aimv_backend.util.workdir import record
from aimv_timeline import manifest, names
from aimv_timeline.schema import Timeline, Window, write_timeline

_LEVEL_WORDS = {
    "silent": "a still, calm and dark",
    "quiet": "a soft, floating",
    "normal": "a flowing, layered",
    "loud": "a bright, bursting high-impact",
}
CHECKPOINT_SECONDS = 20.0  # how often a long run writes its partial timeline


def window_prompt(window: Window) -> str:
    """The window's text-to-image prompt.

    Without a description (describe not run) the prompt is made from the volume level and the
    colour name: "a soft, floating abstract texture, the scene has a teal color palette".
    """
    if window.description is not None and window.description.prompt.strip():
        return " ".join(window.description.prompt.split())
    mood = _LEVEL_WORDS.get(window.volume.level, "an")
    return f"{mood} abstract texture, the scene has a {window.colour.name} color palette"


@dataclass
class Job:
    """One image to have: its cache key and file, and how to make it."""

    key: str
    path: Path
    prompt: str
    seed: int
    style: procedural.Style | None = None
    source: Job | None = None  # continuity: start from this job's image
    strength: float = 1.0


# --------------------------------------------------------------------------------------------
# Engines


class ProceduralEngine:
    name = f"procedural:{procedural.ENGINE_VERSION}"

    def __init__(self, options: ImagineOptions):
        self.options = options

    def key(self, prompt: str, window: Window) -> tuple[dict[str, Any], procedural.Style]:
        style = procedural.Style.from_window(window.colour, window.volume)
        parts = {
            "engine": "procedural",
            "model": procedural.ENGINE_VERSION,
            "prompt": prompt,
            "seed": self.options.seed,
            "size": list(self.options.size),
            "style": style.key(),
        }
        return parts, style

    def write(self, jobs: list[Job]) -> Iterator[Job]:
        """Write each job's PNG (on every core, see procedural_pool); yield it once written."""
        from aimv_backend.imagine import procedural_pool as pool  # noqa: PLC0415

        textures = [pool.TextureJob(j.prompt, j.seed, j.style, j.path) for j in jobs]
        written = pool.write_textures(
            textures, size=self.options.size, workers=pool.worker_count(jobs=len(jobs))
        )
        for job, _ in zip(jobs, written, strict=True):
            yield job


class DiffusersStage:
    """Batches text-to-image jobs; runs continuity jobs one by one, in window order."""

    def __init__(self, options: ImagineOptions):
        from aimv_backend.imagine.diffusion import DiffusionEngine

        self.options = options
        self.engine = DiffusionEngine(options)
        self.name = f"diffusers:{options.model}"

    def key(self, prompt: str, window: Window) -> tuple[dict[str, Any], None]:
        o = self.options
        parts = {
            "engine": "diffusers",
            "model": self.engine.model,
            "prompt": prompt,
            "seed": o.seed,
            "size": list(o.size),
            "steps": o.steps,
            "guidance": float(o.guidance),
            "tiny_vae": self.engine.tiny_vae,
        }
        return parts, None

    def make(self, jobs: list[Job]) -> Iterator[tuple[Job, Image.Image]]:
        plain = [j for j in jobs if j.source is None]
        for i in range(0, len(plain), self.options.batch_size):
            batch = plain[i : i + self.options.batch_size]
            images = self.engine.text_to_image([j.prompt for j in batch], [j.seed for j in batch])
            yield from zip(batch, images, strict=True)
        for job in (j for j in jobs if j.source is not None):
            with Image.open(job.source.path) as init:
                init.load()
                image = self.engine.image_to_image(job.prompt, job.seed, init, job.strength)
            yield job, image

    def write(self, jobs: list[Job]) -> Iterator[Job]:
        """Make each job's image and write its PNG; yield the job once written."""
        for job, image in self.make(jobs):
            if image.size != tuple(self.options.size):
                image = image.resize(self.options.size, Image.LANCZOS)
            save_png(image, job.path)
            yield job


def choose_engine(options: ImagineOptions, progress: Progress) -> ProceduralEngine | DiffusersStage:
    """procedural, diffusers, or for auto: diffusers when a GPU is present (or --device is
    given) and the model loads, else procedural with a notice saying why."""
    if options.engine == "procedural":
        return ProceduralEngine(options)
    if options.engine == "auto" and options.device is None:
        from aimv_backend.imagine.diffusion import has_gpu

        if not has_gpu():
            progress.notice(
                "textures: no GPU found, making procedural textures "
                "(--textures diffusers runs the model on the CPU, slowly)"
            )
            return ProceduralEngine(options)
    try:
        return DiffusersStage(options)
    except ModelUnavailableError as exc:
        if options.engine == "diffusers":
            raise
        progress.notice(f"textures: {exc}; falling back to procedural textures")
        return ProceduralEngine(options)


# --------------------------------------------------------------------------------------------
# The stage


def plan_jobs(
    timeline: Timeline,
    engine: ProceduralEngine | DiffusersStage,
    out_dir: Path,
    options: ImagineOptions,
    keep: frozenset[int] = frozenset(),
) -> tuple[list[Job | None], list[Job]]:
    """(job of each window, distinct jobs in window order); the windows in ``keep`` (indices)
    have none: their texture is left as it is.

    With continuity (diffusers only), a window whose sentence changed little from the previous
    window's starts from that image (img2img, strength growing with the change); a large change
    starts a new section with a fresh image. Every image of a section uses the section's seed.
    """
    continuity = options.continuity and isinstance(engine, DiffusersStage)
    per_window: list[Job | None] = []
    unique: dict[str, Job] = {}
    previous: Job | None = None
    seed_of_section = 0
    for window in timeline.windows:
        if window.index in keep:  # the artist's own picture: no job, and a new section after it
            per_window.append(None)
            previous = None
            continue
        prompt = window_prompt(window)
        parts, style = engine.key(prompt, window)
        source, strength = None, 1.0
        if continuity:
            if previous is not None and previous.prompt == prompt:
                per_window.append(previous)
                continue
            if previous is not None and continues(previous.prompt, prompt):
                source, strength = previous, continuity_strength(previous.prompt, prompt)
                parts = {**parts, "source": previous.key, "strength": strength}
            else:
                seed_of_section = section_seed(prompt, options.seed)
            seed = seed_of_section
            parts = {**parts, "section_seed": seed}
        else:
            seed = procedural.prompt_seed(prompt, options.seed, salt="texture-seed") % 2**63
        key = cache_key(**parts)
        job = unique.get(key)
        if job is None:
            job = Job(
                key=key,
                path=texture_path(out_dir, key),
                prompt=prompt,
                seed=seed,
                style=style,
                source=source,
                strength=strength,
            )
            unique[key] = job
        per_window.append(job)
        previous = job
    return per_window, list(unique.values())


def artists_pictures(timeline: Timeline, *, timeline_dir: Path, out_dir: Path) -> frozenset[int]:
    """The windows whose texture is a picture someone set by hand: a file that exists and that
    AIMV did not make (not in the folder's manifest, not one of its cache-key names in
    ``out_dir``). Imagining keeps those (without --force), as describing keeps edited
    sentences."""
    ours = manifest.entries(timeline_dir)
    kept = set()
    for window in timeline.windows:
        if window.texture is None or window.texture in ours:
            continue
        path = timeline_dir / window.texture
        aimv_named = path.parent.resolve() == out_dir.resolve() and is_texture_name(path.name)
        if not aimv_named and path.is_file():
            kept.add(window.index)
    return frozenset(kept)


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(path, folder)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).resolve().as_posix()


class _HeldNotices:
    """A Progress that holds back notices until :meth:`release` (tasks pass straight through)."""

    def __init__(self, progress: Progress):
        self._progress = progress
        self._held: list[str] = []

    def task(self, name: str, total: int | None):
        return self._progress.task(name, total)

    def notice(self, message: str) -> None:
        self._held.append(message)

    def release(self) -> None:
        for message in self._held:
            self._progress.notice(message)
        self._held.clear()


def quiet_libraries() -> None:
    """diffusers and transformers print load bars and warnings; the stage has its own bar."""
    try:
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.set_verbosity_error()
        diffusers_logging.disable_progress_bar()
    except ImportError:
        pass
    try:
        from huggingface_hub.utils import logging as hub_logging

        hub_logging.set_verbosity_error()
    except ImportError:
        pass
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()
    except ImportError:
        pass


def _with_pictograms(timeline: Timeline, timeline_dir: Path, progress: Progress) -> Timeline:
    """What the picture needs beside the textures: onsets when no hits or beats are known, and
    the OpenMoji pictograms of the windows' nouns (skipped, with a notice, without OpenMoji)."""
    from aimv_backend.imagine import onsets, pictograms  # noqa: PLC0415 - keeps imports light

    timeline = onsets.with_onsets(timeline, timeline_dir=timeline_dir)
    try:
        return pictograms.add_pictograms(timeline, timeline_dir=timeline_dir)
    except ModelUnavailableError as exc:
        progress.notice(f"pictograms: skipped ({exc})")
        return timeline


def make_textures(
    timeline: Timeline,
    *,
    timeline_dir: Path,
    out_dir: Path | None = None,
    options: ImagineOptions,
    progress: Progress,
    timeline_path: Path | None = None,
    force: bool = False,
) -> Timeline:
    """Make (or reuse from the cache) one texture per window and return the updated timeline.

    timeline_dir: the timeline file's folder; textures go to ``out_dir`` (default
    ``timeline_dir/textures``) and Window.texture is recorded relative to timeline_dir.
    timeline_path: when given, the updated timeline is written there atomically.
    force: remake every image even when its PNG exists, and replace pictures set by hand
    (:func:`artists_pictures`).
    """
    timeline_dir = Path(timeline_dir)
    if options.engine != "procedural":
        quiet_libraries()
    out_dir = ensure_output_dir(
        Path(out_dir) if out_dir else timeline_dir / names.TEXTURES_DIR, what="textures folder"
    )
    choice = _HeldNotices(progress)  # the engine's notices matter only if images are made
    engine = choose_engine(options, choice) if timeline.windows else ProceduralEngine(options)
    keep = (
        frozenset()
        if force
        else artists_pictures(timeline, timeline_dir=timeline_dir, out_dir=out_dir)
    )
    if keep:
        shown = ", ".join(str(i) for i in sorted(keep)[:8]) + (", ..." if len(keep) > 8 else "")
        progress.notice(
            f"textures: kept the pictures set by hand in {len(keep)} windows ({shown}); "
            "--force replaces them"
        )
    per_window, jobs = plan_jobs(timeline, engine, out_dir, options, keep)
    ledger = TextureLedger(out_dir)  # each PNG's recorded hash: a damaged one is remade
    todo = [j for j in jobs if force or not ledger.verify(j.path, options.size)]
    if todo:
        choice.release()
    started = last_write = time.perf_counter()
    done = {j.key for j in jobs} - {j.key for j in todo}

    def updated() -> Timeline:
        windows = tuple(
            w
            if job is None
            else replace(w, texture=_relative(job.path, timeline_dir) if job.key in done else None)
            for w, job in zip(timeline.windows, per_window, strict=True)
        )
        settings = dict(timeline.settings)
        settings["imagine"] = {  # "textures" before schema 1.1
            **options.as_settings(),
            "engine_used": engine.name.split(":")[0],
            "out_dir": _relative(out_dir, timeline_dir),
            "images": len(jobs),
            "complete": len(done) == len(jobs),
        }
        engines = {**timeline.engines, "texture": engine.name}
        return replace(timeline, windows=windows, settings=settings, engines=engines)

    task = progress.task("textures", len(jobs))
    try:
        task.advance(len(done))
        with closing(engine.write(todo)) as written:  # an error stops the pool at once
            for job in written:
                ledger.add(job.path)
                done.add(job.key)
                task.advance()
                now = time.perf_counter()
                if timeline_path is not None and now - last_write >= CHECKPOINT_SECONDS:
                    # A partial timeline lets a viewer (the Blender add-on) show what is done.
                    ledger.save()
                    write_timeline(updated(), timeline_path)
                    last_write = now
    finally:
        task.close()
        ledger.save()
        # AIMV's own files (absolute: a relative path would be read as inside the folder)
        record(timeline_dir, [Path(j.path).absolute() for j in jobs if j.key in done])
    result = _with_pictograms(updated(), timeline_dir, progress)
    progress.notice(
        f"textures: {len(jobs)} images for {len(per_window)} windows, {len(todo)} made in "
        f"{time.perf_counter() - started:.1f} s ({engine.name})"
    )
    if timeline_path is not None:
        write_timeline(result, timeline_path)
    return result
