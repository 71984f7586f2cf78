"""What "offline" means for every AIMV process, and a guard that enforces it in Python.

Offline (``--offline``, ``AIMV_OFFLINE=1``, or Blender's "Allow Online Access" off) means no
process of AIMV's opens a socket to anything but this machine. Two layers make sure of it:

1. Environment variables, set before any library is imported and inherited by every child
   (Blender, the backend run from the add-on): the Hugging Face hub, transformers and diffusers
   stay offline; onnxruntime (loaded by silero-vad) sends no telemetry and writes no device id.
   Telemetry switches are set on every run, online or not: AIMV never reports usage.
2. A Python audit hook (:func:`install_guard`) that refuses ``socket.connect`` and
   ``socket.getaddrinfo`` for any host that is not local, so a library that ignores the
   variables gets an ``OSError`` (which they all treat as "no network") instead of a connection.

``AIMV_NO_NETWORK=1`` installs the guard without changing any other behaviour: the test suite
sets it so that no test can reach the network, even one that exercises an online code path.
Standard library only (the add-on imports it inside Blender).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import MutableMapping

# Always: AIMV never sends usage data, online or not.
TELEMETRY_OFF = {
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime's 1DS uploader and its ~/.cache/Microsoft id
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}
# Offline only: libraries that fetch models look only at their local caches.
OFFLINE = {
    "AIMV_OFFLINE": "1",
    "HF_HUB_OFFLINE": "1",  # diffusers and faster-whisper ignore local_files_only for some files
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}
GUARD_VARIABLE = "AIMV_NO_NETWORK"
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}
_state = {"installed": False}


def env_flag(env: MutableMapping[str, str], name: str) -> bool:
    return env.get(name, "") not in ("", "0", "false", "no")


def apply_network_policy(
    env: MutableMapping[str, str], *, offline: bool
) -> MutableMapping[str, str]:
    """Set the telemetry switches always, and the offline switches when ``offline``.

    ``env`` is ``os.environ`` (this process and its children) or a child's environment dict.
    """
    env.update(TELEMETRY_OFF)
    if offline:
        env.update(OFFLINE)
    return env


def is_local_host(host: object) -> bool:
    """True for loopback addresses and names, Unix sockets and unspecified hosts."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().lower().strip("[]")
    if name in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class NetworkRefused(ConnectionRefusedError):
    """A connection AIMV's offline guard refused (an OSError: libraries treat it as offline)."""


def _hook(event: str, args: tuple) -> None:
    if event == "socket.getaddrinfo":
        host = args[0] if args else None
    elif event == "socket.connect":
        address = args[1] if len(args) > 1 else None
        if isinstance(address, (str, bytes)):  # AF_UNIX path
            return
        host = address[0] if isinstance(address, tuple) and address else None
    else:
        return
    if not is_local_host(host):
        raise NetworkRefused(f"AIMV is offline: no connection to {host!r}")


def install_guard() -> None:
    """Refuse every non-local connection of this process from now on (cannot be undone)."""
    if not _state["installed"]:
        sys.addaudithook(_hook)
        _state["installed"] = True


def guard_installed() -> bool:
    return _state["installed"]


def enforce(env: MutableMapping[str, str] | None = None, *, offline: bool | None = None) -> bool:
    """Apply the policy to this process: variables, and the guard when offline or when
    ``AIMV_NO_NETWORK`` is set. Returns whether the process is offline."""
    env = os.environ if env is None else env
    if offline is None:
        offline = env_flag(env, "AIMV_OFFLINE")
    apply_network_policy(env, offline=offline)
    if offline or env_flag(env, GUARD_VARIABLE):
        install_guard()
    return offline
