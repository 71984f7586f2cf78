"""The generated-clip stage (``--textures video``): one short clip per bar group or phrase.

Why: peers that use diffusion make an image per frame (4,320 for a 3-minute song); one clip
per 4-8 s of music (whole bars when the beat is known) is 36 calls and moves by itself.
A plan comes first, as for textures: every clip is named by the hash of what makes it, so a
re-run or a resumed run skips finished clips and makes (and loads a model for) only the rest.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

from aimv_backend.imagine.cache import cache_key
from aimv_backend.imagine.continuity import section_seed, section_starts
from aimv_backend.imagine.diffusion import resolve_model_ref
from aimv_backend.imagine.run import _relative, window_prompt
from aimv_backend.imagine.video_options import VideoOptions, frames_for, model_family
from aimv_backend.progress import Progress
from aimv_backend.util.files import ensure_output_dir
from aimv_timeline.schema import Clip, Rhythm, Timeline, write_timeline

MAX_PROMPT_PARTS = 3
MAX_PROMPT_WORDS = 90  # T5 prompts of LTX-Video are cut at 128 tokens
BEATS_PER_BAR = 4  # when only beats are known


@dataclass(frozen=True)
class ClipJob:
    """One clip to have: the song span it covers, its windows, prompt, seed and file."""

    start: float
    end: float
    windows: tuple[int, ...]
    prompt: str
    seed: int
    frames: int
    rate: float
    key: str
    path: Path


def bar_times(rhythm: Rhythm | None) -> list[float]:
    """Bar starts in seconds: the downbeats, else every fourth beat, else none."""
    if rhythm is None:
        return []
    if len(rhythm.downbeats) >= 2:
        return sorted(rhythm.downbeats)
    if len(rhythm.beats) >= 2:
        return sorted(rhythm.beats)[::BEATS_PER_BAR]
    return []


def segment_bounds(
    duration: float, candidates: list[float], *, min_s: float, max_s: float
) -> list[tuple[float, float]]:
    """Cut [0, duration) at candidate times (bar starts, window edges) into spans of at
    least ``min_s`` seconds; spans longer than ``max_s`` are split evenly; a short tail joins
    the span before it. Returns (start, end) pairs covering the song without gaps."""
    if duration <= 0:
        return []
    cuts = [0.0]
    for t in sorted(c for c in candidates if 0.0 < c < duration):
        if t - cuts[-1] >= min_s - 1e-6:
            cuts.append(t)
    if len(cuts) > 1 and duration - cuts[-1] < min_s - 1e-6:
        cuts.pop()
    cuts.append(duration)
    spans: list[tuple[float, float]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        n = max(1, math.ceil((b - a) / max_s - 1e-9))
        step = (b - a) / n
        spans.extend((a + i * step, a + (i + 1) * step) for i in range(n))
    return [(round(a, 6), round(b, 6)) for a, b in spans]


def clip_prompt(prompts: list[str]) -> str:
    """The distinct window prompts of a clip, in order (at most three), as one prompt."""
    distinct: list[str] = []
    for p in prompts:
        if p not in distinct:
            distinct.append(p)
    text = "; then ".join(distinct[:MAX_PROMPT_PARTS])
    words = text.split()
    return " ".join(words[:MAX_PROMPT_WORDS])


def plan_clips(timeline: Timeline, out_dir: Path, options: VideoOptions) -> list[ClipJob]:
    """The clips of the song in time order (see segment_bounds and clip_prompt)."""
    windows = timeline.windows
    if not windows:
        return []
    duration = max(timeline.source.duration, windows[-1].end)
    bars = bar_times(timeline.rhythm)
    if bars:
        spans = segment_bounds(duration, bars, min_s=options.min_seconds, max_s=options.max_seconds)
    else:  # no beat: window edges, aiming at the middle of the allowed range
        middle = 0.5 * (options.min_seconds + options.max_seconds)
        edges = [w.end for w in windows]
        spans = segment_bounds(duration, edges, min_s=middle, max_s=options.max_seconds)
    model = resolve_model_ref(options.model)
    family = model_family(model)
    groups, prompts = [], []
    for start, end in spans:
        inside = tuple(w.index for w in windows if start <= w.middle < end)
        if not inside:  # a span between windows (silence past the last window): nearest one
            inside = (min(windows, key=lambda w: abs(w.middle - 0.5 * (start + end))).index,)
        groups.append((start, end, inside))
        prompts.append(clip_prompt([window_prompt(windows[i]) for i in inside]))
    firsts = section_starts(prompts)
    jobs = []
    for (start, end, inside), prompt, first in zip(groups, prompts, firsts, strict=True):
        seed = section_seed(prompts[first], options.seed, salt="clip-seed")
        frames, rate = frames_for(end - start, fps=options.fps, family=family)
        key = cache_key(
            engine="video",
            model=model,
            prompt=prompt,
            negative=options.negative_prompt if options.guidance > 1.0 else None,
            seed=seed,
            size=list(options.size),
            frames=frames,
            rate=rate,
            fps=options.fps,
            steps=options.steps,
            guidance=float(options.guidance),
        )
        path = Path(out_dir) / f"{key[:16]}.mp4"
        jobs.append(ClipJob(start, end, inside, prompt, seed, frames, rate, key, path))
    return jobs


def is_clip_cached(path: Path) -> bool:
    """A clip file exists (clips are written atomically, so an existing one is complete)."""
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def make_clips(
    timeline: Timeline,
    *,
    timeline_dir: Path,
    out_dir: Path | None = None,
    options: VideoOptions,
    progress: Progress,
    timeline_path: Path | None = None,
    force: bool = False,
) -> Timeline:
    """Make (or reuse) one clip per bar group or phrase; return the timeline with ``clips``.

    Clips go to ``out_dir`` (default ``timeline_dir/clips``) and are recorded relative to
    timeline_dir. timeline_path: written after every clip, so a stopped run keeps its clips
    and a resumed run makes only the rest. The model is loaded only when a clip is missing;
    without a GPU that raises GpuRequiredError unless ``options.device`` is "cpu".
    """
    timeline_dir = Path(timeline_dir)
    out_dir = ensure_output_dir(
        Path(out_dir) if out_dir else timeline_dir / "clips", what="clips folder"
    )
    jobs = plan_clips(timeline, out_dir, options)
    todo = [j for j in jobs if force or not is_clip_cached(j.path)]
    done = {j.key for j in jobs} - {j.key for j in todo}
    engine_name = f"video:{resolve_model_ref(options.model)}"

    def updated() -> Timeline:
        clips = tuple(
            Clip(
                path=_relative(j.path, timeline_dir),
                start=j.start,
                end=j.end,
                prompt=j.prompt,
                seed=j.seed,
            )
            for j in jobs
            if j.key in done
        )
        settings = dict(timeline.settings)
        settings["clips"] = {
            **options.as_settings(),
            "out_dir": _relative(out_dir, timeline_dir),
            "clips": len(jobs),
            "complete": len(done) == len(jobs),
        }
        engines = {**timeline.engines, "clips": engine_name}
        return replace(timeline, clips=clips, settings=settings, engines=engines)

    started = time.perf_counter()
    if todo:  # load (or refuse: no GPU) before the progress bar starts
        from aimv_backend.imagine.video import VideoEngine, resample, write_mp4

        engine = VideoEngine(options)
    task = progress.task("clips", len(jobs))
    try:
        task.advance(len(done))
        if todo:
            for job in todo:
                frames = engine.clip(job.prompt, seed=job.seed, frames=job.frames, rate=job.rate)
                write_mp4(
                    resample(frames, rate=job.rate, fps=options.fps), job.path, fps=options.fps
                )
                done.add(job.key)
                task.advance()
                if timeline_path is not None:
                    write_timeline(updated(), timeline_path)
    finally:
        task.close()
    result = updated()
    progress.notice(
        f"clips: {len(jobs)} clips, {len(todo)} made in {time.perf_counter() - started:.1f} s "
        f"({engine_name})"
    )
    if timeline_path is not None:
        write_timeline(result, timeline_path)
    return result
