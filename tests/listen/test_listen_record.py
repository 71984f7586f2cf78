"""The listening revision moves with the shipped weights (aimv_backend/listen/record.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aimv_backend.listen.record import LISTEN_REVISION

WEIGHTS = Path(__file__).resolve().parents[2] / "aimv_backend" / "data" / "listen"
# The shipped weights (first 16 hex digits of sha256) that LISTEN_REVISION was raised for.
# A retrained model changes what songs' timelines say: raise LISTEN_REVISION, then update this.
AT_REVISION = {
    2: {"drum_pieces.npz": "b4247fafa08e87a4", "families.npz": "8ce18f243f2fb5d4"},
    3: {"drum_pieces.npz": "b4247fafa08e87a4", "families.npz": "8ce18f243f2fb5d4"},  # voice code
    4: {"drum_pieces.npz": "b4247fafa08e87a4", "families.npz": "8ce18f243f2fb5d4"},  # meter heard
}


def test_retrained_weights_raise_the_listening_revision():
    shipped = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        for p in sorted(WEIGHTS.glob("*.npz"))
    }
    assert shipped == AT_REVISION.get(LISTEN_REVISION), (
        f"the shipped listening weights are not those of LISTEN_REVISION {LISTEN_REVISION}: "
        "raise it in aimv_backend/listen/record.py (users' unedited timelines are then listened "
        f"to again) and record the new weights here: {shipped}"
    )
