"""Ready-made songs: the bundled demo (examples/demo.wav) and the 3-minute benchmark song.

Both are plain :class:`SongSpec` values so tests can read their truth without rendering, and
both stay in key: the vocal notes are tones of the chord under them (D major, Bm-G-D-A).
"""

from __future__ import annotations

import os
from pathlib import Path

from aimv_testkit._cache import cache_dir, cache_key
from aimv_testkit.midi import check_seconds, soundfont_id
from aimv_testkit.song import PartSpec, Section, SongSpec, render_song
from aimv_testkit.voice import VocalWord, phrase

P = PartSpec
DEMO_BPM = 100.0  # one bar = 2.4 s, one beat = 0.6 s
DEMO_PROGRESSION = (5, 3, 0, 4)  # vi-IV-I-V: Bm G D A in D major


def _w(text: str, start: float, note: int, hold: float) -> VocalWord:
    return VocalWord(text, start, note, hold)


def demo_spec() -> SongSpec:
    """26.4 s: quiet intro, verse, loud chorus (crash), quiet breakdown, loud outro (crash),
    and an ending on the tonic chord (D) that fades out."""
    intro = (P("piano", 0, -0.2, 96), P("synth_pad", -3, 0.3, 96), P("choir", -6, 0.5, 90))
    verse = (P("piano", -2, -0.2), P("bass", 0), P("drum_kit", -5), P("strings", -6, 0.4))
    chorus = (
        P("piano", 0, -0.2, 100),
        P("bass", 1),
        P("drum_kit", 0, 0, 100),
        P("strings", -2, 0.4),
        P("electric_guitar", -4, -0.6),
    )
    breakdown = (P("synth_pad", -4, 0.3), P("cello", -2, -0.3), P("flute", -6, 0.2, 80))
    outro = (
        P("piano", 0, -0.2, 100),
        P("bass", 1),
        P("drum_kit", 0, 0, 100),
        P("strings", -2, 0.4),
    )
    ending = (P("piano", 0, -0.2, 96), P("strings", -2, 0.4), P("synth_pad", -4, 0.3, 96))
    sections = (
        Section("intro", 0.0, 4.8, intro, "quiet"),
        Section("verse", 4.8, 9.6, verse, "normal"),
        Section("chorus", 9.6, 16.8, chorus, "loud", crash=True),
        Section("breakdown", 16.8, 21.6, breakdown, "quiet"),
        Section("outro", 21.6, 24.0, outro, "loud", crash=True),
        Section("ending", 24.0, 26.4, ending, "normal"),
    )
    # Melody between A3 and E4, where the espeak voice "en-us+f3" sings without much shifting.
    words = (
        # intro: instrumental. bar 2 (D): "the ocean"; bar 3 (A): "a city of light"
        _w("the", 5.4, 57, 0.3),
        _w("ocean", 6.0, 62, 1.0),
        _w("a", 7.2, 57, 0.25),
        _w("city", 7.5, 61, 0.5),
        _w("of", 8.1, 64, 0.25),
        _w("light", 8.4, 61, 1.0),
        # bar 4 (Bm): "my heart is on"; bar 5 (G): "fire ... on"; bar 6 (D): "fire"
        _w("my", 9.6, 59, 0.35),
        _w("heart", 10.2, 62, 0.9),
        _w("is", 11.4, 59, 0.25),
        _w("on", 11.7, 59, 0.25),
        _w("fire", 12.0, 62, 1.3),
        _w("on", 14.1, 59, 0.25),
        _w("fire", 14.4, 62, 1.5),
        # bar 7 (A): "the moon"; bar 8 (Bm) instrumental; bars 9-10 (G, D): "fire ... on fire"
        _w("the", 17.4, 61, 0.3),
        _w("moon", 18.0, 57, 1.2),
        _w("fire", 21.6, 62, 1.6),
        _w("on", 23.7, 59, 0.25),
        _w("fire", 24.0, 62, 1.6),
    )
    return SongSpec(
        sections=sections,
        words=words,
        bpm=DEMO_BPM,
        key="D",
        progression=DEMO_PROGRESSION,
        seed=7,
        voice="en-us+f3",
        speed=130,
        pitch=60,
        sing=True,
        # Vocal-forward on purpose: at +10 dB Whisper base hears "my part is on fire".
        vocal_snr_db=12.0,
        fade_out=2.0,
    )


BENCH_LINES = (
    "my heart is on fire",
    "the ocean is calling",
    "a city of light",
    "dancing in the rain",
    "under the silver moon",
    "running through the forest",
    "the stars are falling down",
    "hold my hand tonight",
    "a river of gold",
    "the mountain is sleeping",
    "a bird in the sky",
    "fire on the water",
)
_BENCH_FORM = (
    ("intro", "quiet", (2,), (P("piano", -2, -0.2), P("synth_pad", -6, 0.3))),
    (
        "verse",
        "normal",
        (0, 2),
        (P("piano", -2, -0.2), P("bass"), P("drum_kit", -5), P("acoustic_guitar", -6, 0.5)),
    ),
    (
        "chorus",
        "loud",
        (0, 2),
        (
            P("piano"),
            P("bass", 1),
            P("drum_kit"),
            P("strings", -3, 0.4),
            P("electric_guitar", -4, -0.6),
        ),
    ),
    (
        "breakdown",
        "quiet",
        (),
        (P("synth_pad", -4), P("cello", -2, -0.3), P("flute", -6, 0.3), P("choir", -8, 0.2)),
    ),
)


def bench_song_spec(*, seconds: float = 180.0, seed: int = 0) -> SongSpec:
    """A song of ``seconds`` cycling intro/verse/chorus/breakdown (4 bars each, 100 bpm), with
    spoken lines in intros, verses and choruses: at 180 s about 25 % of the time is speech and
    about 40 % of the 1 s windows hold some voice."""
    seconds = check_seconds(seconds)
    bar = 60.0 / DEMO_BPM * 4
    sections, words = [], []
    t, k, line = 0.0, 0, seed
    while t < seconds - 1e-6:
        name, loud, sung, parts = _BENCH_FORM[k % len(_BENCH_FORM)]
        end = min(seconds, t + 4 * bar)
        sections.append(
            Section(
                f"{name}-{k // len(_BENCH_FORM) + 1}", t, end, parts, loud, crash=name == "chorus"
            )
        )
        for b in sung:  # a spoken line starting on these bars of the section
            start = t + b * bar + 0.15
            if start + 3.5 <= end:
                words.extend(phrase(BENCH_LINES[line % len(BENCH_LINES)], start=start))
                line += 1
        t, k = end, k + 1
    return SongSpec(
        sections=tuple(sections),
        words=tuple(words),
        bpm=DEMO_BPM,
        key="D",
        progression=DEMO_PROGRESSION,
        seed=seed,
        voice="en-us",
        speed=150,
        pitch=45,
        sing=False,
        vocal_snr_db=6.0,
    )


def render_bench_song(
    path: str | os.PathLike[str] | None = None,
    *,
    seconds: float = 180.0,
    seed: int = 0,
    sample_rate: int = 44100,
) -> Path:
    """Write the benchmark song (stereo 16-bit WAV) and ``<name>.truth.json``; return the WAV.

    Without ``path`` it goes to the synth cache folder and is reused when already there.
    """
    from aimv_testkit.mixing import write_audio

    spec = bench_song_spec(seconds=seconds, seed=seed)
    if path is None:
        key = cache_key(
            "bench-song", {"spec": repr(spec), "rate": sample_rate, "sf2": soundfont_id()}
        )
        key = key[:16]
        target = cache_dir() / f"bench-song-{int(seconds)}s-{key}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
    else:
        target = Path(path)
    truth_path = target.with_suffix(".truth.json")
    if path is None and target.is_file() and truth_path.is_file():
        return target
    song = render_song(spec, sample_rate=sample_rate)
    write_audio(target, song.audio, sample_rate)
    song.truth.save(truth_path)
    return target
