"""Instrument families from a classifier trained on soundfont-rendered parts.

musicnn's 50 MagnaTagATune tags have no bass, organ, brass, saxophone or synth lead/pad: a bass
is heard as a confident guitar, a synth lead as a violin. A small CNN (the drum classifier's
architecture and front end, aimv_backend.listen.drums) trained on General MIDI parts rendered
from soundfonts, alone and in mixes, scores eleven families per window; ``combine`` adds those
scores to the tagger's and caps each tagger word that belongs to a family at the family's
score, so a bass is no longer a confident guitar. See docs/instruments.md ("Families").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from aimv_backend.listen.drums import features
from aimv_backend.listen.drums.model import PatchModel, load_model
from aimv_backend.listen.instruments.labels import Instrument

MODEL_NAME = "families"
ENGINE_NAME = f"family-cnn:{MODEL_NAME}"

# family class -> (stored label, word, category)
FAMILY_WORDS: dict[str, tuple[str, str, str]] = {
    "piano": ("piano (family)", "piano", "keys"),
    "organ": ("organ (family)", "organ", "keys"),
    "guitar": ("guitar (family)", "guitar", "guitar"),
    "bass": ("bass (family)", "bass", "bass"),
    "strings": ("strings (family)", "strings", "strings"),
    "brass": ("brass (family)", "brass", "brass"),
    "saxophone": ("saxophone (family)", "saxophone", "woodwind"),
    "flute": ("flute (family)", "flute", "woodwind"),
    "synth_lead": ("synth lead (family)", "synth", "synth"),
    "synth_pad": ("synth pad (family)", "synth", "synth"),
    "choir": ("choir (family)", "choir", "vocal"),
}
FAMILIES = tuple(FAMILY_WORDS)

# Tagger words that belong to a family: their score is capped at that family's (best) score.
WORD_FAMILIES: dict[str, tuple[str, ...]] = {
    "piano": ("piano",),
    "electric piano": ("piano",),
    "keyboard": ("piano", "organ"),
    "harpsichord": ("piano",),
    "organ": ("organ",),
    "guitar": ("guitar",),
    "electric guitar": ("guitar",),
    "acoustic guitar": ("guitar",),
    "sitar": ("guitar",),
    "bass": ("bass",),
    "double bass": ("bass", "strings"),
    "strings": ("strings",),
    "violin": ("strings",),
    "cello": ("strings",),
    "brass": ("brass",),
    "trumpet": ("brass",),
    "trombone": ("brass",),
    "french horn": ("brass",),
    "saxophone": ("saxophone",),
    "flute": ("flute",),
    "synth": ("synth_lead", "synth_pad"),
    "choir": ("choir",),
}


# A chord in the bass register is not a bass line. In that register the family classifier
# hardly tells timbres apart and hears low piano (or organ, guitar) chords as "bass", even
# trained on each family's whole register; a bass plays one note at a time. basic-pitch's notes
# (notes.window_notes, mean activation over the window's middle 0.25 s) tell the two apart: a
# note with a mean of HELD_STRENGTH or more sounds through most of the snippet, so CHORD_NOTES
# such notes under BASS_REGISTER_TOP sound together. Eighth-note bass lines reach 2 (the note
# before and its octave), low piano triads 3.
BASS_REGISTER_TOP = 52  # E3
HELD_STRENGTH = 0.5
CHORD_NOTES = 3


def low_chord(notes: Sequence | None) -> bool:
    """Whether a window's basic-pitch notes (PlayedNote: midi, strength) hold a chord of
    CHORD_NOTES or more notes under BASS_REGISTER_TOP. None (notes not heard) is False."""
    if not notes:
        return False
    held = [n for n in notes if n.midi < BASS_REGISTER_TOP and n.strength >= HELD_STRENGTH]
    return len(held) >= CHORD_NOTES


def family_model() -> PatchModel:
    model = load_model(MODEL_NAME)
    if model.classes != FAMILIES:
        raise AssertionError(f"{MODEL_NAME}: classes {model.classes} are not {FAMILIES}")
    return model


def window_patch_starts(start: float, end: float, frames: int) -> list[int]:
    """Start frames of the 1 s patches that score the window [start, end) seconds."""
    fs = features.frame_seconds()
    duration = max(end - start, 0.0)
    count = max(1, math.ceil(duration / (frames * fs) - 1e-9))
    return [
        int(round((start + (k + 0.5) * duration / count) / fs)) - frames // 2 for k in range(count)
    ]


def window_family_scores(
    mel: np.ndarray,
    spans: Sequence[tuple[float, float]],
    active: Sequence[bool],
    *,
    model: PatchModel | None = None,
) -> np.ndarray:
    """Family probabilities (windows, len(FAMILIES)) from a power mel (features.power_mel).

    Windows longer than 1 s average evenly spread 1 s patches; inactive rows stay 0.
    """
    model = model or family_model()
    out = np.zeros((len(spans), len(FAMILIES)), dtype=np.float64)
    starts, owner = [], []
    for w, ((s, e), on) in enumerate(zip(spans, active, strict=True)):
        if on:
            for f in window_patch_starts(s, e, model.frames):
                starts.append(f)
                owner.append(w)
    if not starts:
        return out
    patches = features.take_patches(mel, np.array(starts), model.frames)
    probs = model.probabilities(features.family_inputs(patches))
    counts = np.zeros(len(spans))
    np.add.at(out, np.array(owner), probs)
    np.add.at(counts, np.array(owner), 1)
    return out / np.maximum(counts, 1)[:, None]


@lru_cache(maxsize=8)
def _extended(labels: tuple[str, ...], table_items: tuple) -> tuple[tuple[str, ...], dict]:
    table = dict(table_items)
    for fam in FAMILIES:
        label, word, category = FAMILY_WORDS[fam]
        table[label] = Instrument(word, category)
    return labels + tuple(FAMILY_WORDS[f][0] for f in FAMILIES), table


def combine(
    scores: np.ndarray,
    family_scores: np.ndarray,
    *,
    labels: Sequence[str],
    table: Mapping[str, Instrument],
    notes: Sequence | None = None,
) -> tuple[np.ndarray, tuple[str, ...], dict[str, Instrument]]:
    """One window's tagger scores with the family scores added (and family words capped).

    notes: the window's basic-pitch notes, or None. When they hold a chord in the bass register
    (``low_chord``), the "bass" family score is not believed: it is dropped, and the tagger's
    words are capped at the larger of their family's score and that bass score (the classifier
    heard an instrument in the bass register; the notes say it is not a bass; the tagger names it).
    Returns (scores, labels, table) for selection.select_instruments: the tagger's labels
    followed by one label per family ("bass (family)").
    """
    ext_labels, ext_table = _extended(tuple(labels), tuple(table.items()))
    capped = np.asarray(scores, dtype=np.float64).copy()
    fam_row = np.asarray(family_scores, np.float64).copy()
    best = dict(zip(FAMILIES, fam_row, strict=True))
    released = 0.0
    if low_chord(notes):
        b = FAMILIES.index("bass")
        released, fam_row[b] = float(fam_row[b]), 0.0
    for i, label in enumerate(labels):
        inst = table.get(label)
        fams = WORD_FAMILIES.get(inst.word) if inst is not None else None
        if fams:
            capped[i] = min(capped[i], max(released, *(best[f] for f in fams)))
    return np.concatenate([capped, fam_row]), ext_labels, ext_table
