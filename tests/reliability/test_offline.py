"""Offline means no network at all (issue 13.1).

Under --offline (and in every test) no process of AIMV's opens a socket to anything but this
machine: the policy variables switch off onnxruntime's telemetry and the model hubs, and an
audit hook refuses any non-local connection in Python. The end-to-end check runs a whole
``aimv render --offline`` under strace and reads every connect() of every process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aimv_timeline import offline
from tests.blender.conftest import needs_bpy

ROOT = Path(__file__).resolve().parents[2]
needs_strace = pytest.mark.skipif(
    shutil.which("strace") is None and not os.environ.get("CI"),
    reason="strace is not installed (scripts/setup.sh --dev installs it)",
)


def _python(code: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_the_policy_variables():
    env: dict[str, str] = {}
    offline.apply_network_policy(env, offline=False)
    assert env["ORT_DISABLE_TELEMETRY"] == "1" and "HF_HUB_OFFLINE" not in env
    offline.apply_network_policy(env, offline=True)
    assert env["HF_HUB_OFFLINE"] == env["AIMV_OFFLINE"] == env["TRANSFORMERS_OFFLINE"] == "1"


@pytest.mark.parametrize(
    "host,local",
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", True),
     ("10.0.0.1", False), ("zenodo.org", False), ("huggingface.co", False), ("8.8.8.8", False)],
)  # fmt: skip
def test_local_hosts(host, local):
    assert offline.is_local_host(host) is local


def test_the_guard_refuses_non_local_connections_only():
    code = (
        "import socket, urllib.request\n"
        "from aimv_timeline import offline\n"
        "offline.install_guard()\n"
        "for host in ('huggingface.co', '93.184.216.34'):\n"
        "    try:\n"
        "        socket.create_connection((host, 443), timeout=1)\n"
        "    except OSError as exc:\n"
        "        assert 'offline' in str(exc), exc\n"
        "    else:\n"
        "        raise SystemExit('connected')\n"
        "try:\n"
        "    urllib.request.urlopen('https://zenodo.org/', timeout=1)\n"
        "except OSError as exc:\n"
        "    assert 'offline' in str(exc), exc\n"
        "server = socket.create_server(('127.0.0.1', 0))\n"
        "socket.create_connection(server.getsockname(), timeout=1).close()\n"
        "print('ok')\n"
    )
    done = _python(code, dict(os.environ))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_every_test_process_has_the_guard():
    """conftest.py sets AIMV_NO_NETWORK: children install the guard at the CLI entry point."""
    assert os.environ.get("AIMV_NO_NETWORK") == "1" and offline.guard_installed()
    done = _python(
        "import sys; from aimv_backend.cli.main import main; from aimv_timeline import offline\n"
        "main(['--version']) if False else None\n"
        "offline.enforce(); print(offline.guard_installed())",
        dict(os.environ),
    )
    assert done.stdout.strip() == "True", done.stderr


STRACE_CONNECT = re.compile(
    r"connect\(\d+, \{sa_family=(AF_INET6?), .*?(?:inet_addr\(\"([^\"]+)\"\)|inet_pton\(AF_INET6, \"([^\"]+)\")"
)


def non_local_connections(trace: str) -> list[str]:
    """The non-loopback connect() targets in an ``strace -f -e trace=connect`` log."""
    out = []
    for m in STRACE_CONNECT.finditer(trace):
        address = m.group(2) or m.group(3)
        if not offline.is_local_host(address):
            out.append(address)
    return out


def _strace(args: list[str], env: dict, log: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(log), *args],
        cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


@needs_strace
@pytest.mark.slow
def test_onnxruntime_sends_no_telemetry(tmp_path):
    """silero-vad's onnxruntime resolved a telemetry host ~9 s after import and wrote a device
    id under ~/.cache/Microsoft. With AIMV's policy: nothing, and no id."""
    env = {k: v for k, v in os.environ.items() if k not in offline.TELEMETRY_OFF}
    env.pop("AIMV_NO_NETWORK", None)  # watch the variables alone, without the Python guard
    env["HOME"] = str(tmp_path)
    code = (
        "import time, aimv_backend\n"
        "from aimv_backend.listen.voice.vad import detect_speech\n"
        "import numpy as np\n"
        "detect_speech(np.zeros(16000 * 2, dtype=np.float32), threshold=0.5)\n"
        "time.sleep(12)\n"
    )
    log = tmp_path / "trace.txt"
    done = _strace([sys.executable, "-c", code], env, log, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert non_local_connections(log.read_text()) == []
    assert not (tmp_path / ".cache" / "Microsoft").exists()


@needs_strace
@needs_bpy
@pytest.mark.slow
@pytest.mark.blender
def test_a_whole_offline_render_opens_no_network_connection(tmp_path, blender_env):
    """Every process of ``aimv render --offline`` (the CLI, the models, Blender), traced."""
    from aimv_testkit import Layer, mix, place_words, render_part, write_audio

    rate = 22050
    piano = render_part(instrument="piano", seconds=4.0, sample_rate=rate, seed=1)
    voice, _ = place_words(words=[("ocean", 1.0), ("fire", 2.0)], seconds=4.0, sample_rate=rate)
    song = write_audio(
        tmp_path / "song.wav",
        mix(Layer(piano, -12.0), Layer(voice, -3.0), seconds=4.0, sample_rate=rate),
        rate,
    )
    env = {k: v for k, v in blender_env.items() if k != "AIMV_NO_NETWORK"}  # no test guard
    for name in offline.OFFLINE:
        env.pop(name, None)  # only --offline decides
    log = tmp_path / "trace.txt"
    done = _strace(
        [sys.executable, "-m", "aimv_backend", "render", str(song), "-o", str(tmp_path / "v.mp4"),
         "--offline", "--resolution", "64x36", "--fps", "4", "--texture-size", "64",
         "--language", "en", "--quiet"],
        env, log, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "v.mp4").stat().st_size > 0
    trace = log.read_text()
    assert "connect(" in trace or trace == ""  # the trace really followed the processes
    assert non_local_connections(trace) == []


@needs_strace
@pytest.mark.slow
def test_offline_diffusers_never_asks_the_hub(tmp_path):
    """``aimv textures --textures diffusers --offline`` used to resolve the model hub:
    diffusers needs HF_HUB_OFFLINE=1, which --offline now sets before anything is imported."""
    from tests.blender import fixtures

    timeline = fixtures.make_timeline(tmp_path / "work", textures=False)
    env = {k: v for k, v in os.environ.items() if k not in offline.OFFLINE}
    env.pop("AIMV_NO_NETWORK", None)
    env["HOME"] = str(tmp_path)
    log = tmp_path / "trace.txt"
    done = _strace(
        [sys.executable, "-m", "aimv_backend", "textures", str(timeline), "--textures",
         "diffusers", "--device", "cpu", "--offline", "--progress", "none"],
        env, log, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == 1 and "offline" in done.stderr
    assert non_local_connections(log.read_text()) == []
