"""A song listened to by an older AIMV is listened to again, unless the timeline was edited.

The timelines "from an older AIMV" here are real timelines whose record says revision 1 and
whose listening differs from today's (a window's loudness, as an older rule would have heard
it); the record's hash is the one that AIMV would have written for them.
"""

from __future__ import annotations

import json

import pytest

from aimv_backend.listen.record import LISTEN_REVISION, RECORD_KEY, listening_hash
from aimv_timeline.names import TIMELINE_FILE
from aimv_timeline.schema import read_timeline
from tests.conftest import sine

RATE = 16000
FAST = ("--instruments", "none", "--no-voice")


@pytest.fixture
def listened(run_aimv, write_wav, tmp_path):
    """(song, timeline path, the level today's listening gives window 1) after one run."""
    song = write_wav("song.wav", sine(440, 4.0, RATE), RATE)
    out = tmp_path / "out"
    result = run_aimv("listen", song, "-o", out, *FAST)
    assert result.code == 0, result.err
    path = out / TIMELINE_FILE
    return song, path, read_timeline(path).windows[1].volume.level


def _as_an_older_aimv_wrote_it(path, *, level: str, rehash: bool, revision: int = 1) -> None:
    """Window 1 heard as ``level`` by ``revision``; ``rehash``: the record matches the file
    (AIMV wrote it so), else the change is a person's edit."""
    data = json.loads(path.read_text())
    data["windows"][1]["volume"]["level"] = level
    data["settings"][RECORD_KEY]["revision"] = revision
    path.write_text(json.dumps(data))
    if rehash:
        data["settings"][RECORD_KEY]["hash"] = listening_hash(read_timeline(path))
        path.write_text(json.dumps(data))


def test_a_fresh_timeline_records_its_listening_and_describing_keeps_the_record(listened):
    _song, path, _level = listened
    timeline = read_timeline(path)  # listened, then described and written again
    record = timeline.settings[RECORD_KEY]
    assert record["revision"] == LISTEN_REVISION
    assert record["hash"] == listening_hash(timeline)
    assert all(w.description is not None for w in timeline.windows)


def test_an_older_unedited_listening_is_listened_to_again(run_aimv, listened):
    song, path, level = listened
    other = "loud" if level != "loud" else "quiet"
    _as_an_older_aimv_wrote_it(path, level=other, rehash=True)
    result = run_aimv("listen", song, "-o", path.parent, *FAST)
    assert result.code == 0, result.err
    assert "older AIMV (listening revision 1, now" in result.err
    assert "listened to again" in result.err
    assert "listening (reused" not in result.err
    timeline = read_timeline(path)
    assert timeline.windows[1].volume.level == level  # today's listening, not the old one
    assert timeline.settings[RECORD_KEY]["revision"] == LISTEN_REVISION


@pytest.mark.parametrize("force", [False, True])
def test_an_older_listening_with_an_edit_is_kept_even_with_force(run_aimv, listened, force):
    song, path, level = listened
    other = "loud" if level != "loud" else "quiet"
    _as_an_older_aimv_wrote_it(path, level=other, rehash=False)  # a person changed it
    result = run_aimv("listen", song, "-o", path.parent, *FAST, *(["--force"] if force else []))
    assert result.code == 0, result.err
    assert "it is kept because it may hold your edits" in result.err
    assert read_timeline(path).windows[1].volume.level == other


@pytest.mark.parametrize("edited", [False, True])
@pytest.mark.parametrize("flag", [(), ("--beats-per-bar", "4")])
def test_an_older_plain_run_still_matches_after_a_default_changed(run_aimv, listened, edited, flag):
    """Before revision 4 a plain run recorded --beats-per-bar 4, the default then; today's
    default is auto. The upgrade must not call that "other settings" (whose only way out,
    --force, lost the edits): an unedited timeline is listened to again, an edited one kept."""
    song, path, level = listened
    other = "loud" if level != "loud" else "quiet"
    _as_an_older_aimv_wrote_it(path, level=other, rehash=not edited, revision=3)
    data = json.loads(path.read_text())
    assert data["settings"]["listen"]["rhythm"]["beats_per_bar"] is None  # today's record
    data["settings"]["listen"]["rhythm"]["beats_per_bar"] = 4  # as revision 3 recorded it
    path.write_text(json.dumps(data))
    result = run_aimv("listen", song, "-o", path.parent, *FAST, *flag)
    assert result.code == 0, result.err
    assert "older AIMV (listening revision 3, now" in result.err
    timeline = read_timeline(path)
    assert timeline.windows[1].volume.level == (other if edited else level)


def test_an_older_listening_with_an_edited_sentence_is_kept(run_aimv, listened):
    song, path, level = listened
    _as_an_older_aimv_wrote_it(path, level=level, rehash=True)
    data = json.loads(path.read_text())
    data["windows"][2]["description"]["sentence"] = "A sine wave hums, holding a lantern."
    path.write_text(json.dumps(data))
    result = run_aimv("listen", song, "-o", path.parent, *FAST)
    assert result.code == 0, result.err
    assert "may hold your edits" in result.err
    assert read_timeline(path).windows[2].description.sentence.endswith("holding a lantern.")


def test_a_timeline_from_before_the_record_is_kept_and_says_why(run_aimv, listened):
    song, path, _level = listened
    data = json.loads(path.read_text())
    del data["settings"][RECORD_KEY]
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    result = run_aimv("listen", song, "-o", path.parent, *FAST, "--no-describe")
    assert result.code == 0, result.err
    assert "listening revision 1, now" in result.err and "kept" in result.err
    assert path.read_bytes() == before


def test_the_same_revision_is_reused_without_a_word(run_aimv, listened):
    song, path, _level = listened
    mtime = path.stat().st_mtime_ns
    result = run_aimv("listen", song, "-o", path.parent, *FAST)
    assert result.code == 0, result.err
    assert "older AIMV" not in result.err
    assert path.stat().st_mtime_ns == mtime


def test_sentences_an_older_aimv_wrote_are_written_again_and_edits_kept(run_aimv, listened):
    """Sentences were cached on the describe options alone: an update's new sentence rules
    never reached a song described before. The options now record the describe revision."""
    from aimv_backend.describe.edits import RECORD_KEY as DESCRIBED
    from aimv_backend.describe.edits import description_hash
    from aimv_timeline.schema import timeline_from_dict

    song, path, _level = listened
    data = json.loads(path.read_text())
    today = [w["description"]["sentence"] for w in data["windows"]]
    del data["settings"]["describe"]["revision"]  # as an older AIMV recorded them
    data["windows"][1]["description"]["sentence"] = "An older AIMV wrote this."
    data["windows"][2]["description"]["sentence"] = "A sine wave hums, holding a lantern."
    old = timeline_from_dict(data)  # what the older AIMV made: window 1's, not window 2's
    data["settings"][DESCRIBED][1] = description_hash(old.windows[1].description)
    path.write_text(json.dumps(data))
    result = run_aimv("listen", song, "-o", path.parent, *FAST)
    assert result.code == 0, result.err
    assert "describing (reused" not in result.err
    windows = read_timeline(path).windows
    assert windows[1].description.sentence == today[1]  # written again
    assert windows[2].description.sentence == "A sine wave hums, holding a lantern."  # kept


def test_the_onsets_the_imagine_stage_adds_are_no_edit(listened):
    """The imagine stage writes the rhythm's onsets after listening: counted in the hash,
    every imagined timeline looked edited and was never listened to again."""
    from dataclasses import replace

    from aimv_backend.listen.record import listening_unedited

    _song, path, _level = listened
    timeline = read_timeline(path)
    assert timeline.rhythm is not None
    imagined = replace(timeline, rhythm=replace(timeline.rhythm, onsets=(0.5, 1.5)))
    assert listening_unedited(imagined)
    moved = replace(timeline, rhythm=replace(timeline.rhythm, beats=(0.25, 1.25)))
    assert not listening_unedited(moved)


def test_a_refusal_names_the_setting_that_differs(run_aimv, listened):
    """A musician told "heard in three; give --beats-per-bar 4" met "made from other
    settings" with no word of which: the refusal now names it, and the fix (--force)."""
    song, path, _level = listened
    before = path.read_bytes()
    result = run_aimv("listen", song, "-o", path.parent, *FAST, "--beats-per-bar", "3")
    assert result.code == 2
    (line,) = [x for x in result.err.splitlines() if x.strip()]
    assert "other settings (rhythm.beats_per_bar: auto there, 3 now)" in line
    assert "--force" in line and path.read_bytes() == before
