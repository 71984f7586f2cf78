"""Test audio for the voice tests: espeak-ng speech, a fluidsynth pad, mixing (real audio).

Kept local to the voice tests so they depend only on the Debian tools, not on other modules.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16_000
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def tools_missing() -> str | None:
    """Why the audio cannot be made here, or None."""
    for exe in ("espeak-ng", "fluidsynth"):
        if shutil.which(exe) is None:
            return f"{exe} is not installed"
    if not SOUNDFONT.is_file():
        return f"{SOUNDFONT} is missing"
    return None


def _read_mono(path: Path) -> np.ndarray:
    import soxr

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    if rate != RATE:
        mono = soxr.resample(mono, rate, RATE).astype(np.float32)
    return mono


def speak(text: str, *, voice: str = "en", speed: int = 140, pitch: int = 50) -> np.ndarray:
    """espeak-ng saying ``text``, mono float32 at 16 kHz, leading/trailing silence trimmed."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        audio = _read_mono(out)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio


def pad(
    seconds: float, *, program: int = 89, notes: tuple[int, ...] = (48, 55, 60, 64)
) -> np.ndarray:
    """A sustained General MIDI chord (default program 89, "Pad 2 (warm)") from fluidsynth."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    for note in notes:
        inst.notes.append(pretty_midi.Note(velocity=80, pitch=note, start=0.0, end=seconds))
    pm.instruments.append(inst)
    return _render(pm, seconds)


def drums_and_bass(seconds: float, *, bpm: float = 110.0) -> np.ndarray:
    """A busy instrumental: drum kit (kick, snare, hi-hat), electric bass and piano chords."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    beat = 60.0 / bpm
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    bass = pretty_midi.Instrument(program=33)
    piano = pretty_midi.Instrument(program=0)
    t, i = 0.0, 0
    roots = (40, 45, 43, 38)
    while t < seconds - beat:
        kit.notes.append(pretty_midi.Note(100, 36 if i % 2 == 0 else 38, t, t + 0.2))
        kit.notes.append(pretty_midi.Note(70, 42, t + beat / 2, t + beat / 2 + 0.1))
        root = roots[(i // 4) % 4]
        bass.notes.append(pretty_midi.Note(90, root, t, t + beat * 0.9))
        if i % 4 == 0:
            for n in (root + 24, root + 28, root + 31):
                piano.notes.append(pretty_midi.Note(70, n, t, t + beat * 3.8))
        t += beat
        i += 1
    pm.instruments.extend([kit, bass, piano])
    return _render(pm, seconds)


def _render(pm, seconds: float) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        mid = Path(tmp) / "in.mid"
        wav = Path(tmp) / "out.wav"
        pm.write(str(mid))
        subprocess.run(
            ["fluidsynth", "-ni", "-q", "-F", str(wav), "-r", str(RATE), str(SOUNDFONT), str(mid)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        audio = _read_mono(wav)
    out = np.zeros(int(round(seconds * RATE)), dtype=np.float32)
    n = min(out.shape[0], audio.shape[0])
    out[:n] = audio[:n]
    return out


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def place(
    bed: np.ndarray, clip: np.ndarray, at: float, *, snr_db: float | None = None
) -> np.ndarray:
    """``clip`` added into a copy of ``bed`` starting at ``at`` seconds.

    snr_db: scale the clip so its RMS is this many dB above the bed's RMS (None: as is).
    """
    out = bed.copy()
    i = int(round(at * RATE))
    piece = clip[: max(0, out.shape[0] - i)]
    if snr_db is not None and rms(bed) > 0:
        piece = piece * (rms(bed) * 10 ** (snr_db / 20) / max(rms(piece), 1e-9))
    out[i : i + piece.shape[0]] += piece
    return out


def write(path: Path, audio: np.ndarray) -> Path:
    """Write 16-bit PCM at 16 kHz, normalised to a -1 dBFS peak when louder."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0.89:
        audio = audio * (0.89 / peak)
    sf.write(str(path), audio, RATE, subtype="PCM_16")
    return path


def place_words(
    bed: np.ndarray, words: list[tuple[str, float]], *, snr_db: float = 6.0
) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """Speak each word on its own and add it at its start time (s): exact ground truth.

    Returns the mix and {word: (start, end)} in seconds. Every word gets the same level,
    ``snr_db`` above the bed's RMS.
    """
    out = bed.copy()
    truth = {}
    for word, at in words:
        clip = speak(word)
        out = place(out, clip * (rms(bed) * 10 ** (snr_db / 20) / max(rms(clip), 1e-9)), at)
        truth[word] = (at, at + clip.shape[0] / RATE)
    return out, truth
