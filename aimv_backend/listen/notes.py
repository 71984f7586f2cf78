"""The notes played in each window, from Spotify's basic-pitch model (Apache-2.0) on onnxruntime.

basic-pitch 0.4.0 ships ``saved_models/icassp_2022/nmp.onnx``: audio at 22 050 Hz in fixed
chunks of 43 844 samples (~2 s) to per-frame (86 a second) note, onset and pitch-contour
activations for the 88 piano keys. The package's own code pulls TensorFlow, so it is installed
with ``--no-deps`` and only its model file is used here (found through the package metadata,
without importing the package).

Cost: running the model over a whole song costs RTF ~0.1 on two CPU cores, more than the whole
rest of the listening stage. Colour needs the note of each window, not every frame, so the
middle 0.25 s of each window are packed seven to a chunk, with short silent gaps and fades
between them, and each snippet's frames are read back without their edges: a seventh of the
cost of the whole song at 1 s windows. On 80 one-second windows of ten rendered instruments
(flute to bass) the strongest note was a sounding one in all 80 with 0.45, 0.3 or 0.2 s.
"""

from __future__ import annotations

import importlib.metadata as metadata
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aimv_backend.errors import ModelUnavailableError
from aimv_backend.listen.windows import WindowSpan

__all__ = [
    "SAMPLE_RATE",
    "PlayedNote",
    "basic_pitch_model_path",
    "notes_available",
    "window_notes",
]

SAMPLE_RATE = 22050
CHUNK = 43844  # the model's fixed input length (2 s minus one hop)
HOP = 256  # samples per output frame
LOWEST_MIDI = 21  # the first of the 88 output rows (A0)
SNIPPET_SECONDS = 0.25
GAP_SECONDS = 0.03
FADE_SECONDS = 0.01
EDGE_FRAMES = 3  # frames dropped at each end of a snippet (the joins leak into them)
NOTE_THRESHOLD = 0.3  # mean note activation over the snippet for a note to count
ENGINE = "basic-pitch:icassp_2022 (onnx)"


@dataclass(frozen=True)
class PlayedNote:
    """A note sounding in a window: MIDI number and basic-pitch's mean activation in [0, 1]."""

    midi: int
    strength: float

    @property
    def frequency_hz(self) -> float:
        return 440.0 * 2.0 ** ((self.midi - 69) / 12.0)


def basic_pitch_model_path() -> Path | None:
    """Where basic-pitch's ``nmp.onnx`` lies, or None when the package is not installed."""
    try:
        dist = metadata.distribution("basic-pitch")
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if str(file).replace("\\", "/").endswith("saved_models/icassp_2022/nmp.onnx"):
            path = Path(str(file.locate()))
            return path if path.is_file() else None
    return None


def notes_available() -> bool:
    """Whether basic-pitch's model and onnxruntime are both installed."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return basic_pitch_model_path() is not None


def _session():
    """A fresh onnxruntime session (0.2 s to load; not kept, so its memory is given back
    before the later, larger models load)."""
    import onnxruntime as ort

    path = basic_pitch_model_path()
    if path is None:
        raise ModelUnavailableError(
            "basic-pitch's model is not installed: pip install --no-deps basic-pitch==0.4.0"
        )
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _snippet(audio: np.ndarray, span: WindowSpan, rate: int, length: int) -> np.ndarray:
    """The middle ``length`` samples of the window (all of it when shorter), faded at both ends."""
    a = int(round(span.start * rate))
    b = min(audio.shape[0], int(round(span.end * rate)))
    if b - a > length:
        a += (b - a - length) // 2
        b = a + length
    piece = np.array(audio[a:b], dtype=np.float32)
    fade = min(piece.shape[0] // 2, int(FADE_SECONDS * rate))
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        piece[:fade] *= ramp
        piece[-fade:] *= ramp[::-1]
    return piece


def window_notes(
    *,
    audio: np.ndarray,
    sample_rate: int,
    windows: Sequence[WindowSpan],
    skip: Sequence[bool] | None = None,
    threshold: float = NOTE_THRESHOLD,
    batch: int = 4,
) -> list[tuple[PlayedNote, ...]]:
    """The notes sounding in each window, strongest first (empty for skipped windows).

    audio: mono float32 at ``sample_rate`` Hz (resampled to 22 050 Hz when different).
    skip: True for windows not to analyse (silent ones).
    threshold: the mean note activation (0-1) over the window's snippet for a note to count.
    A note's MIDI number below 40 (E2) is bass; the colour ignores notes under 60 Hz.
    Raises ModelUnavailableError when basic-pitch is not installed.
    """
    session = _session()
    if sample_rate != SAMPLE_RATE:
        import soxr

        audio = soxr.resample(np.asarray(audio, dtype=np.float32), sample_rate, SAMPLE_RATE)
    length = int(SNIPPET_SECONDS * SAMPLE_RATE)
    gap = int(GAP_SECONDS * SAMPLE_RATE)
    per_chunk = max(1, CHUNK // (length + gap))
    todo = [i for i in range(len(windows)) if not (skip is not None and skip[i])]
    out: list[tuple[PlayedNote, ...]] = [() for _ in windows]
    # Lay the snippets out: (window index, chunk, first sample in chunk, length).
    layout = []
    chunks: list[np.ndarray] = []
    for n, i in enumerate(todo):
        c, slot = divmod(n, per_chunk)
        if slot == 0:
            chunks.append(np.zeros(CHUNK, dtype=np.float32))
        piece = _snippet(audio, windows[i], SAMPLE_RATE, length)
        start = slot * (length + gap) + gap // 2
        chunks[c][start : start + piece.shape[0]] = piece
        layout.append((i, c, start, piece.shape[0]))
    notes_act = []
    name = session.get_inputs()[0].name
    for a in range(0, len(chunks), batch):
        x = np.stack(chunks[a : a + batch])[:, :, None]
        note, _onset = session.run(
            ["StatefulPartitionedCall:1", "StatefulPartitionedCall:2"], {name: x}
        )
        notes_act.append(note)
    if not notes_act:
        return out
    activations = np.concatenate(notes_act)  # (chunks, frames, 88)
    frames = activations.shape[1]
    for i, c, start, size in layout:
        f0 = int(math.ceil(start / HOP)) + EDGE_FRAMES
        f1 = min(frames, int((start + size) // HOP) - EDGE_FRAMES)
        if f1 <= f0:
            f0, f1 = int(start // HOP), min(frames, int(math.ceil((start + size) / HOP)))
        if f1 <= f0:
            continue
        mean = activations[c, f0:f1].mean(axis=0)
        keys = np.flatnonzero(mean >= threshold)
        order = keys[np.argsort(-mean[keys])]
        out[i] = tuple(
            PlayedNote(midi=int(k) + LOWEST_MIDI, strength=round(float(mean[k]), 4)) for k in order
        )
    return out
