"""Text-to-video with diffusers (LTX-Video, CogVideoX): one short clip per call, written as MP4.

Why this shape: the pipeline loads once per (model, device) through the same local-folder /
hub-cache / download path as the still-image engine (diffusion._pretrained), so an offline
machine fails fast with ModelUnavailableError. Without a GPU the engine refuses (minutes per
clip on a CPU) unless the CPU is asked for. Each clip's noise comes from a CPU generator
seeded per clip: the same seed gives the same clip on any device run of the same model.
"""

from __future__ import annotations

import inspect
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from aimv_backend.errors import GpuRequiredError, ModelUnavailableError
from aimv_backend.imagine.diffusion import (
    _offline,
    _pretrained,
    _why,
    has_gpu,
    resolve_device,
    resolve_model_ref,
)
from aimv_backend.imagine.video_options import VideoOptions, model_family
from aimv_backend.util.files import atomic_path


def check_device(device: str | None) -> str:
    """The device to run on; GpuRequiredError when no GPU is there and the CPU is not forced."""
    if device is None:
        if not has_gpu():
            raise GpuRequiredError(
                "--textures video needs a GPU (CUDA or Apple MPS) and torch sees none; "
                "--device cpu forces the CPU (minutes per clip)"
            )
        return resolve_device(None)
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise GpuRequiredError(f"--device {device}: torch sees no CUDA device here")
    return device


def _dtype(device: str) -> Any:
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    return torch.float32


@lru_cache(maxsize=1)
def load_video_pipeline(model: str, device: str, allow_download: bool) -> Any:
    """A text-to-video pipeline (bf16 on CUDA, fp16 on MPS, fp32 on CPU), once per arguments.

    model: resolved reference (resolve_model_ref). Raises ModelUnavailableError on one line.
    """
    try:
        import torch  # noqa: F401
        from diffusers import DiffusionPipeline
    except ImportError as exc:
        raise ModelUnavailableError(
            f"--textures video needs diffusers and torch (pip install 'aimv[diffusers]'): {exc}"
        ) from None
    local_only = _offline(allow_download)
    dtype = _dtype(device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            pipe = _pretrained(
                DiffusionPipeline, model, half=False, local_only=local_only, torch_dtype=dtype
            )
        except Exception as exc:  # noqa: BLE001 - any load failure is "model unavailable"
            raise ModelUnavailableError(_why("--model", model, exc, local_only)) from None
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


class VideoEngine:
    """One loaded text-to-video pipeline and the settings every clip uses."""

    def __init__(self, options: VideoOptions):
        self.options = options
        self.model = resolve_model_ref(options.model)
        self.family = model_family(self.model)
        self.device = check_device(options.device)
        self.pipe = load_video_pipeline(self.model, self.device, options.allow_download)
        self._params = set(inspect.signature(self.pipe.__call__).parameters)

    def clip(self, prompt: str, *, seed: int, frames: int, rate: float) -> np.ndarray:
        """(frames, height, width, 3) uint8 RGB for ``prompt``."""
        import torch

        o = self.options
        width, height = o.size
        kwargs: dict[str, Any] = {
            "prompt": prompt,
            "negative_prompt": o.negative_prompt if o.guidance > 1.0 else None,
            "width": width,
            "height": height,
            "num_frames": frames,
            "num_inference_steps": o.steps,
            "guidance_scale": float(o.guidance),
            "generator": torch.Generator(device="cpu").manual_seed(int(seed) % 2**63),
            "output_type": "np",
        }
        if "frame_rate" in self._params:
            kwargs["frame_rate"] = int(round(rate))
        with torch.inference_mode():
            video = self.pipe(**kwargs).frames[0]
        video = np.nan_to_num(np.asarray(video, dtype=np.float32), nan=0.0)
        return (np.clip(video, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def resample(frames: np.ndarray, *, rate: float, fps: int) -> np.ndarray:
    """The frames at ``fps`` (nearest frame in time), same duration: a CogVideoX clip made at
    8 fps plays at the render's rate without Blender having to retime it."""
    if abs(rate - fps) < 1e-6:
        return frames
    n_out = max(1, int(round(len(frames) / rate * fps)))
    index = np.minimum((np.arange(n_out) * rate / fps + 1e-6).astype(int), len(frames) - 1)
    return frames[index]


def write_mp4(frames: np.ndarray, path: Path, *, fps: int) -> Path:
    """Write (n, h, w, 3) uint8 frames as H.264 MP4 (yuv420p, CRF 18), atomically."""
    try:
        import av
    except ImportError as exc:
        raise ModelUnavailableError(
            f"--textures video writes clips with PyAV (pip install av): {exc}"
        ) from None
    n, height, width, _ = frames.shape
    with atomic_path(path, suffix=".mp4") as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=int(fps))
            stream.width, stream.height = width - width % 2, height - height % 2
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18", "preset": "fast"}
            for frame in frames:
                vf = av.VideoFrame.from_ndarray(
                    np.ascontiguousarray(frame[: stream.height, : stream.width]), format="rgb24"
                )
                out.mux(stream.encode(vf))
            out.mux(stream.encode(None))
    return Path(path)


def mp4_frames(path: Path) -> int | None:
    """Number of video frames of a complete MP4, or None when missing or unreadable."""
    try:
        import av

        with av.open(str(path)) as f:
            stream = f.streams.video[0]
            return int(stream.frames) or sum(1 for _ in f.decode(stream))
    except Exception:  # noqa: BLE001 - any read failure: not a finished clip
        return None
