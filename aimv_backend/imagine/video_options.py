"""Options of the generated-clip stage (``--textures video``), checked up front."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aimv_backend.errors import ParameterError
from aimv_backend.imagine.options import GenerationOptions, validate_size

DEFAULT_VIDEO_MODEL = "Lightricks/LTX-Video"
DEFAULT_NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted, text, watermark"
MIN_SIDE, MAX_SIDE = 32, 1920


@dataclass(frozen=True)
class Family:
    """How a text-to-video model family is called.

    frame_step: the frame count must be frame_step * k + 1 (the VAE's temporal compression).
    max_frames: the most frames one call makes. native_fps: the rate the model makes frames
    at, or None when the pipeline takes the frame rate as an argument (LTX-Video).
    """

    name: str
    frame_step: int
    max_frames: int
    native_fps: int | None


FAMILIES = {
    "ltx": Family("ltx", frame_step=8, max_frames=257, native_fps=None),
    "cogvideox": Family("cogvideox", frame_step=4, max_frames=49, native_fps=8),
}
_PIPELINE_FAMILY = {"LTXPipeline": "ltx", "CogVideoXPipeline": "cogvideox"}


def model_family(model: str) -> Family:
    """The family of a model folder (from its model_index.json) or a hub id (from its name:
    "cogvideo" in it means CogVideoX, anything else LTX-Video)."""
    index = Path(model).expanduser() / "model_index.json"
    if index.is_file():
        try:
            name = str(json.loads(index.read_text()).get("_class_name", ""))
        except (OSError, ValueError):
            name = ""
        if name in _PIPELINE_FAMILY:
            return FAMILIES[_PIPELINE_FAMILY[name]]
        if name:
            raise ParameterError(
                f"--model {model!r}: a {name} folder; --textures video takes "
                f"{' or '.join(_PIPELINE_FAMILY)} models"
            )
    return FAMILIES["cogvideox" if "cogvideo" in model.lower() else "ltx"]


@dataclass(frozen=True)
class VideoOptions(GenerationOptions):
    """How clips are made.

    model: a diffusers text-to-video folder (save_pretrained layout) or hub id: LTX-Video
        (default) or CogVideoX (licences differ: docs/models-and-licences.md).
    size: (width, height) in pixels, multiples of 32 in [32, 1920].
    fps: frames per second of the written clips (match the render's --fps).
    steps: denoising steps. guidance: classifier-free guidance scale (1 = none, faster).
    seed: base seed; each section of similar prompts gets one seed derived from it.
    min_seconds, max_seconds: a clip covers whole bars (or windows) adding up to this range.
    device: "cuda", "cuda:1", "mps" or "cpu"; None = the GPU, refused when there is none.
    allow_download: False = local files only (also implied by HF_HUB_OFFLINE=1).
    negative_prompt: what the model is steered away from when guidance > 1.
    """

    model: str = DEFAULT_VIDEO_MODEL
    size: tuple[int, int] = (768, 512)
    steps: int = 20
    guidance: float = 3.0
    fps: int = 24
    min_seconds: float = 4.0
    max_seconds: float = 8.0
    negative_prompt: str = DEFAULT_NEGATIVE

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_video_options(self)


def validate_video_options(o: VideoOptions) -> None:
    """Raise ParameterError naming the first bad clip option (beyond GenerationOptions') and
    its value."""
    validate_size(o.size, multiple=32, sides=(MIN_SIDE, MAX_SIDE), what=" for --textures video")
    if not isinstance(o.fps, int) or not 1 <= o.fps <= 120:
        raise ParameterError(f"--fps must be an integer in [1, 120], got {o.fps!r}")
    if not 0.5 <= float(o.min_seconds) <= float(o.max_seconds) <= 60.0:
        raise ParameterError(
            f"clip length must satisfy 0.5 <= min_seconds <= max_seconds <= 60, got "
            f"{o.min_seconds!r}..{o.max_seconds!r}"
        )


def frames_for(seconds: float, *, fps: int, family: Family) -> tuple[int, float]:
    """(frames the model makes, its frame rate) for a clip of ``seconds``: at least that long
    when the model can make it, else the family's longest (the stage then loops it)."""
    rate = family.native_fps or fps
    wanted = max(1, int(-(-seconds * rate // 1)))  # ceil
    k = -(-(wanted - 1) // family.frame_step)
    frames = min(family.frame_step * k + 1, family.max_frames)
    return frames, float(rate)
