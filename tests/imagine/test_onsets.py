"""Every attack of the song becomes an onset in rhythm.onsets, with or without drum hits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import soundfile as sf

from aimv_backend.imagine import onsets
from aimv_timeline import schema as ts
from tests.blender import fixtures


def test_clicks_become_onsets_with_or_without_hits(tmp_path, monkeypatch):
    path = fixtures.make_timeline(tmp_path, textures=False)
    tl = ts.read_timeline(path)
    sr = 22050
    y = np.zeros(4 * sr, np.float32)
    clicks = (0.5, 1.25, 2.0, 3.1)
    for t in clicks:
        i = int(t * sr)
        y[i : i + 400] = np.random.default_rng(0).normal(0, 0.5, 400)
    sf.write(tl.source.path, y, sr)
    rhythm = onsets.with_onsets(tl, timeline_dir=path.parent).rhythm
    assert len(rhythm.onsets) == len(clicks)
    assert np.allclose(rhythm.onsets, clicks, atol=0.03)
    assert len(rhythm.onset_strengths) == len(clicks)
    assert all(0.0 < s <= 1.0 for s in rhythm.onset_strengths)

    hit = (ts.Hit(time=0.5, piece="kick", score=0.9),)
    with_hits = dataclasses.replace(
        tl, windows=(dataclasses.replace(tl.windows[0], hits=hit), *tl.windows[1:])
    )
    found = onsets.with_onsets(with_hits, timeline_dir=path.parent)
    assert found.windows == with_hits.windows  # the hits stay as they were
    assert np.allclose(found.rhythm.onsets, clicks, atol=0.03)
    assert onsets.with_onsets(found, timeline_dir=path.parent) is found  # nothing to do

    # A hand-made timeline naming its song relative to its own folder, read from elsewhere
    moved = dataclasses.replace(
        tl, source=dataclasses.replace(tl.source, path=Path(tl.source.path).name)
    )
    assert Path(tl.source.path).parent == path.parent
    monkeypatch.chdir(tmp_path.parent)
    assert len(onsets.with_onsets(moved, timeline_dir=path.parent).rhythm.onsets) == len(clicks)
