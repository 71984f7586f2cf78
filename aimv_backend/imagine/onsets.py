"""Note onsets for the picture: every attack of the song, drums or not.

The add-on turns drum hits into visible events (docs/blender.md, "Hits"). The onsets fill in
what the drum transcription does not cover: without hits they drive those events (locked to
the beats when those are known); beside hits, the onsets no hit explains (a piano chord, a
sung syllable, a string attack) become small "note" events. This fills ``rhythm.onsets`` and
``rhythm.onset_strengths`` (schema 1.1) from the song with librosa's onset detector (spectral
flux, peak-picked).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aimv_timeline.paths import song_path
from aimv_timeline.schema import Rhythm, Timeline

HOP = 512
SAMPLE_RATE = 22050


def needs_onsets(timeline: Timeline) -> bool:
    """True when the timeline has no onsets yet."""
    return timeline.rhythm is None or not timeline.rhythm.onsets


def detect_onsets(audio: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Onset times (s) of ``audio`` and their strengths in [0, 1] (librosa: spectral-flux onset
    strength, peak picking, no backtracking; strength = the envelope at the onset over its 95th
    percentile at all onsets, clipped)."""
    import librosa  # noqa: PLC0415 - heavy
    import numpy as np  # noqa: PLC0415

    y, sr = librosa.load(str(audio), sr=SAMPLE_RATE, mono=True)
    envelope = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP)
    frames = librosa.onset.onset_detect(
        onset_envelope=envelope, sr=sr, hop_length=HOP, units="frames"
    )
    if len(frames) == 0:
        return (), ()
    peaks = envelope[frames]
    top = float(np.percentile(peaks, 95)) or 1.0
    times = librosa.frames_to_time(frames, sr=sr, hop_length=HOP)
    return (
        tuple(round(float(t), 4) for t in times),
        tuple(round(float(min(1.0, max(0.05, p / top))), 3) for p in peaks),
    )


def with_onsets(timeline: Timeline, *, timeline_dir: Path) -> Timeline:
    """The timeline with ``rhythm.onsets`` filled when :func:`needs_onsets` (else unchanged)."""
    audio = song_path(timeline.source.path, timeline_dir)
    if not needs_onsets(timeline) or not audio.is_file():
        return timeline
    onsets, strengths = detect_onsets(audio)
    rhythm = timeline.rhythm or Rhythm(tempo_bpm=None)
    return replace(timeline, rhythm=replace(rhythm, onsets=onsets, onset_strengths=strengths))
