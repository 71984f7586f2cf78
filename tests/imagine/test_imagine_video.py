"""Generated clips (--textures video): the plan, the GPU refusal, and a tiny LTX-Video run.

The LTX pipeline is real (transformer, video VAE, T5 encoder, tokenizer, flow-matching
scheduler, saved with save_pretrained and loaded offline from the folder), only small.
"""

from __future__ import annotations

from dataclasses import replace

import av
import numpy as np
import pytest
from imagine_helpers import make_timeline

from aimv_backend.cli.main import main
from aimv_backend.errors import GpuRequiredError, ParameterError
from aimv_backend.imagine.clips import (
    bar_times,
    clip_prompt,
    make_clips,
    plan_clips,
    segment_bounds,
)
from aimv_backend.imagine.continuity import section_starts
from aimv_backend.imagine.diffusion import has_gpu
from aimv_backend.imagine.video import VideoEngine, resample
from aimv_backend.imagine.video_options import FAMILIES, VideoOptions, frames_for
from aimv_backend.progress import SilentProgress
from aimv_timeline.schema import Rhythm, read_timeline, write_timeline

RED = "a red wave crash and a deep kick"
RED2 = "a red wave crash and a deep bass"
BLUE = "blue floating green sea"
# 12 one-second windows: a red phrase (6 s, two prompts that differ by one word), a blue one.
SPECS = [(RED, 0.0, "loud")] * 3 + [(RED2, 0.0, "loud")] * 3 + [(BLUE, 200.0, "quiet")] * 6


def _timeline(rhythm=None):
    return replace(make_timeline(SPECS), rhythm=rhythm)


def _frames(path) -> np.ndarray:
    with av.open(str(path)) as f:
        return np.stack([fr.to_ndarray(format="rgb24") for fr in f.decode(video=0)])


# -------------------------------------------------------------------------------- the plan


def test_clips_cover_whole_bars_when_downbeats_are_known():
    downbeats = tuple(float(t) for t in range(0, 12, 2))  # a bar every 2 s
    bars = bar_times(Rhythm(tempo_bpm=120.0, beats=(), downbeats=downbeats))
    assert segment_bounds(12.0, bars, min_s=4.0, max_s=8.0) == [(0, 4), (4, 8), (8, 12)]
    # beats only: a bar is four beats
    beats = tuple(i * 0.5 for i in range(24))
    assert bar_times(Rhythm(tempo_bpm=120.0, beats=beats)) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert bar_times(None) == []


def test_spans_stay_within_the_allowed_lengths_and_cover_the_song():
    # a short tail joins the span before it; a long gap without bars is split evenly
    spans = segment_bounds(21.0, [2.0, 4.5, 20.0], min_s=4.0, max_s=8.0)
    assert spans[0] == (0.0, 4.5)
    assert spans[-1][1] == 21.0
    assert all(b > a for a, b in spans)
    assert all(abs(b - c) < 1e-9 for (_a, b), (c, _d) in zip(spans, spans[1:], strict=False))
    assert all(4.0 - 1e-6 <= b - a <= 8.0 + 1e-6 for a, b in spans)


def test_plan_without_rhythm_groups_windows_and_joins_their_sentences(tiny_ltx, tmp_path):
    options = VideoOptions(model=str(tiny_ltx), size=(64, 32), fps=8, device="cpu")
    jobs = plan_clips(_timeline(), tmp_path, options)
    assert [(j.start, j.end) for j in jobs] == [(0.0, 6.0), (6.0, 12.0)]
    assert jobs[0].windows == (0, 1, 2, 3, 4, 5)
    assert jobs[0].prompt == f"{RED}; then {RED2}"
    assert jobs[1].prompt == BLUE
    # 6 s at 8 fps is 48 frames: LTX makes 8k+1 frames, so 49
    assert all(j.frames == 49 and j.rate == 8.0 for j in jobs)
    assert jobs[0].seed != jobs[1].seed  # a new sentence starts a new section
    assert plan_clips(_timeline(), tmp_path, options) == jobs  # same inputs, same plan


def test_similar_clips_share_their_section_seed(tiny_ltx, tmp_path):
    downbeats = tuple(float(t) for t in range(0, 12, 2))
    options = VideoOptions(model=str(tiny_ltx), size=(64, 32), fps=8, device="cpu")
    rhythm = Rhythm(tempo_bpm=120.0, downbeats=downbeats)
    jobs = plan_clips(_timeline(rhythm), tmp_path, options)
    assert [(j.start, j.end) for j in jobs] == [(0, 4), (4, 8), (8, 12)]
    assert jobs[0].prompt == f"{RED}; then {RED2}" and jobs[1].prompt == f"{RED2}; then {BLUE}"
    assert jobs[0].seed == jobs[1].seed  # the sentence changed little: one section
    assert section_starts(["a red wave", "a red wave crash", "blue sea", "blue sea"]) == [
        0,
        0,
        2,
        2,
    ]
    other = plan_clips(_timeline(rhythm), tmp_path, replace(options, seed=1))
    assert [j.seed for j in other] != [j.seed for j in jobs]


def test_clip_prompt_keeps_three_distinct_sentences_in_order():
    assert clip_prompt(["a", "b", "a", "c", "d"]) == "a; then b; then c"


def test_frame_counts_follow_the_model_family():
    assert frames_for(5.0, fps=24, family=FAMILIES["ltx"]) == (121, 24.0)
    assert frames_for(20.0, fps=24, family=FAMILIES["ltx"]) == (257, 24.0)  # longest, looped
    assert frames_for(6.0, fps=24, family=FAMILIES["cogvideox"]) == (49, 8.0)
    assert len(resample(np.zeros((49, 2, 2, 3)), rate=8.0, fps=24)) == 147


def test_bad_video_options_name_the_field():
    with pytest.raises(ParameterError, match="--texture-size width must be a multiple of 32"):
        VideoOptions(size=(100, 64))
    with pytest.raises(ParameterError, match="--fps"):
        VideoOptions(fps=0)


# -------------------------------------------------------------------------------- no GPU


@pytest.mark.skipif(has_gpu(), reason="this machine has a GPU")
def test_without_a_gpu_the_engine_refuses_in_one_line(tmp_path, tiny_ltx, capsys):
    options = VideoOptions(model=str(tiny_ltx), size=(64, 32), fps=8)
    with pytest.raises(GpuRequiredError, match="--device cpu"):
        make_clips(_timeline(), timeline_dir=tmp_path, options=options, progress=SilentProgress())
    path = tmp_path / "timeline.json"
    write_timeline(_timeline(), path)
    code = main(["textures", str(path), "--textures", "video", "--model", str(tiny_ltx)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs a GPU" in err, err


# -------------------------------------------------------------------------------- tiny LTX


@pytest.fixture
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
def test_tiny_ltx_clips_are_written_recorded_and_reused(
    tmp_path, tiny_ltx, offline, one_torch_thread, monkeypatch
):
    calls = []
    real = VideoEngine.clip

    def spy(self, prompt, **kwargs):
        calls.append(prompt)
        return real(self, prompt, **kwargs)

    monkeypatch.setattr(VideoEngine, "clip", spy)
    path = tmp_path / "timeline.json"
    write_timeline(_timeline(), path)
    code = main(
        [
            "textures",
            str(path),
            "--textures",
            "video",
            "--model",
            str(tiny_ltx),
            "--device",
            "cpu",
            "--size",
            "64x32",
            "--fps",
            "8",
            "--steps",
            "2",
            "--quiet",
        ]
    )
    assert code == 0
    timeline = read_timeline(path)
    assert [(c.start, c.end) for c in timeline.clips] == [(0.0, 6.0), (6.0, 12.0)]
    assert timeline.engines["clips"] == f"video:{tiny_ltx}"
    assert timeline.settings["clips"]["complete"] is True
    for clip in timeline.clips:
        assert clip.path.startswith("clips/") and clip.path.endswith(".mp4")
        frames = _frames(tmp_path / clip.path)
        assert frames.shape == (49, 32, 64, 3)  # 6 s at 8 fps, rounded up to 8k+1
        assert frames.std() > 1  # the random model makes noise, not a blank clip
    assert len(calls) == 2
    first = {c.path: (tmp_path / c.path).stat().st_mtime_ns for c in timeline.clips}

    # a re-run makes nothing: the same clips, untouched
    calls.clear()
    assert main(["textures", str(path), "--textures", "video", "--model", str(tiny_ltx),
                 "--device", "cpu", "--size", "64x32", "--fps", "8", "--steps", "2",
                 "--quiet"]) == 0  # fmt: skip
    assert calls == []
    again = read_timeline(path)
    assert {c.path: (tmp_path / c.path).stat().st_mtime_ns for c in again.clips} == first


@pytest.mark.slow
def test_same_seed_same_clip_other_seed_other_clip(tmp_path, tiny_ltx, offline, one_torch_thread):
    options = VideoOptions(model=str(tiny_ltx), size=(64, 32), fps=8, steps=2, device="cpu")
    runs, seeds = {}, {}
    for name, seed in (("a", 0), ("b", 0), ("c", 9)):
        result = make_clips(
            _timeline(),
            timeline_dir=tmp_path / name,
            options=replace(options, seed=seed),
            progress=SilentProgress(),
        )
        runs[name] = [_frames(tmp_path / name / c.path).astype(int) for c in result.clips]
        seeds[name] = [c.seed for c in result.clips]
    assert seeds["a"] == seeds["b"] != seeds["c"]
    # Same seed: the same picture. Bit-exact on one machine, but CPU kernels (MKL, oneDNN)
    # and the H.264 encoder may round differently from run to run on other CPUs, so the test
    # allows what no viewer could see (a mean under one grey level of 255) and requires the
    # other seed to make another picture (tens of grey levels apart).
    same = [np.abs(x - y).mean() for x, y in zip(runs["a"], runs["b"], strict=True)]
    other = [np.abs(x - z).mean() for x, z in zip(runs["a"], runs["c"], strict=True)]
    assert max(same) < 1.0, same
    assert min(other) > 10.0, other


@pytest.mark.slow
def test_a_stopped_run_keeps_its_finished_clips(tmp_path, tiny_ltx, offline, one_torch_thread,
                                                monkeypatch):  # fmt: skip
    options = VideoOptions(model=str(tiny_ltx), size=(64, 32), fps=8, steps=2, device="cpu")
    path = tmp_path / "timeline.json"
    write_timeline(_timeline(), path)
    real, made = VideoEngine.clip, []

    def stop_after_one(self, prompt, **kwargs):
        if made:
            raise KeyboardInterrupt
        made.append(prompt)
        return real(self, prompt, **kwargs)

    monkeypatch.setattr(VideoEngine, "clip", stop_after_one)
    with pytest.raises(KeyboardInterrupt):
        make_clips(
            _timeline(),
            timeline_dir=tmp_path,
            options=options,
            progress=SilentProgress(),
            timeline_path=path,
        )
    partial = read_timeline(path)
    assert len(partial.clips) == 1 and partial.settings["clips"]["complete"] is False
    monkeypatch.setattr(VideoEngine, "clip", real)
    result = make_clips(partial, timeline_dir=tmp_path, options=options, progress=SilentProgress())
    assert len(result.clips) == 2 and result.clips[0] == partial.clips[0]


@pytest.mark.skipif(has_gpu(), reason="this machine has a GPU")
def test_render_with_video_refuses_before_listening_without_a_gpu(tmp_path, capsys):
    import soundfile as sf

    pytest.importorskip("bpy")  # render checks for Blender first
    song = tmp_path / "song.wav"
    sf.write(song, np.zeros(16000, np.float32), 16000)
    out = tmp_path / "video.mp4"
    code = main(["render", str(song), "-o", str(out), "--textures", "video"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs a GPU" in err, err
    assert not (tmp_path / "video.aimv" / "timeline.json").exists()  # nothing was analysed
