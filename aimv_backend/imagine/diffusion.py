"""Text-to-image with diffusers: a turbo Stable Diffusion model on a GPU (or any device).

Why this shape: models load lazily, once per (model, device, VAE) and stay cached for the
process; hub ids are refused quickly when offline (``local_files_only`` / HF_HUB_OFFLINE) and
reported as ModelUnavailableError, so ``--textures auto`` can fall back to procedural.
Every image has its own CPU torch.Generator seeded from (seed, prompt), so an image does not
depend on its batch neighbours or on the device's random generator.
"""

from __future__ import annotations

import math
import os
import socket
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from PIL import Image

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.imagine.options import ImagineOptions


def has_gpu() -> bool:
    """True when torch sees a CUDA or Apple MPS device."""
    try:
        import torch
    except ImportError:
        return False
    if torch.cuda.is_available():
        return True
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(device: str | None) -> str:
    """The device to run on: the given one, else cuda, then mps, then cpu."""
    if device:
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _looks_like_path(ref: str) -> bool:
    return (
        ref.startswith(("/", ".", "~"))
        or "\\" in ref
        or ref.count("/") > 1
        or ref.endswith((".safetensors", ".ckpt"))
    )


def resolve_model_ref(ref: str, *, what: str = "--model") -> str:
    """An absolute folder path for a local model, the hub id unchanged otherwise.

    Raises ModelUnavailableError for a path that does not exist.
    """
    path = Path(ref).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if path.exists() or _looks_like_path(ref):
        raise ModelUnavailableError(
            f"{what} {ref!r}: no such model folder (give a diffusers folder or a hub id)"
        )
    return ref


def check_model_at_hand(ref: str, *, allow_download: bool, what: str = "--model") -> None:
    """Fail at once, not after minutes of listening, when the model cannot be had: a folder
    that does not exist, or (downloads off) a hub id the local Hugging Face cache lacks.

    Raises ModelUnavailableError. Cheap: it reads no weights."""
    resolved = resolve_model_ref(ref, what=what)
    if Path(resolved).is_dir() or not _offline(allow_download):
        return
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return  # load_pipeline names the missing package
    if not isinstance(try_to_load_from_cache(resolved, "model_index.json"), str):
        raise ModelUnavailableError(
            f"{what} {ref!r} is not in the local Hugging Face cache and downloads are off: "
            "give a local model folder with --model, or run without --offline"
        )


def _offline(allow_download: bool) -> bool:
    env = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return not allow_download or env in ("1", "true", "yes", "on")


@lru_cache(maxsize=2)
def load_pipeline(model: str, device: str, tiny_vae: str | None, allow_download: bool) -> Any:
    """Load a text-to-image pipeline (fp16 on cuda/mps, fp32 on cpu), once per arguments.

    model and tiny_vae: resolved references (resolve_model_ref). Raises ModelUnavailableError
    with the reason on one line when diffusers is missing or the weights cannot be had.
    """
    try:
        import diffusers  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailableError(
            f"--textures diffusers needs diffusers and torch (pip install 'aimv[diffusers]'): {exc}"
        ) from None
    half = device.startswith(("cuda", "mps"))
    with warnings.catch_warnings():
        # Loading prints deprecation chatter of the hub client; the CLI keeps errors on one line.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return _load(model, device, tiny_vae, _offline(allow_download), half=half)


def _load(model: str, device: str, tiny_vae: str | None, local_only: bool, *, half: bool) -> Any:
    import torch
    from diffusers import AutoencoderTiny, AutoPipelineForText2Image

    dtype = torch.float16 if half else torch.float32
    kwargs: dict[str, Any] = {"torch_dtype": dtype}
    if tiny_vae is not None:
        try:
            kwargs["vae"] = _pretrained(
                AutoencoderTiny, tiny_vae, half=False, local_only=local_only, torch_dtype=dtype
            )
        except Exception as exc:  # noqa: BLE001 - any load failure is "model unavailable"
            raise ModelUnavailableError(_why("--tiny-vae", tiny_vae, exc, local_only)) from None
    try:
        pipe = _pretrained(
            AutoPipelineForText2Image, model, half=half, local_only=local_only, **kwargs
        )
    except Exception as exc:  # noqa: BLE001 - any load failure is "model unavailable"
        raise ModelUnavailableError(_why("--model", model, exc, local_only)) from None
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def hub_endpoint() -> str:
    """The Hugging Face endpoint the hub client uses (HF_ENDPOINT or huggingface.co)."""
    try:
        from huggingface_hub import constants

        return str(constants.ENDPOINT)
    except ImportError:
        return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def hub_reachable(*, timeout_s: float = 3.0) -> bool:
    """Can a TCP connection to the hub be opened within ``timeout_s`` seconds?

    Why: without a network the hub client retries with back-off for about half a minute;
    this check answers in at most a few seconds. Behind a proxy it defers to the client.
    """
    if any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urlparse(hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _pretrained(cls: Any, ref: str, *, half: bool, local_only: bool, **kwargs: Any) -> Any:
    """Load a local folder; a hub id from the local Hugging Face cache first, then (when
    allowed and the hub answers) by download. Downloads go to the hub cache through
    temporary files, so a failed download never damages a cached model."""
    if Path(ref).is_dir():
        try:
            return cls.from_pretrained(ref, **kwargs)
        except (OSError, ValueError):  # a folder holding only the fp16 files
            return cls.from_pretrained(ref, variant="fp16", **kwargs)
    try:
        return _from_pretrained(cls, ref, half=half, local_files_only=True, **kwargs)
    except Exception:  # noqa: BLE001 - not in the cache (or incomplete): maybe download
        if local_only:
            raise
    if not hub_reachable():
        raise OSError(
            f"{hub_endpoint()} cannot be reached (no network?) and {ref!r} is not in the "
            "local Hugging Face cache"
        )
    return _from_pretrained(cls, ref, half=half, local_files_only=False, **kwargs)


def _from_pretrained(cls: Any, model: str, *, half: bool, **kwargs: Any) -> Any:
    """Prefer a hub model's fp16 files on a GPU (half the download), else its default files."""
    if half:
        try:
            return cls.from_pretrained(model, variant="fp16", **kwargs)
        except (OSError, ValueError):
            pass
    return cls.from_pretrained(model, **kwargs)


def _why(option: str, ref: str, exc: BaseException, offline: bool) -> str:
    reason = " ".join(str(exc).split())[:240] or type(exc).__name__
    hint = " (offline: give a local folder with --model, or allow downloads)" if offline else ""
    return f"{option} {ref!r} cannot be loaded{hint}: {reason}"


@lru_cache(maxsize=2)
def _img2img_for(pipe: Any) -> Any:
    from diffusers import AutoPipelineForImage2Image

    img2img = AutoPipelineForImage2Image.from_pipe(pipe)
    img2img.set_progress_bar_config(disable=True)
    return img2img


def _generators(seeds: list[int]) -> list[Any]:
    import torch

    return [torch.Generator(device="cpu").manual_seed(int(s) % 2**63) for s in seeds]


class DiffusionEngine:
    """One loaded pipeline and the settings every call uses."""

    def __init__(self, options: ImagineOptions):
        vae = options.tiny_vae
        self.model = resolve_model_ref(options.model)
        self.tiny_vae = None if vae is None else resolve_model_ref(vae, what="--tiny-vae")
        self.device = resolve_device(options.device)
        self.size = options.size
        self.steps = options.steps
        self.guidance = options.guidance
        self.pipe = load_pipeline(self.model, self.device, self.tiny_vae, options.allow_download)

    def text_to_image(self, prompts: list[str], seeds: list[int]) -> list[Image.Image]:
        """One image per prompt, in one batched call."""
        width, height = self.size
        result = self.pipe(
            prompt=list(prompts),
            num_inference_steps=self.steps,
            guidance_scale=self.guidance,
            width=width,
            height=height,
            generator=_generators(seeds),
            output_type="pil",
        )
        return [img.convert("RGB") for img in result.images]

    def image_to_image(
        self, prompt: str, seed: int, init: Image.Image, strength: float
    ) -> Image.Image:
        """The prompt's image started from ``init`` (0 < strength <= 1: how far it may move).

        Runs at least ceil(1 / strength) steps, because img2img runs steps * strength of them.
        """
        steps = max(self.steps, math.ceil(1.0 / strength - 1e-9))
        result = _img2img_for(self.pipe)(
            prompt=[prompt],
            image=init.convert("RGB").resize(self.size),
            strength=float(strength),
            num_inference_steps=steps,
            guidance_scale=self.guidance,
            generator=_generators([seed]),
            output_type="pil",
        )
        return result.images[0].convert("RGB")
