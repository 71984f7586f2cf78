"""Labelled test audio: General MIDI parts (fluidsynth) and words (espeak-ng) with exact truth.

Tests, benchmarks and the demo song need real-sounding audio whose content is known to the
second; recordings would need licences and hand labels. Everything here is deterministic
(same arguments + seed -> same samples) and cached by content hash under ``$AIMV_CACHE_DIR/synth``
(default ``~/.cache/aimv/synth``; ``AIMV_SYNTH_NO_CACHE=1`` bypasses it). All audio is float32,
mono ``(frames,)`` or stereo ``(frames, 2)``.

Public API::

    render_part(*, instrument, seconds, sample_rate=22050, seed=0, velocity=90, bpm=100.0,
                key=None, stereo=False, reverb=False) -> np.ndarray
    instrument_names() -> tuple[str, ...]; get_instrument(name) -> InstrumentDef (.labels)
    speak(*, text, sample_rate=22050, voice="en", speed=140, pitch=50, sing=False,
          note=None, hold=None) -> np.ndarray
    place_words(*, words=[("heart", 1.0), VocalWord("fire", None, note=62)], seconds,
                sample_rate=22050, ...) -> (np.ndarray, list[WordTruth])
    phrase("my heart is on fire", start=4.0, notes=..., holds=...) -> list[VocalWord]
    mix(*layers: Layer, seconds, sample_rate, stereo=True, peak=0.89) -> np.ndarray
    scale_to_snr(signal, noise, snr_db=0.0, rate=...) -> scaled noise
    resample(audio, orig_rate, target_rate); to_mono; to_stereo(audio, pan=0.0)
    write_audio(path, audio, sample_rate, *, subtype=None) -> Path   (.wav/.flac/.ogg, atomic)
    SongSpec(sections=(Section(name, start, end, parts=(PartSpec("piano"),), loudness), ...),
             words=(VocalWord, ...), bpm, key, seed, sing, vocal_snr_db)
    render_song(spec, *, sample_rate=44100, window_seconds=1.0) -> RenderedSong(audio,
                sample_rate, truth: SongTruth)   # truth.save("x.truth.json")
    demo_spec(), bench_song_spec(seconds=180.0, seed=0), render_bench_song(path=None)

Errors: ParameterError for bad arguments (unknown instrument, NaN seconds, ...),
ModelUnavailableError when fluidsynth/espeak-ng or the soundfont are missing.
Tools: fluidsynth (LGPL-2.1) with FluidR3_GM.sf2 (MIT), espeak-ng (GPL-3.0) run as programs;
the generated audio belongs to this project.
"""

from aimv_backend.synth.instruments import InstrumentDef, get_instrument, instrument_names
from aimv_backend.synth.midi import render_part
from aimv_backend.synth.mixing import (
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
from aimv_backend.synth.song import (
    PartSpec,
    RenderedSong,
    SecondTruth,
    Section,
    SongSpec,
    SongTruth,
    render_song,
)
from aimv_backend.synth.songs import bench_song_spec, demo_spec, render_bench_song
from aimv_backend.synth.voice import VocalWord, WordTruth, phrase, place_words, speak

__all__ = [
    "InstrumentDef", "Layer", "PartSpec", "RenderedSong", "SecondTruth", "Section", "SongSpec",
    "SongTruth", "VocalWord", "WordTruth", "active_rms", "bench_song_spec", "demo_spec",
    "get_instrument", "instrument_names", "mix", "phrase", "place_words", "render_bench_song",
    "render_part", "render_song", "resample", "rms", "scale_to_snr", "speak", "to_mono",
    "to_stereo", "write_audio",
]
