"""The drum-kit pieces AIMV tells apart, their General MIDI notes and the words they become."""

from __future__ import annotations

from aimv_timeline.schema import DRUM_PIECES

__all__ = ["DRUM_PIECES", "GM_DRUM_NOTES", "PIECE_WORDS", "PIECE_GROUPS", "piece_group"]

# General MIDI percussion key map (channel 10) -> piece.
GM_DRUM_NOTES: dict[int, str] = {
    35: "kick",
    36: "kick",
    38: "snare",
    40: "snare",
    37: "rimshot",
    39: "clap",
    42: "hihat_closed",
    44: "hihat_closed",
    46: "hihat_open",
    49: "crash",
    57: "crash",
    55: "splash",
    51: "ride",
    59: "ride",
    50: "tom_high",
    48: "tom_high",
    47: "tom_mid",
    45: "tom_mid",
    43: "tom_floor",
    41: "tom_floor",
}

# The word a piece takes in the instrument list and the sentence ("Drum stick strikes the
# Crash"); the three toms and the two hi-hats share a word.
PIECE_WORDS = {
    "kick": "kick",
    "snare": "snare",
    "rimshot": "rimshot",
    "hihat_closed": "hi-hat",
    "hihat_open": "hi-hat",
    "crash": "crash",
    "splash": "splash",
    "ride": "ride",
    "tom_high": "tom",
    "tom_mid": "tom",
    "tom_floor": "tom",
    "clap": "clap",
}

# Coarse groups for the accuracy figures (a floor tom called a mid tom is still a tom).
PIECE_GROUPS = {
    "hihat_closed": "hihat",
    "hihat_open": "hihat",
    "tom_high": "tom",
    "tom_mid": "tom",
    "tom_floor": "tom",
}


def piece_group(piece: str) -> str:
    """The coarse group of a piece ("tom" for every tom, "hihat" for both hi-hats)."""
    return PIECE_GROUPS.get(piece, piece)
