"""Reading songs: validate up front, stream in blocks, mix to mono float32.

Everything that reads audio in AIMV goes through here so that every stage refuses the same bad
inputs with the same one-line message, and none of them holds float64 copies of a long song.
"""

from __future__ import annotations

import errno
import math
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from aimv_backend.audio import mp3, ogg
from aimv_backend.errors import AudioInputError
from aimv_timeline.names import AUDIO_FORMATS

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
DEFAULT_BLOCK_SECONDS = 10.0
FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
MAX_PEAK_DBFS = 24.0  # float audio louder than this (16x full scale) is refused up front
DC_CUTOFF_HZ = 5.0  # load_mono's high-pass: DC out, the lowest piano note (27.5 Hz) kept


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, checked. duration is in seconds."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str
    peak: float | None = None  # the sample peak of float audio (1.0: full scale), read at probe

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """Check that ``path`` is a readable audio file and return its header facts.

    Raises AudioInputError (one line, naming the file) for a missing path, a folder, an empty
    file, bytes that are not audio, a broken header, zero-length audio or an unsupported rate.
    """
    p = Path(path)
    name = str(p)
    try:
        mode = os.stat(p).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AudioInputError(f"audio file {name!r} is a loop of symbolic links") from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise AudioInputError(f"audio file {name!r} does not exist") from None
        raise AudioInputError(f"audio file {name!r} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise AudioInputError(f"audio file {name!r} is a folder, not a file")
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"
        raise AudioInputError(
            f"audio file {name!r} is {kind}, not a regular file; AIMV reads each song more "
            f"than once, so save it to a file first"
        )
    size = os.stat(p).st_size
    if size == 0:
        raise AudioInputError(f"audio file {name!r} is empty (0 bytes)")
    if not os.access(p, os.R_OK):
        raise AudioInputError(f"audio file {name!r} is not readable (permission denied)")
    try:
        with mp3.native_stderr_silenced():
            info = sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        reason = str(exc).split(":")[-1].strip() or "unknown format"
        raise AudioInputError(
            f"audio file {name!r} is not audio that AIMV can read ({reason}); use {AUDIO_FORMATS}"
        ) from None
    if info.frames <= 0:
        raise AudioInputError(f"audio file {name!r} contains no audio (0 samples)")
    if info.channels <= 0:
        raise AudioInputError(f"audio file {name!r} has no channels")
    if not MIN_SAMPLE_RATE <= info.samplerate <= MAX_SAMPLE_RATE:
        raise AudioInputError(
            f"audio file {name!r} has sample rate {info.samplerate} Hz; "
            f"AIMV reads {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )
    frames = int(info.frames)
    if info.format in ("WAV", "WAVEX"):
        _check_wav_data_complete(p, size)
    elif info.format == "OGG" and (parts := ogg.links(p)) > 1:
        raise AudioInputError(
            f"audio file {name!r} is {parts} Ogg streams joined end to end (a chained Ogg); "
            f"it would be read as its first part alone ({frames / info.samplerate:.1f} s): "
            "save it as one stream first (e.g. a WAV from your editor)"
        )
    elif info.format == "MP3":
        try:
            frames = mp3.checked_frames(
                p,
                header_frames=frames,
                rate=int(info.samplerate),
                layer3=info.subtype == "MPEG_LAYER_III",
            )
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioInputError(f"audio file {name!r} is damaged: {exc}") from None
        if frames <= 0:
            raise AudioInputError(f"audio file {name!r} contains no audio (0 samples)")
    checked = AudioInfo(
        path=p.resolve(),
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=frames,
        format=str(info.format),
        subtype=str(info.subtype),
    )
    if checked.subtype in FLOAT_SUBTYPES:
        checked = replace(checked, peak=float_peak(checked))
        check_float_levels(checked)
    return checked


_PEAKS: dict[tuple[str, int, int, int], float] = {}  # (path, size, mtime, inode) -> peak
_PEAKS_KEPT = 64


def float_peak(info: AudioInfo) -> float:
    """The sample peak of a file (linear; 1.0 is full scale), read block by block once per
    version of the file: a render probes the song several times (checks, listening, the
    soundtrack's level), and a long float song takes a second to read."""
    status = info.path.stat()
    key = (str(info.path), status.st_size, status.st_mtime_ns, status.st_ino)
    peak = _PEAKS.get(key)
    if peak is None:
        peak = 0.0
        for block in iter_mono_blocks(info, mono=False):
            peak = max(peak, float(np.max(np.abs(block))) if block.size else 0.0)
        if len(_PEAKS) >= _PEAKS_KEPT:  # an album's worth; what was read again is cheap
            _PEAKS.clear()
        _PEAKS[key] = peak
    return peak


def soundtrack_gain_db(path: str | os.PathLike[str]) -> float:
    """The gain (dB, <= 0) that keeps a float song over full scale from clipping in the video's
    AAC soundtrack: its peak brought to -1 dBFS. 0 for every other song, which is left as it
    is (integer PCM cannot go over; only a float file is read through)."""
    try:
        with mp3.native_stderr_silenced():
            subtype = str(sf.info(str(path)).subtype)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return 0.0  # not for soundfile: ffmpeg reads it as it is
    if subtype not in FLOAT_SUBTYPES:
        return 0.0
    peak = probe_audio(path).peak or 0.0
    return 0.0 if peak <= 1.0 else round(-20.0 * math.log10(peak) - 1.0, 2)


def check_float_levels(info: AudioInfo) -> None:
    """Refuse float audio with NaN/inf or a peak above MAX_PEAK_DBFS before any analysis.

    Integer PCM cannot exceed full scale; float files can, and a file far above it (a wrong
    scale factor) would fail only after minutes of listening. Reads the file once.
    """
    limit = 10.0 ** (MAX_PEAK_DBFS / 20.0)
    peak = info.peak if info.peak is not None else float_peak(info)
    if peak > limit:
        level = 20.0 * np.log10(peak)
        raise AudioInputError(
            f"audio file {str(info.path)!r} peaks at {level:+.1f} dBFS; float audio above "
            f"{MAX_PEAK_DBFS:+.0f} dBFS is not a recording AIMV can judge (rescale it to at "
            f"most 0 dBFS)"
        )


def _check_wav_data_complete(path: Path, size: int) -> None:
    """Refuse a WAV whose data chunk promises more bytes than the file holds.

    libsndfile silently shortens such files; a truncated download or copy should not become a
    shorter song without a word.
    """
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        offset = 12
        while offset + 8 <= size:
            fh.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
            if chunk_id == b"data":
                if chunk_size in (0, 0xFFFFFFFF):  # streaming writers leave these
                    return
                available = size - offset - 8
                if chunk_size > available:
                    raise AudioInputError(
                        f"audio file {str(path)!r} is truncated: its header promises "
                        f"{chunk_size} bytes of audio, the file holds {available}"
                    )
                return
            offset += 8 + chunk_size + (chunk_size & 1)


def iter_mono_blocks(
    info: AudioInfo, *, block_frames: int | None = None, mono: bool = True
) -> Iterator[np.ndarray]:
    """Yield the song as consecutive mono float32 blocks at its own sample rate.

    Channels are averaged (``mono=False``: every channel's samples, flattened). Raises
    AudioInputError when a block holds NaN or infinity, or when the file ends before the frame
    count its header promised (truncated data). Files that cannot seek (GSM 6.10, G.721 and
    NMS-ADPCM WAVs) are decoded in one forward pass.
    """
    if block_frames is None:
        block_frames = int(DEFAULT_BLOCK_SECONDS * info.sample_rate)
    total = 0
    name = str(info.path)
    try:
        with sf.SoundFile(name) as fh:
            # fh.read, not fh.blocks: blocks() hands back its whole reused buffer after a short
            # read, so a truncated MP3 would repeat stale samples up to the header's length
            while (want := min(block_frames, info.frames - total)) > 0:
                block = fh.read(want, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                if not mono:
                    out = block.reshape(-1)
                elif block.shape[1] > 1:
                    out = block.mean(axis=1, dtype=np.float32)
                else:
                    out = block[:, 0]
                if not np.isfinite(out).all():
                    at = (
                        total + int(np.argmin(np.isfinite(out))) // (1 if mono else block.shape[1])
                    ) / info.sample_rate
                    raise AudioInputError(
                        f"audio file {name!r} contains NaN or infinite samples (first at {at:.3f} s)"
                    )
                total += block.shape[0]
                yield np.ascontiguousarray(out)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioInputError(
            f"audio file {name!r} is damaged or changed while read: {exc}"
        ) from None
    except OSError as exc:
        raise AudioInputError(
            f"audio file {name!r} cannot be read: {exc.strerror or exc}"
        ) from None
    if total < info.frames:
        raise AudioInputError(
            mp3.truncated(name, promised=info.frames, held=total, rate=info.sample_rate)
        )


class _DcBlocker:
    """A one-pole high-pass at DC_CUTOFF_HZ, carried across blocks.

    A constant offset (a cheap interface, a plug-in) is inaudible, but the models would hear a
    step at the song's start and a bias in every frame: pitch, tags, voice activity.
    """

    def __init__(self, sample_rate: int) -> None:
        self.pole = 1.0 - 2.0 * np.pi * DC_CUTOFF_HZ / sample_rate
        self.state: np.ndarray | None = None

    def __call__(self, block: np.ndarray) -> np.ndarray:
        import scipy.signal

        if block.size == 0:
            return block
        if self.state is None:  # start settled on the first sample: no step at 0 s
            self.state = scipy.signal.lfilter_zi([1.0, -1.0], [1.0, -self.pole]) * block[0]
        out, self.state = scipy.signal.lfilter([1.0, -1.0], [1.0, -self.pole], block, zi=self.state)
        return out.astype(np.float32, copy=False)


def load_mono(
    info: AudioInfo, *, sample_rate: int | None = None, block_seconds: float = DEFAULT_BLOCK_SECONDS
) -> np.ndarray:
    """The whole song as one mono float32 array, resampled to ``sample_rate`` (Hz) if given.

    Resampling is streamed with soxr, so peak memory is the output array plus one block.
    The models (taggers at 16 or 32 kHz, Whisper at 16 kHz) use this.
    """
    rate_out = sample_rate or info.sample_rate
    expected = int(np.ceil(info.frames * rate_out / info.sample_rate)) + 16
    out = np.empty(expected, dtype=np.float32)
    n = 0
    resampler = None
    if rate_out != info.sample_rate:
        import soxr

        resampler = soxr.ResampleStream(info.sample_rate, rate_out, 1, dtype="float32")
    blocks = iter_mono_blocks(info, block_frames=int(block_seconds * info.sample_rate))
    dc_blocker = _DcBlocker(info.sample_rate)
    for block in blocks:
        block = dc_blocker(block)
        chunk = block if resampler is None else resampler.resample_chunk(block)
        out[n : n + chunk.shape[0]] = chunk
        n += chunk.shape[0]
    if resampler is not None:
        tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        out[n : n + tail.shape[0]] = tail
        n += tail.shape[0]
    return out[: min(n, int(round(info.frames * rate_out / info.sample_rate)))]
