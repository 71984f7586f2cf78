"""The General MIDI parts the generator knows, and the labels a listener should hear in each.

Names are what tests and benches ask for (``render_part(instrument="cello")``); ``labels`` are
the words a tagger is expected to produce for that part (MagnaTagATune/AudioSet vocabulary),
so accuracy harnesses can score guesses without their own lookup tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from aimv_backend.errors import ParameterError

# Roles decide the musical pattern a part plays (see patterns.py).
ROLES = ("arpeggio", "strum", "pad", "melody", "bass", "root", "stabs", "drums")


@dataclass(frozen=True)
class InstrumentDef:
    """One renderable part: GM program (0-based), role, register and expected labels."""

    name: str
    program: int
    role: str
    octave: int = 4
    is_drum: bool = False
    drum_notes: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    family: str = ""


def _i(name, program, role, octave, labels, family):
    return InstrumentDef(name, program, role, octave, False, (), tuple(labels), family)


def _d(name, notes, labels):
    return InstrumentDef(name, 0, "drums", 0, True, tuple(notes), tuple(labels), "drums")


INSTRUMENTS: dict[str, InstrumentDef] = {
    d.name: d
    for d in (
        _i("piano", 0, "arpeggio", 4, ("piano",), "piano"),
        _i("electric_piano", 4, "arpeggio", 4, ("piano", "electric piano", "keyboard"), "piano"),
        _i("acoustic_guitar", 25, "strum", 3, ("guitar", "acoustic guitar"), "guitar"),
        _i("electric_guitar", 27, "strum", 3, ("guitar", "electric guitar"), "guitar"),
        _i("distortion_guitar", 30, "stabs", 3, ("guitar", "electric guitar", "rock"), "guitar"),
        _i("harp", 46, "arpeggio", 4, ("harp", "harpsichord"), "harp"),
        _i("violin", 40, "melody", 5, ("violin", "fiddle", "strings"), "strings"),
        _i("cello", 42, "root", 3, ("cello", "strings"), "strings"),
        _i("strings", 48, "pad", 4, ("strings", "violin", "orchestra"), "strings"),
        _i("flute", 73, "melody", 5, ("flute", "wind"), "wind"),
        _i("synth_pad", 89, "pad", 4, ("synth", "synthesizer", "ambient"), "synth"),
        _i("synth_lead", 81, "melody", 5, ("synth", "synthesizer", "electronic"), "synth"),
        _i("bass", 33, "bass", 2, ("bass", "bass guitar", "guitar"), "bass"),
        _i("organ", 16, "pad", 4, ("organ",), "organ"),
        _i("choir", 52, "pad", 4, ("choir", "choral", "vocal", "voice"), "choir"),
        _i("trumpet", 56, "melody", 4, ("trumpet", "brass"), "brass"),
        _i("brass", 61, "stabs", 4, ("brass", "trumpet", "horns"), "brass"),
        _i("saxophone", 65, "melody", 4, ("saxophone", "sax", "jazz"), "wind"),
        _d("drum_kit", (36, 38, 42, 49, 45, 47, 50), ("drums", "drum kit", "beat", "percussion")),
        _d("kick", (36,), ("kick", "bass drum", "drums")),
        _d("snare", (38,), ("snare", "snare drum", "drums")),
        _d("hihat", (42,), ("hi-hat", "hihat", "cymbal", "drums")),
        _d("crash", (49,), ("crash", "cymbal", "drums")),
        _d("splash", (55,), ("splash", "cymbal", "drums")),
        _d("ride", (51,), ("ride", "cymbal", "drums")),
        _d("rimshot", (37,), ("rimshot", "snare", "drums")),
        _d("tom", (50, 48, 47, 45, 43, 41), ("tom", "drums", "percussion")),
    )
}

ALIASES = {
    "guitar": "acoustic_guitar",
    "grand_piano": "piano",
    "string_ensemble": "strings",
    "pad": "synth_pad",
    "lead": "synth_lead",
    "electric_bass": "bass",
    "choir_aahs": "choir",
    "drums": "drum_kit",
    "hi_hat": "hihat",
    "hi-hat": "hihat",
    "closed_hihat": "hihat",
    "side_stick": "rimshot",
    "toms": "tom",
    "sax": "saxophone",
}


def instrument_names() -> tuple[str, ...]:
    """Every canonical part name, in a stable order."""
    return tuple(INSTRUMENTS)


def get_instrument(name: str) -> InstrumentDef:
    """Look up a part by name or alias (case-insensitive; spaces and dashes as underscores)."""
    if not isinstance(name, str):
        raise ParameterError(f"instrument must be a name, got {name!r}")
    key = name.strip().lower().replace(" ", "_")
    key = ALIASES.get(key, key).replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in INSTRUMENTS:
        known = ", ".join(instrument_names())
        raise ParameterError(f"instrument must be one of {known}; got {name!r}")
    return INSTRUMENTS[key]
