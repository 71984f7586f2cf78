"""The settings record of an options dataclass: what a cached result must match."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any


def settings_record(options: Any, *unrecorded: str) -> dict[str, Any]:
    """JSON-ready fields of the frozen options dataclass ``options``, less ``unrecorded``.

    ``unrecorded`` names the fields that do not change the result (whether a download was
    allowed, the device, batch sizes), so that changing them does not invalidate a cache.
    Tuples become lists, as they read back from JSON.
    """
    data = asdict(options)
    for name in unrecorded:
        del data[name]
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
