"""The keying maths without Blender: timeline in, (frame, value) keys out."""

from __future__ import annotations

import dataclasses

import pytest

from aimv_blender import keying
from aimv_timeline import schema as ts
from tests.blender import fixtures


@pytest.fixture(scope="module")
def timeline(tmp_path_factory) -> ts.Timeline:
    return ts.read_timeline(fixtures.make_timeline(tmp_path_factory.mktemp("k"), textures=True))


def evaluate(keys, frame):
    """Piecewise-linear value of LINEAR keys at ``frame`` (independent of keying._interp)."""
    for (f0, v0), (f1, v1) in zip(keys, keys[1:], strict=False):
        if f0 <= frame <= f1:
            return v0 + (v1 - v0) * (frame - f0) / (f1 - f0)
    return keys[0][1] if frame < keys[0][0] else keys[-1][1]


def evaluate_channel(channel, frame):
    """What Blender shows for a channel at ``frame`` (CONSTANT keys hold, LINEAR ones ramp)."""
    keys, interps = channel.keys, channel.interpolations()
    for (f0, v0), (f1, v1), how in zip(keys, keys[1:], interps, strict=False):
        if f0 <= frame < f1:
            return v0 if how == "CONSTANT" else v0 + (v1 - v0) * (frame - f0) / (f1 - f0)
    return keys[0][1] if frame < keys[0][0] else keys[-1][1]


def test_hex_to_linear_uses_the_srgb_curve():
    assert keying.hex_to_linear_rgb("#000000") == (0.0, 0.0, 0.0)
    assert keying.hex_to_linear_rgb("#ffffff") == pytest.approx((1.0, 1.0, 1.0))
    r, g, b = keying.hex_to_linear_rgb("#808080")
    assert r == pytest.approx(0.2158605, abs=1e-6)  # sRGB 128 is ~21.6 % linear light
    with pytest.raises(ValueError, match="#rrggbb"):
        keying.hex_to_linear_rgb("#12345")


def test_window_spans_touch_and_cover_the_song(timeline):
    spans = keying.window_frames(timeline, 12)
    assert [(s.start, s.end) for s in spans] == [(1, 13), (13, 25), (25, 37), (37, 49)]
    assert [s.middle for s in spans] == [6, 18, 30, 42]


def test_a_frame_rate_too_low_for_the_windows_is_a_user_error_named_by_their_length(timeline):
    """The windows' real lengths count, not the nominal window_seconds (a hand edit, or beat
    windows): 1 s windows are fine at 2 fps even when window_seconds says 0.001."""
    from aimv_timeline.errors import AimvError

    edited = dataclasses.replace(timeline, window_seconds=0.001)
    assert len(keying.window_frames(edited, 2)) == len(timeline.windows)
    eighths = tuple(
        dataclasses.replace(w, start=w.start / 8, end=w.end / 8) for w in timeline.windows
    )
    short = dataclasses.replace(timeline, windows=eighths, window_seconds=0.125)
    with pytest.raises(AimvError, match="less than one frame per window") as err:
        keying.window_frames(short, 4)
    assert "--fps 4" in str(err.value) and "0.125 s" in str(err.value)
    assert isinstance(err.value, ValueError)
    assert len(keying.window_frames(short, 8)) == len(timeline.windows)


@pytest.mark.parametrize(("fps", "step", "frames"), [(4, 0.25, 29), (1, 1.0, 7), (24, 1.0, 175)])
def test_the_scene_lasts_the_song_within_half_a_frame_at_any_frame_rate(
    timeline, fps, step, frames
):
    """A 7.3 s song cut in windows of ``step`` s: its last, short window (7.25-7.3 s at 4 fps)
    gets no frame of its own; the video must not run past the song by more than half a frame."""
    edges = [i * step for i in range(int(7.3 / step) + 1)] + [7.3]
    template = timeline.windows[0]
    windows = tuple(
        dataclasses.replace(template, index=i, start=a, end=b, voice=None, hits=None)
        for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False))
    )
    song = dataclasses.replace(
        timeline,
        source=dataclasses.replace(timeline.source, duration=7.3),
        windows=windows,
        window_seconds=max(step, 0.25),
        rhythm=None,
        clips=(),
    )
    keys = keying.build_keys(song, keying.KeyingOptions(fps=fps))
    assert keys.frame_end - keys.frame_start + 1 == frames
    assert abs(frames / fps - 7.3) <= 0.5 / fps


@pytest.mark.parametrize("fps", [12, 24, 30])
def test_colour_holds_each_window_colour_and_blends_from_the_boundary_on(timeline, fps):
    keys = keying.build_keys(timeline, keying.KeyingOptions(fps=fps, crossfade=0.25))
    red = keys.channel("colour", 0).keys
    for span, window in zip(keys.windows, timeline.windows, strict=True):
        want = keying.hex_to_linear_rgb(window.colour.hex)[0]
        assert evaluate(red, span.middle) == pytest.approx(want)
    # the frame before a boundary still shows the old window; the blend starts on the boundary
    b = keys.windows[3].start
    blue, yellow = (keying.hex_to_linear_rgb(w.colour.hex)[0] for w in timeline.windows[2:4])
    assert evaluate(red, b - 1) == pytest.approx(blue)
    assert blue < evaluate(red, b) < yellow
    assert evaluate(red, b + round(0.25 * fps) - 1) == pytest.approx(yellow)


def test_louder_windows_drive_harder():
    def vol(rms, rel, level="normal"):
        return ts.Volume(rms_dbfs=rms, peak_dbfs=rms, relative_db=rel, level=level)

    assert keying.volume_drive(vol(-120, 0, "silent")) == 0.0
    assert keying.volume_drive(vol(-6, 6, "loud")) > keying.volume_drive(vol(-6, 0))
    assert keying.volume_drive(vol(-6, 0)) > keying.volume_drive(vol(-30, 0))
    assert keying.volume_drive(vol(-30, -12, "quiet")) < 0.2


def test_camera_moves_more_when_loud_and_punches_on_loud_onsets(timeline):
    keys = keying.build_keys(timeline, keying.KeyingOptions(fps=24, crossfade=0.0))
    x = dict(keys.channel("camera.location", 0).keys)
    y = dict(keys.channel("camera.location", 1).keys)

    def travel(span):
        frames = [f for f in sorted(x) if span.start <= f < span.end]
        return sum(abs(x[b] - x[a]) for a, b in zip(frames, frames[1:], strict=False))

    travels = [travel(s) for s in keys.windows]
    assert travels[0] > 3 * travels[1] and travels[3] > 3 * travels[1]
    # the loud yellow window (after a normal one) is an onset: the camera punches forward on
    # its first frame, not before, and the punch is gone within a second
    punch = keys.channel("camera.punch", 0).keys
    start = keys.windows[3].start
    assert evaluate(punch, start - 1) == pytest.approx(0.0, abs=0.01)
    assert evaluate(punch, start) > 0.2
    assert evaluate(punch, start + 21) == pytest.approx(0.0, abs=0.02)
    still = keying.build_keys(timeline, keying.KeyingOptions(fps=24, hit_strength=0.0))
    assert not [c for c in still.channels if c.name == "camera.punch"]

    # push-in: on average the camera is closer to the background (larger y) in loud windows
    def mean_y(span):
        ys = [v for f, v in y.items() if span.start <= f < span.end]
        return sum(ys) / len(ys)

    assert mean_y(keys.windows[0]) > mean_y(keys.windows[1]) + 0.5


def test_same_seed_same_motion_other_seed_other_motion(timeline):
    a = keying.build_keys(timeline, keying.KeyingOptions(seed=1))
    b = keying.build_keys(timeline, keying.KeyingOptions(seed=1))
    c = keying.build_keys(timeline, keying.KeyingOptions(seed=2))
    assert a == b
    assert a.channel("camera.location", 0) != c.channel("camera.location", 0)


def test_markers_for_windows_and_words(timeline):
    keys = keying.build_keys(timeline, keying.KeyingOptions(fps=10))
    names = {m.name: m.frame for m in keys.markers}
    assert names["AIMV 0 red"] == 1 and names["AIMV 3 yellow"] == 31
    assert names["AIMV \u266a hello"] == 3 and names["AIMV \u266a world"] == 32
    assert all(keying.AIMV_MARKER.match(name) for name in names)  # what a rebuild replaces
    assert not keying.AIMV_MARKER.match("AIMV chorus")  # an artist's marker stays


def test_texture_swap_keys_and_crossfade_start_at_the_boundary(timeline):
    keys = keying.build_keys(timeline, keying.KeyingOptions(fps=12, crossfade=0.25))
    a = keys.channel("texture.current")
    b = keys.channel("texture.next")
    # 3 frames of blend from the boundary (frame 13): the current texture switches on 15
    assert a.keys == ((1, 0), (15, 1), (27, 2), (39, 3))
    assert b.keys == ((1, 1), (15, 2), (27, 3), (39, 3))
    assert set(a.interpolations()) == {"CONSTANT"}
    mix = keys.channel("crossfade")
    values = dict(mix.keys)
    assert evaluate_channel(mix, 12) == 0.0  # the last frame of window 0 shows only texture 0
    assert values[13.0] == pytest.approx(1 / 3) and values[14.0] == pytest.approx(2 / 3)
    assert values[15.0] == 0.0


def test_downbeats_hard_cut(timeline):
    beat = dataclasses.replace(
        timeline, rhythm=ts.Rhythm(tempo_bpm=120.0, beats=(1.25, 1.75), downbeats=(1.25,))
    )
    keys = keying.build_keys(beat, keying.KeyingOptions(fps=12, crossfade=0.25))
    a = dict(keys.channel("texture.current").keys)
    assert a[keying.time_to_frame(1.25, 12)] == 1  # the cut waits for the downbeat
    assert keys.transitions[0].on_downbeat and keys.transitions[0].frames == 1
    assert not keys.transitions[1].on_downbeat


def test_beats_cut_into_loud_windows_and_quiet_ones_crossfade(timeline):
    """Without a downbeat near a boundary, the picture cuts on the first beat of the next
    window, as an editor cuts a music video; a quiet window still fades in."""
    beat = dataclasses.replace(
        timeline, rhythm=ts.Rhythm(tempo_bpm=60.0, beats=(1.25, 2.25, 3.25), downbeats=())
    )
    keys = keying.build_keys(beat, keying.KeyingOptions(fps=12, crossfade=0.25))
    into_quiet, into_normal, into_loud = keys.transitions
    assert [w.volume.level for w in beat.windows[1:]] == ["quiet", "normal", "loud"]
    assert into_quiet.frames == 3 and into_quiet.start == keying.time_to_frame(1.0, 12)
    for cut, t in ((into_normal, 2.25), (into_loud, 3.25)):
        assert cut.frames == 1 and not cut.on_downbeat
        assert cut.start == keying.time_to_frame(t, 12)  # on the beat, not on the boundary
    current = keys.channel("texture.current")
    assert evaluate_channel(current, keying.time_to_frame(2.25, 12) - 1) == 1
    assert evaluate_channel(current, keying.time_to_frame(2.25, 12)) == 2


def test_windows_without_texture_reuse_the_previous_one(timeline):
    windows = list(timeline.windows)
    windows[2] = dataclasses.replace(windows[2], texture=None)
    gap = dataclasses.replace(timeline, windows=tuple(windows))
    assert keying.texture_numbers(gap) == [0, 1, 1, 3]
    none = dataclasses.replace(
        timeline, windows=tuple(dataclasses.replace(w, texture=None) for w in timeline.windows)
    )
    assert keying.texture_numbers(none) == [None] * 4
    names = {c.name for c in keying.build_keys(none, keying.KeyingOptions()).channels}
    assert not names & {"texture.current", "texture.next", "crossfade"}


def test_long_song_stays_light():
    windows = tuple(
        ts.Window(
            index=i,
            start=float(i),
            end=float(i + 1),
            volume=ts.Volume(
                rms_dbfs=-20.0, peak_dbfs=-10.0, relative_db=float(i % 7 - 3), level="normal"
            ),
            colour=ts.Colour(
                hex="#336699",
                name="blue",
                hue=210.0,
                saturation=0.5,
                value=0.6,
                frequency_hz=440.0,
                source="pitch",
            ),
        )
        for i in range(600)
    )
    tl = ts.Timeline(
        source=ts.Source(
            path="/x.wav",
            sha256="0",
            duration=600.0,
            sample_rate=44100,
            channels=2,
            frames=600 * 44100,
        ),
        window_seconds=1.0,
        windows=windows,
    )
    keys = keying.build_keys(tl, keying.KeyingOptions(fps=24))
    assert keys.frame_end == 600 * 24
    assert max(len(c.keys) for c in keys.channels) <= 600 * 8 + 1
    assert sum(len(c.keys) for c in keys.channels) < 60_000


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="fps"):
        keying.KeyingOptions(fps=0)
    with pytest.raises(ValueError, match="crossfade"):
        keying.KeyingOptions(crossfade=-1)


def _fast_sway(pulse, *, seconds=60.0, fps=24):
    """The camera's sideways sway under a steady drive: the strongest rate above 0.5 Hz, and
    the sway's part at that rate measured against a cosine peaking on ``pulse.peak``."""
    import numpy as np

    from aimv_blender.motion import camera

    frame_end = int(seconds * fps)
    channels = camera.camera_channels(
        ((1.0, 1.0), (float(frame_end), 1.0)),
        frame_end,
        fps=fps,
        seed=3,
        sway=1.0,
        push_in=0.0,
        distance=10.0,
        keys_per_second=fps,
        pulse=pulse,
    )
    x = next(c for c in channels if c.name == "camera.location" and c.index == 0)
    t = np.array([(f - 1) / fps for f, _ in x.keys])
    v = np.array([value for _, value in x.keys])
    rates = np.fft.rfftfreq(t.size, 1 / fps)
    power = np.abs(np.fft.rfft(v - v.mean()))
    fast = rates[rates > 0.5][np.argmax(power[rates > 0.5])]
    on = float(np.mean(v * np.cos(2 * np.pi * fast * (t - pulse.peak)))) if pulse else 0.0
    off = float(np.mean(v * np.sin(2 * np.pi * fast * (t - pulse.peak)))) if pulse else 0.0
    return fast, on, off


def test_the_camera_sways_once_a_bar_in_a_waltz_and_every_two_beats_in_four():
    """A waltz's camera swung every two beats, across its bars; now it swings once a bar,
    peaking on the downbeats, and a 4/4 song's swings every two beats as before."""
    from aimv_blender.motion import camera

    beat = 0.5  # 120 bpm
    beats = tuple(0.25 + k * beat for k in range(120))
    waltz = ts.Rhythm(tempo_bpm=120.0, beats=beats, downbeats=beats[::3])
    four = ts.Rhythm(tempo_bpm=120.0, beats=beats, downbeats=beats[1::4])
    assert camera.beats_in_a_bar(waltz) == 3 and camera.beats_in_a_bar(four) == 4
    assert camera.sway_pulse(ts.Rhythm(tempo_bpm=None)) is None
    for rhythm, period in ((waltz, 1.5), (four, 1.0)):
        pulse = camera.sway_pulse(rhythm)
        assert pulse.period == pytest.approx(period) and pulse.peak == rhythm.downbeats[0]
        fast, on, off = _fast_sway(pulse)
        assert fast == pytest.approx(1 / period, abs=0.02)
        assert on > 0.15 and abs(off) < 0.2 * on  # the swing's far side on the downbeat
