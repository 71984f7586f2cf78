"""Options of the texture stage, checked up front so a bad value fails before any work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aimv_backend.errors import ParameterError
from aimv_backend.util.records import settings_record
from aimv_timeline import names

ENGINES = ("auto", *names.TEXTURE_ENGINES)
DEFAULT_MODEL = "stabilityai/sd-turbo"
MAX_STEPS = 200  # diffusion steps a run may ask for
MIN_SIDE, MAX_SIDE = 64, 2048


@dataclass(frozen=True)
class GenerationOptions:
    """What still textures (ImagineOptions) and generated clips (VideoOptions) share.

    model: a diffusers model folder or hub id. size: (width, height) in pixels. steps:
    denoising steps. guidance: classifier-free guidance scale. seed: the base seed. device:
    "cuda", "cuda:1", "mps" or "cpu" (None: each subclass says). allow_download: False = local
    files only (also implied by HF_HUB_OFFLINE=1). Subclasses set the defaults.
    """

    model: str
    size: tuple[int, int]
    steps: int
    guidance: float
    seed: int = 0
    device: str | None = None
    allow_download: bool = True

    def __post_init__(self) -> None:
        check_generation(self)

    def as_settings(self) -> dict[str, Any]:
        """JSON-ready record for the timeline's settings: what decides the pictures, not
        whether a download was allowed or which device ran the model."""
        return settings_record(self, "allow_download", "device")


@dataclass(frozen=True)
class ImagineOptions(GenerationOptions):
    """How textures are made.

    engine: "auto" (diffusers when a GPU is present, or ``device`` is given, and the model
        loads; procedural otherwise), "procedural" or "diffusers".
    model: diffusers model: a local folder (``save_pretrained`` layout) or a hub id.
    size: (width, height) in pixels, multiples of 8 in [64, 2048].
    steps: denoising steps (1-4 suit turbo models). guidance: classifier-free guidance scale
        (0 for turbo models, which were distilled without it).
    seed: base seed; each prompt's seed is derived from it and the prompt (sha256).
    batch_size: prompts per diffusers call. tiny_vae: folder or hub id of an AutoencoderTiny
        (e.g. madebyollin/taesd) that replaces the model's VAE for faster decoding.
    continuity: each window's image starts from the previous window's (image-to-image), with a
        strength tied to how much the sentence changed.
    device: "cuda", "cuda:1", "mps" or "cpu"; None picks cuda, then mps, then cpu.
    allow_download: False = local files only (also implied by HF_HUB_OFFLINE=1).
    """

    model: str = DEFAULT_MODEL
    size: tuple[int, int] = (512, 512)
    steps: int = 1
    guidance: float = 0.0
    engine: str = "auto"
    batch_size: int = 4
    tiny_vae: str | None = None
    continuity: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ParameterError(
                f"--textures must be one of {', '.join(ENGINES)}, got {self.engine!r}"
            )
        super().__post_init__()
        validate_options(self)


TextureOptions = ImagineOptions  # the old name


def parse_size(text: str) -> tuple[int, int]:
    """ "512" -> (512, 512); "768x512" -> (768, 512). Checked by validate_size."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ParameterError(f"--texture-size must be N or WIDTHxHEIGHT, got {text!r}") from None
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise ParameterError(f"--texture-size must be N or WIDTHxHEIGHT, got {text!r}")
    return validate_size((values[0], values[1]))


def validate_size(
    size: tuple[int, int],
    *,
    multiple: int = 8,
    sides: tuple[int, int] = (MIN_SIDE, MAX_SIDE),
    what: str = "",
) -> tuple[int, int]:
    """(width, height) in pixels, each a multiple of ``multiple`` within ``sides``; ``what``
    ends the message (" for --textures video")."""
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ParameterError(f"--texture-size must be (width, height), got {size!r}") from None
    lo, hi = sides
    for name, v in (("width", width), ("height", height)):
        if not lo <= v <= hi or v % multiple:
            raise ParameterError(
                f"--texture-size {name} must be a multiple of {multiple} in [{lo}, {hi}]{what}, got {v}"
            )
    return width, height


def check_generation(o: GenerationOptions) -> None:
    """The checks still images and clips share: model, steps, guidance, seed and device."""
    if not isinstance(o.model, str) or not o.model.strip():
        raise ParameterError(f"--model must name a folder or a hub id, got {o.model!r}")
    if not isinstance(o.steps, int) or not 1 <= o.steps <= MAX_STEPS:
        raise ParameterError(f"--steps must be an integer in [1, {MAX_STEPS}], got {o.steps!r}")
    if not 0.0 <= float(o.guidance) <= 30.0:
        raise ParameterError(f"--guidance must be in [0, 30], got {o.guidance!r}")
    if not isinstance(o.seed, int) or not 0 <= o.seed < names.MAX_SEED:
        raise ParameterError(f"--seed must be an integer in [0, 2**63), got {o.seed!r}")
    if o.device is not None and o.device.split(":")[0] not in ("cuda", "mps", "cpu"):
        raise ParameterError(f"--device must be cuda, cuda:N, mps or cpu, got {o.device!r}")


def validate_options(o: ImagineOptions) -> None:
    """Raise ParameterError naming the first bad texture option (beyond GenerationOptions')
    and its value."""
    if tuple(validate_size(o.size)) != tuple(o.size) or not isinstance(o.size, tuple):
        raise ParameterError(
            f"--texture-size must be a (width, height) tuple of ints, got {o.size!r}"
        )
    if not isinstance(o.batch_size, int) or not 1 <= o.batch_size <= 64:
        raise ParameterError(f"--batch-size must be an integer in [1, 64], got {o.batch_size!r}")
    if o.tiny_vae is not None and not str(o.tiny_vae).strip():
        raise ParameterError(f"--tiny-vae must name a folder or a hub id, got {o.tiny_vae!r}")
