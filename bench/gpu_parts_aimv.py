"""bench/gpu_check.py's parts that run AIMV's own code on the GPU, plus CogVideoX-2B.

aimv_stills and aimv_clips build the real-size random pipelines of gpu_parts (SD-Turbo,
LTX-Video) on the device and hand them to AIMV's engines in place of a download, then run
the texture stage (make_textures) and the clip stage (make_clips) on a synthetic song
timeline: the figures include AIMV's batching, PNG and MP4 writing and timeline updates.
They need the repository's packages on sys.path (gpu_check.py adds its parent folder).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpu_parts import (
    PROMPT,
    Recorder,
    _build,
    _peak_gib,
    _reset_peak,
    _time,
    _torch_setup,
    ltx_components,
    word_tokenizer,
)

SECTIONS = (
    "kick hits and bass plays in the background, a red neon city at night",
    "cello plays and a voice sings, a blue sea under a pale moon",
    "a crash and a splash hit, golden sparks burst over a dark stage",
    "a soft piano floats, green hills in the morning fog",
)


def song_timeline(seconds: int) -> Any:
    """A timeline of 1 s windows whose sentences change a little each window and a lot at
    each 15 s section, like the describe stage's output."""
    from aimv_timeline.schema import Colour, Description, Source, Timeline, Volume, Window

    windows = []
    for i in range(seconds):
        base = SECTIONS[(i // 15) % len(SECTIONS)]
        text = f"{base}, moment {i % 15}" if i % 3 else base
        windows.append(
            Window(
                index=i,
                start=float(i),
                end=float(i + 1),
                volume=Volume(rms_dbfs=-20.0, peak_dbfs=-6.0, relative_db=0.0, level="normal"),
                colour=Colour("#4080c0", "blue", 210.0, 0.7, 0.75, 440.0, "pitch"),
                description=Description(sentence=text, prompt=text),
            )
        )
    source = Source("/song.wav", "0" * 64, float(seconds), 44100, 2, 44100 * seconds)
    return Timeline(source=source, window_seconds=1.0, windows=tuple(windows))


class _Timing:
    """A Progress that records when each item of a task finished."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def task(self, name: str, total: int | None) -> Any:
        outer = self

        class _Task:
            def advance(self, n: int = 1) -> None:
                outer.times.extend([time.perf_counter()] * n)

            def close(self) -> None:
                pass

        return _Task()

    def notice(self, message: str) -> None:
        print(f"  aimv: {message}", flush=True)


def part_aimv_stills(rec: Recorder, smoke: bool) -> None:
    """AIMV's texture stage with an SD-Turbo-sized pipeline: one 512x512 image per window."""
    torch, device = _torch_setup(smoke)
    import gpu_parts

    from aimv_backend.imagine import TextureOptions, diffusion, make_textures
    from aimv_backend.progress import SilentProgress

    dtype = torch.float32 if smoke else torch.float16
    pipe, _size = gpu_parts.build_sd_turbo(torch, device, dtype, smoke)
    # the engine takes the in-memory random pipeline instead of loading one
    diffusion.load_pipeline = lambda model, dev, tiny_vae, allow: pipe
    seconds = 12 if smoke else 180
    size = (64, 64) if smoke else (512, 512)
    timeline = song_timeline(seconds)
    for label, continuity in (("plain", False), ("continuity", True)):
        if rec.left_s() < 30:
            rec.set(f"{label}", "skipped: part time cap")
            continue
        out = Path(tempfile.mkdtemp(prefix="aimv_stills_"))
        options = TextureOptions(
            engine="diffusers",
            model="stabilityai/sd-turbo",
            size=size,
            steps=1,
            batch_size=8,
            device=device,
            continuity=continuity,
            allow_download=False,
        )
        _reset_peak(torch, device)
        t0 = time.perf_counter()
        result = make_textures(
            timeline, timeline_dir=out, options=options, progress=SilentProgress()
        )
        dt = time.perf_counter() - t0
        images = result.settings["textures"]["images"]
        rec.set(f"{label}_song_s", seconds)
        rec.set(f"{label}_images", images)
        rec.set(f"{label}_stage_s", round(dt, 2))
        rec.set(f"{label}_images_per_s", round(images / dt, 1))
        rec.set(f"{label}_peak_gib", _peak_gib(torch, device))


def part_aimv_clips(rec: Recorder, smoke: bool) -> None:
    """AIMV's clip stage with an LTX-Video-sized pipeline: default options (768x512, 24 fps,
    20 steps, guidance 3), one clip per 6 s of a 60 s song, MP4 writing included."""
    torch, device = _torch_setup(smoke)
    from diffusers import LTXPipeline

    from aimv_backend.imagine import video
    from aimv_backend.imagine.clips import make_clips
    from aimv_backend.imagine.video_options import VideoOptions

    dtype = torch.float32 if smoke else torch.bfloat16
    pipe = LTXPipeline(**ltx_components(torch, device, dtype, smoke))
    pipe.set_progress_bar_config(disable=True)
    video.load_video_pipeline = lambda model, dev, allow: pipe
    seconds = 12 if smoke else 60
    size = (32, 32) if smoke else (768, 512)
    steps = 2 if smoke else 20
    options = VideoOptions(size=size, steps=steps, device=device, allow_download=False)
    timing = _Timing()
    out = Path(tempfile.mkdtemp(prefix="aimv_clips_"))
    _reset_peak(torch, device)
    t0 = time.perf_counter()
    result = make_clips(song_timeline(seconds), timeline_dir=out, options=options, progress=timing)
    dt = time.perf_counter() - t0
    clips = result.clips
    rec.set("song_s", seconds)
    rec.set("options", f"{size[0]}x{size[1]}, 24 fps, {steps} steps, guidance 3")
    rec.set("clips", len(clips))
    rec.set("clip_seconds", [round(c.end - c.start, 2) for c in clips])
    rec.set("stage_s", round(dt, 2))
    rec.set("s_per_clip", round(dt / max(1, len(clips)), 3))
    rec.set("stage_rtf", round(dt / seconds, 4))
    rec.set("mp4_bytes", sum((out / c.path).stat().st_size for c in clips))
    rec.set("peak_gib", _peak_gib(torch, device))


def part_cogvideox(rec: Recorder, smoke: bool) -> None:
    """CogVideoX-2B (the design's family): 720x480, 49 frames (6 s at 8 fps), guidance 6.
    Timed at 2 and 5 steps; 50 steps (the model card's) extrapolated from the per-step time."""
    torch, device = _torch_setup(smoke)
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    dtype = torch.float32 if smoke else torch.float16  # the 2B model card runs fp16
    if smoke:
        tr: dict[str, Any] = {
            "num_attention_heads": 4,
            "attention_head_dim": 8,
            "in_channels": 4,
            "out_channels": 4,
            "time_embed_dim": 2,
            "text_embed_dim": 32,
            "num_layers": 1,
            "sample_width": 2,
            "sample_height": 2,
            "sample_frames": 9,
            "max_text_seq_length": 16,
        }
        vae: dict[str, Any] = {
            "block_out_channels": (8, 8, 8, 8),
            "latent_channels": 4,
            "layers_per_block": 1,
            "norm_num_groups": 2,
        }
        t5 = T5Config(vocab_size=1000, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4)
        width, height, frames, max_len = 16, 16, 9, 16
    else:
        tr, vae = {}, {}  # diffusers' defaults are CogVideoX-2b's configs
        t5 = T5Config(
            vocab_size=32128, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64
        )
        width, height, frames, max_len = 720, 480, 49, 226
    t5.feed_forward_proj = "gated-gelu"
    t0 = time.perf_counter()
    pipe = CogVideoXPipeline(
        tokenizer=word_tokenizer(max_len),
        text_encoder=_build(torch, device, dtype, lambda: T5EncoderModel(t5)),
        vae=_build(torch, device, dtype, lambda: AutoencoderKLCogVideoX(**vae)),
        transformer=_build(torch, device, dtype, lambda: CogVideoXTransformer3DModel(**tr)),
        scheduler=CogVideoXDDIMScheduler(
            beta_schedule="scaled_linear",
            timestep_spacing="trailing",
            snr_shift_scale=3.0,
            rescale_betas_zero_snr=True,
            prediction_type="v_prediction",
            clip_sample=False,
            set_alpha_to_one=True,
        ),
    )
    pipe.set_progress_bar_config(disable=True)
    rec.set("build_s", round(time.perf_counter() - t0, 1))
    rec.set("clip", f"{width}x{height}, {frames} frames")

    def call(steps: int) -> Callable[[], Any]:
        return lambda: pipe(
            prompt=PROMPT,
            negative_prompt="",
            width=width,
            height=height,
            num_frames=frames,
            num_inference_steps=steps,
            guidance_scale=6.0,
            max_sequence_length=max_len,
            generator=torch.Generator("cpu").manual_seed(0),
            output_type="np",
        )

    _reset_peak(torch, device)
    t2 = _time(torch, device, call(2), runs=1, warm=1)
    rec.set("steps2_s", round(t2, 3))
    t5_ = _time(torch, device, call(5), runs=1, warm=0)
    rec.set("steps5_s", round(t5_, 3))
    per_step = (t5_ - t2) / 3
    rec.set("s_per_step_cfg", round(per_step, 4))
    rec.set("steps50_s_per_clip_extrapolated", round(t2 + 48 * per_step, 2))
    rec.set("peak_gib", _peak_gib(torch, device))


PARTS: dict[str, Callable[[Recorder, bool], None]] = {
    "aimv_stills": part_aimv_stills,
    "aimv_clips": part_aimv_clips,
    "cogvideox": part_cogvideox,
}
