"""Drum hits and kit pieces: which piece of the kit is struck, when, in each window.

``listen_drums`` finds onsets in the song (librosa spectral flux on a 64-band mel spectrogram),
scores a 0.4 s patch at each with a small CNN trained on General MIDI drum kits rendered from
soundfonts (with a "not a drum" target for melodic notes), and keeps the onsets that pass the
drum gate, or the kit-relative gate (kit.py: a weaker onset that sounds like several of the
song's own gated hits, or falls among several of them). ``merge_pieces`` puts the pieces into
a window's instrument list, so a crash window says "crash". See docs/instruments.md ("Drum
pieces").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aimv_backend.errors import ParameterError
from aimv_backend.listen.drums import features
from aimv_backend.listen.drums.detect import (
    DEFAULT_GATE,
    DEFAULT_KIT_GATE,
    DEFAULT_ONSET_DELTA,
    DEFAULT_PIECE_THRESHOLD,
    MODEL_NAME,
    score_onsets,
)
from aimv_backend.listen.drums.kit import KitGateOptions
from aimv_backend.listen.drums.pieces import DRUM_PIECES, PIECE_WORDS
from aimv_timeline.schema import Hit, InstrumentGuess

ENGINE_NAME = f"kit-cnn:{MODEL_NAME}"
GENERIC_DRUM_WORDS = frozenset({"drums", "drum", "drum kit"})
MAX_PIECE_WORDS = 2  # slots of three a window's drum pieces may take
# A non-drum guess scoring this much is an instrument playing, not noise. Where two or more
# play (a band: bass, piano, a melody over the drums), the pieces take one place, not two, so
# the second melodic instrument is not pushed out by a runner-up hi-hat or kick. On drums alone
# the tagger and families hardly reach it, and the pieces keep their two places.
BAND_FLOOR = 0.2
# Which confident piece a window names first when several are struck: the rarer, more
# telling sound (a crash over the hi-hat that plays all the time).
SALIENCE = ("crash", "splash", "ride", "clap", "rimshot", "tom", "snare", "kick", "hi-hat")

__all__ = [
    "ENGINE_NAME",
    "DrumResult",
    "check_drum_thresholds",
    "listen_drums",
    "merge_pieces",
]


@dataclass(frozen=True)
class DrumResult:
    """hits: per window, the hits inside it (time ascending).

    piece_scores: per window, the best score of each piece word ("crash", "tom") over the
    window's gated onsets; empty for windows without drums.
    """

    hits: tuple[tuple[Hit, ...], ...]
    piece_scores: tuple[dict[str, float], ...]


def check_drum_thresholds(*, gate: float, piece_threshold: float) -> None:
    for name, value in (("drum_gate", gate), ("drum_piece_threshold", piece_threshold)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or not 0.0 < value <= 1.0:
            raise ParameterError(f"{name} must be a number in (0, 1], got {value!r}")


def listen_drums(
    *,
    audio: np.ndarray | None = None,
    mel: np.ndarray | None = None,
    spans: Sequence[tuple[float, float]],
    active: Sequence[bool],
    gate: float = DEFAULT_GATE,
    piece_threshold: float = DEFAULT_PIECE_THRESHOLD,
    onset_delta: float = DEFAULT_ONSET_DELTA,
    kit_gate: KitGateOptions | None = DEFAULT_KIT_GATE,
) -> DrumResult:
    """Drum hits of mono ``audio`` at features.RATE (22050 Hz), grouped by window.

    ``mel`` (features.power_mel of that audio) may be given instead of ``audio``.
    spans: (start, end) seconds of each window; inactive (silent) windows get no hits. A hit's
    time is absolute song time in seconds; a window holds the hits with start <= time < end.
    kit_gate: the kit-relative gate's settings, its busy rule included (None: the per-hit gate
    alone). An onset it passes keeps its best piece at the score the classifier gave (under
    the gate).
    """
    check_drum_thresholds(gate=gate, piece_threshold=piece_threshold)
    if mel is None:
        if audio is None:
            raise ParameterError("listen_drums needs audio or mel")
        mel = features.power_mel(audio)
    onsets = score_onsets(mel, gate=gate, onset_delta=onset_delta, kit=kit_gate)
    starts = np.array([s for s, _ in spans], dtype=np.float64)
    which = np.searchsorted(starts, onsets.times, side="right") - 1
    hits: list[list[Hit]] = [[] for _ in spans]
    scores: list[dict[str, float]] = [{} for _ in spans]
    for t, w, probs in zip(onsets.times, which, onsets.scores, strict=True):
        if w < 0 or not active[w] or t >= spans[w][1]:
            continue
        best = scores[w]
        for c, piece in enumerate(DRUM_PIECES):
            p = round(float(probs[c]), 4)
            word = PIECE_WORDS[piece]
            best[word] = max(best.get(word, 0.0), p)
            if p >= piece_threshold:
                hits[w].append(Hit(time=round(float(t), 4), piece=piece, score=p))
        if not any(h.time == round(float(t), 4) for h in hits[w]):
            c = int(np.argmax(probs))  # the gate passed: the onset keeps its best piece
            hits[w].append(
                Hit(time=round(float(t), 4), piece=DRUM_PIECES[c], score=round(float(probs[c]), 4))
            )
    return DrumResult(tuple(tuple(h) for h in hits), tuple(scores))


def merge_pieces(
    guesses: Sequence[InstrumentGuess],
    piece_scores: dict[str, float],
    *,
    confidence: float,
    fill_to: int = 3,
    floor: float = 0.02,
) -> tuple[InstrumentGuess, ...]:
    """A window's instruments with its drum pieces in them (the design's 70 % rule again).

    The pieces (at most MAX_PIECE_WORDS words: confident ones by SALIENCE, then the best
    runner-ups; one word when two or more non-drum guesses score BAND_FLOOR or more) join the
    tagger's guesses. When a piece is confident, the tagger's generic "drums" goes: the piece
    says more. Without a confident piece, "drums" stays and pieces are only runner-ups.
    """
    confident = [w for w, s in piece_scores.items() if s >= confidence]
    confident.sort(key=lambda w: SALIENCE.index(w) if w in SALIENCE else len(SALIENCE))
    rest = sorted((w for w in piece_scores if w not in confident), key=lambda w: -piece_scores[w])
    playing = sum(1 for g in guesses if not _generic_drums(g) and g.score >= BAND_FLOOR)
    places = max(1, min(MAX_PIECE_WORDS, fill_to - playing))
    chosen = (confident + rest)[:places]
    pool = [g for g in guesses if not (confident and _generic_drums(g))]
    words = {g.word for g in pool}
    for w in chosen:
        if w not in words:
            s = piece_scores[w]
            pool.append(InstrumentGuess(_label(w), w, "drum", s, s >= confidence))
    pool.sort(key=lambda g: -g.score)
    out = [g for g in pool if g.confident]
    for g in pool:
        if len(out) >= fill_to:
            break
        if not g.confident and g.score >= floor:
            out.append(g)
    return tuple(out)


def _generic_drums(guess: InstrumentGuess) -> bool:
    """Whether the tagger's guess is plain "drums" (no piece named)."""
    return guess.word.strip().lower() in GENERIC_DRUM_WORDS


def _label(word: str) -> str:
    """The stored label of a piece word: the schema's piece name ("hi-hat" -> "hihat")."""
    return "hihat" if word == "hi-hat" else word
