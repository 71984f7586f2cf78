"""``aimv describe``: fills the sentences in place, atomically, and fails in one line."""

from __future__ import annotations

import json

from aimv_timeline.names import TIMELINE_FILE
from aimv_timeline.schema import (
    read_timeline,
    replace,
    timeline_to_dict,
    write_timeline,
)

from .conftest import guess


def _without_descriptions(data: dict) -> dict:
    data = json.loads(json.dumps(data))
    for w in data["windows"]:
        w.pop("description", None)
    data["settings"].pop("describe", None)
    data["settings"].pop("described", None)  # the hashes of what AIMV wrote (describe/edits.py)
    data["engines"].pop("description", None)
    return data


def test_describe_fills_every_window_and_keeps_the_rest(tmp_path, song_timeline, run_aimv):
    path = tmp_path / TIMELINE_FILE
    write_timeline(song_timeline, path)
    before = json.loads(path.read_text())
    result = run_aimv("describe", path, "--quiet", "--seed", "4")
    assert result.code == 0, result.err
    after = json.loads(path.read_text())
    assert _without_descriptions(after) == _without_descriptions(before)
    timeline = read_timeline(path)
    assert all(
        w.description and w.description.sentence and w.description.prompt for w in timeline.windows
    )
    first = timeline.windows[0].description.sentence
    assert (
        first.startswith("Person loudly sings, ") and ", alongside a Crash and Splash hit" in first
    )
    assert timeline.settings["describe"]["seed"] == 4
    assert timeline.settings["describe"]["vectors"] == "default"
    assert timeline.engines["description"] == "gensim:aimv-evocative-minilm"
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_describe_refreshes_after_a_hand_edit(tmp_path, song_timeline, run_aimv):
    path = tmp_path / TIMELINE_FILE
    write_timeline(song_timeline, path)
    assert run_aimv("describe", path, "-q").code == 0
    edited = read_timeline(path)
    windows = list(edited.windows)
    windows[1] = replace(
        windows[1], instruments=(guess("piano", "keys", 0.9), guess("cello", "strings", 0.8))
    )
    write_timeline(replace(edited, windows=tuple(windows)), path)
    assert run_aimv("describe", path, "-q").code == 0
    sentence = read_timeline(path).windows[1].description.sentence
    assert sentence.startswith("Piano plays in the background. In the foreground ")
    assert " cello " in sentence


def test_same_seed_same_file_other_seed_other_file(tmp_path, song_timeline, run_aimv):
    paths = [tmp_path / f"t{i}.json" for i in range(3)]
    for p in paths:
        write_timeline(song_timeline, p)
    for p, seed in zip(paths, (7, 7, 8), strict=True):
        assert run_aimv("describe", p, "-q", "--seed", seed).code == 0
    texts = [p.read_text() for p in paths]
    assert texts[0] == texts[1]
    assert texts[0] != texts[2]


def test_describing_again_with_nothing_new_leaves_the_file_as_it_was(
    tmp_path, song_timeline, run_aimv
):
    """No rewrite (same bytes, same time: a render keyed on the file stays valid), and the
    run says so; new settings do rewrite it."""
    path = tmp_path / TIMELINE_FILE
    write_timeline(song_timeline, path)
    assert run_aimv("describe", path, "--seed", "3", "-q").code == 0
    text, stamp = path.read_text(), path.stat().st_mtime_ns
    again = run_aimv("describe", path, "--seed", "3", "--progress", "none")
    assert again.code == 0 and again.out.startswith("up to date"), again.err
    assert path.read_text() == text and path.stat().st_mtime_ns == stamp
    other = run_aimv("describe", path, "--seed", "4", "--progress", "none")
    assert other.code == 0 and other.out.startswith("described") and path.read_text() != text


def test_bad_timeline_path_is_one_line_and_exit_2(tmp_path, run_aimv):
    result = run_aimv("describe", tmp_path / "missing.json", "-q")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "missing.json" in lines[0] and "no such file" in lines[0]


def test_invalid_timeline_is_refused_and_left_alone(tmp_path, run_aimv):
    path = tmp_path / TIMELINE_FILE
    path.write_text('{"schema_version": "1.0", "windows": 3}')
    result = run_aimv("describe", path, "-q")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert path.read_text() == '{"schema_version": "1.0", "windows": 3}'


def test_a_timeline_from_a_newer_aimv_is_left_as_it_was(tmp_path, song_timeline, run_aimv):
    """Describing would drop the fields a newer AIMV wrote: one line, exit 2, the file kept."""
    path = tmp_path / TIMELINE_FILE
    data = _without_descriptions(timeline_to_dict(song_timeline))
    data.update(schema_version="1.99", storyboard={"shots": [1, 2]})
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    result = run_aimv("describe", path, "-q")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert "newer AIMV" in result.err and "1.99" in result.err
    assert path.read_bytes() == before


def test_unavailable_vectors_are_one_line(tmp_path, song_timeline, run_aimv, monkeypatch):
    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path / "gensim-data"))
    path = tmp_path / TIMELINE_FILE
    write_timeline(song_timeline, path)
    before = path.read_text()
    result = run_aimv("describe", path, "-q", "--vectors", "glove-twitter-25", "--offline")
    assert result.code == 2
    assert "glove-twitter-25" in result.err and len(result.err.strip().splitlines()) == 1
    assert path.read_text() == before
    bad = run_aimv("describe", path, "-q", "--top-k", "0")
    assert bad.code == 2 and "--top-k" in bad.err


def test_describe_as_a_library_keeps_json_round_trip(song_timeline):
    from aimv_backend.describe import describe_timeline

    out = describe_timeline(song_timeline)
    data = timeline_to_dict(out)
    assert data["windows"][0]["description"]["abstractions"]
    assert out.windows[3].description.sentence.startswith("Nothing plays")


def test_needs_describe_follows_the_caching_rule(song_timeline):
    from aimv_backend.describe import DescribeOptions, describe_timeline, needs_describe

    options = DescribeOptions(seed=2)
    assert needs_describe(song_timeline, options=options)
    done = describe_timeline(song_timeline, options=options)
    assert not needs_describe(done, options=options)
    assert needs_describe(done, options=DescribeOptions(seed=3))
    windows = (replace(done.windows[0], description=None), *done.windows[1:])
    assert needs_describe(replace(done, windows=windows), options=options)


def test_aimv_offline_forbids_downloads(tmp_path, song_timeline, run_aimv, monkeypatch):
    import gensim.downloader

    def must_not_download(*args, **kwargs):
        raise AssertionError("AIMV_OFFLINE must prevent downloads")

    monkeypatch.setattr(gensim.downloader, "load", must_not_download)
    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path / "gensim-data"))
    monkeypatch.setenv("AIMV_OFFLINE", "1")
    path = tmp_path / TIMELINE_FILE
    write_timeline(song_timeline, path)
    result = run_aimv("describe", path, "-q", "--vectors", "glove-wiki-gigaword-100")
    assert result.code == 2 and "downloads are off" in result.err


def test_hand_edited_sentences_survive_new_settings_without_force(
    tmp_path, song_timeline, run_aimv
):
    """Issue 13.12: --seed 1 re-describes, but a sentence edited by hand stays, and the run
    says which windows kept an edit; --force replaces it."""
    path = tmp_path / "timeline.json"
    write_timeline(song_timeline, path)
    assert run_aimv("describe", path, "-q").code == 0
    first = read_timeline(path)
    windows = list(first.windows)
    mine = replace(windows[2].description, sentence="My own words for this second.")
    windows[2] = replace(windows[2], description=mine)
    write_timeline(replace(first, windows=tuple(windows)), path)

    result = run_aimv("describe", path, "--seed", "1", "--progress", "json")
    assert result.code == 0, result.err
    after = read_timeline(path)
    assert after.windows[2].description.sentence == "My own words for this second."
    assert "kept the hand-edited sentences of 1 window (2)" in result.err
    assert after.settings["describe"]["seed"] == 1
    # still an edit on the next run; --force replaces it
    assert run_aimv("describe", path, "--seed", "2", "-q").code == 0
    assert read_timeline(path).windows[2].description.sentence == "My own words for this second."
    assert run_aimv("describe", path, "--seed", "2", "-q", "--force").code == 0
    assert read_timeline(path).windows[2].description.sentence != "My own words for this second."
