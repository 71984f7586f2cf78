"""The labelled-audio generator: what it renders must really contain what its truth says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from aimv_backend.errors import OutputError, ParameterError
from aimv_testkit import (
    Layer,
    PartSpec,
    Section,
    SongSpec,
    VocalWord,
    active_rms,
    bench_song_spec,
    demo_spec,
    get_instrument,
    instrument_names,
    mix,
    place_words,
    render_part,
    render_song,
    rms,
    scale_to_snr,
    speak,
    write_audio,
)
from aimv_testkit.patterns import make_harmony

RATE = 22050
_MISSING = [exe for exe in ("fluidsynth", "espeak-ng") if shutil.which(exe) is None]
if not Path("/usr/share/sounds/sf2/FluidR3_GM.sf2").is_file():
    _MISSING.append("fluid-soundfont-gm")
pytestmark = pytest.mark.skipif(
    bool(_MISSING), reason=f"needs Debian packages: {', '.join(_MISSING)}"
)
C_MAJOR = make_harmony(key="C", bpm=100.0, progression=(0, 3, 4, 0))


def _band_fraction(audio: np.ndarray, rate: int, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(audio.size, 1 / rate)
    return float(spec[(freqs >= lo) & (freqs < hi)].sum() / spec.sum())


@pytest.fixture(scope="session")
def piano() -> np.ndarray:
    return render_part(instrument="piano", seconds=4.8, sample_rate=RATE, harmony=C_MAJOR)


def test_piano_clip_is_audible_and_in_key(piano):
    import librosa

    assert piano.dtype == np.float32 and piano.shape == (int(4.8 * RATE),)
    assert rms(piano) > 0.005
    # Piano in octaves 3-5: most energy between 100 Hz and 2 kHz, almost none above 6 kHz.
    assert _band_fraction(piano, RATE, 100, 2000) > 0.7
    assert _band_fraction(piano, RATE, 6000, RATE / 2) < 0.02
    chroma = librosa.feature.chroma_cqt(y=piano, sr=RATE).sum(axis=1)
    strongest = set(np.argsort(chroma)[-5:].tolist())
    assert strongest <= {0, 2, 4, 5, 7, 9, 11}  # the five strongest pitch classes are in C major
    assert int(np.argmax(chroma)) == 0  # the tonic C


def test_bass_sounds_lower_than_flute():
    import librosa

    bass = render_part(instrument="bass", seconds=2.4, sample_rate=RATE, harmony=C_MAJOR)
    flute = render_part(instrument="flute", seconds=2.4, sample_rate=RATE, harmony=C_MAJOR)
    cb = librosa.feature.spectral_centroid(y=bass, sr=RATE).mean()
    cf = librosa.feature.spectral_centroid(y=flute, sr=RATE).mean()
    assert cb * 2 < cf


def test_drum_kit_has_onsets_on_the_eighth_note_grid():
    import librosa

    drums = render_part(instrument="drum_kit", seconds=4.8, sample_rate=RATE, bpm=100.0)
    onsets = librosa.onset.onset_detect(y=drums, sr=RATE, units="time", backtrack=False)
    assert len(onsets) >= 12  # 16 eighth notes in two bars at 100 bpm
    eighth = 60 / 100 / 2
    off_grid = np.abs(onsets / eighth - np.round(onsets / eighth)) * eighth
    assert np.median(off_grid) < 0.04


def test_single_kit_pieces_differ():
    crash = render_part(instrument="crash", seconds=2.4, sample_rate=RATE)
    kick = render_part(instrument="kick", seconds=2.4, sample_rate=RATE)
    assert _band_fraction(kick, RATE, 20, 300) > 0.5
    assert _band_fraction(crash, RATE, 3000, RATE / 2) > 0.3


def test_words_land_at_their_offsets_with_silence_between():
    audio, truth = place_words(
        words=[("heart", 0.5), ("ocean", 2.0)], seconds=3.5, sample_rate=RATE
    )
    assert [t.word for t in truth] == ["heart", "ocean"]
    assert [t.start for t in truth] == [0.5, 2.0]
    for t in truth:
        assert 0.2 < t.end - t.start < 1.2
        seg = audio[int(t.start * RATE) : int(t.end * RATE)]
        assert rms(seg) > 0.03
        assert rms(audio[int(t.start * RATE) : int((t.start + 0.1) * RATE)]) > 0.005
    gap = audio[int((truth[0].end + 0.01) * RATE) : int((truth[1].start - 0.01) * RATE)]
    assert gap.size > RATE // 2 and np.max(np.abs(gap)) == 0.0
    assert np.max(np.abs(audio[: int(0.49 * RATE)])) == 0.0


def test_phrase_words_follow_each_other():
    words = [
        VocalWord("my", 1.0),
        VocalWord("heart"),
        VocalWord("is"),
        VocalWord("on"),
        VocalWord("fire"),
    ]
    _, truth = place_words(words=words, seconds=6.0, sample_rate=16000)
    assert [t.word for t in truth] == ["my", "heart", "is", "on", "fire"]
    for a, b in zip(truth, truth[1:], strict=False):
        assert b.start == pytest.approx(a.end + 0.06, abs=1e-3)


def test_sung_word_is_on_its_note():
    import librosa

    clip = speak(text="fire", sing=True, note=57, hold=0.8, voice="en-us+f3", sample_rate=RATE)
    assert clip.size / RATE == pytest.approx(0.8, abs=0.1)
    f0, voiced, _ = librosa.pyin(clip, fmin=80, fmax=600, sr=RATE, frame_length=1024)
    median = float(np.median(f0[voiced & np.isfinite(f0)]))
    assert abs(12 * np.log2(median / 220.0)) < 1.0  # within a semitone of A3


def test_same_seed_same_bytes_and_cache_matches_fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("AIMV_CACHE_DIR", str(tmp_path))
    a = render_part(instrument="violin", seconds=2.0, sample_rate=RATE, seed=3)
    b = render_part(instrument="violin", seconds=2.0, sample_rate=RATE, seed=3)  # from cache
    assert list(tmp_path.rglob("*.npy"))
    monkeypatch.setenv("AIMV_SYNTH_NO_CACHE", "1")
    c = render_part(instrument="violin", seconds=2.0, sample_rate=RATE, seed=3)
    d = render_part(instrument="violin", seconds=2.0, sample_rate=RATE, seed=4)
    assert a.tobytes() == b.tobytes() == c.tobytes()
    assert a.tobytes() != d.tobytes()


def test_song_from_cache_equals_fresh_render(monkeypatch, tmp_path, small_song):
    monkeypatch.setenv("AIMV_SYNTH_NO_CACHE", "1")
    fresh = render_song(_small_spec(), sample_rate=RATE)
    assert fresh.audio.tobytes() == small_song.audio.tobytes()
    assert fresh.truth == small_song.truth


def test_a_song_rendered_with_another_soundfont_is_not_taken_from_the_cache(
    monkeypatch, tmp_path, small_song
):
    other = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
    if not other.is_file():
        pytest.skip(f"{other} is missing")
    monkeypatch.setenv("AIMV_CACHE_DIR", str(tmp_path))
    first = render_song(_small_spec(), sample_rate=RATE)  # FluidR3, now in this cache
    monkeypatch.setenv("AIMV_SOUNDFONT", str(other))
    again = render_song(_small_spec(), sample_rate=RATE)
    assert again.audio.tobytes() != first.audio.tobytes()  # TimGM6mb's samples, not FluidR3's
    monkeypatch.setenv("AIMV_SYNTH_NO_CACHE", "1")
    assert render_song(_small_spec(), sample_rate=RATE).audio.tobytes() == again.audio.tobytes()


def test_bad_arguments_raise_parameter_error():
    with pytest.raises(ParameterError, match="instrument.*'kazoo'"):
        render_part(instrument="kazoo", seconds=1.0)
    with pytest.raises(ParameterError, match="seconds"):
        render_part(instrument="piano", seconds=float("nan"))
    with pytest.raises(ParameterError, match="seed"):
        render_part(instrument="piano", seconds=1.0, seed="one")
    with pytest.raises(ParameterError, match="velocity"):
        render_part(instrument="piano", seconds=1.0, velocity=200)
    with pytest.raises(ParameterError, match="overlaps"):
        place_words(words=[("heart", 0.5), ("fire", 0.6)], seconds=3.0)
    with pytest.raises(ParameterError, match="past the clip end"):
        place_words(words=[("heart", 2.9)], seconds=3.0)
    with pytest.raises(ParameterError, match="text"):
        speak(text="   ")
    with pytest.raises(ParameterError, match="no sound"):
        speak(text="...")
    with pytest.raises(ParameterError, match="voice 'xx-nope'"):
        speak(text="hello", voice="xx-nope")


def test_every_instrument_name_resolves_and_has_labels():
    for name in instrument_names():
        assert get_instrument(name).labels
    assert get_instrument("Guitar").name == "acoustic_guitar"
    assert get_instrument("hi-hat").name == "hihat"
    assert get_instrument("choir").program == 52
    assert get_instrument("drum_kit").is_drum


def test_snr_scaling_and_mix(piano):
    voice, _ = place_words(words=[("ocean", 0.5)], seconds=4.8, sample_rate=RATE)
    for snr in (10.0, 0.0, -5.0):
        music = scale_to_snr(voice, piano, snr_db=snr, rate=RATE)
        assert 20 * np.log10(active_rms(voice, rate=RATE) / rms(music)) == pytest.approx(
            snr, abs=0.01
        )
    out = mix(Layer(piano), Layer(voice, gain_db=-6, pan=0.5), seconds=4.8, sample_rate=RATE)
    assert out.shape == (int(4.8 * RATE), 2) and out.dtype == np.float32
    assert np.max(np.abs(out)) <= 0.89 + 1e-6
    assert rms(out[:, 1]) > rms(out[:, 0])  # panned voice is louder on the right


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg"])
def test_write_audio_round_trip(tmp_path, piano, ext):
    path = write_audio(tmp_path / f"clip{ext}", piano, RATE)
    back, rate = sf.read(str(path), dtype="float32")
    assert rate == RATE and back.shape[0] == piano.shape[0]
    assert np.corrcoef(back, piano)[0, 1] > 0.99
    assert [p.name for p in tmp_path.iterdir()] == [f"clip{ext}"]  # no temp file left


def test_write_audio_refuses_unknown_extension(tmp_path, piano):
    with pytest.raises(OutputError, match=r"\.mp3"):
        write_audio(tmp_path / "clip.mp3", piano, RATE)


def _small_spec() -> SongSpec:
    return SongSpec(
        sections=(
            Section("intro", 0.0, 2.4, (PartSpec("piano"),), "quiet"),
            Section(
                "chorus",
                2.4,
                4.8,
                (PartSpec("piano"), PartSpec("drum_kit"), PartSpec("bass")),
                "loud",
                crash=True,
            ),
        ),
        words=(VocalWord("ocean", 0.6), VocalWord("fire", 3.0)),
        key="G",
        seed=1,
        vocal_snr_db=6.0,
        reverb=False,
    )


@pytest.fixture(scope="session")
def small_song():
    return render_song(_small_spec(), sample_rate=RATE)


def test_song_truth_matches_its_audio(small_song, tmp_path):
    truth = small_song.truth
    assert small_song.audio.shape == (int(4.8 * RATE), 2)
    assert len(truth.windows) == 5 and truth.windows[-1].end == pytest.approx(4.8)
    first, third = truth.windows[0], truth.windows[3]
    assert first.instruments == ("piano",) and first.section == "intro"
    assert {"bass", "drum_kit", "piano"} <= set(third.instruments)
    assert "crash" in truth.windows[2].drum_pieces and not truth.windows[1].drum_pieces
    assert [w.word for w in truth.words] == ["ocean", "fire"]
    assert truth.windows[0].voice and not truth.windows[2].voice and not truth.windows[4].voice
    assert truth.windows[3].voice and truth.windows[3].words[0].word == "fire"
    assert "vocal" in truth.windows[3].labels and "piano" in truth.windows[0].labels
    # The loud chorus is louder than the quiet intro in the measured level too.
    assert third.rms_db > truth.windows[1].rms_db + 3
    assert truth.key == "G major"
    saved = json.loads(truth.save(tmp_path / "t.json").read_text())
    assert saved["windows"][3]["words"][0]["word"] == "fire"


def test_demo_spec_is_in_key_and_within_thirty_seconds():
    spec = demo_spec()
    assert spec.duration <= 30
    words = " ".join(w.text for w in spec.words)
    assert "my heart is on fire" in words
    h = make_harmony(key=spec.key, bpm=spec.bpm, progression=spec.progression)
    for w in spec.words:  # every sung note is a tone of the chord under it
        assert w.note is not None and w.start is not None
        chord = h.chord(int(w.start // h.bar))
        assert w.note % 12 in chord, (w.text, w.start, w.note, chord)


def test_bench_song_has_voice_in_about_a_third_of_its_windows():
    spec = bench_song_spec(seconds=38.4)  # one intro/verse/chorus/breakdown cycle
    song = render_song(spec, sample_rate=16000)
    truth = song.truth
    assert [s["name"] for s in truth.sections] == ["intro-1", "verse-1", "chorus-1", "breakdown-1"]
    voiced = sum(w.voice for w in truth.windows) / len(truth.windows)
    assert 0.25 <= voiced <= 0.6
    assert not any(w.voice for w in truth.windows if w.section.startswith("breakdown"))
    speaking = sum(w.end - w.start for w in truth.words) / truth.duration
    assert 0.15 <= speaking <= 0.4


def test_committed_demo_matches_its_spec():
    root = Path(__file__).resolve().parents[2] / "examples"
    info = sf.info(str(root / "demo.wav"))
    assert info.duration <= 30 and info.channels == 2
    assert (root / "demo.wav").stat().st_size < 5_000_000
    truth = json.loads((root / "demo.truth.json").read_text())
    spec = demo_spec()
    assert [w["word"] for w in truth["words"]] == [w.text for w in spec.words]
    assert [w["start"] for w in truth["words"]] == pytest.approx([w.start for w in spec.words])
    assert truth["duration"] == pytest.approx(info.duration)
    loud = {w["loudness"] for w in truth["windows"]}
    assert {"quiet", "loud"} <= loud
