"""What a timeline records of the listening that made it: the listening revision and a hash.

Why: a timeline is reused while its song and listen settings are unchanged, so without a record
a song listened to by an older AIMV kept the older listening (its silence, downbeats, octaves,
instrument families) for good. ``settings["listened"]`` holds

- ``revision``: :data:`LISTEN_REVISION`, raised whenever the listening code or its weights
  change what a song's timeline says;
- ``hash``: 12 hex digits of sha256 over the listening fields (every window's span, volume,
  colour, instruments, voice and hits, the song's language, tempo, beats and downbeats; not
  the onsets the imagine stage adds to the rhythm), so that a later run can
  tell whether a person edited them (corrected a lyric, moved a hit).

A timeline of an older revision is listened to again when nothing in it was edited (neither
the listening fields nor a sentence), and kept, with one line saying so, when something was:
edits are never lost without ``--force``. A timeline written before this record existed has
revision 1 and no hash; it counts as edited, so it is kept.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aimv_timeline.schema import Timeline, timeline_to_dict

LISTEN_REVISION = 4  # 2: 2026-12-03 (3/4 downbeats, tempo sections, quiet-song silence, octaves,
# families, colour names); 3: 2026-12-03 (the language heard on the recogniser's own windows,
# the music pass's groups filled, drum pieces take one place of three in a band); 4: 2026-12-03
# (3 or 4 beats a bar heard from the song: a waltz's bars of three; with --windows bars the
# last bar is one window)
RECORD_KEY = "listened"  # timeline.settings key
_UNRECORDED_REVISION = 1  # every timeline written before the record existed
# Listen options whose default changed: (path in the settings record, the old default, the new
# one, the revision that changed it). A timeline listened to before then with the old default
# was made "with the defaults", so a run with today's defaults may reuse (or re-listen) it.
DEFAULT_CHANGES = ((("rhythm", "beats_per_bar"), 4, None, 4),)
_WINDOW_FIELDS = ("index", "start", "end", "volume", "colour", "instruments", "voice", "hits")
# the rhythm's onsets are the imagine stage's (written after listening): not in the hash
_RHYTHM_FIELDS = ("tempo_bpm", "beats", "downbeats")


def listening_hash(timeline: Timeline) -> str:
    """12 hex digits of sha256 over the fields the listening stage writes (module docstring)."""
    data = timeline_to_dict(timeline)
    rhythm = data.get("rhythm")
    heard = {
        "windows": [{k: w.get(k) for k in _WINDOW_FIELDS} for w in data["windows"]],
        "language": data.get("language"),
        "rhythm": None if rhythm is None else {k: rhythm.get(k) for k in _RHYTHM_FIELDS},
    }
    text = json.dumps(heard, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def settings_with_todays_defaults(settings: Any, revision: int) -> Any:
    """``settings`` (a timeline's recorded listen settings, listened at ``revision``) with
    each old default of :data:`DEFAULT_CHANGES` that the revision predates put as today's."""
    if not isinstance(settings, dict):
        return settings
    out = json.loads(json.dumps(settings))
    for path, old, new, since in DEFAULT_CHANGES:
        parent = out
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if revision < since and isinstance(parent, dict) and parent.get(path[-1]) == old:
            parent[path[-1]] = new
    return out


def listen_record(timeline: Timeline) -> dict[str, Any]:
    """The record to store under ``settings["listened"]`` of a freshly listened timeline."""
    return {"revision": LISTEN_REVISION, "hash": listening_hash(timeline)}


def recorded_revision(timeline: Timeline) -> int:
    """The listening revision that made ``timeline`` (1 when it records none)."""
    record = timeline.settings.get(RECORD_KEY)
    revision = record.get("revision") if isinstance(record, dict) else None
    return revision if isinstance(revision, int) else _UNRECORDED_REVISION


def listening_unedited(timeline: Timeline) -> bool:
    """Whether the listening fields are still what AIMV wrote (False when nothing says so)."""
    record = timeline.settings.get(RECORD_KEY)
    recorded = record.get("hash") if isinstance(record, dict) else None
    return isinstance(recorded, str) and recorded == listening_hash(timeline)
