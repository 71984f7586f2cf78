"""Continuity between consecutive images or clips: how much a sentence changed, sections, seeds.

Why: a music video whose every window is a fresh random image flickers. When the sentence
changes little, the next image starts from the previous one (image-to-image) with a strength
that grows with the change; when it changes a lot, a new section begins with a fresh image.
All images (and clips) of a section share one seed, derived from the base seed and the
section's first prompt, so the same song and seed always give the same video, and editing a
late window does not reseed the sections before it.
"""

from __future__ import annotations

import re

from aimv_backend.imagine.procedural import prompt_seed

_WORD = re.compile(r"[a-z0-9']+")
MIN_STRENGTH, MAX_STRENGTH = 0.3, 0.9
# A change above this (1 - word-set similarity) starts a new section: a fresh image, a new seed.
NEW_SECTION_CHANGE = 0.75


def sentence_change(previous: str, current: str) -> float:
    """1 - Jaccard similarity of the two sentences' word sets, in [0, 1] (0 = same words)."""
    a, b = set(_WORD.findall(previous.lower())), set(_WORD.findall(current.lower()))
    return 1.0 - (len(a & b) / len(a | b) if a | b else 1.0)


def continuity_strength(previous: str, current: str) -> float:
    """img2img strength from how much the sentence changed: the change clamped to
    [0.3, 0.9] (a small change keeps most of the previous image)."""
    change = sentence_change(previous, current)
    return round(min(MAX_STRENGTH, max(MIN_STRENGTH, change)), 3)


def continues(previous: str, current: str, *, max_change: float = NEW_SECTION_CHANGE) -> bool:
    """Whether ``current`` continues ``previous``'s section (the sentence changed little)."""
    return sentence_change(previous, current) <= max_change


def section_starts(prompts: list[str], *, max_change: float = NEW_SECTION_CHANGE) -> list[int]:
    """Index of the first prompt of each item's section (item 0 starts the first section)."""
    firsts: list[int] = []
    for i, prompt in enumerate(prompts):
        if i and continues(prompts[i - 1], prompt, max_change=max_change):
            firsts.append(firsts[-1])
        else:
            firsts.append(i)
    return firsts


def section_seed(first_prompt: str, base_seed: int, *, salt: str = "section-seed") -> int:
    """The seed of a section: from the base seed and the section's first prompt (sha256)."""
    return prompt_seed(first_prompt, base_seed, salt=salt) % 2**63
