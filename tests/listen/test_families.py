"""Instrument families: the classifier joins the tagger, so a bass is no longer a guitar."""

from __future__ import annotations

import numpy as np
import pytest

from aimv_backend.listen.families import FAMILIES, FAMILY_WORDS, combine
from aimv_backend.listen.instruments import InstrumentOptions, tag_instruments
from aimv_backend.listen.instruments.labels import MUSICNN_INSTRUMENTS
from aimv_backend.listen.instruments.musicnn_model import MTT_LABELS
from aimv_backend.listen.instruments.selection import select_instruments
from aimv_backend.progress import SilentProgress
from tests.listen._instrument_clips import (
    RecordingProgress,
    part,
    tools_missing,
    windows_of,
    write_clip,
)

needs_synth = pytest.mark.skipif(tools_missing() is not None, reason=str(tools_missing()))


def _family_row(**scores: float) -> np.ndarray:
    return np.array([scores.get(f, 0.01) for f in FAMILIES])


def test_a_confident_family_caps_the_tagger_word_it_contradicts():
    tagger = np.zeros(len(MTT_LABELS))
    tagger[MTT_LABELS.index("guitar")] = 0.92  # musicnn's verdict on a bass line
    tagger[MTT_LABELS.index("vocal")] = 0.30
    row, labels, table = combine(
        tagger, _family_row(bass=0.95, guitar=0.04), labels=MTT_LABELS, table=MUSICNN_INSTRUMENTS
    )
    picked = select_instruments(row, labels=labels, table=table, confidence=0.7)
    words = [g.word for g in picked]
    assert words[0] == "bass" and picked[0].confident and picked[0].category == "bass"
    assert "guitar" not in words[:1] and "vocal" in words  # vocal is no family: left alone
    assert len(labels) == len(MTT_LABELS) + len(FAMILIES)


def test_a_chord_in_the_bass_register_is_not_a_bass():
    """Low piano chords: the family classifier says bass, musicnn piano; basic-pitch hears three
    held notes under E3, which a bass line does not play, so piano comes first and bass goes."""
    from aimv_backend.listen.notes import PlayedNote

    tagger = np.zeros(len(MTT_LABELS))
    tagger[MTT_LABELS.index("piano")] = 0.57
    fam = _family_row(bass=0.74, piano=0.2, synth_pad=0.33)
    chord = (PlayedNote(40, 0.75), PlayedNote(43, 0.73), PlayedNote(36, 0.68))
    line = (PlayedNote(43, 0.46), PlayedNote(36, 0.35), PlayedNote(55, 0.30))  # eighth notes
    kw = {"labels": MTT_LABELS, "table": MUSICNN_INSTRUMENTS}
    words = {}
    for name, notes in (("chord", chord), ("line", line), ("none", None)):
        row, labels, table = combine(tagger, fam, notes=notes, **kw)
        words[name] = [g.word for g in select_instruments(row, labels=labels, table=table)]
    assert words["chord"][0] == "piano" and "bass" not in words["chord"]
    assert words["line"][0] == words["none"][0] == "bass"
    # Chords above the bass register (a band: bass under piano chords) leave the bass alone.
    high = (PlayedNote(60, 0.7), PlayedNote(64, 0.7), PlayedNote(67, 0.7), PlayedNote(36, 0.7))
    row, labels, table = combine(tagger, fam, notes=high, **kw)
    assert select_instruments(row, labels=labels, table=table)[0].word == "bass"


def test_both_synth_families_are_the_word_synth():
    assert FAMILY_WORDS["synth_lead"][1] == FAMILY_WORDS["synth_pad"][1] == "synth"


@needs_synth
@pytest.mark.slow
@pytest.mark.parametrize("instrument, word", [("bass", "bass"), ("organ", "organ")])
def test_a_part_musicnn_has_no_tag_for_is_named(tmp_path, instrument, word):
    info = write_clip(tmp_path, instrument, part(instrument, 8.0))
    windows = windows_of(info)
    options = InstrumentOptions(engine="musicnn", allow_download=False)
    result = tag_instruments(
        audio_info=info, windows=windows, options=options, progress=SilentProgress()
    )
    assert result.family_engine == "family-cnn:families"
    top3 = [[g.word for g in w[:3]] for w in result.windows]
    assert sum(word in t for t in top3) >= 0.75 * len(top3), top3
    plain = tag_instruments(
        audio_info=info,
        windows=windows,
        options=InstrumentOptions(
            engine="musicnn", allow_download=False, families="none", drums="none"
        ),
        progress=SilentProgress(),
    )
    assert all(word not in [g.word for g in w] for w in plain.windows)  # musicnn alone: never


@needs_synth
@pytest.mark.slow
def test_low_piano_chords_are_not_a_bass(tmp_path):
    """The musician's trial: triads between C2 and D3, one each half second, were named a
    confident bass in every window. Where basic-pitch hears the three held notes under E3 (on
    F2 and G2 here; it hardly hears C2 and D2), the family's bass is not believed: the piano
    is in the top three and bass is gone. Before, every window was "bass" first. With no
    notes given (the colour did not hear them), the instruments hear them, and show it."""
    from aimv_testkit.instruments import get_instrument
    from aimv_testkit.midi import Track, render_tracks
    from aimv_testkit.patterns import NoteEvent
    from tests.listen._instrument_clips import RATE

    roots, chords = (36, 41, 43, 38), []
    for k in range(16):
        root, t = roots[(k // 4) % len(roots)], 0.5 * k
        for pitch in (root, root + 4, root + 7):
            chords.append(NoteEvent(pitch, t, t + 0.45, 90))
    track = Track(get_instrument("piano"), tuple(chords))
    audio = render_tracks([track], seconds=8.0, sample_rate=RATE).mean(axis=1)
    info = write_clip(tmp_path, "low_piano", audio)
    options = InstrumentOptions(engine="musicnn", allow_download=False)
    progress = RecordingProgress()
    result = tag_instruments(
        audio_info=info, windows=windows_of(info), options=options, progress=progress
    )
    heard = [[g.word for g in w[:3]] for w in result.windows[2:6]]  # the F2 and G2 triads
    assert all("bass" not in top and "piano" in top for top in heard), heard
    assert ("instruments: notes (basic-pitch)", 1) in progress.tasks
