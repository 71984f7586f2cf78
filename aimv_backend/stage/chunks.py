"""Chunked rendering without Blender: the plan, the cache of encoded segments, and ffmpeg.

A song's frames are cut into *segments* of ``SEGMENT_SECONDS`` on a fixed grid (frame 1,
1 + S, 1 + 2S, ... with S = fps * SEGMENT_SECONDS); consecutive segments form *chunks*, one
Blender process each. A chunk's Blender writes BMP frames; each finished segment is encoded on
its own (H.264, a closed group of pictures starting at its first frame) and stored in the work
folder under a fingerprint of everything that made it. The video is the segments' bit streams
laid end to end, muxed with the song's audio, with no second encode.

Because a segment is always encoded alone, from the same frames, with the same settings, its
bytes do not depend on how the frames were split into chunks: a render in 2 chunks decodes to
exactly the frames of a render in 1 (tests compare the decoded frames). Frame k of the video is
shown at ``(k - 1) / fps`` seconds: timestamps come from the frame index, never from summed
segment durations, so audio and video stay within a frame of each other at any length.

Everything here is plain Python plus the ``ffmpeg``/``ffprobe`` programs (argument lists,
never a shell); no bpy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from aimv_backend.errors import ParameterError, RenderError
from aimv_backend.util.files import sha256_file
from aimv_backend.util.workdir import encoding_partial
from aimv_timeline import names
from aimv_timeline.schema import write_json_atomic

SEGMENT_SECONDS = 2
CACHE_DIR_NAME = names.CHUNKS_DIR
CACHE_MARKER = "aimv-chunks.json"  # marks a fingerprint folder as AIMV's own (safe to sweep)
FRAME_NAME = "f_{:06d}.bmp"  # as aimv_blender/frames_out.py writes them
FFMPEG_TIMEOUT_S = 3600


@dataclass(frozen=True)
class FrameRange:
    """Frames ``first`` to ``last``, 1-based and inclusive (Blender's numbering)."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if not (isinstance(self.first, int) and isinstance(self.last, int)):
            raise ParameterError(f"frame range must be whole numbers, got {self}")
        if not 1 <= self.first <= self.last:
            raise ParameterError(f"frame range must have 1 <= first <= last, got {self}")

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def __str__(self) -> str:
        return f"{self.first}:{self.last}"


@dataclass(frozen=True)
class EncoderSettings:
    """How segments and the audio are encoded.

    crf: x264 constant rate factor (0-51, lower is better; 20 is Blender's "High quality").
    preset: x264 speed preset. threads: x264 threads, fixed so every machine makes the same
    bytes. audio_bitrate_k: AAC kbit/s. audio_rate: AAC sample rate in Hz.
    """

    crf: int = 20
    # veryfast: 11 ms a 640x360 frame instead of medium's 24 (CPU), for 0.6 dB less PSNR
    # (44.0 dB) and a 5 % larger file at the same CRF (bench/render.py, docs/benchmarks.md)
    preset: str = "veryfast"
    threads: int = 2
    audio_bitrate_k: int = 192
    audio_rate: int = 48000

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 51:
            raise ParameterError(f"crf must be 0 to 51, got {self.crf}")
        presets = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow")
        if self.preset not in presets:
            raise ParameterError(f"preset must be one of {', '.join(presets)}, got {self.preset!r}")
        if not 1 <= self.threads <= 16:
            raise ParameterError(f"threads must be 1 to 16, got {self.threads}")
        if not 32 <= self.audio_bitrate_k <= 512:
            raise ParameterError(f"audio_bitrate_k must be 32 to 512, got {self.audio_bitrate_k}")
        if self.audio_rate not in (44100, 48000):
            raise ParameterError(f"audio_rate must be 44100 or 48000, got {self.audio_rate}")


@dataclass(frozen=True)
class ChunkPlan:
    """segments: the fixed grid; chunks: consecutive runs of segments, one Blender each."""

    frames: FrameRange
    fps: int
    segment_frames: int
    segments: tuple[FrameRange, ...]
    chunks: tuple[tuple[FrameRange, ...], ...]

    def chunk_range(self, index: int) -> FrameRange:
        chunk = self.chunks[index]
        return FrameRange(chunk[0].first, chunk[-1].last)


def video_frame_count(*, samples: int, sample_rate: int, fps: int) -> int:
    """Frames that cover ``samples`` audio samples at ``fps``: round(samples * fps / rate).

    Exact integer arithmetic (no float durations): the video's length ``count / fps`` differs
    from the audio's ``samples / sample_rate`` by at most half a frame, at any length.
    """
    if samples < 1 or sample_rate < 1 or fps < 1:
        raise ParameterError(
            f"samples, sample_rate and fps must be >= 1, got {samples}, {sample_rate}, {fps}"
        )
    return max(1, round(Fraction(samples * fps, sample_rate)))


def frame_time(frame: int, fps: int) -> Fraction:
    """When 1-based ``frame`` is shown, in seconds (exact): (frame - 1) / fps."""
    return Fraction(frame - 1, fps)


def plan_chunks(
    *, frames: FrameRange, fps: int, chunks: int, segment_seconds: int = SEGMENT_SECONDS
) -> ChunkPlan:
    """Cut ``frames`` into a fixed grid of segments and those into at most ``chunks`` runs.

    The grid depends only on the frame range and ``fps``, never on ``chunks``: that is what
    makes any split give the same segments. Chunks get equal numbers of segments (+-1).
    """
    if chunks < 1:
        raise ParameterError(f"chunks must be >= 1, got {chunks}")
    if segment_seconds < 1:
        raise ParameterError(f"segment_seconds must be >= 1, got {segment_seconds}")
    size = fps * segment_seconds
    segments = tuple(
        FrameRange(first, min(first + size - 1, frames.last))
        for first in range(frames.first, frames.last + 1, size)
    )
    n = min(chunks, len(segments))
    base, extra = divmod(len(segments), n)
    runs: list[tuple[FrameRange, ...]] = []
    at = 0
    for i in range(n):
        take = base + (1 if i < extra else 0)
        runs.append(segments[at : at + take])
        at += take
    return ChunkPlan(frames, fps, size, segments, tuple(runs))


# ------------------------------------------------------------------------------------------
# Fingerprints and the segment cache


def inputs_fingerprint(
    *, timeline_path: Path, textures: Iterable[Path], settings: dict, code: dict
) -> str:
    """sha256 of everything a segment's pixels and bytes depend on.

    The timeline's bytes, each texture's bytes (content, not mtime: a copy on another machine
    matches), the render and encoder settings, and ``code`` (AIMV's version, the Blender used).
    """
    digest = hashlib.sha256(b"aimv-chunks-2\n")  # 2: segments in BT.709, tagged
    digest.update(Path(timeline_path).read_bytes())
    for tex in sorted({Path(t) for t in textures}):
        digest.update(f"\n{tex.name}:{sha256_file(tex)}".encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(json.dumps(code, sort_keys=True, default=str).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class SegmentCache:
    """Encoded segments of one fingerprint: ``WORK/chunks/<fingerprint[:24]>/``.

    A segment is done when its ``.h264`` file and its ``.json`` record (size and sha256,
    written after the file) agree; anything else is re-rendered.
    """

    root: Path

    @classmethod
    def for_work_dir(cls, work_dir: Path, fingerprint: str) -> SegmentCache:
        return cls(Path(work_dir) / CACHE_DIR_NAME / fingerprint[:24])

    def video(self, segment: FrameRange) -> Path:
        return self.root / f"seg_{segment.first:06d}-{segment.last:06d}.h264"

    def record(self, segment: FrameRange) -> Path:
        return self.video(segment).with_suffix(".json")

    def prepare(self, fingerprint: str) -> SegmentCache:
        self.root.mkdir(parents=True, exist_ok=True)
        marker = self.root / CACHE_MARKER
        if not marker.exists():
            write_json_atomic({"fingerprint": fingerprint}, marker)
        return self

    def is_done(self, segment: FrameRange) -> bool:
        video, record = self.video(segment), self.record(segment)
        try:
            meta = json.loads(record.read_text())
            size = video.stat().st_size
        except (OSError, ValueError):
            return False
        if meta.get("size") != size or meta.get("frames") != segment.count:
            return False
        return meta.get("sha256") == sha256_file(video)

    def store(self, segment: FrameRange, encoded: Path) -> Path:
        """Move a freshly encoded file into place, then write its record."""
        video = self.video(segment)
        self.record(segment).unlink(missing_ok=True)
        os.replace(encoded, video)
        record = {"frames": segment.count, "size": video.stat().st_size}
        record["sha256"] = sha256_file(video)
        write_json_atomic(record, self.record(segment))
        return video

    def sweep_scratch(self) -> list[Path]:
        """Remove the frame scratch folders (``.frames-INDEX-PID-THREAD``) of runs that are gone
        (a killed render leaves up to two segments of frames)."""
        removed = []
        for scratch in self.root.glob(".frames-*-*-*"):
            try:
                pid = int(scratch.name.split("-")[2])
                os.kill(pid, 0)
                continue  # that run is alive
            except ProcessLookupError:
                pass
            except (ValueError, IndexError, PermissionError):
                continue
            shutil.rmtree(scratch, ignore_errors=True)
            removed.append(scratch)
        return removed

    def sweep_siblings(self) -> list[Path]:
        """Remove other fingerprints' folders that AIMV made (their inputs changed)."""
        removed = []
        parent = self.root.parent
        if not parent.is_dir():
            return removed
        for other in parent.iterdir():
            if other != self.root and other.is_dir() and (other / CACHE_MARKER).is_file():
                shutil.rmtree(other, ignore_errors=True)
                removed.append(other)
        return removed


# ------------------------------------------------------------------------------------------
# ffmpeg


def tool(name: str) -> str:
    """Path of ``ffmpeg`` or ``ffprobe``; RenderError naming the fix when missing."""
    found = shutil.which(name)
    if found is None:
        raise RenderError(
            f"{name} is not installed: the chunked render encodes and joins with it "
            "(Debian: apt-get install ffmpeg)"
        )
    return found


def _ffmpeg_head() -> list[str]:
    """ffmpeg quiet, non-interactive, overwriting its (temporary) output."""
    return [tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def _run(command: Sequence[str], *, what: str, stdin=None, input_bytes=None) -> None:
    try:
        done = subprocess.run(
            list(command),
            input=input_bytes,
            stdin=stdin if input_bytes is None else None,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=FFMPEG_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"ffmpeg took over {FFMPEG_TIMEOUT_S} s to {what}") from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines() or ["(no output)"]
        raise RenderError(f"ffmpeg could not {what}: {lines[-1].strip()}")


# The colour of every video AIMV encodes: BT.709 primaries, transfer and matrix, limited range.
VIDEO_COLOUR = (
    "-colorspace",
    "bt709",
    "-color_primaries",
    "bt709",
    "-color_trc",
    "bt709",
    "-color_range",
    "tv",
)


def encode_segment_command(
    *, frames_dir: Path, segment: FrameRange, fps: int, encoder: EncoderSettings, output: Path
) -> list[str]:
    """ffmpeg arguments: BMP frames of ``segment`` -> one closed GOP of H.264 (Annex B).

    No B-frames and no scene cuts: the segment starts with an IDR picture and never refers
    outside itself. Pixel conversion is bit-exact so every machine makes the same bytes. The
    RGB frames become BT.709 limited-range YUV, and the stream says so (VIDEO_COLOUR): players
    and editors read an untagged HD video as BT.709, so swscale's BT.601 default shifted hues.
    """
    pattern = str(Path(frames_dir) / FRAME_NAME.replace("{:06d}", "%06d"))
    params = f"keyint={segment.count}:min-keyint={segment.count}:scenecut=0:bframes=0"
    return [
        *_ffmpeg_head(),
        "-framerate",
        str(fps),
        "-start_number",
        str(segment.first),
        "-i",
        pattern,
        "-frames:v",
        str(segment.count),
        "-sws_flags",
        "bicubic+accurate_rnd+full_chroma_int+bitexact",
        "-vf",
        "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
        *VIDEO_COLOUR,
        "-c:v",
        "libx264",
        "-preset",
        encoder.preset,
        "-crf",
        str(encoder.crf),
        "-threads",
        str(encoder.threads),
        "-x264-params",
        params,
        "-fflags",
        "+bitexact",
        "-f",
        "h264",
        str(output),
    ]


def encode_segment(
    *,
    frames_dir: Path,
    segment: FrameRange,
    fps: int,
    encoder: EncoderSettings,
    cache: SegmentCache,
) -> Path:
    """Encode one segment's BMP frames into the cache (atomically); returns the cached file."""
    missing = [
        f
        for f in range(segment.first, segment.last + 1)
        if not (Path(frames_dir) / FRAME_NAME.format(f)).is_file()
    ]
    if missing:
        raise RenderError(
            f"Blender's frames are incomplete (a full disk, or Blender stopped): frame "
            f"{missing[0]} of frames {segment} is missing"
        )
    final = cache.video(segment)
    partial = encoding_partial(final)
    try:
        _run(
            encode_segment_command(
                frames_dir=frames_dir, segment=segment, fps=fps, encoder=encoder, output=partial
            ),
            what=f"encode frames {segment}",
        )
        return cache.store(segment, partial)
    finally:
        partial.unlink(missing_ok=True)


def encode_audio(
    *, song: Path, output: Path, encoder: EncoderSettings, gain_db: float = 0.0
) -> Path:
    """The song as AAC in an .m4a (atomically); kept in the work folder and reused.
    ``gain_db``: a level change (dB) for a float song over full scale (io.soundtrack_gain_db)."""
    mix = "aresample=rematrix_maxval=1.0"  # a 5.1 song folded to stereo without clipping
    if gain_db:
        mix = f"volume={gain_db:.2f}dB,{mix}"
    partial = encoding_partial(output, suffix=".m4a")
    command = [
        *_ffmpeg_head(),
        "-i",
        str(song),
        "-vn",
        "-c:a",
        "aac",
        "-b:a",
        f"{encoder.audio_bitrate_k}k",
        "-ar",
        str(encoder.audio_rate),
        "-ac",
        "2",
        "-af",
        mix,
        "-fflags",
        "+bitexact",
        str(partial),
    ]
    try:
        _run(command, what=f"encode the audio of {str(song)!r}")
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return output


def join_and_mux(*, segments: Sequence[Path], audio: Path | None, fps: int, output: Path) -> Path:
    """Lay the segments' H.264 streams end to end and mux them with ``audio`` into ``output``.

    No re-encode: a stream copy. Frame k gets the timestamp (k - 1) / fps exactly, from its
    index. ``output`` is written in place: the caller renames it.
    """
    command = [
        *_ffmpeg_head(),
        "-f",
        "h264",
        "-framerate",
        str(fps),
        "-i",
        "pipe:0",
    ]
    if audio is not None:
        command += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0"]
    # Packet n gets pts = dts = n in a 1/fps time base: exact whatever the length (the raw
    # stream's own timestamps step in whole microseconds and drift by 0.3 us a frame at 24 fps).
    command += ["-c", "copy", "-bsf:v", f"setts=ts=N:duration=1:time_base=1/{fps}"]
    command += ["-video_track_timescale", str(fps), "-movflags", "+faststart"]
    command += ["-fflags", "+bitexact"]
    command += ["-f", "mp4", str(output)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors
        )
        try:
            assert proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                for segment in segments:
                    with open(segment, "rb") as fh:
                        shutil.copyfileobj(fh, proc.stdin, 1 << 20)
                proc.stdin.close()
            proc.wait(timeout=FFMPEG_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        errors.seek(0)
        err = errors.read()
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines() or ["(no output)"]
        raise RenderError(f"ffmpeg could not join the video: {lines[-1].strip()}")
    return output


@dataclass(frozen=True)
class VideoProbe:
    """What ffprobe finds in a video: frames and fps of the video stream, seconds of each."""

    frames: int
    fps: Fraction
    video_seconds: float
    audio_seconds: float | None


def probe_video(path: Path) -> VideoProbe:
    """Count the video's frames (packets) and read both streams' durations."""
    command = [
        tool("ffprobe"),
        "-v",
        "error",
        "-count_packets",
        "-show_entries",
        "stream=codec_type,nb_read_packets,avg_frame_rate,duration",
        "-of",
        "json",
        str(path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        streams = json.loads(done.stdout or "{}").get("streams", [])
    except ValueError:
        streams = []
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if done.returncode != 0 or video is None:
        raise RenderError(f"the joined video {str(path)!r} has no readable video stream")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    return VideoProbe(
        frames=int(video.get("nb_read_packets", 0)),
        fps=Fraction(video.get("avg_frame_rate", "0/1")),
        video_seconds=float(video.get("duration", 0.0)),
        audio_seconds=None if audio is None else float(audio.get("duration", 0.0)),
    )


def decoded_frame_hashes(path: Path) -> list[str]:
    """md5 of every decoded video frame, in order (ffmpeg's framemd5): to compare renders."""
    command = [
        tool("ffmpeg"),
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        "0:v:0",
        "-f",
        "framemd5",
        "-",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RenderError(f"ffmpeg could not decode {str(path)!r}")
    rows = [line for line in done.stdout.splitlines() if line and not line.startswith("#")]
    return [row.split(",")[-1].strip() for row in rows]


def settings_record(**parts: object) -> dict:
    """Settings as JSON-safe dicts (dataclasses flattened) for :func:`inputs_fingerprint`."""
    out = {}
    for key, value in parts.items():
        out[key] = asdict(value) if hasattr(value, "__dataclass_fields__") else value
    return out
