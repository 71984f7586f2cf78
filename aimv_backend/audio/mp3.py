"""An MP3's true length. libsndfile takes it from the file's Xing/Info header, or, without one,
estimates it from the file's size (cover art included); it reads no further than that count, so
a joined file (``cat a.mp3 b.mp3``) stops after its first part. The decodable length is counted
here, and ffprobe's packet count, where ffprobe is installed, checks that nothing follows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import soundfile as sf

from aimv_backend.errors import AudioInputError

# Decoding shorter than an exact (Xing/Info/VBRI) header by more than this is a cut-off
# download; less is encoder delay and padding.
SLACK = 0.01
SLACK_SECONDS = 0.1
SAMPLES_PER_FRAME = 1152  # an MPEG-1 Layer III frame (MPEG-2/2.5: 576, see _packet_seconds)
LENGTH_TAGS = (b"Xing", b"Info", b"VBRI")
READ_SECONDS = 10.0


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Hush libmpg123, which prints "Xing stream size off" to the process's stderr for a cut-off
    MP3: AIMV says that itself, in one line. With stderr closed (``2>&-``) there is nothing
    to hush."""
    if sys.stderr is not None:
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # file descriptor 2 is closed
        yield
        return
    try:
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def truncated(name: str, *, promised: int, held: int, rate: int) -> str:
    return (
        f"audio file {name!r} is truncated: its header promises {promised / rate:.2f} s "
        f"({promised} samples), the data holds {held / rate:.2f} s"
    )


def checked_frames(path: Path, *, header_frames: int, rate: int, layer3: bool = True) -> int:
    """The MP3's decodable sample frames at ``rate`` Hz.

    Raises AudioInputError for a cut-off file (an exact header promising more) and for a joined
    one (ffprobe finds more audio than libsndfile reads; Layer III only, whose frame sizes
    _packet_seconds knows).
    """
    held = 0
    with native_stderr_silenced(), sf.SoundFile(str(path)) as fh:
        while block := len(fh.read(int(READ_SECONDS * rate), dtype="float32")):
            held += block
    short = header_frames - held > max(SLACK * header_frames, SLACK_SECONDS * rate)
    if short and has_length_header(path):
        raise AudioInputError(truncated(str(path), promised=header_frames, held=held, rate=rate))
    more = _packet_seconds(path) if layer3 else None
    if more is not None and more - held / rate > max(SLACK * more, 1.0):
        raise AudioInputError(
            f"audio file {str(path)!r} holds {more:.2f} s, but only its first {held / rate:.2f} s "
            "can be read (MP3 files joined into one?); re-encode it first, e.g. "
            "ffmpeg -i IN.mp3 -c:a flac OUT.flac"
        )
    return held


def has_length_header(path: Path) -> bool:
    """Whether the first audio frame carries an exact length (a Xing, Info or VBRI tag)."""
    with open(path, "rb") as fh:
        head = fh.read(10)
        start = 0
        if len(head) == 10 and head[:3] == b"ID3":  # skip the ID3v2 tag (cover art and all)
            start = 10 + ((head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14)
            start += (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
        fh.seek(start)
        first_frame = fh.read(4096)
    return any(tag in first_frame for tag in LENGTH_TAGS)


def _packet_seconds(path: Path) -> float | None:
    """Seconds of audio by ffprobe's packet count (no decoding), or None without ffprobe."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    try:
        done = subprocess.run(
            [
                ffprobe,
                "-v",
                "error",
                "-select_streams",
                "a:0",
                "-count_packets",
                "-show_entries",
                "stream=nb_read_packets,sample_rate",
                "-of",
                "csv=p=0",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        rate, packets = (int(v) for v in done.stdout.strip().split(",")[:2])
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    per_packet = SAMPLES_PER_FRAME if rate >= 32000 else SAMPLES_PER_FRAME // 2
    return packets * per_packet / rate if rate > 0 else None
