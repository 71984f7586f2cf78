"""Colour from the played notes (basic-pitch) on rendered parts; a sub-bass drone is ignored."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
from aimv_backend.listen.colour import _named_colours, is_neutral_colour_name, pitch_class_hue
from aimv_backend.listen.notes import notes_available, window_notes
from aimv_backend.listen.windows import make_windows
from aimv_testkit import write_audio

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="fluidsynth is needed to render parts"
)
needs_basic_pitch = pytest.mark.skipif(not notes_available(), reason="basic-pitch not installed")


def _melody(seconds=8.0):
    from aimv_testkit import get_instrument, make_harmony, render_part
    from aimv_testkit.patterns import part_notes

    harmony = make_harmony(seed=4, bpm=60.0, key="D")
    audio = render_part(instrument="flute", seconds=seconds, harmony=harmony, seed=4)
    notes = part_notes(get_instrument("flute"), harmony=harmony, seconds=seconds, seed=4)
    return audio, notes


def _sounding(notes, a, b):
    """Pitch classes of the notes sounding in the middle of [a, b)."""
    m = 0.5 * (a + b)
    return {n.pitch % 12 for n in notes if n.start <= m + 0.2 and n.end >= m - 0.2}


@needs_fluidsynth
@needs_basic_pitch
def test_basic_pitch_hears_the_played_note():
    audio, notes = _melody()
    windows = make_windows(frames=audio.shape[0], sample_rate=22050, window_seconds=1.0)
    found = window_notes(audio=audio, sample_rate=22050, windows=windows)
    right = sum(
        bool(played) and played[0].midi % 12 in _sounding(notes, w.start, w.end)
        for w, played in zip(windows, found, strict=True)
    )
    assert right >= 0.75 * len(windows), found


@needs_fluidsynth
@pytest.mark.parametrize("colour", ["notes", "spectrum"])
def test_a_30_hz_drone_under_a_melody_does_not_set_the_colour(tmp_path, colour):
    if colour == "notes" and not notes_available():
        pytest.skip("basic-pitch not installed")
    audio, notes = _melody()
    t = np.arange(audio.shape[0]) / 22050
    drone = 0.5 * np.sin(2 * np.pi * 30.0 * t).astype(np.float32)  # far louder than the flute
    mix = 0.3 * audio / np.abs(audio).max() + drone
    path = write_audio(tmp_path / "drone.wav", mix.astype(np.float32), 22050)
    timeline = analyze_song(path, options=AnalyzeOptions(colour=colour, rhythm=None))
    drone_hue = pitch_class_hue(30.0)
    for w in timeline.windows:
        assert w.colour.frequency_hz is not None and w.colour.frequency_hz >= 60.0
    if colour == "notes":
        hues = {round(pitch_class_hue(440 * 2 ** ((p - 69) / 12))) for p in range(60, 96)}
        melodic = [
            w
            for w in timeline.windows
            if any(
                abs(w.colour.hue - pitch_class_hue(440 * 2 ** ((p + 60 - 69) / 12))) < 1
                for p in _sounding(notes, w.start, w.end)
            )
        ]
        assert len(melodic) >= 0.75 * len(timeline.windows)
        assert hues  # the wheel is defined for every note
    assert sum(abs(w.colour.hue - drone_hue) < 5 for w in timeline.windows) <= 2


def test_colour_names_in_prompts_are_neutral():
    names, _ = _named_colours()
    assert "ugly brown" not in names and "boring green" not in names
    assert all(is_neutral_colour_name(n) for n in names)
    assert not is_neutral_colour_name("sickly yellow") and is_neutral_colour_name("teal")
