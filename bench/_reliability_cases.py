"""The fixed table of bench/reliability.py: bad inputs (_reliability_inputs.py), hostile
timelines, faults and the network. ``CASES`` lists them all, in order."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import _reliability_inputs  # noqa: F401 - registers the input cases first
from _reliability_common import (
    CASES,
    RENDER_FAST,
    ROOT,
    Context,
    Result,
    case,
    make_timeline,
    one_line_error,
)

__all__ = ["CASES", "Context"]

# ------------------------------------------------------------------------------------------
# Hostile timelines: refused naming the window, nothing outside touched


def _hostile(name: str, edit: Callable[[dict, Path], None], *words: str, command: str = "textures"):
    @case(f"timeline: {name} ({command})", "hostile")
    def run(ctx: Context, folder: Path) -> Result:
        timeline = make_timeline(ctx, folder)
        before = ctx.victims(folder)
        data = json.loads(timeline.read_text())
        edit(data, folder)
        timeline.write_text(json.dumps(data))
        if command == "describe":
            done = ctx.cli("describe", timeline, "--progress", "none")
        else:
            done = ctx.cli(
                "textures",
                timeline,
                "--textures",
                "procedural",
                "--size",
                "64",
                "--progress",
                "none",
            )
        ok, note = one_line_error(done, *words)
        touched = ctx.count_touched(before)
        return (ok and not touched, note or f"{touched} files outside were touched")


def _texture(value: str):
    def edit(data, folder):
        data["windows"][1]["texture"] = value.replace("OUT", str(folder / "outside"))

    return edit


for _value in (
    "../outside/victim.png",
    "OUT/victim.png",
    "/etc/passwd",
    "..\\outside\\victim.png",
    "textures/../../outside/secret.txt",
    "~/.ssh/id_rsa",
):
    for _command in ("textures", "describe"):
        _hostile(f"texture {_value!r}", _texture(_value), "windows[1].texture", command=_command)


def _link_out(data, folder):
    os.symlink(folder / "outside" / "victim.png", folder / "work" / "textures" / "link.png")
    data["windows"][1]["texture"] = "textures/link.png"


def _clip_out(data, folder):
    data["clips"] = [{"path": "../outside/victim.png", "start": 0.0, "end": 1.0}]


def _past_end(data, folder):
    data["windows"][-1]["end"] = 3600.0


def _long_song(data, folder):
    data["source"]["duration"] = 1e9


def _many_windows(data, folder):
    w = data["windows"][-1]
    data["windows"] += [
        {**w, "index": i, "start": float(i), "end": float(i + 1)}
        for i in range(len(data["windows"]), 500)
    ]


_hostile("a link inside leading outside", _link_out, "outside the timeline's folder")
_hostile("a clip outside", _clip_out, "clips[0].path")
_hostile("a window past the song's end", _past_end, "past the end of the song")
_hostile("a song of 10^9 s", _long_song, "source.duration")
_hostile("500 windows on a 3 s song", _many_windows, "do not fit")


def _raw_timeline(name: str, write: Callable[[Path], None], *words: str):
    @case(f"timeline file: {name}", "hostile")
    def run(ctx: Context, folder: Path) -> Result:
        path = folder / "timeline.json"
        write(path)
        return one_line_error(ctx.cli("describe", path, "--progress", "none", timeout=60), *words)


_raw_timeline(
    "200k nested brackets", lambda p: p.write_text("[" * 200_000 + "]" * 200_000), "nested"
)
_raw_timeline(
    "a 4300-digit number", lambda p: p.write_text('{"a": ' + "9" * 4300 + "}"), "characters"
)
_raw_timeline("NaN", lambda p: p.write_text('{"schema_version": NaN}'), "NaN")
_raw_timeline("a FIFO", lambda p: os.mkfifo(p), "FIFO")
_raw_timeline("a link to /dev/zero", lambda p: os.symlink("/dev/zero", p), "device")
_raw_timeline("a folder", lambda p: p.mkdir(), "directory")
_raw_timeline("not UTF-8", lambda p: p.write_bytes(b"\xff\xfe\x00"), "cannot be read")


@case("timeline: headless Blender, texture outside", "hostile", blender=True)
def _headless_hostile(ctx: Context, folder: Path) -> Result:
    timeline = make_timeline(ctx, folder)
    before = ctx.victims(folder)
    data = json.loads(timeline.read_text())
    data["windows"][1]["texture"] = "../outside/victim.png"
    timeline.write_text(json.dumps(data))
    done = subprocess.run(
        [sys.executable, str(ROOT / "aimv_blender" / "headless.py"), "--", "--timeline",
         str(timeline), "-o", str(folder / "v.mp4"), "--resolution", "32x18", "--fps", "4"],
        env={**ctx.env, "BLENDER_USER_RESOURCES": str(folder / "b")},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("aimv-blender: error:")]
    touched = ctx.count_touched(before)
    ok = done.returncode == 2 and len(lines) == 1 and "windows[1].texture" in lines[0]
    return (ok and not touched, f"exit {done.returncode}: {done.stderr[-200:]}; {touched} touched")


# ------------------------------------------------------------------------------------------
# Faults: no lost or corrupt output


@case("fault: full disk during the encode (truncated MP4)", "faults")
def _truncated_video(ctx: Context, folder: Path) -> Result:
    song, out = ctx.song(folder), folder / "v.mp4"
    if ctx.render(folder, song, out).returncode:
        return False, "the first render failed"
    before = out.read_bytes()
    ok, note = one_line_error(
        ctx.render(folder, song, out, "--seed", "2", mode="truncate"), "incomplete"
    )
    stray = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    return (ok and out.read_bytes() == before and not stray, note or f"video changed or {stray}")


@case("fault: '#' in the output name", "faults")
def _hash_name(ctx: Context, folder: Path) -> Result:
    out = folder / "take #1.mp4"
    done = ctx.render(folder, ctx.song(folder), out, mode="hash")
    stray = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    return (done.returncode == 0 and out.is_file() and not stray, f"{done.stderr[-200:]} {stray}")


@case("fault: --work-dir is a folder of the user's", "faults")
def _users_folder(ctx: Context, folder: Path) -> Result:
    mine = folder / "mine"
    (mine / "aimv_sequence").mkdir(parents=True)
    for rel in ("scene.blend", "render.json", "aimv_sequence/aimv_00001.png"):
        (mine / rel).write_text("mine")
    done = ctx.render(folder, ctx.song(folder), folder / "v.mp4", "--work-dir", mine)
    ok, note = one_line_error(done, "did not make")
    kept = all(
        (mine / rel).read_text() == "mine"
        for rel in ("scene.blend", "render.json", "aimv_sequence/aimv_00001.png")
    )
    return (ok and kept, note or "a file of the user's changed")


@case("fault: stale temporary files of a killed run", "faults")
def _stale(ctx: Context, folder: Path) -> Result:
    work = folder / "v.aimv" / "textures"
    work.mkdir(parents=True)
    stale = [work / ".0123456789abcdef.png.abc123.tmp.png", folder / ".v.partial-999999.mp4"]
    for p in stale:
        p.write_bytes(b"x")
    done = ctx.render(folder, ctx.song(folder), folder / "v.mp4")
    left = [p.name for p in stale if p.exists()]
    return (done.returncode == 0 and not left, f"left {left}")


@case("fault: two renders into one work folder", "faults")
def _concurrent(ctx: Context, folder: Path) -> Result:
    song, out = ctx.song(folder), folder / "v.mp4"
    first = _start_render(ctx, folder, song, out)
    try:
        _wait_pid(folder / "blender.pid")
        t0 = time.monotonic()
        ok, note = one_line_error(ctx.render(folder, song, out), "in use by another")
        return (ok and time.monotonic() - t0 < 30, note)
    finally:
        first.kill()
        first.wait()


def _start_render(ctx: Context, folder: Path, song: Path, out: Path) -> subprocess.Popen:
    env = {**ctx.env, "FAKE_BLENDER_MODE": "hang", "FAKE_BLENDER_VIDEO": str(ctx.mp4())}
    env["FAKE_BLENDER_PIDFILE"] = str(folder / "blender.pid")
    return subprocess.Popen(
        [sys.executable, "-m", "aimv_backend", "render", str(song), "-o", str(out),
         "--blender", str(ctx.blender(folder)), *RENDER_FAST],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint,
    )  # fmt: skip


def _default_sigint() -> None:
    """A child of a background shell starts with SIGINT ignored; a terminal's aimv does not."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_pid(path: Path, timeout_s: float = 300) -> int:
    t0 = time.monotonic()
    while not (path.exists() and path.read_text().strip()):
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError("the fake Blender did not start")
        time.sleep(0.1)
    return int(path.read_text())


def _gone(pid: int, timeout_s: float = 15) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _killed(sig: signal.Signals):
    @case(f"fault: {sig.name} to aimv during the render", "faults")
    def run(ctx: Context, folder: Path) -> Result:
        proc = _start_render(ctx, folder, ctx.song(folder), folder / "v.mp4")
        try:
            blender = _wait_pid(folder / "blender.pid")
            proc.send_signal(sig)
            proc.wait(timeout=60)
            dead = _gone(blender)
        finally:
            if proc.poll() is None:
                proc.kill()
        stray = [p.name for p in folder.iterdir() if p.name.startswith(".")]
        clean = sig == signal.SIGKILL or not stray  # SIGKILL: the next run sweeps them
        return (dead and clean, f"Blender alive: {not dead}, left: {stray}")


_killed(signal.SIGTERM)
_killed(signal.SIGKILL)
_killed(signal.SIGINT)


@case("fault: a cached texture damaged in the middle", "faults")
def _damaged_texture(ctx: Context, folder: Path) -> Result:
    timeline = make_timeline(ctx, folder)
    tex = timeline.parent / json.loads(timeline.read_text())["windows"][0]["texture"]
    good = tex.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2 : len(bad) // 2 + 16] = bytes(16)
    tex.write_bytes(bytes(bad))
    ctx.cli("textures", timeline, "--textures", "procedural", "--size", "64", "--progress", "none")
    return (tex.read_bytes() == good, "the damaged texture was reused")


@case("fault: hand-edited sentence and a new --seed", "faults")
def _hand_edit(ctx: Context, folder: Path) -> Result:
    work = folder / "work"
    ctx.cli(
        "analyze",
        ctx.song(folder),
        "-o",
        work,
        "--instruments",
        "none",
        "--no-voice",
        "--progress",
        "none",
    )
    path = work / "timeline.json"
    data = json.loads(path.read_text())
    data["windows"][0]["description"]["sentence"] = "Mine."
    path.write_text(json.dumps(data))
    done = ctx.cli("describe", path, "--seed", "1", "--progress", "json")
    kept = json.loads(path.read_text())["windows"][0]["description"]["sentence"] == "Mine."
    return (
        done.returncode == 0 and kept and "kept the hand-edited" in done.stderr,
        done.stderr[-200:],
    )


@case("fault: dead network, default run (PANNs download)", "network")
def _dead_network(ctx: Context, folder: Path) -> Result:
    """Packets dropped: the host check gives up within 2 s, and the next run does not retry."""
    attempts = folder / "attempts.txt"
    code = (
        "import time; from aimv_backend.util import net\n"
        "def dead(host, port, timeout_s):\n"
        f"    open({str(attempts)!r}, 'a').write(f'{{timeout_s}}\\n')\n"
        "    time.sleep(timeout_s); raise TimeoutError('timed out')\n"
        "net._resolve = dead\n"
        "from aimv_backend.cli.main import main\n"
        f"import sys; sys.exit(main(['analyze', {str(ctx.song(folder))!r}, '-o', sys.argv[1],"
        " '--no-voice', '--no-describe', '--progress', 'json']))\n"
    )
    env = {**ctx.env, "AIMV_CACHE_DIR": str(folder / "cache"), "HOME": str(folder / "home")}
    env.pop("AIMV_OFFLINE", None)
    notices = []
    # two output folders: a second run into the first one would reuse its still-valid timeline
    # and load no model at all
    for out in ("first", "second"):
        done = subprocess.run(
            [sys.executable, "-c", code, str(folder / out)], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if done.returncode:
            return False, done.stderr[-200:]
        notices.append(
            [ln for ln in done.stderr.splitlines() if '"notice"' in ln and "PANNs" in ln]
        )
    waits = [float(x) for x in attempts.read_text().split()] if attempts.exists() else []
    one_line = all(len(n) == 1 for n in notices) and "downloading" not in str(notices)
    remembered = len(waits) == 1 and len(notices[1]) == 1 and "did not answer" in notices[1][0]
    return (one_line and remembered and max(waits) <= 2.0, f"waits {waits}, notices {notices}")


@case("fault: offline, PANNs missing: one line", "network")
def _offline_one_line(ctx: Context, folder: Path) -> Result:
    done = ctx.cli(
        "analyze",
        ctx.song(folder),
        "-o",
        folder / "o",
        "--no-voice",
        "--no-describe",
        "--offline",
        "--progress",
        "json",
    )
    lines = [ln for ln in done.stderr.splitlines() if "PANNs" in ln]
    return (
        done.returncode == 0 and len(lines) == 1 and "downloading" not in done.stderr,
        str(lines),
    )


@case("offline: a whole render under strace", "network", blender=True)
def _offline_render(ctx: Context, folder: Path) -> Result:
    if shutil.which("strace") is None:
        return False, "strace is not installed"
    env = {
        k: v
        for k, v in ctx.env.items()
        if k not in ("AIMV_NO_NETWORK", "HF_HUB_OFFLINE", "AIMV_OFFLINE")
    }
    env["BLENDER_USER_RESOURCES"] = str(folder / "b")
    log = folder / "trace.txt"
    song = ctx.song(folder)
    done = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(log), sys.executable, "-m",
         "aimv_backend", "render", str(song), "-o", str(folder / "v.mp4"), "--offline",
         "--resolution", "64x36", "--fps", "4", "--texture-size", "64", "--language", "en",
         "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    pattern = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')
    from aimv_timeline.offline import is_local_host

    hosts = [a or b for a, b in pattern.findall(log.read_text())]
    ctx.offline_connections = sum(1 for h in hosts if not is_local_host(h))
    return (
        done.returncode == 0 and ctx.offline_connections == 0,
        f"exit {done.returncode}, {ctx.offline_connections} connections",
    )
