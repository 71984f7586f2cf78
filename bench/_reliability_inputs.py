"""bench/reliability.py's table, part 1: bad audio, accepted audio, bad options."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
from _reliability_common import (
    FAST,
    Context,
    Result,
    case,
    make_timeline,
    one_line_error,
    succeeded,
)

# ------------------------------------------------------------------------------------------
# Bad audio: refused in one line


def _analyze(ctx: Context, folder: Path, song: Path, *extra):
    return ctx.cli("analyze", song, "-o", folder / "out", *FAST, *extra)


def _bad_audio(name: str, make: Callable[[Context, Path], Path], *words: str):
    @case(f"audio: {name}", "audio")
    def run(ctx: Context, folder: Path) -> Result:
        return one_line_error(_analyze(ctx, folder, make(ctx, folder)), *words)


def _write(data: bytes, name: str = "song.wav"):
    def make(ctx, folder):
        (folder / name).write_bytes(data)
        return folder / name

    return make


def _float_song(value: float):
    def make(ctx, folder):
        path = ctx.song(folder, subtype="FLOAT")
        data, rate = sf.read(path, dtype="float32")
        data[len(data) // 2] = value
        sf.write(path, data, rate, subtype="FLOAT")
        return path

    return make


def _fifo(ctx, folder):
    os.mkfifo(folder / "song.wav")
    return folder / "song.wav"


def _loop(ctx, folder):
    os.symlink(folder / "b.wav", folder / "song.wav")
    os.symlink(folder / "song.wav", folder / "b.wav")
    return folder / "song.wav"


def _truncated(ctx, folder):
    path = ctx.song(folder)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _mp3(folder: Path, *, cover_art: bool = False) -> Path:
    """A 3 s MP3 (aimv_testkit.mp3: with cover art, without a Xing header)."""
    from aimv_testkit.mp3 import write_mp3

    wav = folder / "for-mp3.wav"
    _channels(folder, 2).rename(wav)
    return write_mp3(wav, folder / "song.mp3", cover_art=cover_art)


def _cut_mp3(ctx, folder):
    path = _mp3(folder)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a download cut short
    return path


def _joined_mp3(ctx, folder):
    path = _mp3(folder)
    path.write_bytes(path.read_bytes() * 2)  # cat a.mp3 a.mp3
    return path


def _chained_ogg(ctx, folder):
    path = folder / "song.ogg"
    audio, rate = sf.read(ctx.song(folder))
    sf.write(path, audio, rate, format="OGG", subtype="VORBIS")
    path.write_bytes(path.read_bytes() * 2)  # cat a.ogg a.ogg, or a radio recording
    return path


_bad_audio("missing file", lambda c, f: f / "nope.wav", "does not exist")
_bad_audio("two Ogg streams chained", _chained_ogg, "joined end to end")
_bad_audio("an MP3 cut short", _cut_mp3, "truncated")
_bad_audio("two MP3s joined with cat", _joined_mp3, "joined")
_bad_audio("a folder", lambda c, f: f, "folder")
_bad_audio("empty file", _write(b""), "empty")
_bad_audio("text named .wav", _write(b"hello, not audio\n" * 50), "not audio")
_bad_audio("random bytes .flac", _write(os.urandom(4096), "song.flac"), "not audio")
_bad_audio("truncated WAV data", _truncated, "truncated")
_bad_audio("a WAV header and nothing else", _write(b"RIFF\x24\x00\x00\x00WAVE"), "")
_bad_audio("NaN in a float WAV", _float_song(float("nan")), "NaN")
_bad_audio("infinity in a float WAV", _float_song(float("inf")), "infinite")
_bad_audio("+97 dBFS float WAV", _float_song(10 ** (97 / 20)), "dBFS")
_bad_audio("a FIFO", _fifo, "FIFO")
_bad_audio("a symbolic-link loop", _loop, "loop")
_bad_audio("/dev/zero", lambda c, f: Path("/dev/zero"), "device")
_bad_audio("4 kHz sample rate", lambda c, f: c.song(f, rate=4000), "sample rate")
_bad_audio(
    "shorter than one window", lambda c, f: c.song(f, seconds=44099 / 44100, rate=44100), "0.999977"
)


# Accepted audio: decoded, not refused


def _good_audio(name: str, make: Callable[[Context, Path], Path]):
    @case(f"audio ok: {name}", "audio")
    def run(ctx: Context, folder: Path) -> Result:
        return succeeded(_analyze(ctx, folder, make(ctx, folder)))


for _subtype in ("GSM610", "G721_32", "NMS_ADPCM_16", "PCM_U8", "PCM_24", "ULAW"):
    _good_audio(_subtype, lambda c, f, s=_subtype: c.song(f, rate=8000, subtype=s))
_good_audio("pure DC", lambda c, f: _dc(f))
_good_audio("6 channels", lambda c, f: _channels(f, 6))


@case("audio ok: an MP3 with cover art and no Xing header is as long as its audio", "audio")
def _mp3_art(ctx: Context, folder: Path) -> Result:
    done = _analyze(ctx, folder, _mp3(folder, cover_art=True))
    if done.returncode != 0:
        return (False, done.stderr.strip()[-200:])
    seconds = json.loads((folder / "out" / "timeline.json").read_text())["source"]["duration"]
    return (abs(seconds - 3.0) < 0.2, f"{seconds:.2f} s")


def _dc(folder: Path) -> Path:
    sf.write(folder / "dc.wav", np.full(3 * 16000, 0.5, dtype=np.float32), 16000)
    return folder / "dc.wav"


def _channels(folder: Path, n: int) -> Path:
    audio = np.tile((0.2 * np.sin(np.arange(3 * 16000) / 16000 * 2 * np.pi * 220))[:, None], n)
    sf.write(folder / "six.wav", audio.astype(np.float32), 16000)
    return folder / "six.wav"


@case("audio: DC is silent, not normal", "audio")
def _dc_silent(ctx: Context, folder: Path) -> Result:
    done = ctx.cli("analyze", _dc(folder), "-o", folder / "out", *FAST)
    levels = {
        w["volume"]["level"]
        for w in json.loads((folder / "out" / "timeline.json").read_text())["windows"]
    }
    return (done.returncode == 0 and levels == {"silent"}, f"levels {levels}")


# ------------------------------------------------------------------------------------------
# Bad options and model files


def _bad_option(name: str, args: Callable[[Context, Path], list], *words: str, command="analyze"):
    @case(f"option: {name}", "options")
    def run(ctx: Context, folder: Path) -> Result:
        song = ctx.song(folder)
        if command == "render":
            done = ctx.render(folder, song, folder / "v.mp4", *args(ctx, folder))
        else:
            done = ctx.cli("analyze", song, "-o", folder / "out", *FAST, *args(ctx, folder))
        return one_line_error(done, *words)


class _Evil:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil_vectors(name: str):
    @case(f"option: --vectors pickle as {name}", "security")
    def run(ctx: Context, folder: Path) -> Result:
        marker = folder / "pwned"
        evil = folder / name
        evil.write_bytes(pickle.dumps(_Evil(str(marker))))
        song = ctx.song(folder)
        done = ctx.cli(
            "analyze",
            song,
            "-o",
            folder / "out",
            "--instruments",
            "none",
            "--no-voice",
            "--vectors",
            evil,
        )
        ok, note = one_line_error(done, "pickle")
        if marker.exists():
            return False, "the pickle ran a command"
        return ok, note


for _name in ("evil.kv", "evil.model", "evil.txt", "evil.bin"):
    _evil_vectors(_name)

_bad_option("--window 0", lambda c, f: ["--window", "0"], "--window")
_bad_option("--window 100", lambda c, f: ["--window", "100"], "--window")
_bad_option(
    "--resolution 15x15", lambda c, f: ["--resolution", "15x15"], "--resolution", command="render"
)
_bad_option("--fps 0", lambda c, f: ["--fps", "0"], "--fps", command="render")
_bad_option("--samples 0", lambda c, f: ["--samples", "0"], "--samples", command="render")
_bad_option("--texture-size 7", lambda c, f: ["--texture-size", "7"], "size", command="render")


def _text_checkpoint(name: str, args: Callable[[Path], list]):
    @case(f"option: {name} is a text file", "options")
    def run(ctx: Context, folder: Path) -> Result:
        model = folder / "model.pt"
        model.write_text("not a checkpoint\n" * 20)
        song = ctx.song(folder)
        done = ctx.cli(
            "analyze", song, "-o", folder / "o", "--no-describe", "--progress", "none", *args(model)
        )
        ok, note = one_line_error(done, "PyTorch")
        return (ok and model.read_text().startswith("not a"), note or "the file changed")


_text_checkpoint(
    "--panns-checkpoint",
    lambda m: ["--no-voice", "--instruments", "panns", "--panns-checkpoint", m],
)
_text_checkpoint(
    "an openai-whisper .pt",
    lambda m: ["--instruments", "none", "--asr", "openai-whisper", "--asr-model", m],
)


@case("option: output is the song, with --force", "options")
def _output_is_song(ctx: Context, folder: Path) -> Result:
    song = ctx.song(folder, name="song.mp4", format="WAV")
    before = song.read_bytes()
    ok, note = one_line_error(ctx.render(folder, song, song, "--force"), "song itself")
    return (ok and song.read_bytes() == before, note or "the song changed")


@case("option: output not .mp4", "options")
def _not_mp4(ctx: Context, folder: Path) -> Result:
    return one_line_error(ctx.render(folder, ctx.song(folder), folder / "v.avi"), ".mp4")


@case("option: --work-dir is a file", "options")
def _work_is_file(ctx: Context, folder: Path) -> Result:
    (folder / "w").write_text("x")
    return one_line_error(
        ctx.render(folder, ctx.song(folder), folder / "v.mp4", "--work-dir", folder / "w"),
        "not a folder",
    )


@case("option: read-only video folder", "options")
def _read_only(ctx: Context, folder: Path) -> Result:
    if os.geteuid() == 0:
        return True, "skipped as root (permissions do not apply)"
    (folder / "ro").mkdir()
    (folder / "ro").chmod(0o500)
    try:
        return one_line_error(
            ctx.render(folder, ctx.song(folder), folder / "ro" / "v.mp4"), "writable"
        )
    finally:
        (folder / "ro").chmod(0o700)


@case("option: textures --out-dir outside the timeline folder", "security")
def _out_dir_outside(ctx: Context, folder: Path) -> Result:
    timeline = make_timeline(ctx, folder)
    done = ctx.cli("textures", timeline, "--out-dir", folder / "elsewhere", "--progress", "none")
    ok, note = one_line_error(done, "inside the timeline's folder")
    return (ok and not (folder / "elsewhere").exists(), note or "the folder was made")


@case("option: --vectors names a missing file", "options")
def _vectors_missing(ctx: Context, folder: Path) -> Result:
    song = ctx.song(folder)
    args = ("--instruments", "none", "--no-voice", "--progress", "none")
    done = ctx.cli("analyze", song, "-o", folder / "o", *args, "--vectors", folder / "no.txt")
    return one_line_error(done, "no such file")
