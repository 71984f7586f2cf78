"""Labelled test audio: General MIDI parts (fluidsynth) and words (espeak-ng) with exact truth.

Tests, benchmarks and the demo song need real-sounding audio whose content is known to the
second; recordings would need licences and hand labels. Everything here is deterministic (same
arguments + seed -> same samples) and cached by content hash under ``$AIMV_CACHE_DIR/synth``
(else ``$XDG_CACHE_HOME/aimv/synth`` or ``~/.cache/aimv/synth``; ``AIMV_SYNTH_NO_CACHE=1``
bypasses it). All audio is float32, mono ``(frames,)`` or stereo ``(frames, 2)``; times are
seconds, rates Hz, gains dB. How it works and the licences: docs/test-audio.md.

Public API::

    render_part(*, instrument, seconds, sample_rate=22050, seed=0, velocity=90, bpm=100.0,
                key=None, stereo=False, reverb=False, harmony=None) -> np.ndarray
    instrument_names() -> tuple[str, ...]; get_instrument(name) -> InstrumentDef (.labels)
    make_harmony(*, seed=0, bpm=100.0, key=None, progression=None, beats_per_bar=4) -> Harmony
    speak(*, text, sample_rate=22050, voice="en", speed=140, pitch=50, sing=False,
          note=None, hold=None) -> np.ndarray
    place_words(*, words=[("heart", 1.0), VocalWord("fire", None, note=62)], seconds,
                sample_rate=22050, voice="en", speed=140, pitch=50, sing=False, gap=0.06)
        -> (np.ndarray, list[WordTruth(word, start, end)])
    phrase("my heart is on fire", start=4.0, notes=None, holds=None) -> list[VocalWord]
    mix(*layers: Layer(audio, gain_db, pan, start), seconds, sample_rate, stereo=True,
        peak=0.89) -> np.ndarray
    scale_to_snr(signal, noise, *, snr_db, rate=22050) -> noise scaled to that SNR
    resample(audio, orig_rate, target_rate); to_mono(audio); to_stereo(audio, pan=0.0)
    write_audio(path, audio, sample_rate, *, subtype=None) -> Path   (.wav/.flac/.ogg, atomic)
    SongSpec(sections=(Section(name, start, end, parts=(PartSpec("piano"),), loudness,
             crash), ...), words=(VocalWord, ...), bpm, key, progression, seed, voice, sing,
             vocal_snr_db, fade_out)
    render_song(spec, *, sample_rate=44100, window_seconds=1.0) -> RenderedSong(audio,
                sample_rate, truth: SongTruth)        # truth.save("song.truth.json")
    demo_spec(); bench_song_spec(*, seconds=180.0, seed=0)
    render_bench_song(path=None, *, seconds=180.0, seed=0, sample_rate=44100) -> Path
    aimv_testkit.grooves: render_groove(*, bpm, seconds=20.0, seed=0, parts=("drum_kit", "bass",
        "piano"), sample_rate=22050, lead_in=0.0, soundfont=None, beats_per_bar=4) ->
        Groove(audio, sample_rate, bpm, beats, downbeats); render_waltz(*, bpm, ...);
        render_tempo_map(*, tempi, ...); beat_f_measure(truth, found, tolerance=0.07)
    aimv_testkit.scoring: EXPECTED_WORDS, part_heard, score_words, normalise_text

Errors: ParameterError for bad arguments (unknown instrument, NaN seconds, overlapping words),
ModelUnavailableError when fluidsynth, espeak-ng or the soundfont are missing, OutputError when
an audio file cannot be written.
"""

from aimv_testkit.instruments import InstrumentDef, get_instrument, instrument_names
from aimv_testkit.midi import render_part
from aimv_testkit.mixing import (
    Layer,
    active_rms,
    mix,
    resample,
    rms,
    scale_to_snr,
    to_mono,
    to_stereo,
    write_audio,
)
from aimv_testkit.patterns import Harmony, make_harmony
from aimv_testkit.song import (
    PartSpec,
    RenderedSong,
    SecondTruth,
    Section,
    SongSpec,
    SongTruth,
    render_song,
)
from aimv_testkit.songs import bench_song_spec, demo_spec, render_bench_song
from aimv_testkit.voice import VocalWord, WordTruth, phrase, place_words, speak

__all__ = [
    "Harmony",
    "InstrumentDef",
    "Layer",
    "PartSpec",
    "RenderedSong",
    "SecondTruth",
    "Section",
    "SongSpec",
    "SongTruth",
    "VocalWord",
    "WordTruth",
    "active_rms",
    "bench_song_spec",
    "demo_spec",
    "get_instrument",
    "instrument_names",
    "make_harmony",
    "mix",
    "phrase",
    "place_words",
    "render_bench_song",
    "render_part",
    "render_song",
    "resample",
    "rms",
    "scale_to_snr",
    "speak",
    "to_mono",
    "to_stereo",
    "write_audio",
]
