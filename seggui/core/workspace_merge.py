"""Save seggui.json as a read-modify-write, so one process never undoes another's changes.

The window and a ``seggui retrain --promote`` each hold a copy of the
workspace in memory. Writing one's copy whole would put back every frame
status the other changed meanwhile (two frames marked reviewed in the window
turned back to ``predicted`` when the retrain saved). So a save, under the
workspace lock (seggui.core.workspace_lock):

1. reads the file as it is on disk now ("theirs"),
2. compares our copy ("ours") with the state we last read or wrote ("base"),
3. applies only what we changed onto theirs, and writes the result.

Per top-level key (classes, model, GSD, class map are whole values), per
settings key (nested mappings key by key; lists such as the model versions
keep both sides' additions) and per frame and field. Where both changed
the same thing ours wins, with one exception kept from `Workspace.record_mask`:
a prediction never turns back a frame the other process corrected or reviewed.
A frame we dropped that the other changed meanwhile is kept (never lose work).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from seggui.core.atomic import atomic_write_bytes
from seggui.core.workspace_lock import workspace_lock
from seggui.core.workspace_schema import schema_problem

ATOMIC_KEYS = frozenset({"format", "classes", "model", "gsd", "class_map"})
_MISSING = object()
_ANALYST_STATUSES = ("corrected", "reviewed", "propagated")


def snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy in JSON's own types (lists, not tuples), comparable with what is read back from disk.

    `Workspace.to_dict` shares the live settings mapping; the snapshot must
    not change when the workspace does.
    """
    return cast(dict[str, Any], json.loads(json.dumps(data, ensure_ascii=False)))


def _get(d: Any, key: str) -> Any:
    return d.get(key, _MISSING) if isinstance(d, dict) else _MISSING


def merge_value(base: Any, ours: Any, theirs: Any) -> Any:
    """Three-way merge of one value (_MISSING for absent): nested dicts key by key, lists by additions."""
    if ours == base:
        return theirs
    if theirs == base or theirs == ours:
        return ours
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return merge_dict(base if isinstance(base, dict) else {}, ours, theirs)
    if isinstance(ours, list) and isinstance(theirs, list):
        old = base if isinstance(base, list) else []
        dropped = [x for x in old if x not in ours]
        return [x for x in theirs if x not in dropped] + [x for x in ours if x not in old and x not in theirs]
    return ours


def merge_dict(base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Key-by-key `merge_value`; a key absent from the result is dropped. Theirs' order first."""
    out: dict[str, Any] = {}
    for key in list(theirs) + [k for k in ours if k not in theirs] + [k for k in base if k not in theirs]:
        if key in out:
            continue
        value = merge_value(_get(base, key), _get(ours, key), _get(theirs, key))
        if value is not _MISSING:
            out[key] = value
    return out


def _merge_frame(base: Any, ours: Any, theirs: Any) -> Any:
    if ours is _MISSING and base is not _MISSING and theirs != base:
        return theirs  # we dropped it, they changed it: keep their work
    if theirs is _MISSING and base is not _MISSING and ours != base:
        return ours  # they dropped it, we changed it: keep ours
    if not (isinstance(ours, dict) and isinstance(theirs, dict)):
        return merge_value(base, ours, theirs)
    old = base if isinstance(base, dict) else {}
    merged = merge_dict(old, ours, theirs)
    their_status = theirs.get("status")
    if (ours.get("status") == "predicted" and their_status in _ANALYST_STATUSES
            and their_status != old.get("status")):
        merged["status"] = their_status  # a prediction never downgrades the analyst's work
    return merged


def merge_workspace(base: dict[str, Any] | None, ours: dict[str, Any], theirs: dict[str, Any] | None
                    ) -> dict[str, Any]:
    """The workspace dict to write: `theirs` (on disk) plus what changed from `base` to `ours`."""
    if theirs is None:
        return ours
    base = base or {}
    out: dict[str, Any] = {}
    for key in list(ours) + [k for k in theirs if k not in ours]:
        b, o, t = _get(base, key), _get(ours, key), _get(theirs, key)
        if key == "frames" and isinstance(o, dict) and isinstance(t, dict):
            bf = b if isinstance(b, dict) else {}
            frames = {}
            for fid in list(t) + [f for f in o if f not in t] + [f for f in bf if f not in t]:
                if fid in frames:
                    continue
                rec = _merge_frame(_get(bf, fid), _get(o, fid), _get(t, fid))
                if rec is not _MISSING:
                    frames[fid] = rec
            # our order for our frames (the window lists them so), theirs' new ones after
            value: Any = {**{f: frames[f] for f in o if f in frames}, **frames}
        elif key in ATOMIC_KEYS:
            value = o if o != b else t
        else:
            value = merge_value(b, o, t)
        if value is not _MISSING:
            out[key] = value
    return out


# what this process last wrote to each workspace file: (the bytes, the dict). A file that still holds
# exactly those bytes need not be parsed and checked again (a 10,000-frame file takes ~0.1 s to).
_last_written: dict[str, tuple[bytes, dict[str, Any]]] = {}


def _read_disk(path: Path, fmt: str) -> dict[str, Any] | None:
    """The workspace file as it is now, or None when missing or unusable (then ours is written whole)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    known = _last_written.get(str(path))
    if known is not None and known[0] == raw:
        return known[1]
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != fmt:
        return None
    return data if schema_problem(data) is None else None


def save_merged(path: Path, ours: dict[str, Any], base: dict[str, Any] | None) -> dict[str, Any]:
    """Write `ours` merged onto the file on disk under the workspace lock; returns what was written."""
    with workspace_lock(path.parent):
        merged = merge_workspace(base, ours, _read_disk(path, str(ours.get("format"))))
        raw = (json.dumps(merged, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        atomic_write_bytes(path, raw)  # the bytes atomic_write_json would write
    _last_written[str(path)] = (raw, merged)
    return merged
