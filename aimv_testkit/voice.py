"""Speech and rough singing with espeak-ng, with exact per-word ground truth.

espeak-ng cannot report word times, so :func:`place_words` renders every word as its own
utterance, trims its silence and places it at a known offset: the truth (start, end) of each
word is then exact by construction. ``sing=True`` flattens espeak's intonation (SSML
``prosody range="x-low"``); given a MIDI ``note`` and a ``hold`` length, espeak's own pitch and
speed are chosen to land near them and librosa does the small rest, which keeps the word
intelligible: close enough to a sung line for a music video demo and for ASR tests.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from aimv_backend.errors import ParameterError
from aimv_testkit._cache import cached_array
from aimv_testkit._tools import require_tool, tool_version
from aimv_testkit.midi import check_rate, check_seconds
from aimv_testkit.mixing import resample

ESPEAK_RATE = 22050
MAX_TEXT = 2000


def espeak_exe() -> str:
    return require_tool("espeak-ng", purpose="speech for tests", packages="espeak-ng")


def espeak_version() -> str:
    return tool_version(espeak_exe(), words=4)


@dataclass(frozen=True)
class WordTruth:
    """Where a placed word really sounds, in seconds from the clip start."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class VocalWord:
    """A word to place: ``start`` in seconds (None: right after the previous word), optional
    sung ``note`` (MIDI number) and ``hold`` (seconds the sung word lasts)."""

    text: str
    start: float | None = None
    note: int | None = None
    hold: float | None = None


def _check_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"text must be a non-empty string, got {text!r}")
    if len(text) > MAX_TEXT:
        raise ParameterError(f"text must be at most {MAX_TEXT} characters, got {len(text)}")
    return " ".join(text.split())


def _espeak(text: str, *, voice: str, speed: int, pitch: int, sing: bool) -> np.ndarray:
    exe = espeak_exe()
    with tempfile.TemporaryDirectory(prefix="aimv-espeak-") as tmp:
        wav = Path(tmp) / "out.wav"
        cmd = [exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), "--stdin"]
        body = text
        if sing:
            cmd.insert(1, "-m")
            body = f'<speak><prosody range="x-low">{escape(text)}</prosody></speak>'
        proc = subprocess.run(
            cmd, input=body, capture_output=True, text=True, check=False, timeout=120
        )
        if proc.returncode != 0 or not wav.is_file() or wav.stat().st_size <= 44:
            msg = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ParameterError(f"espeak-ng could not speak with voice {voice!r}: {msg[0]}")
        data, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    if rate != ESPEAK_RATE:
        data = resample(data, rate, ESPEAK_RATE)
    return np.ascontiguousarray(data.mean(axis=1, dtype=np.float32))


def _median_f0(audio: np.ndarray, rate: int) -> float | None:
    import librosa

    f0, voiced, _ = librosa.pyin(
        audio.astype(np.float32), fmin=60, fmax=500, sr=rate, frame_length=1024
    )
    f0 = f0[voiced & np.isfinite(f0)]
    return float(np.median(f0)) if f0.size else None


def speak(
    *,
    text: str,
    sample_rate: int = 22050,
    voice: str = "en",
    speed: int = 140,
    pitch: int = 50,
    sing: bool = False,
    note: int | None = None,
    hold: float | None = None,
) -> np.ndarray:
    """Say ``text`` with espeak-ng; mono float32 at ``sample_rate`` (Hz), peak about 0.5.

    ``speed`` is words per minute (80-450), ``pitch`` espeak's 0-99 base pitch. With ``sing``
    the intonation is flattened; ``note`` (MIDI number) puts the word on that note (``pitch`` is
    then chosen to match) and ``hold`` (seconds) sets its length, both only when singing.
    Leading and trailing silence is trimmed. Cached on disk.
    """
    text = _check_text(text)
    sample_rate = check_rate(sample_rate)
    if not isinstance(voice, str) or not voice or voice.startswith("-") or " " in voice:
        raise ParameterError(f"voice must be an espeak-ng voice name like 'en', got {voice!r}")
    if not isinstance(speed, int) or not 80 <= speed <= 450:
        raise ParameterError(f"speed must be an integer 80-450 (words per minute), got {speed!r}")
    if not isinstance(pitch, int) or not 0 <= pitch <= 99:
        raise ParameterError(f"pitch must be an integer 0-99, got {pitch!r}")
    if note is not None and (not isinstance(note, int) or not 36 <= note <= 84):
        raise ParameterError(f"note must be a MIDI note number 36-84, got {note!r}")
    if hold is not None:
        hold = check_seconds(hold, name="hold")
    params = {
        "text": text,
        "rate": sample_rate,
        "voice": voice,
        "speed": speed,
        "pitch": pitch,
        "sing": bool(sing),
        "note": note if sing else None,
        "hold": hold if sing else None,
        "espeak": espeak_version(),
    }

    def make() -> np.ndarray:
        if sing and (note is not None or hold is not None):
            audio = _sung(text, voice=voice, speed=speed, pitch=pitch, note=note, hold=hold)
        else:
            audio = trim_silence(
                _espeak(text, voice=voice, speed=speed, pitch=pitch, sing=sing), ESPEAK_RATE
            )
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 0:
            audio = audio * (0.5 / peak)
        if sample_rate != ESPEAK_RATE:
            audio = resample(audio, ESPEAK_RATE, sample_rate)
        return audio.astype(np.float32)

    audio = cached_array("speak", params, make)
    if audio.size == 0 or not np.any(audio):
        raise ParameterError(f"text {text!r} makes no sound when spoken (no letters?)")
    return audio


PITCH_STEPS = (0, 25, 50, 75, 99)


def _pitch_curve(voice: str) -> np.ndarray:
    """Median f0 (Hz) of a flattened "ah" at espeak pitch 0, 25, 50, 75, 99 for ``voice``."""
    params = {"voice": voice, "espeak": espeak_version(), "steps": PITCH_STEPS}

    def make() -> np.ndarray:
        out = []
        for p in PITCH_STEPS:
            ah = trim_silence(
                _espeak("ah", voice=voice, speed=120, pitch=p, sing=True), ESPEAK_RATE
            )
            out.append(_median_f0(ah, ESPEAK_RATE) or 0.0)
        return np.asarray(out, dtype=np.float32)

    return cached_array("pitchcurve", params, make)


def _sung(
    text: str, *, voice: str, speed: int, pitch: int, note: int | None, hold: float | None
) -> np.ndarray:
    """A flattened word on ``note`` lasting about ``hold`` s, shaped mostly by espeak itself.

    espeak changes pitch and length cleanly (it is a source-filter synthesiser), so the base
    pitch is chosen from the voice's measured pitch curve and the speed from a first render's
    length; only the small remainder is done by librosa (pitch shift <= a few semitones, time
    stretch within 0.8-1.25x), which keeps the word intelligible.
    """
    import librosa

    if note is not None:
        curve = _pitch_curve(voice)
        target = 440.0 * 2 ** ((note - 69) / 12)
        ok = curve > 0
        if ok.sum() >= 2:
            logs = np.log2(curve[ok])
            pitch = int(round(np.interp(math.log2(target), logs, np.asarray(PITCH_STEPS)[ok])))
    audio = trim_silence(
        _espeak(text, voice=voice, speed=speed, pitch=pitch, sing=True), ESPEAK_RATE
    )
    if hold is not None and audio.size:
        length = audio.size / ESPEAK_RATE
        new_speed = int(np.clip(round(speed * length / hold), 80, 450))
        if new_speed != speed:
            audio = trim_silence(
                _espeak(text, voice=voice, speed=new_speed, pitch=pitch, sing=True), ESPEAK_RATE
            )
    if note is not None and audio.size:
        f0 = _median_f0(audio, ESPEAK_RATE)
        if f0:
            steps = 12 * math.log2(440.0 * 2 ** ((note - 69) / 12) / f0)
            if abs(steps) > 0.15:
                audio = librosa.effects.pitch_shift(audio, sr=ESPEAK_RATE, n_steps=steps)
    if hold is not None and audio.size:
        rate = float(np.clip(audio.size / ESPEAK_RATE / hold, 0.8, 1.25))
        if abs(rate - 1.0) > 0.03:
            audio = librosa.effects.time_stretch(audio, rate=rate)
    return audio


def trim_silence(audio: np.ndarray, rate: int, *, threshold_db: float = -40.0) -> np.ndarray:
    """Cut leading/trailing frames (10 ms) quieter than ``threshold_db`` below the peak."""
    if audio.size == 0:
        return audio
    hop = max(1, rate // 100)
    n = audio.size // hop
    if n == 0:
        return audio
    frames = audio[: n * hop].reshape(n, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    ref = rms.max()
    if ref <= 0:
        return audio[:0]
    active = np.nonzero(rms >= ref * 10 ** (threshold_db / 20))[0]
    return np.ascontiguousarray(audio[active[0] * hop : (active[-1] + 1) * hop])


def phrase(
    text: str,
    *,
    start: float,
    notes: Sequence[int] | None = None,
    holds: Sequence[float] | None = None,
) -> list[VocalWord]:
    """Split ``text`` into words sung/spoken back to back from ``start`` seconds."""
    words = _check_text(text).split(" ")
    out = []
    for i, w in enumerate(words):
        out.append(
            VocalWord(
                w,
                start if i == 0 else None,
                None if notes is None else int(notes[i % len(notes)]),
                None if holds is None else float(holds[i % len(holds)]),
            )
        )
    return out


def place_words(
    *,
    words: Sequence[tuple[str, float] | VocalWord],
    seconds: float,
    sample_rate: int = 22050,
    voice: str = "en",
    speed: int = 140,
    pitch: int = 50,
    sing: bool = False,
    gap: float = 0.06,
) -> tuple[np.ndarray, list[WordTruth]]:
    """Place each word at its offset in a silent clip of ``seconds``; return audio and truth.

    ``words`` holds (word, start seconds) pairs or :class:`VocalWord` (start None = ``gap``
    seconds after the previous word). Raises ParameterError when a word overlaps the previous
    one or runs past the end of the clip.
    """
    seconds = check_seconds(seconds)
    sample_rate = check_rate(sample_rate)
    frames = int(round(seconds * sample_rate))
    out = np.zeros(frames, dtype=np.float32)
    truth: list[WordTruth] = []
    cursor = 0.0
    for item in words:
        w = item if isinstance(item, VocalWord) else VocalWord(str(item[0]), float(item[1]))
        text = _check_text(w.text)
        clip = speak(
            text=text,
            sample_rate=sample_rate,
            voice=voice,
            speed=speed,
            pitch=pitch,
            sing=sing,
            note=w.note,
            hold=w.hold,
        )
        start = cursor + (gap if truth else 0.0) if w.start is None else float(w.start)
        if not math.isfinite(start) or start < 0:
            raise ParameterError(f"word {text!r} start must be >= 0 seconds, got {w.start!r}")
        if truth and start < truth[-1].end - 1e-9:
            raise ParameterError(
                f"word {text!r} at {start:.3f} s overlaps {truth[-1].word!r} which ends at "
                f"{truth[-1].end:.3f} s"
            )
        a = int(round(start * sample_rate))
        b = a + clip.size
        if b > frames:
            raise ParameterError(
                f"word {text!r} at {start:.3f} s ends at {b / sample_rate:.3f} s, past the clip "
                f"end ({seconds:g} s)"
            )
        out[a:b] += clip
        truth.append(WordTruth(text, round(a / sample_rate, 6), round(b / sample_rate, 6)))
        cursor = b / sample_rate
    return out, truth
