"""Network reachability with short timeouts, and a memory of recent failures.

On a dead network (packets dropped, no answer), every default run used to spend 10 s or more
failing the same model download. Now a download first checks that its host answers: the name
is resolved and a TCP connection opened, each within CONNECT_TIMEOUT_S (2 s). A failure is
remembered for RETRY_AFTER_S in ``$XDG_CACHE_HOME/aimv/network-failures.json``, and runs in
that time skip the attempt and say so in one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import urllib.parse
from pathlib import Path

from aimv_backend.errors import ModelUnavailableError
from aimv_timeline.offline import is_local_host

CONNECT_TIMEOUT_S = 2.0
RETRY_AFTER_S = 3600.0


def cache_dir() -> Path:
    """AIMV's cache folder: $AIMV_CACHE_DIR, else $XDG_CACHE_HOME/aimv, else ~/.cache/aimv."""
    if os.environ.get("AIMV_CACHE_DIR"):
        return Path(os.environ["AIMV_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aimv"


def _log_path() -> Path:
    return cache_dir() / "network-failures.json"


def _load() -> dict:
    try:
        data = json.loads(_log_path().read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: dict) -> None:
    from aimv_timeline.schema import write_json_atomic

    with contextlib.suppress(OSError):
        _log_path().parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(data, _log_path())


def recent_failure(host: str, *, now: float | None = None) -> tuple[float, str] | None:
    """(seconds ago, reason) of a failure to reach ``host`` within RETRY_AFTER_S, else None."""
    entry = _load().get(host)
    if not isinstance(entry, dict):
        return None
    at, reason = entry.get("at"), entry.get("reason")
    if not isinstance(at, (int, float)) or not isinstance(reason, str):
        return None
    ago = (time.time() if now is None else now) - at
    return (ago, reason) if 0 <= ago < RETRY_AFTER_S else None


def remember_failure(host: str, reason: str) -> None:
    data = _load()
    data[host] = {"at": time.time(), "reason": reason[:200]}
    _save(data)


def forget_failure(host: str) -> None:
    data = _load()
    if data.pop(host, None) is not None:
        _save(data)


def _resolve(host: str, port: int, timeout_s: float) -> list:
    """getaddrinfo with a deadline (it has none of its own): in a daemon thread."""
    box: dict = {}

    def work() -> None:
        try:
            box["ok"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            box["error"] = exc

    thread = threading.Thread(target=work, daemon=True, name="aimv-resolve")
    thread.start()
    thread.join(timeout_s)
    if "ok" in box:
        return box["ok"]
    if "error" in box:
        raise OSError(f"cannot resolve {host} ({box['error']})")
    raise OSError(f"no answer resolving {host} within {timeout_s:g} s")


def host_of(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname or "", port


def describe_failure(host: str, ago_s: float, reason: str) -> str:
    minutes = max(1, round(ago_s / 60))
    wait = max(1, round((RETRY_AFTER_S - ago_s) / 60))
    return f"{host} did not answer {minutes} min ago ({reason}); next try in {wait} min"


def check_reachable(url: str, *, what: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """ModelUnavailableError (one line) unless ``url``'s host answers within ``timeout_s``.

    A remembered recent failure fails at once, without touching the network; a new failure is
    remembered; a success forgets the old one. ``file://`` URLs are always reachable.
    """
    host, port = host_of(url)
    if not host or is_local_host(host):  # a local server (tests, mirrors): nothing to remember
        return
    past = recent_failure(host)
    if past is not None:
        raise ModelUnavailableError(f"{what}: {describe_failure(host, *past)}")
    try:
        error: OSError = OSError(f"no address for {host}")
        for family, kind, proto, _, address in _resolve(host, port, timeout_s)[:2]:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout_s)
                try:
                    sock.connect(address)
                except OSError as exc:
                    error = exc
                    continue
            forget_failure(host)
            return
        raise error
    except OSError as exc:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"no connection within {timeout_s:g} s"
        remember_failure(host, reason)
        raise ModelUnavailableError(f"{what}: {host} cannot be reached ({reason})") from None
