"""Hand edits of sentences survive a re-description.

A user may edit a window's sentence or prompt in timeline.json. When the describe settings
change (``--seed 1``, another ``--vectors``), the windows are described again, but an edited
window keeps its edit unless ``--force`` is given. AIMV records a short hash of each
description it writes (``settings["described"]``); a window whose description no longer has
that hash was edited. A timeline from before these records counts a window as edited when its
description differs from what its recorded settings produce (when those cannot be replayed,
every described window counts as edited, so nothing a person wrote is lost).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace

from aimv_backend.errors import AimvError
from aimv_backend.progress import Progress
from aimv_timeline.schema import Timeline

RECORD_KEY = "described"


def description_hash(description) -> str:
    """12 hex digits of sha256 over the description's JSON (None: "")."""
    if description is None:
        return ""
    text = json.dumps(asdict(description), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def edited_windows(timeline: Timeline) -> list[int]:
    """Indexes of the windows whose description is not what AIMV made for them."""
    from aimv_backend.describe import DescribeOptions, describe_timeline

    described = [w for w in timeline.windows if w.description is not None]
    if not described:
        return []
    made = timeline.settings.get(RECORD_KEY)
    if isinstance(made, list) and len(made) == len(timeline.windows):
        return [w.index for w in described if description_hash(w.description) != made[w.index]]
    recorded = timeline.settings.get("describe")
    if not isinstance(recorded, dict):
        return [w.index for w in described]  # written by hand (or by another tool)
    try:  # the whole timeline replayed: a window's object may be carried from lines before
        options = DescribeOptions.from_record(recorded, allow_download=False)
        replayed = describe_timeline(timeline, options=options).windows
    except (AimvError, TypeError, ValueError):
        return [w.index for w in described]
    return [w.index for w in described if replayed[w.index].description != w.description]


def describe_keeping_edits(
    timeline: Timeline, *, options, progress: Progress, force: bool
) -> tuple[Timeline, list[int]]:
    """Describe ``timeline`` with ``options``; without ``force``, windows edited by hand keep
    their description. Returns the new timeline and the indexes of the windows kept."""
    from aimv_backend.describe import describe_timeline

    kept = [] if force else edited_windows(timeline)
    described = describe_timeline(timeline, options=options, progress=progress)
    # What AIMV made, kept windows included: their edit stays an edit on the next run.
    settings = {
        **described.settings,
        RECORD_KEY: [description_hash(w.description) for w in described.windows],
    }
    old = {w.index: w.description for w in timeline.windows}
    windows = tuple(
        replace(w, description=old[w.index]) if w.index in kept else w for w in described.windows
    )
    return replace(described, windows=windows, settings=settings), kept


def kept_notice(kept: list[int]) -> str:
    shown = ", ".join(str(i) for i in kept[:12]) + (" ..." if len(kept) > 12 else "")
    return (
        f"describe: kept the hand-edited sentences of {len(kept)} window"
        f"{'s' if len(kept) != 1 else ''} ({shown}); --force replaces them"
    )
