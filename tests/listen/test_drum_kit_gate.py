"""The kit-relative drum gate: weak hits that sound like the song's own drums, or that fall
where they are playing, are found.

Real rendered audio in (fluidsynth, FluidR3's orchestra kit: soft hi-hats the per-hit gate
loses), hits in the timeline out.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from aimv_backend.errors import ParameterError
from aimv_backend.listen.drums import listen_drums
from aimv_backend.listen.drums.features import RATE
from aimv_backend.listen.drums.kit import KitGateOptions, kit_gate
from tests.listen._instrument_clips import part, tools_missing

needs_synth = pytest.mark.skipif(tools_missing() is not None, reason=str(tools_missing()))
TOLERANCE = 0.05  # seconds between a hit and the struck time it stands for


@lru_cache(maxsize=2)
def orchestra_groove() -> tuple[np.ndarray, tuple[float, ...]]:
    """Six bars at 100 bpm on FluidR3's orchestra kit (GM bank 128 preset 48): kick, snare,
    hi-hat eighths on even bars, ride on odd bars, a tom fill at each odd bar's end.
    Returns the mono audio and the times something was struck."""
    import mido

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    import listen_data

    events = [(0.0, mido.Message("program_change", channel=9, program=48))]
    struck = []
    step, t = 60.0 / 100 / 4, 0.3
    fill = {12: 48, 13: 47, 14: 43, 15: 41}
    for bar in range(6):
        for s in range(16):
            notes = [36] if s in (0, 8, 10) else []
            notes += [38] if s in (4, 12) else []
            if s % 2 == 0:
                notes.append(42 if bar % 2 == 0 else 51)
            if bar % 2 == 1 and s in fill:
                notes.append(fill[s])
            for n in notes:
                events.append((t, mido.Message("note_on", channel=9, note=n, velocity=90)))
                events.append((t + 0.1, mido.Message("note_off", channel=9, note=n)))
            if notes:
                struck.append(round(t, 4))
            t += step
    audio = listen_data.render_midi(events, soundfont="fluidr3", seconds=t + 1.5)
    return audio, tuple(struck)


def _spans(seconds: float):
    return [(float(i), float(i + 1)) for i in range(int(seconds))]


def _hit_times(result) -> np.ndarray:
    return np.array(sorted({h.time for hs in result.hits for h in hs}))


def _found(struck, times) -> int:
    return sum(bool(times.size) and np.abs(times - s).min() <= TOLERANCE for s in struck)


@needs_synth
def test_soft_hits_that_sound_like_the_songs_drums_are_found():
    audio, struck = orchestra_groove()
    spans = _spans(audio.shape[0] / RATE)
    on = [True] * len(spans)
    before = _hit_times(listen_drums(audio=audio, spans=spans, active=on, kit_gate=None))
    after_result = listen_drums(audio=audio, spans=spans, active=on)
    after = _hit_times(after_result)
    assert _found(struck, after) >= _found(struck, before) + 3
    assert _found(struck, after) >= 0.75 * len(struck)
    # every hit stands for something struck: the gate invents no hit between the strokes
    assert all(np.abs(np.array(struck) - t).min() <= TOLERANCE for t in after)
    # a hit the kit gate added keeps the classifier's own (low) score for its best piece
    added = [h for hs in after_result.hits for h in hs if h.time not in set(before.tolist())]
    assert added and all(0.1 <= h.score < 0.3 for h in added)


@needs_synth
def test_a_piano_over_the_groove_adds_no_hit_between_the_strokes():
    audio, struck = orchestra_groove()
    piano = part("piano", audio.shape[0] / RATE + 1.0)[: audio.shape[0]]
    gain = np.sqrt(np.mean(audio**2) / (np.mean(piano**2) + 1e-12))
    mixed = (audio + gain * piano).astype(np.float32)
    spans = _spans(mixed.shape[0] / RATE)
    on = [True] * len(spans)
    before = _hit_times(listen_drums(audio=mixed, spans=spans, active=on, kit_gate=None))
    after = _hit_times(listen_drums(audio=mixed, spans=spans, active=on))
    s = np.array(struck)
    stray_before = sum(np.abs(s - t).min() > TOLERANCE for t in before)
    stray_after = sum(np.abs(s - t).min() > TOLERANCE for t in after)
    assert stray_after <= stray_before
    assert _found(struck, after) >= _found(struck, before)


def test_no_confident_drum_means_nothing_is_rescued():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0.1, 0.29, (20, 12)).astype(np.float32)
    emb = np.ones((20, 128), np.float32)  # all alike: only confident hits could vouch
    patches = np.ones((20, 40, 64), np.float32)
    assert not kit_gate(scores, emb, patches, gate=0.3).any()
    scores[:2, 0] = 0.9  # two confident hits: fewer than the three neighbours asked
    assert kit_gate(scores, emb, patches, gate=0.3).sum() == 2
    scores[2, 0] = 0.9  # three: every weak onset that sounds the same now passes
    assert kit_gate(scores, emb, patches, gate=0.3).all()


def _busy_song():
    """Onsets every 0.25 s for 12 s: confident kicks on the beat for the first 4 s, unsure
    drum-like onsets between them and again from 8 s on, where nothing is confident."""
    times = np.arange(48) * 0.25
    scores = np.full((48, 12), 0.02, np.float32)
    scores[:, 0] = 0.27  # unsure everywhere...
    scores[:16:4, 0] = 0.9  # ...but for the kicks on the beat of the first four seconds
    scores[16:32, 0] = 0.02  # 4-8 s: no drums at all
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(48, 128)).astype(np.float32)  # no two alike: similarity vouches none
    patches = rng.uniform(0.5, 1.0, (48, 40, 64)).astype(np.float32)
    return times, scores, emb, patches


def test_unsure_onsets_among_confident_hits_pass_and_those_far_from_them_do_not():
    times, scores, emb, patches = _busy_song()
    opts = KitGateOptions(busy_floor=0.25, busy_seconds=2.0, busy_neighbours=2)
    keep = kit_gate(scores, emb, patches, gate=0.3, options=opts, times=times)
    assert keep[:16].all()  # among the kicks: every unsure onset counts
    assert not keep[16:].any()  # nothing confident within 2 s: none does
    # without times, or with the rule off, only the confident kicks pass
    assert kit_gate(scores, emb, patches, gate=0.3, options=opts).sum() == 4
    off = KitGateOptions(busy_floor=None)
    assert kit_gate(scores, emb, patches, gate=0.3, options=off, times=times).sum() == 4
    # an onset under the busy floor stays out however busy the passage
    low = KitGateOptions(busy_floor=0.28, busy_seconds=2.0, busy_neighbours=2)
    assert kit_gate(scores, emb, patches, gate=0.3, options=low, times=times).sum() == 4


@needs_synth
def test_a_groove_under_a_louder_band_keeps_more_hits_and_a_band_alone_gains_none():
    audio, struck = orchestra_groove()
    piano = part("piano", audio.shape[0] / RATE + 1.0)[: audio.shape[0]]
    gain = 2.0 * np.sqrt(np.mean(audio**2) / (np.mean(piano**2) + 1e-12))  # piano 6 dB louder
    mixed = (audio + gain * piano).astype(np.float32)
    spans = _spans(mixed.shape[0] / RATE)
    on = [True] * len(spans)
    similar_only = KitGateOptions(busy_floor=None)
    before = _hit_times(listen_drums(audio=mixed, spans=spans, active=on, kit_gate=similar_only))
    after = _hit_times(listen_drums(audio=mixed, spans=spans, active=on))
    assert _found(struck, after) > _found(struck, before)
    s = np.array(struck)
    stray = [t for t in after if np.abs(s - t).min() > TOLERANCE]
    assert len(stray) <= sum(np.abs(s - t).min() > TOLERANCE for t in before) + 1
    band = (gain * piano).astype(np.float32)
    alone = listen_drums(audio=band, spans=spans, active=on)
    assert (
        _hit_times(alone).size
        == _hit_times(listen_drums(audio=band, spans=spans, active=on, kit_gate=similar_only)).size
    )


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"floor": 0.0}, "floor"),
        ({"distance": float("nan")}, "distance"),
        ({"neighbours": 0}, "neighbours"),
        ({"busy_floor": 1.0}, "busy_floor"),
        ({"busy_seconds": -1.0}, "busy_seconds"),
        ({"busy_neighbours": 2.5}, "busy_neighbours"),
    ],
)
def test_bad_kit_gate_settings_name_the_field(kwargs, field):
    with pytest.raises(ParameterError, match=field):
        KitGateOptions(**kwargs)
