"""Volume relative to the running average, and the pitch-class colour wheel, on real audio."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
from aimv_backend.listen.colour import nearest_colour_name, pitch_class_hue
from tests.conftest import db_to_amplitude, sine

RATE = 22050


def _analyze(path, **kwargs):
    return analyze_song(path, options=AnalyzeOptions(**kwargs))


def test_a440_gives_the_same_hue_and_name_in_every_window(write_wav):
    timeline = _analyze(write_wav("a440.wav", sine(440, 6.0, RATE), RATE))
    hues = {w.colour.hue for w in timeline.windows}
    names = {w.colour.name for w in timeline.windows}
    assert len(timeline.windows) == 6
    assert len(names) == 1 and max(hues) - min(hues) < 1.0
    assert all(w.colour.source == "pitch" for w in timeline.windows)
    assert all(abs(w.colour.frequency_hz - 440) < 2 for w in timeline.windows)
    # A is 9 semitones above C on the wheel.
    assert abs(timeline.windows[0].colour.hue - 270.0) < 1.0


def test_octaves_share_a_hue_and_other_notes_do_not(write_wav):
    hue = {}
    for freq in (220.0, 440.0, 880.0, 261.63, 329.63):
        tl = _analyze(write_wav(f"f{freq}.wav", sine(freq, 2.0, RATE), RATE))
        hue[freq] = tl.windows[1].colour.hue
    assert abs(hue[880.0] - hue[440.0]) < 1.0 and abs(hue[220.0] - hue[440.0]) < 1.0
    # C and E are four semitones apart: 120 degrees on the wheel.
    assert abs((hue[329.63] - hue[261.63]) % 360 - 120.0) < 2.0
    assert abs(hue[261.63] - hue[440.0]) > 60


def test_a_note_whose_second_harmonic_is_louder_keeps_its_octave(write_wav):
    """A low piano note often sounds its octave louder than its fundamental; the window's
    frequency (and so the colour's shade) is the note's, not an octave up. Found on TimGM6mb
    piano, where 7 of 16 notes of a melody were an octave high."""
    t = np.arange(3 * RATE) / RATE
    c3 = 130.81
    tone = sum(a * np.sin(2 * np.pi * c3 * h * t) for h, a in ((1, 0.5), (2, 1.0), (3, 0.4)))
    audio = (0.2 * tone).astype(np.float32)
    colour = _analyze(write_wav("c3.wav", audio, RATE), colour="spectrum").windows[1].colour
    assert colour.source == "pitch" and colour.frequency_hz == pytest.approx(c3, rel=0.01)


def test_higher_octave_is_a_brighter_shade(write_wav):
    low = _analyze(write_wav("low.wav", sine(110, 2.0, RATE), RATE)).windows[1].colour
    high = _analyze(write_wav("high.wav", sine(1760, 2.0, RATE), RATE)).windows[1].colour
    assert high.value > low.value


def test_noise_takes_its_hue_from_the_spectral_centroid(write_wav):
    rng = np.random.default_rng(1)
    noise = (0.2 * rng.standard_normal(3 * RATE)).astype(np.float32)
    colour = _analyze(write_wav("noise.wav", noise, RATE)).windows[1].colour
    assert colour.source == "centroid"
    assert colour.saturation < 0.6  # noise is greyish, a pure tone vivid
    assert abs(colour.hue - pitch_class_hue(colour.frequency_hz)) < 1.0


def test_window_12_db_above_the_running_average_is_loud(write_wav):
    quiet = db_to_amplitude(-30)
    loud = db_to_amplitude(-18)
    audio = np.concatenate(
        [
            sine(440, 6.0, RATE, amplitude=quiet),
            sine(440, 1.0, RATE, amplitude=loud),
            sine(440, 3.0, RATE, amplitude=quiet),
        ]
    )
    timeline = _analyze(write_wav("burst.wav", audio, RATE))
    w = timeline.windows
    assert w[6].volume.level == "loud"
    assert abs(w[6].volume.relative_db - 12.0) < 0.5
    assert [x.volume.level for x in w[1:6]] == ["normal"] * 5
    assert abs(w[6].volume.rms_dbfs - (-18 - 3.01)) < 0.2  # RMS of a sine is peak - 3 dB


def test_a_drop_after_loud_music_is_quiet(write_wav):
    audio = np.concatenate(
        [sine(440, 5.0, RATE, amplitude=0.5), sine(440, 2.0, RATE, amplitude=0.05)]
    )
    w = _analyze(write_wav("drop.wav", audio, RATE)).windows
    assert w[5].volume.level == "quiet" and w[5].volume.relative_db < -15


def test_silence_is_its_own_case_without_nan_or_infinity(write_wav, tmp_path):
    audio = np.concatenate(
        [
            np.zeros(2 * RATE, np.float32),
            sine(440, 2.0, RATE),
            np.full(RATE, 1e-7, np.float32),
            np.zeros(RATE, np.float32),
        ]
    )
    timeline = _analyze(write_wav("silence.wav", audio, RATE))
    levels = [w.volume.level for w in timeline.windows]
    assert levels == ["silent", "silent", "normal", "normal", "silent", "silent"]
    assert timeline.windows[0].volume.rms_dbfs == -120.0
    assert timeline.windows[0].colour.hex == "#000000"
    assert timeline.windows[2].volume.relative_db == 0.0  # nothing before it to compare with
    from aimv_timeline.schema import timeline_to_dict

    text = json.dumps(timeline_to_dict(timeline), allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="renders a piano")
def test_a_pianissimo_opening_of_a_quiet_song_is_music_and_its_hiss_is_not(write_wav):
    """An unmastered take (forte at -33 dBFS RMS) opening pianissimo near -62 dBFS: the
    opening was "silent" under the fixed -60 dBFS rule, with no beats and no colour. Silence
    now follows the song's loudest window (35 dB under it, at most -60 and at least -80),
    and the hiss before the playing (-72 dBFS) stays silence."""
    from aimv_testkit.instruments import get_instrument
    from aimv_testkit.midi import Track, render_tracks
    from aimv_testkit.patterns import NoteEvent

    notes = [NoteEvent(60 + 7 * (i % 2), 0.5 * i, 0.5 * i + 0.45, 80) for i in range(12)]
    track = Track(get_instrument("piano"), tuple(notes))
    forte = render_tracks([track], seconds=6.0, sample_rate=RATE).mean(axis=1)
    forte *= db_to_amplitude(-33) / float(np.sqrt(np.mean(forte**2)))
    hiss = np.random.default_rng(0).standard_normal(3 * RATE).astype(np.float32)
    opening = forte * db_to_amplitude(-29)  # the same playing, 29 dB softer: -62 dBFS
    audio = np.concatenate([hiss * db_to_amplitude(-72), opening, forte]).astype(np.float32)
    timeline = _analyze(write_wav("pp.wav", audio, RATE))
    levels = [w.volume.level for w in timeline.windows]
    assert levels[:3] == ["silent"] * 3, levels
    soft = timeline.windows[3:9]
    assert max(w.volume.rms_dbfs for w in soft) < -60  # silence under the old rule
    assert "silent" not in levels[3:], levels
    assert all(w.colour.frequency_hz for w in soft)
    beats = [b for b in timeline.rhythm.beats if 3.0 <= b < 9.0]
    assert len(beats) >= 5, timeline.rhythm.beats  # none or one under the old rule


def test_hiss_alone_stays_silence_and_a_threshold_given_is_kept(write_wav):
    """Room tone with nothing over it (-70 dBFS, 8 s) is not a quiet song: it stays silence,
    black, without a beat; the silence rule lowers itself only under music. And a silence
    threshold set in VolumeOptions is the caller's own, not lowered for a quiet song."""
    from aimv_backend.listen.volume import VolumeOptions

    hiss = np.random.default_rng(1).standard_normal(8 * RATE).astype(np.float32)
    timeline = _analyze(write_wav("hiss.wav", hiss * db_to_amplitude(-70), RATE))
    assert {w.volume.level for w in timeline.windows} == {"silent"}
    assert {w.colour.hex for w in timeline.windows} == {"#000000"}
    assert not timeline.rhythm.beats
    loud_then_soft = np.concatenate(
        [sine(440, 3.0, RATE, amplitude=0.5), sine(440, 3.0, RATE, amplitude=db_to_amplitude(-39))]
    )
    own = VolumeOptions(silence_dbfs=-40.0)  # the soft part is at -42 dBFS RMS
    levels = [
        w.volume.level
        for w in _analyze(write_wav("own.wav", loud_then_soft, RATE), volume=own).windows
    ]
    assert levels[3:] == ["silent"] * 3, levels


def test_last_partial_window_keeps_its_true_end(write_wav):
    timeline = _analyze(write_wav("p.wav", sine(440, 3.4, RATE), RATE))
    assert [(w.start, w.end) for w in timeline.windows][-1] == (3.0, pytest.approx(3.4, abs=1e-4))
    timeline = _analyze(write_wav("q.wav", sine(440, 3.0, RATE), RATE), window_seconds=0.25)
    assert len(timeline.windows) == 12 and timeline.windows[5].start == 1.25


def test_colour_names_are_nearest_in_cielab():
    # Exact XKCD entries map to themselves, near neighbours to the closest entry.
    assert nearest_colour_name("#e50000") == "red"
    assert nearest_colour_name("#e40204") == "red"
    assert nearest_colour_name("#0343df") == "blue"
    assert nearest_colour_name("#ff0000") == "fire engine red"  # xkcd's #fe0002
    assert nearest_colour_name("#000000") == "black"


def test_colour_names_never_name_bodily_fluids():
    # xkcd's "puke" (#a5a502) and "snot" (#acbb0d) would end up in the image prompts.
    assert nearest_colour_name("#a5a502") not in {"puke", "snot", "vomit", "booger"}
    assert nearest_colour_name("#acbb0d") != "snot"


def test_a_few_stray_samples_join_the_last_window(write_wav):
    audio = np.concatenate([sine(440, 2.0, RATE), sine(440, 3 / RATE, RATE)])
    timeline = _analyze(write_wav("stray.wav", audio, RATE))
    assert len(timeline.windows) == 2
    assert timeline.windows[-1].end == pytest.approx(2.0 + 3 / RATE, abs=1e-6)


def test_a_dc_offset_changes_neither_the_colour_nor_the_level(write_wav):
    """A constant offset is inaudible: the played note and the level stay those of the music."""
    music = sine(220.0, 4.0, RATE) + sine(440.0, 4.0, RATE, amplitude=0.15)
    plain = _analyze(write_wav("plain.wav", music, RATE))
    shifted = _analyze(write_wav("dc.wav", music + np.float32(0.4), RATE))
    assert [w.colour.name for w in shifted.windows] == [w.colour.name for w in plain.windows]
    assert all(w.colour.source == "pitch" for w in shifted.windows)
    assert all(abs(w.colour.frequency_hz - 220.0) < 3 for w in shifted.windows)
    for a, b in zip(plain.windows, shifted.windows, strict=True):
        assert b.volume.rms_dbfs == pytest.approx(a.volume.rms_dbfs, abs=0.1)
        assert b.volume.peak_dbfs > a.volume.peak_dbfs  # the samples' own peak, DC included


def test_a_clipped_16_bit_file_peaks_at_full_scale_not_above(write_wav, tmp_path):
    import soundfile as sf

    loud = np.clip(8.0 * (sine(220.0, 3.0, RATE) + 0.1), -1.0, 1.0)  # brick-walled, lopsided
    path = tmp_path / "clipped.wav"
    sf.write(path, loud, RATE, subtype="PCM_16")
    peaks = [w.volume.peak_dbfs for w in _analyze(path).windows]
    assert max(peaks) <= 0.0 and min(peaks) > -0.1


def test_a_song_far_under_full_scale_gets_one_line_saying_to_normalise_it(write_wav):
    from aimv_backend.progress import SilentProgress

    class Notices(SilentProgress):
        def __init__(self):
            self.said = []

        def notice(self, message):
            self.said.append(message)

    music = sine(220.0, 3.0, RATE)  # peaks at -10.5 dBFS
    said = {}
    for gain_db in (-40.0, 0.0):
        heard = Notices()
        quiet = write_wav(
            f"q{-int(gain_db)}.wav", music * np.float32(db_to_amplitude(gain_db)), RATE
        )
        analyze_song(quiet, options=AnalyzeOptions(), progress=heard)
        said[gain_db] = [m for m in heard.said if "normalise" in m]
    assert said[0.0] == []
    assert len(said[-40.0]) == 1 and "peaks at -50 dBFS" in said[-40.0][0]
