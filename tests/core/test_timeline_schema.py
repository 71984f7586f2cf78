"""The timeline file: round trip, validation that names the field, atomic writes."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace

import pytest

from aimv_timeline.names import TIMELINE_FILE
from aimv_timeline.schema import (
    SCHEMA_VERSION,
    Clip,
    Colour,
    Description,
    Hit,
    InstrumentGuess,
    Rhythm,
    Source,
    Timeline,
    TimelineFormatError,
    Voice,
    Volume,
    Window,
    Word,
    read_timeline,
    timeline_from_dict,
    timeline_to_dict,
    write_timeline,
)


def make_timeline(n: int = 3) -> Timeline:
    windows = []
    for i in range(n):
        words = (Word("heart", i + 0.2, i + 0.6, 0.9),) if i == 1 else ()
        windows.append(
            Window(
                index=i,
                start=float(i),
                end=float(i + 1),
                volume=Volume(-20.0 + i, -14.0, float(i), "normal"),
                colour=Colour("#6109b9", "purple/blue", 270.0, 0.9, 0.7, 440.0, "pitch"),
                instruments=(InstrumentGuess("piano", "piano", "keys", 0.91, True),),
                voice=Voice(
                    present=i == 1,
                    probability=0.8 if i == 1 else 0.0,
                    text="heart" if i == 1 else "",
                    words=words,
                    language="en",
                ),
                description=Description("A sentence.", "a prompt", ("deep",), "holding"),
            )
        )
    return Timeline(
        source=Source("/x/song.wav", "ab" * 32, float(n), 44100, 2, 44100 * n),
        window_seconds=1.0,
        windows=tuple(windows),
        settings={"analyze": {"window_seconds": 1.0}},
        engines={"volume": "rms"},
        language="en",
    )


def test_round_trip_through_a_file(tmp_path):
    timeline = make_timeline()
    path = write_timeline(timeline, tmp_path / TIMELINE_FILE)
    again = read_timeline(path)
    assert again == timeline
    assert [w.text for w in again.words] == ["heart"]
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["windows"][1]["volume"].update(level="deafening"), "windows[1].volume.level"),
        (lambda d: d["windows"][0]["colour"].update(hex="red"), "windows[0].colour.hex"),
        (lambda d: d["windows"][2].pop("start"), "windows[2].start: missing"),
        (lambda d: d["windows"][0]["instruments"][0].update(score=1.5), "instruments[0].score"),
        (lambda d: d.update(schema_version="2.0"), "schema_version"),
        (lambda d: d.update(schema_version="1"), "schema_version: '1' is not MAJOR.MINOR"),
        (lambda d: d.update(schema_version="1.x"), "schema_version: '1.x' is not MAJOR.MINOR"),
        (lambda d: d["windows"][1].update(index=7), "windows[1].index"),
        (lambda d: d.update(window_seconds=0.1), "window_seconds: 0.1 is outside [0.25, 10.0]"),
        (
            lambda d: d["windows"][1].update(
                hits=[
                    {"time": 1.5, "piece": "kick", "score": 0.9},
                    {"time": 1.2, "piece": "snare", "score": 0.9},
                ]
            ),
            "windows[1].hits[1].time: 1.2 is before the hit above it",
        ),  # fmt: skip
        (lambda d: d["windows"][1].update(start=0.5), "overlaps"),
        (lambda d: d["source"].update(sample_rate="44100"), "source.sample_rate"),
    ],
)
def test_validation_names_the_offending_field(mutate, message):
    data = timeline_to_dict(make_timeline())
    mutate(data)
    with pytest.raises(TimelineFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        timeline_from_dict(data)


def test_reader_refuses_missing_and_non_json_files(tmp_path):
    with pytest.raises(TimelineFormatError, match="no such file"):
        read_timeline(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    with pytest.raises(TimelineFormatError, match="not valid JSON"):
        read_timeline(bad)


def test_writer_never_leaves_a_half_file(tmp_path):
    path = tmp_path / TIMELINE_FILE
    write_timeline(make_timeline(), path)
    before = path.read_bytes()
    broken = make_timeline()
    object.__setattr__(broken.windows[0].volume, "rms_dbfs", float("nan"))
    with pytest.raises(TimelineFormatError, match="non-finite"):
        write_timeline(broken, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [TIMELINE_FILE]


def test_a_newer_minor_version_is_read_but_never_rewritten(tmp_path):
    """A file from a newer AIMV (1.x, x above ours) may hold fields this one does not know:
    it is staged as it is, but rewriting it would drop them without a word."""
    path = tmp_path / TIMELINE_FILE
    data = timeline_to_dict(make_timeline())
    newer = f"1.{int(SCHEMA_VERSION.split('.')[1]) + 9}"
    data.update(schema_version=newer, mood={"from": "a newer AIMV"})
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    timeline = read_timeline(path)
    assert timeline.windows[1].voice.text == "heart"
    with pytest.raises(TimelineFormatError, match=f"'{newer}' was written by a newer AIMV"):
        write_timeline(replace(timeline, language="fr"), path)
    assert path.read_bytes() == before
    older = replace(timeline, schema_version="1.0")  # an older file is brought up to date
    assert json.loads(write_timeline(older, path).read_text())["schema_version"] == SCHEMA_VERSION


def test_rewrite_keeps_the_files_permissions(tmp_path):
    path = tmp_path / TIMELINE_FILE
    write_timeline(make_timeline(), path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    os.chmod(path, 0o640)
    write_timeline(make_timeline(2), path)
    assert path.stat().st_mode & 0o777 == 0o640


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_schema_1_1_fields_round_trip_and_1_0_files_still_read(tmp_path):
    base = make_timeline(2)
    windows = list(base.windows)
    windows[0] = replace(windows[0], hits=(Hit(0.25, "crash", 0.93), Hit(0.5, "kick", 0.8)))
    windows[1] = replace(windows[1], voice=replace(windows[1].voice, mode="spoken"))
    timeline = replace(
        base,
        windows=tuple(windows),
        rhythm=Rhythm(tempo_bpm=120.0, beats=(0.0, 0.5, 1.0, 1.5), downbeats=(0.0,)),
        clips=(Clip("clips/a.mp4", 0.0, 2.0, "a prompt", 7),),
    )
    again = read_timeline(write_timeline(timeline, tmp_path / "t.json"))
    assert again == timeline
    assert again.windows[0].hits[0].piece == "crash"
    old = timeline_to_dict(base)
    old["schema_version"] = "1.0"
    for key in ("rhythm", "clips"):
        old.pop(key)
    for w in old["windows"]:
        w.pop("hits")
    assert timeline_from_dict(old).rhythm is None


@pytest.mark.parametrize(
    "mutate, field",
    [
        (
            lambda d: d["windows"][0].update(
                hits=[{"time": 0.1, "piece": "cowbell", "score": 0.5}]
            ),
            "windows[0].hits[0].piece",
        ),
        (lambda d: d.update(rhythm={"tempo_bpm": 120, "beats": [1.0, 0.5]}), "rhythm.beats[1]"),
        (lambda d: d.update(clips=[{"path": "c.mp4", "start": 2.0, "end": 1.0}]), "clips[0]"),
    ],
)
def test_bad_1_1_fields_are_refused_naming_the_field(mutate, field):
    data = timeline_to_dict(make_timeline(2))
    mutate(data)
    with pytest.raises(TimelineFormatError, match=re.escape(field)):
        timeline_from_dict(data)
