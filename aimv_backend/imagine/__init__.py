"""Imagine: one texture image per window, from its prompt.

Engines: ``diffusers`` (a turbo Stable Diffusion model, best on a GPU) and ``procedural``
(numpy, offline, tens of milliseconds an image). See docs/textures.md.
"""

from aimv_backend.imagine.make import continuity_strength, make_textures, window_prompt
from aimv_backend.imagine.options import ENGINES, ImagineOptions, TextureOptions, parse_size

Options = ImagineOptions
run = make_textures  # the stage's one entry point: a timeline in, textures and timeline out

__all__ = [
    "ENGINES",
    "ImagineOptions",
    "Options",
    "TextureOptions",
    "run",
    "continuity_strength",
    "make_textures",
    "parse_size",
    "window_prompt",
]
