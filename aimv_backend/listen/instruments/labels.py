"""Engine labels -> the project's instrument words and categories.

The describe stage builds sentences from a small vocabulary of instrument words ("crash",
"piano", "choir") and picks a verb from the word's category (timeline_schema
INSTRUMENT_CATEGORIES). Each engine has its own label set, so each gets a table here. Labels
that are not instruments (genres, moods, loudness, "Speech", "Music", "no vocals") map to
None and are never chosen. The tables are reproduced in docs/instruments.md.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from aimv_timeline.schema import INSTRUMENT_CATEGORIES

AUDIOSET_LABELS_FILE = "audioset_class_labels_indices.csv"


@dataclass(frozen=True)
class Instrument:
    """A project instrument word and the category that chooses its verb."""

    word: str
    category: str


def _table(rows: dict[str, tuple[str, str]]) -> dict[str, Instrument]:
    out = {}
    for label, (word, category) in rows.items():
        if category not in INSTRUMENT_CATEGORIES:
            raise AssertionError(f"{label!r}: category {category!r} is not in the schema")
        out[label] = Instrument(word, category)
    return out


# MagnaTagATune's 50 tags (musicnn MTT_musicnn). Genres, moods, tempo, loudness and the
# "no vocal(s)/no voice" tags are not instruments; "beat(s)" describes rhythm, not a source.
# Every solo-voice tag is the one word "vocal" (the label keeps "male vocal" etc.), so that a
# singer takes one of the three slots, not three.
MUSICNN_INSTRUMENTS = _table({
    "guitar": ("guitar", "guitar"),
    "strings": ("strings", "strings"),
    "drums": ("drums", "drum"),
    "piano": ("piano", "keys"),
    "violin": ("violin", "strings"),
    "vocal": ("vocal", "vocal"),
    "vocals": ("vocal", "vocal"),
    "singing": ("vocal", "vocal"),
    "voice": ("vocal", "vocal"),
    "synth": ("synth", "synth"),
    "female": ("vocal", "vocal"),
    "woman": ("vocal", "vocal"),
    "female vocal": ("vocal", "vocal"),
    "female voice": ("vocal", "vocal"),
    "male": ("vocal", "vocal"),
    "man": ("vocal", "vocal"),
    "male vocal": ("vocal", "vocal"),
    "male voice": ("vocal", "vocal"),
    "harpsichord": ("harpsichord", "keys"),
    "flute": ("flute", "woodwind"),
    "sitar": ("sitar", "guitar"),
    "choir": ("choir", "vocal"),
    "choral": ("choir", "vocal"),
    "harp": ("harp", "strings"),
    "cello": ("cello", "strings"),
})  # fmt: skip

MUSICNN_NOT_INSTRUMENTS = (
    "classical", "slow", "techno", "electronic", "rock", "fast", "ambient", "beat", "indian",
    "opera", "no vocals", "loud", "quiet", "no vocal", "pop", "soft", "solo", "classic",
    "new age", "dance", "beats", "no voice", "weird", "country", "metal",
)  # fmt: skip

# AudioSet ontology display names (PANNs Cnn14). AudioSet has no crash/splash/ride classes:
# "Cymbal" covers them. "Speech" is the voice stage's business, not an instrument.
AUDIOSET_INSTRUMENTS = _table({
    # voices that sing
    "Singing": ("vocal", "vocal"),
    "Choir": ("choir", "vocal"),
    "Yodeling": ("yodel", "vocal"),
    "Chant": ("chant", "vocal"),
    "Male singing": ("vocal", "vocal"),
    "Female singing": ("vocal", "vocal"),
    "Child singing": ("vocal", "vocal"),
    "Synthetic singing": ("vocoder", "vocal"),
    "Rapping": ("rap", "vocal"),
    "Humming": ("humming", "vocal"),
    "Beatboxing": ("beatbox", "vocal"),
    "A capella": ("choir", "vocal"),
    # plucked strings
    "Plucked string instrument": ("plucked strings", "guitar"),
    "Guitar": ("guitar", "guitar"),
    "Electric guitar": ("electric guitar", "guitar"),
    "Acoustic guitar": ("acoustic guitar", "guitar"),
    "Steel guitar, slide guitar": ("slide guitar", "guitar"),
    "Tapping (guitar technique)": ("guitar", "guitar"),
    "Strum": ("guitar", "guitar"),
    "Banjo": ("banjo", "guitar"),
    "Sitar": ("sitar", "guitar"),
    "Mandolin": ("mandolin", "guitar"),
    "Zither": ("zither", "guitar"),
    "Ukulele": ("ukulele", "guitar"),
    # bass
    "Bass guitar": ("bass", "bass"),
    "Double bass": ("double bass", "bass"),
    # keys
    "Keyboard (musical)": ("keyboard", "keys"),
    "Piano": ("piano", "keys"),
    "Electric piano": ("electric piano", "keys"),
    "Organ": ("organ", "keys"),
    "Electronic organ": ("organ", "keys"),
    "Hammond organ": ("organ", "keys"),
    "Harpsichord": ("harpsichord", "keys"),
    "Accordion": ("accordion", "keys"),
    # synths
    "Synthesizer": ("synth", "synth"),
    "Sampler": ("sampler", "synth"),
    "Theremin": ("theremin", "synth"),
    # drums and percussion
    "Percussion": ("percussion", "drum"),
    "Drum kit": ("drums", "drum"),
    "Drum machine": ("drum machine", "drum"),
    "Drum": ("drums", "drum"),
    "Snare drum": ("snare", "drum"),
    "Rimshot": ("rimshot", "drum"),
    "Drum roll": ("drum roll", "drum"),
    "Bass drum": ("kick", "drum"),
    "Timpani": ("timpani", "drum"),
    "Tabla": ("tabla", "drum"),
    "Cymbal": ("cymbal", "drum"),
    "Hi-hat": ("hi-hat", "drum"),
    "Wood block": ("wood block", "drum"),
    "Tambourine": ("tambourine", "drum"),
    "Rattle (instrument)": ("rattle", "drum"),
    "Maraca": ("maracas", "drum"),
    "Gong": ("gong", "drum"),
    "Mallet percussion": ("mallets", "drum"),
    "Marimba, xylophone": ("marimba", "drum"),
    "Glockenspiel": ("glockenspiel", "drum"),
    "Vibraphone": ("vibraphone", "drum"),
    "Steelpan": ("steelpan", "drum"),
    # bowed strings
    "Orchestra": ("orchestra", "strings"),
    "Bowed string instrument": ("strings", "strings"),
    "String section": ("strings", "strings"),
    "Violin, fiddle": ("violin", "strings"),
    "Pizzicato": ("pizzicato", "strings"),
    "Cello": ("cello", "strings"),
    "Harp": ("harp", "strings"),
    # brass
    "Brass instrument": ("brass", "brass"),
    "French horn": ("french horn", "brass"),
    "Trumpet": ("trumpet", "brass"),
    "Trombone": ("trombone", "brass"),
    "Didgeridoo": ("didgeridoo", "brass"),
    "Shofar": ("shofar", "brass"),
    # woodwind and other winds
    "Wind instrument, woodwind instrument": ("woodwind", "woodwind"),
    "Flute": ("flute", "woodwind"),
    "Saxophone": ("saxophone", "woodwind"),
    "Clarinet": ("clarinet", "woodwind"),
    "Harmonica": ("harmonica", "woodwind"),
    "Bagpipes": ("bagpipes", "woodwind"),
    # bells and the rest
    "Tubular bells": ("tubular bells", "other"),
    "Bell": ("bell", "other"),
    "Church bell": ("church bell", "other"),
    "Jingle bell": ("sleigh bells", "other"),
    "Chime": ("chimes", "other"),
    "Wind chime": ("wind chimes", "other"),
    "Change ringing (campanology)": ("church bell", "other"),
    "Singing bowl": ("singing bowl", "other"),
    "Scratching (performance technique)": ("turntable scratch", "other"),
    "Whistling": ("whistle", "other"),
})  # fmt: skip


@lru_cache(maxsize=1)
def audioset_labels() -> tuple[str, ...]:
    """AudioSet's 527 display names in model output order, from the shipped CSV."""
    text = (
        resources.files("aimv_backend")
        .joinpath("data", AUDIOSET_LABELS_FILE)
        .read_text(encoding="utf-8")
    )
    rows = list(csv.reader(text.splitlines()))
    if rows[0] != ["index", "mid", "display_name"]:
        raise AssertionError(f"{AUDIOSET_LABELS_FILE}: unexpected header {rows[0]}")
    labels = tuple(row[2] for row in rows[1:])
    if len(labels) != 527 or any(int(row[0]) != i for i, row in enumerate(rows[1:])):
        raise AssertionError(f"{AUDIOSET_LABELS_FILE}: expected indices 0..526")
    return labels
