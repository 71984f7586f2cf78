"""The measurements of bench/gpu_check.py, one function per part (run in a child process each).

Every model is built from its published architecture (the configs of SD-Turbo = SD 2.1,
SDXL-Turbo = SDXL 1.0, LTX-Video 0.9, Whisper base) with random weights, directly on the
device, so nothing is downloaded and the compute is the real one. ``smoke`` swaps in tiny
configs on the CPU so the same code runs in seconds on a machine without a GPU.
Self-contained on purpose (no aimv import): the script travels alone to a GPU machine.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROMPT = "a neon city at night seen through rain, slow camera move, cinematic light"


class Recorder:
    """Results of one part, rewritten (atomically) after every figure so a killed part
    still leaves what it measured."""

    def __init__(self, path: Path, deadline: float):
        self.path = path
        self.deadline = deadline
        self.data: dict[str, Any] = {"status": "running"}

    def left_s(self) -> float:
        return self.deadline - time.time()

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, default=str))
        os.replace(tmp, self.path)
        print(f"  {key}: {value}", flush=True)


# ---------------------------------------------------------------- torch helpers


def _torch_setup(smoke: bool) -> tuple[Any, str]:
    import torch

    device = "cuda" if (not smoke and torch.cuda.is_available()) else "cpu"
    if not smoke and device != "cuda":
        raise RuntimeError("no CUDA device visible to torch (use --smoke on a machine without one)")
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    return torch, device


def _sync(torch: Any, device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _build(torch: Any, device: str, dtype: Any, ctor: Callable[[], Any]) -> Any:
    """Construct a module with its parameters created (and randomly initialised) on device."""
    with torch.device(device):
        module = ctor()
    return module.to(dtype=dtype).eval().requires_grad_(False)


def _reset_peak(torch: Any, device: str) -> None:
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gib(torch: Any, device: str) -> float | None:
    if device != "cuda":
        return None
    return round(torch.cuda.max_memory_allocated() / 2**30, 2)


def _time(torch: Any, device: str, fn: Callable[[], Any], *, runs: int, warm: int = 1) -> float:
    """Mean seconds per call after ``warm`` untimed calls."""
    for _ in range(warm):
        fn()
    _sync(torch, device)
    t0 = time.perf_counter()
    for _ in range(runs):
        fn()
    _sync(torch, device)
    return (time.perf_counter() - t0) / runs


def _byte_chars() -> list[str]:
    """GPT-2 / CLIP byte-to-unicode alphabet (what CLIP's BPE vocabulary is built on)."""
    bs = list(range(ord("!"), ord("~") + 1))
    bs += list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return sorted({chr(c) for c in cs})


def clip_tokenizer(folder: Path) -> Any:
    """A byte-level CLIP tokenizer (no merges): real token shapes, no download."""
    from transformers import CLIPTokenizer

    chars = _byte_chars()
    vocab = ["<|startoftext|>", "<|endoftext|>"] + chars + [c + "</w>" for c in chars]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(
        vocab_file=str(folder / "vocab.json"),
        merges_file=str(folder / "merges.txt"),
        model_max_length=77,
    )


def word_tokenizer(max_length: int = 128) -> Any:
    """A word-level fast tokenizer standing in for T5's (prompts are padded to a fixed
    length, so the text encoder's cost does not depend on the vocabulary)."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import PreTrainedTokenizerFast

    words = sorted(set(PROMPT.replace(",", " ").split()))
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2} | {w: i + 3 for i, w in enumerate(words)}
    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=max_length,
    )


def _clip_text(smoke: bool, *, hidden: int, layers: int, heads: int, act: str, proj: int):
    from transformers import CLIPTextConfig

    if smoke:
        hidden, layers, heads, proj = 32, 2, 4, 32
    return CLIPTextConfig(
        vocab_size=49408,
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        hidden_act=act,
        projection_dim=proj,
        max_position_embeddings=77,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )


def _sd_vae(smoke: bool, *, scaling: float) -> dict[str, Any]:
    if smoke:
        return {
            "block_out_channels": (8, 16),
            "down_block_types": ("DownEncoderBlock2D",) * 2,
            "up_block_types": ("UpDecoderBlock2D",) * 2,
            "latent_channels": 4,
            "norm_num_groups": 8,
            "scaling_factor": scaling,
        }
    return {
        "block_out_channels": (128, 256, 512, 512),
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
        "layers_per_block": 2,
        "latent_channels": 4,
        "scaling_factor": scaling,
    }


def _scheduler() -> Any:
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        prediction_type="epsilon",
    )


def _generators(torch: Any, n: int) -> list[Any]:
    return [torch.Generator("cpu").manual_seed(i) for i in range(n)]


# ---------------------------------------------------------------- parts


def part_env(rec: Recorder, smoke: bool) -> None:
    import platform
    import subprocess

    torch, device = _torch_setup(smoke)
    rec.set("python", platform.python_version())
    rec.set("torch", torch.__version__)
    rec.set("cpu_count", os.cpu_count())
    for mod in ("diffusers", "transformers", "accelerate", "ctranslate2", "faster_whisper"):
        try:
            rec.set(mod, __import__(mod).__version__)
        except ImportError as exc:
            rec.set(mod, f"missing ({exc})")
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        rec.set("gpu", props.name)
        rec.set("gpu_memory_gib", round(props.total_memory / 2**30, 1))
        rec.set("cuda", torch.version.cuda)
        try:
            smi = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
            rec.set("nvidia_smi", smi.stdout.strip())
        except (OSError, subprocess.TimeoutExpired) as exc:
            rec.set("nvidia_smi", f"failed: {exc}")
    n = 256 if smoke else 8192
    dtype = torch.float32 if smoke else torch.bfloat16
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    t = _time(torch, device, lambda: a @ b, runs=3 if smoke else 10, warm=2)
    rec.set("matmul_tflops", round(2 * n**3 / t / 1e12, 1))


def build_sd_turbo(torch: Any, device: str, dtype: Any, smoke: bool) -> tuple[Any, int]:
    """SD-Turbo's pipeline (SD 2.1 architecture) with random weights on device; (pipe, size)."""
    from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    if smoke:
        unet_cfg: dict[str, Any] = {
            "block_out_channels": (32, 64),
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
            "cross_attention_dim": 32,
            "attention_head_dim": 4,
            "norm_num_groups": 8,
            "sample_size": 32,
        }
        size = 64
    else:
        unet_cfg = {
            "sample_size": 64,
            "block_out_channels": (320, 640, 1280, 1280),
            "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            "layers_per_block": 2,
            "cross_attention_dim": 1024,
            "attention_head_dim": (5, 10, 20, 20),
            "use_linear_projection": True,
        }
        size = 512
    unet = _build(torch, device, dtype, lambda: UNet2DConditionModel(**unet_cfg))
    vae = _build(torch, device, dtype, lambda: AutoencoderKL(**_sd_vae(smoke, scaling=0.18215)))
    text_cfg = _clip_text(smoke, hidden=1024, layers=23, heads=16, act="gelu", proj=512)
    text = _build(torch, device, dtype, lambda: CLIPTextModel(text_cfg))
    tmp = Path(tempfile.mkdtemp(prefix="gpu_check_tok_"))
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=clip_tokenizer(tmp),
        unet=unet,
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe, size


def part_sd_turbo(rec: Recorder, smoke: bool) -> None:
    """SD-Turbo (SD 2.1 architecture): text encoder + UNet 1 step + VAE decode, 512x512."""
    torch, device = _torch_setup(smoke)
    from diffusers import AutoencoderTiny

    dtype = torch.float32 if smoke else torch.float16
    t0 = time.perf_counter()
    pipe, size = build_sd_turbo(torch, device, dtype, smoke)
    unet = pipe.unet
    rec.set("build_s", round(time.perf_counter() - t0, 1))
    rec.set("unet_params_m", round(sum(p.numel() for p in unet.parameters()) / 1e6))
    rec.set("size", f"{size}x{size}")

    def run(batch: int) -> Callable[[], Any]:
        return lambda: pipe(
            prompt=[PROMPT] * batch,
            num_inference_steps=1,
            guidance_scale=0.0,
            width=size,
            height=size,
            generator=_generators(torch, batch),
            output_type="pil",
        )

    for batch in (1, 8) if not smoke else (1, 2):
        _reset_peak(torch, device)
        t = _time(torch, device, run(batch), runs=2 if smoke else 6, warm=2)
        rec.set(f"batch{batch}_s", round(t, 4))
        rec.set(f"batch{batch}_images_per_s", round(batch / t, 1))
        rec.set(f"batch{batch}_peak_gib", _peak_gib(torch, device))
    if rec.left_s() > 20:
        # The engine's --tiny-vae option (TAESD = AutoencoderTiny's default config).
        taesd_cfg: dict[str, Any] = {}
        if smoke:
            taesd_cfg = {
                "encoder_block_out_channels": (8, 8),
                "decoder_block_out_channels": (8, 8),
                "num_encoder_blocks": (1, 1),
                "num_decoder_blocks": (1, 1),
            }
        pipe.vae = _build(torch, device, dtype, lambda: AutoencoderTiny(**taesd_cfg))
        batch = 2 if smoke else 8
        _reset_peak(torch, device)
        t = _time(torch, device, run(batch), runs=2 if smoke else 6, warm=2)
        rec.set(f"taesd_batch{batch}_images_per_s", round(batch / t, 1))
        rec.set(f"taesd_batch{batch}_peak_gib", _peak_gib(torch, device))


def part_sdxl_turbo(rec: Recorder, smoke: bool) -> None:
    """SDXL-Turbo (SDXL 1.0 architecture), 1024x1024, 1 and 4 steps, batch 1."""
    torch, device = _torch_setup(smoke)
    from diffusers import AutoencoderKL, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    dtype = torch.float32 if smoke else torch.float16
    if smoke:
        unet_cfg: dict[str, Any] = {
            "block_out_channels": (32, 64),
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
            "cross_attention_dim": 64,
            "attention_head_dim": (2, 4),
            "transformer_layers_per_block": (1, 2),
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": 8,
            "projection_class_embeddings_input_dim": 80,  # 32 pooled + 6 * 8
            "norm_num_groups": 8,
            "sample_size": 32,
            "use_linear_projection": True,
        }
        size = 64
    else:
        unet_cfg = {
            "sample_size": 128,
            "block_out_channels": (320, 640, 1280),
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            "layers_per_block": 2,
            "transformer_layers_per_block": (1, 2, 10),
            "attention_head_dim": (5, 10, 20),
            "cross_attention_dim": 2048,
            "use_linear_projection": True,
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": 256,
            "projection_class_embeddings_input_dim": 2816,
        }
        size = 1024
    t0 = time.perf_counter()
    unet = _build(torch, device, dtype, lambda: UNet2DConditionModel(**unet_cfg))
    vae = _build(torch, device, dtype, lambda: AutoencoderKL(**_sd_vae(smoke, scaling=0.13025)))
    cfg1 = _clip_text(smoke, hidden=768, layers=12, heads=12, act="quick_gelu", proj=768)
    cfg2 = _clip_text(smoke, hidden=1280, layers=32, heads=20, act="gelu", proj=1280)
    text1 = _build(torch, device, dtype, lambda: CLIPTextModel(cfg1))
    text2 = _build(torch, device, dtype, lambda: CLIPTextModelWithProjection(cfg2))
    tmp = Path(tempfile.mkdtemp(prefix="gpu_check_tok_"))
    tok = clip_tokenizer(tmp)
    pipe = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text1,
        text_encoder_2=text2,
        tokenizer=tok,
        tokenizer_2=tok,
        unet=unet,
        scheduler=_scheduler(),
        add_watermarker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    rec.set("build_s", round(time.perf_counter() - t0, 1))
    rec.set("unet_params_m", round(sum(p.numel() for p in unet.parameters()) / 1e6))
    rec.set("size", f"{size}x{size}")
    rec.set("vae", "fp32 upcast for decoding (SDXL VAE force_upcast)")
    for steps in (1, 4):
        if rec.left_s() < 15:
            rec.set(f"steps{steps}", "skipped: part time cap")
            continue
        _reset_peak(torch, device)

        def call(steps: int = steps) -> Any:
            return pipe(
                prompt=[PROMPT],
                num_inference_steps=steps,
                guidance_scale=0.0,
                width=size,
                height=size,
                generator=_generators(torch, 1),
                output_type="pil",
            )

        t = _time(torch, device, call, runs=2 if smoke else 4, warm=2 if steps == 1 else 1)
        rec.set(f"steps{steps}_s_per_image", round(t, 4))
        rec.set(f"steps{steps}_images_per_s", round(1 / t, 2))
        rec.set(f"steps{steps}_peak_gib", _peak_gib(torch, device))


def ltx_components(torch: Any, device: str, dtype: Any, smoke: bool) -> dict[str, Any]:
    """LTX-Video 0.9's components (transformer 2B, video VAE, T5-XXL encoder) or tiny ones."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    if smoke:
        tr_cfg: dict[str, Any] = {
            "in_channels": 8,
            "out_channels": 8,
            "num_attention_heads": 4,
            "attention_head_dim": 8,
            "cross_attention_dim": 32,
            "num_layers": 1,
            "caption_channels": 32,
        }
        vae_cfg: dict[str, Any] = {
            "latent_channels": 8,
            "block_out_channels": (8, 8, 8, 8),
            "decoder_block_out_channels": (8, 8, 8, 8),
            "layers_per_block": (1, 1, 1, 1, 1),
            "decoder_layers_per_block": (1, 1, 1, 1, 1),
            "spatio_temporal_scaling": (True, True, False, False),
            "decoder_spatio_temporal_scaling": (True, True, False, False),
            "decoder_inject_noise": (False,) * 5,
            "upsample_residual": (False,) * 4,
            "upsample_factor": (1,) * 4,
            "patch_size": 1,
        }
        t5 = T5Config(vocab_size=1000, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4)
    else:
        tr_cfg, vae_cfg = {}, {}  # diffusers' defaults are LTX-Video 0.9's configs
        t5 = T5Config(
            vocab_size=32128,
            d_model=4096,
            d_kv=64,
            d_ff=10240,
            num_layers=24,
            num_heads=64,
            relative_attention_num_buckets=32,
            feed_forward_proj="gated-gelu",
        )
    t5.feed_forward_proj = "gated-gelu"
    t5.is_encoder_decoder = False
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True,
        base_shift=0.95,
        max_shift=2.05,
        base_image_seq_len=1024,
        max_image_seq_len=4096,
        shift_terminal=0.1,
    )
    return {
        "transformer": _build(torch, device, dtype, lambda: LTXVideoTransformer3DModel(**tr_cfg)),
        "vae": _build(torch, device, dtype, lambda: AutoencoderKLLTXVideo(**vae_cfg)),
        "text_encoder": _build(torch, device, dtype, lambda: T5EncoderModel(t5)),
        "tokenizer": word_tokenizer(),
        "scheduler": scheduler,
    }


def part_ltx_video(rec: Recorder, smoke: bool) -> None:
    """LTX-Video: one 5 s clip (121 frames, 24 fps) at 768x512."""
    torch, device = _torch_setup(smoke)
    from diffusers import LTXPipeline

    dtype = torch.float32 if smoke else torch.bfloat16
    width, height, frames = (32, 32, 9) if smoke else (768, 512, 121)
    t0 = time.perf_counter()
    pipe = LTXPipeline(**ltx_components(torch, device, dtype, smoke))
    pipe.set_progress_bar_config(disable=True)
    rec.set("build_s", round(time.perf_counter() - t0, 1))
    rec.set(
        "transformer_params_m", round(sum(p.numel() for p in pipe.transformer.parameters()) / 1e6)
    )
    rec.set("clip", f"{width}x{height}, {frames} frames at 24 fps ({(frames - 1) / 24:.1f} s)")

    def call(steps: int, guidance: float) -> Callable[[], Any]:
        return lambda: pipe(
            prompt=PROMPT,
            negative_prompt="worst quality, blurry" if guidance > 1 else None,
            width=width,
            height=height,
            num_frames=frames,
            frame_rate=24,
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=torch.Generator("cpu").manual_seed(0),
            output_type="np",
        )

    # 2 steps is the fewest this scheduler takes (1 step leaves no timestep after shifting).
    _reset_peak(torch, device)
    t2 = _time(torch, device, call(2, 1.0), runs=1, warm=1)
    rec.set("steps2_s", round(t2, 3))
    t8 = _time(torch, device, call(8, 1.0), runs=1, warm=0)
    rec.set("steps8_nocfg_s_per_clip", round(t8, 3))
    rec.set("s_per_step_nocfg", round((t8 - t2) / 6, 4))
    rec.set("fixed_s_text_vae", round(t2 - 2 * (t8 - t2) / 6, 3))
    rec.set("peak_gib", _peak_gib(torch, device))
    if rec.left_s() > 3 * t8 + 10:
        t20 = _time(torch, device, call(20, 3.0), runs=1, warm=0)
        rec.set("steps20_cfg3_s_per_clip", round(t20, 3))
    else:
        rec.set("steps20_cfg3_s_per_clip", "skipped: part time cap")
    rec.set("peak_gib_all", _peak_gib(torch, device))


PARTS: dict[str, Callable[[Recorder, bool], None]] = {
    "env": part_env,
    "sd_turbo": part_sd_turbo,
    "ltx_video": part_ltx_video,
    "sdxl_turbo": part_sdxl_turbo,
}
