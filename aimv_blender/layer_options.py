"""The picture's layers that can be switched off, with one set of defaults for every entry point
(the panel's ``Scene.aimv.layer_*`` settings, ``--no-<layer>`` of the headless script and of
``aimv render``). No bpy: the CLI and the tests import it too.
"""

from __future__ import annotations

# name -> what it shows (the panel's tooltip and the --help text)
LAYERS: dict[str, str] = {
    "lyrics": "the sung and spoken words as 3D text",
    "pictograms": "OpenMoji pictograms of the sentence's nouns",
    "hits": "drum hits as camera punches, pulses and flashes",
    "motion": "the camera's sway and push-in and the background's drift",
}
DEFAULT_LAYERS = frozenset(LAYERS)


def check_layers(layers) -> frozenset[str]:
    """The layer names as a frozenset; ValueError naming an unknown one."""
    out = frozenset(layers)
    unknown = sorted(out - set(LAYERS))
    if unknown:
        raise ValueError(f"layers: unknown {', '.join(unknown)} (known: {', '.join(LAYERS)})")
    return out
