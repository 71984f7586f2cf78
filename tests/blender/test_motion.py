"""The picture's motion maths without Blender: hits, lyrics, pictograms, layers, scale."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import pytest

from aimv_blender import keying
from aimv_blender.motion import lyrics
from aimv_blender.motion.background import hidden_keys
from aimv_blender.motion.base import either_hidden, evaluate, sampled
from aimv_timeline import schema as ts
from tests.blender import fixtures


@pytest.fixture(scope="module")
def timeline(tmp_path_factory) -> ts.Timeline:
    return ts.read_timeline(fixtures.make_timeline(tmp_path_factory.mktemp("m"), textures=True))


def held(channel, frame):
    """The value of CONSTANT keys at ``frame``."""
    return [v for f, v in channel.keys if f <= frame][-1]


def held_at(keys, frame):
    """The value of CONSTANT (frame, value) keys at ``frame``."""
    return [v for f, v in keys if f <= frame][-1]


def with_hits(timeline, hits):
    windows = [
        dataclasses.replace(w, hits=tuple(h for h in hits if w.start <= h.time < w.end))
        for w in timeline.windows
    ]
    return dataclasses.replace(timeline, windows=tuple(windows))


def test_each_drum_piece_is_its_own_visible_event(timeline):
    tl = with_hits(
        timeline,
        [
            ts.Hit(time=0.5, piece="kick", score=0.9),
            ts.Hit(time=1.5, piece="snare", score=0.9),
            ts.Hit(time=2.5, piece="crash", score=0.9),
            ts.Hit(time=3.5, piece="hihat_closed", score=0.9),
        ],
    )
    keys = keying.build_keys(tl, keying.KeyingOptions(fps=24))
    punch = keys.channel("camera.punch").keys
    flash = keys.channel("flash", 3).keys
    pulse = keys.channel("background.pulse").keys
    f = {t: keying.time_to_frame(t, 24) for t in (0.5, 1.5, 2.5, 3.5)}
    # the kick punches on its own frame (the frame before is still at rest), no flash
    assert evaluate(punch, f[0.5] - 1) < 0.01 < 0.2 < evaluate(punch, f[0.5])
    assert evaluate(flash, f[0.5]) < 0.01
    # the snare flashes; the crash flashes harder and pulses the background; the hi-hat flickers
    snare, crash, hat = (evaluate(flash, f[t]) for t in (1.5, 2.5, 3.5))
    assert crash > snare > 0.1 and 0.0 < hat < 0.1
    assert evaluate(pulse, f[2.5]) > evaluate(pulse, f[2.5] - 1) + 0.03
    assert evaluate(punch, f[1.5]) < 0.01  # a snare does not punch


def test_the_fade_and_the_flash_leave_the_picture_only_while_they_show_nothing(timeline):
    """Their hide keys (for render speed) never hide a frame where they would be seen."""
    tl = with_hits(
        timeline,
        [ts.Hit(time=1.5, piece="snare", score=0.9), ts.Hit(time=3.0, piece="crash", score=0.9)],
    )
    keys = keying.build_keys(tl, keying.KeyingOptions(fps=24))
    end = keys.frame_end
    for alpha, hidden in (
        (keys.channel("crossfade"), keys.channel("fade.hidden")),
        (keys.channel("flash", 3), keys.channel("flash.hidden")),
    ):
        shown = sampled(alpha.keys, alpha.interpolations(), end)
        flags = [held(hidden, g) for g in range(1, end + 1)]
        assert all(flag == (value <= 0.0) for flag, value in zip(flags, shown, strict=True))
        assert 0 < sum(flags) < end  # hidden part of the time, shown the rest
    # the flash lights up on the snare's frame and is gone well before the crash
    flash_hidden = keys.channel("flash.hidden")
    snare, crash = keying.time_to_frame(1.5, 24), keying.time_to_frame(3.0, 24)
    assert held(flash_hidden, snare) == 0.0 and held(flash_hidden, snare - 1) == 1.0
    assert held(flash_hidden, crash - 2) == 1.0


def test_the_fade_plane_also_hides_while_a_clip_replaces_the_screen(timeline):
    keys = keying.build_keys(timeline, keying.KeyingOptions(fps=24))
    end = keys.frame_end
    fade = keys.channel("fade.hidden").keys
    behind = hidden_keys([(30, 60)], end)  # a clip plays over frames 30-60
    both = either_hidden(fade, behind, end)
    for g in range(1, end + 1):
        assert held_at(both, g) == max(held_at(fade, g), 1.0 if 30 <= g <= 60 else 0.0)


def test_onsets_drive_the_events_when_no_hits_are_known(timeline):
    tl = dataclasses.replace(timeline, rhythm=ts.Rhythm(tempo_bpm=None, onsets=(1.5, 2.25)))
    keys = keying.build_keys(tl, keying.KeyingOptions(fps=24))
    assert [e.frame for e in keys.events] == [37, 55]
    punch = keys.channel("camera.punch").keys
    assert evaluate(punch, 37) > evaluate(punch, 36) + 0.1


def test_onsets_no_hit_explains_become_small_note_events_beside_the_hits(timeline):
    """A song with drums and a piano: the kick is the kick, and the chord between two kicks
    (an onset far from any hit) still makes the picture breathe, less than a drum does."""
    tl = with_hits(timeline, [ts.Hit(time=0.5, piece="kick", score=0.9)])
    onsets = (0.51, 1.5)  # the kick's own attack, and a chord a second later
    tl = dataclasses.replace(tl, rhythm=ts.Rhythm(tempo_bpm=None, onsets=onsets))
    keys = keying.build_keys(tl, keying.KeyingOptions(fps=24))
    assert [(e.frame, e.piece) for e in keys.events] == [(13, "kick"), (37, "note")]
    pulse = keys.channel("background.pulse").keys
    flash = keys.channel("flash", 3).keys
    assert evaluate(pulse, 37) > evaluate(pulse, 36) + 0.005  # the chord pulses the picture
    assert 0.02 < evaluate(flash, 37) < 0.35  # and lights it, less than a snare would
    assert evaluate(keys.channel("camera.punch").keys, 37) < 0.05  # only drums punch


def test_words_pop_in_on_their_onset_and_phrases_sit_together(timeline):
    keys = keying.build_keys(timeline, keying.KeyingOptions(fps=24))
    for word in timeline.words:
        slot = next(s for s in keys.lyrics if s.text == word.text)
        scale = keys.channel("lyric.scale", 0, slot.name).keys
        hidden = keys.channel("lyric.hidden", 0, slot.name).keys
        start, end = (keying.time_to_frame(t, 24) for t in (word.start, word.end))
        assert evaluate(scale, start - 1) == 0.0
        for f in range(start + 1, end + 1):  # visible through its whole span
            assert evaluate(scale, f) > 0.5 * slot.appearances[0].size
            assert hidden[[k[0] for k in hidden].index(start - 1)][1] == 0.0
    words = [
        ts.Word(text=t, start=s, end=s + 0.3, probability=1.0)
        for t, s in (("one", 0.0), ("two", 0.35), ("three", 0.7), ("far", 3.0))
    ]
    groups = lyrics.phrases(words)
    assert [[w.text for w in g] for g in groups] == [["one", "two", "three"], ["far"]]


def test_loud_words_are_bigger_and_closer_and_colours_stay_readable(timeline):
    keys = keying.build_keys(timeline, keying.KeyingOptions(fps=24))
    by_text = {s.text: s.appearances[0] for s in keys.lyrics}
    loud, quiet = by_text["hello"], by_text["bright"]  # red loud window, green quiet window
    assert loud.size > 1.2 * quiet.size
    assert loud.location[1] < quiet.location[1]  # towards the camera (y < 0)
    for hex_colour in [w.colour.hex for w in timeline.windows] + ["#ffffff", "#000000", "#ffff00"]:
        text, plate = lyrics.text_colour(hex_colour), lyrics.plate_colour(hex_colour)
        assert lyrics.contrast(text, plate) >= 4.5
    # one plate behind each phrase, shown while it is
    plate = keys.channel("plate.alpha", 3, lyrics.PLATE).keys
    hello = by_text["hello"]
    assert evaluate(plate, hello.pop) > 0.4 and evaluate(plate, hello.pop - 1) == 0.0


def test_switched_off_layers_make_no_keys(timeline):
    tl = with_hits(timeline, [ts.Hit(time=0.5, piece="kick", score=1.0)])
    keys = keying.build_keys(tl, keying.KeyingOptions(layers=frozenset()))
    names = {c.name for c in keys.channels}
    assert not {n for n in names if n.startswith(("lyric", "pictogram"))}
    assert not names & {"camera.punch", "flash", "background.zoom"}
    assert "colour" in names and "texture.current" in names
    with pytest.raises(ValueError, match="layers"):
        keying.KeyingOptions(layers=frozenset({"lyrcs"}))


def test_600_words_in_4_minutes_key_fast_on_few_objects():
    vocab = [f"word{i}" for i in range(150)]
    windows, words = [], []
    for i in range(240):
        ws = tuple(
            ts.Word(
                text=vocab[(i * 5 + k) % 150],
                start=i + 0.1 + 0.4 * k,
                end=i + 0.4 + 0.4 * k,
                probability=0.9,
            )
            for k in range(2 + (i % 2))
        )
        words += ws
        windows.append(
            ts.Window(
                index=i,
                start=float(i),
                end=float(i + 1),
                volume=ts.Volume(rms_dbfs=-20.0, peak_dbfs=-10.0, relative_db=0.0, level="normal"),
                colour=ts.Colour(
                    hex="#336699",
                    name="blue",
                    hue=210.0,
                    saturation=0.5,
                    value=0.6,
                    frequency_hz=440.0,
                    source="pitch",
                ),
                voice=ts.Voice(present=True, probability=0.9, words=ws),
                hits=tuple(ts.Hit(time=i + 0.25 * k, piece="kick", score=0.8) for k in range(4)),
            )
        )
    assert len(words) == 600
    tl = ts.Timeline(
        source=ts.Source(
            path="/x.wav",
            sha256="0",
            duration=240.0,
            sample_rate=44100,
            channels=2,
            frames=240 * 44100,
        ),
        window_seconds=1.0,
        windows=tuple(windows),
    )
    t0 = time.perf_counter()
    keys = keying.build_keys(tl, keying.KeyingOptions(fps=24))
    assert time.perf_counter() - t0 < 3.0
    assert len(keys.lyrics) <= 160  # objects are reused: one per distinct word
    assert sum(len(s.appearances) for s in keys.lyrics) == 600
    assert sum(len(c.keys) for c in keys.channels) < 150_000


def test_the_sung_object_sits_next_to_its_lyric(timeline):
    windows = list(timeline.windows)
    icon = ts.Pictogram(word="world", role="object", path="p/world.png")
    back = ts.Pictogram(word="drum", role="instrument", path="p/drum.png")
    windows[3] = dataclasses.replace(windows[3], pictograms=(icon, back))
    keys = keying.build_keys(
        dataclasses.replace(timeline, windows=tuple(windows)), keying.KeyingOptions(fps=24)
    )
    word = next(s for s in keys.lyrics if s.text == "world").appearances[0]
    placed = {s.role: s.placements[0] for s in keys.pictograms}
    assert placed["object"].location[0] > word.location[0]  # right of the word
    assert abs(placed["object"].location[1] - word.location[1]) < 0.01  # at its depth
    assert placed["instrument"].location[1] > word.location[1]  # further back
    assert placed["object"].pop == keys.windows[3].start


@pytest.mark.parametrize("width,height", [(640, 360), (360, 640), (1080, 1080), (1920, 800)])
def test_every_pictogram_stays_inside_the_frame(timeline, width, height):
    """Whole and popped-in in landscape, portrait, square and scope frames, with the camera at
    its closest (pushed in at the loudest, and a kick's punch): the
    artist's trial found a drum pictogram cut by the frame's corner for 59 frames."""
    from aimv_blender.motion import hits
    from aimv_blender.motion.background import SENSOR_WIDTH
    from aimv_blender.motion.camera import LENS, PUSH_DRIVE_MAX
    from aimv_blender.motion.pictograms import POP

    windows = list(timeline.windows)
    for i in range(len(windows)):
        icons = (
            ts.Pictogram(word="drum", role="instrument", path="p/drum.png"),
            ts.Pictogram(word="guitar", role="instrument", path="p/guitar.png"),
            ts.Pictogram(word="piano", role="instrument", path="p/piano.png"),
            ts.Pictogram(word="hope", role="abstraction", path="p/hope.png"),
            ts.Pictogram(word="world", role="object", path="p/world.png"),
        )
        windows[i] = dataclasses.replace(windows[i], pictograms=icons)
    options = keying.KeyingOptions(fps=24, aspect=width / height)
    keys = keying.build_keys(dataclasses.replace(timeline, windows=tuple(windows)), options)
    aspect = width / height
    placed = [p for s in keys.pictograms for p in s.placements]
    assert {p.role for p in placed} == {"instrument", "abstraction", "object"}
    closest = (
        options.camera_distance
        - PUSH_DRIVE_MAX * options.push_in
        - hits.EFFECTS["kick"][0] * options.hit_strength
    )
    for p in placed:
        x, y, z = p.location
        half = (closest + y) * SENSOR_WIDTH / (2 * LENS)
        half_w, half_h = (half, half / aspect) if aspect >= 1 else (half * aspect, half)
        reach = POP * p.size / 2
        assert abs(x) + reach <= half_w and abs(z) + reach <= half_h, (p.word, width, height)


def test_pictograms_on_screen_together_never_share_a_place(timeline):
    """The trial's sparkle covered the breeze: both abstractions of one window were put on
    the same spot (the place was chosen by the pictogram's rank in the whole song)."""
    windows = list(timeline.windows)
    pairs = [("spark", "wave"), ("fire", "breeze"), ("spark", "breeze")]  # ranks 0 and 3
    for i in range(len(windows)):
        pair = pairs[i % len(pairs)]
        icons = tuple(ts.Pictogram(word=n, role="abstraction", path=f"p/{n}.png") for n in pair)
        windows[i] = dataclasses.replace(windows[i], pictograms=icons)
    keys = keying.build_keys(
        dataclasses.replace(timeline, windows=tuple(windows)), keying.KeyingOptions(fps=24)
    )
    placed = [p for s in keys.pictograms for p in s.placements]
    for a in placed:
        for b in placed:
            if a is not b and a.pop <= b.hold_end and b.pop <= a.hold_end:
                assert a.location != b.location, (a.word, b.word, a.pop, b.pop)


def test_no_key_of_a_lyric_or_pictogram_lies_past_the_song(timeline):
    """The last pictogram's fade was keyed after the scene's last frame, so it never faded."""
    windows = list(timeline.windows)
    icon = ts.Pictogram(word="drum", role="instrument", path="p/drum.png")
    windows[-1] = dataclasses.replace(windows[-1], pictograms=(icon,))
    keys = keying.build_keys(
        dataclasses.replace(timeline, windows=tuple(windows)), keying.KeyingOptions(fps=24)
    )
    for channel in keys.channels:
        if channel.name.startswith(("pictogram", "lyric")):
            frames = [f for f, _ in channel.keys]
            assert 1 <= min(frames) and max(frames) <= keys.frame_end, channel.name
    drum = next(s for s in keys.pictograms if s.word == "drum").placements[-1]
    alpha = next(
        c for c in keys.channels if c.name == "pictogram.alpha" and c.subject.endswith("drum")
    )
    assert alpha.keys[-1] == (float(keys.frame_end), 0.0)  # faded out by the last frame
    assert drum.pop < keys.frame_end


def test_phrases_end_at_punctuation_and_capitals():
    said = [("a", 0.0), ("city,", 0.3), ("My", 0.6), ("part", 0.9), ("is", 1.2), ("On", 1.5)]
    words = [ts.Word(text=t, start=s, end=s + 0.25, probability=1.0) for t, s in said]
    assert [[w.text for w in g] for g in lyrics.phrases(words)] == [
        ["a", "city,"],
        ["My", "part", "is"],
        ["On"],
    ]


def with_words(timeline, said):
    words = tuple(ts.Word(text=t, start=s, end=s + 0.3, probability=1.0) for t, s in said)
    windows = [dataclasses.replace(w, voice=None) for w in timeline.windows]
    windows[0] = dataclasses.replace(windows[0], voice=ts.Voice(True, 0.9, words=words))
    return dataclasses.replace(timeline, windows=tuple(windows))


def test_a_word_shows_without_the_transcripts_commas_and_quotes(timeline):
    """ "fire," and "fire" are one lyric object reading "fire"; "why?" keeps its question."""
    said = [("fire,", 0.0), ("fire", 1.0), ('"love"', 2.0), ("...", 2.4), ("why?", 2.6)]
    keys = keying.build_keys(with_words(timeline, said), keying.KeyingOptions(fps=24))
    assert sorted(s.text for s in keys.lyrics) == ["fire", "love", "why?"]
    assert "AIMV \u266a fire" in {m.name for m in keys.markers}  # the marker reads the same
    assert not any(m.name.endswith((",", "...")) for m in keys.markers)
    fire = next(s for s in keys.lyrics if s.text == "fire")
    assert [a.pop for a in fire.appearances] == [keying.time_to_frame(t, 24) for t in (0, 1)]


def test_long_words_alike_in_their_first_bytes_get_objects_of_their_own(timeline):
    stem = "ずっと" * 14  # 126 bytes: far past what an object name holds
    said = [(stem + "愛", 0.0), (stem + "夢", 0.6), (stem + "愛", 1.2)]
    keys = keying.build_keys(with_words(timeline, said), keying.KeyingOptions(fps=24))
    names = {s.text: s.name for s in keys.lyrics}
    assert len(names) == 2 and len(set(names.values())) == 2, names
    assert all(len(n.encode()) <= 63 - lyrics.NAME_ROOM for n in names.values())
    again = keying.build_keys(with_words(timeline, said), keying.KeyingOptions(fps=24))
    assert {s.text: s.name for s in again.lyrics} == names  # the same on every build


def test_a_word_plate_does_not_take_the_plates_name(timeline):
    keys = keying.build_keys(
        with_words(timeline, [("Plate", 0.0), ("plate", 1.0)]), keying.KeyingOptions(fps=24)
    )
    names = {s.text: s.name for s in keys.lyrics}
    assert lyrics.PLATE not in names.values() and len(set(names.values())) == 2, names


def test_onset_strengths_size_the_events(timeline):
    rhythm = ts.Rhythm(tempo_bpm=None, onsets=(1.5, 2.5), onset_strengths=(1.0, 0.2))
    keys = keying.build_keys(dataclasses.replace(timeline, rhythm=rhythm), keying.KeyingOptions())
    strong, weak = keys.events
    assert weak.strength < 0.5 * strong.strength
    data = ts.timeline_to_dict(dataclasses.replace(timeline, rhythm=rhythm))
    data["rhythm"]["onset_strengths"] = [1.0]
    with pytest.raises(ts.TimelineFormatError, match="onset_strengths"):
        ts.timeline_from_dict(data)


def test_the_plate_moves_on_when_the_next_phrase_starts_at_once():
    said = [("a", 0.0, 0.5), ("city,", 0.5, 1.0), ("My", 1.0, 1.4), ("part", 1.4, 2.0)]
    words = tuple(ts.Word(text=t, start=s, end=e, probability=1.0) for t, s, e in said)
    tl = ts.read_timeline(fixtures.make_timeline(Path(tempfile.mkdtemp()), textures=False))
    windows = [dataclasses.replace(w, voice=None) for w in tl.windows]
    windows[0] = dataclasses.replace(windows[0], voice=ts.Voice(True, 0.9, words=words))
    keys = keying.build_keys(
        dataclasses.replace(tl, windows=tuple(windows)), keying.KeyingOptions(fps=24)
    )
    alpha = keys.channel("plate.alpha", 3, lyrics.PLATE).keys
    second = keying.time_to_frame(1.0, 24)
    hidden = keys.channel("plate.hidden", 0, lyrics.PLATE)
    for f in range(second, keying.time_to_frame(2.0, 24)):
        assert evaluate(alpha, f) > 0.6, f  # the second phrase keeps its plate
        assert held(hidden, f) == 0.0, f


def test_object_names_fit_blender_in_any_script():
    long = "ずっとずっとずっとずっとずっとずっとずっとずっと"  # 24 characters, 72 bytes
    name = lyrics.slot_name(long, 1)
    assert len(name.encode()) <= 63 - lyrics.NAME_ROOM and name.endswith(" #2")
    assert name.startswith("AIMV Lyric ずっと")
