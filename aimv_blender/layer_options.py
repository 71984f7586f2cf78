"""The picture's layers that can be switched off, with one set of defaults for every entry point
(the panel's ``Scene.aimv.layer_*`` settings, ``--no-<layer>`` of the headless script and of
``aimv render``). The names live in the contract (``aimv_timeline.names.PICTURE_LAYERS``).
No bpy.
"""

from __future__ import annotations

from .contract import names

# name -> what it shows (the panel's tooltip and the --help text); one list in the contract
LAYERS: dict[str, str] = dict(names.PICTURE_LAYERS)
DEFAULT_LAYERS = frozenset(LAYERS)


def check_layers(layers) -> frozenset[str]:
    """The layer names as a frozenset; ValueError naming an unknown one."""
    out = frozenset(layers)
    unknown = sorted(out - set(LAYERS))
    if unknown:
        raise ValueError(f"layers: unknown {', '.join(unknown)} (known: {', '.join(LAYERS)})")
    return out
