"""Which model made the masks in an output folder, so a resume never mixes two models.

``seggui infer`` resumes a stopped run by skipping frames whose mask is
already in OUT/masks/. Without a record of who wrote those masks, a second
run with another model into the same folder skipped every frame and then
reported the first model's masks under the second's classes. So the folder
keeps ``seggui-run.json``: the model (name, version, weights hash) and the
options that change the masks (precision, input settings, classes). A run
that does not match is refused, naming both, unless the caller asks to
overwrite — then the old masks go first, so the folder holds one model's.

The identity itself is built by the engine (seggui.engine.identity); core
only compares and records it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seggui.core.atomic import atomic_write_json
from seggui.core.errors import BadInputError

RUN_FILE = "seggui-run.json"
OUTPUT_DIRS = ("masks", "confidence")  # what a run writes per frame (and what --overwrite clears)


def describe(identity: dict[str, Any] | None) -> str:
    """One phrase for messages: "parking-demo@2 (weights 1a2b3c4d5e6f, fp32)"."""
    if not isinstance(identity, dict):
        return "an unrecorded model"
    model, options = identity.get("model"), identity.get("options")
    model = model if isinstance(model, dict) else {}
    options = options if isinstance(options, dict) else {}
    digest = str(model.get("weights_sha256") or "unknown")[:12]
    return f"{model.get('ref', '?')} (weights {digest}, {options.get('precision', '?')})"


def _recorded(out: Path) -> dict[str, Any] | None:
    path = out / RUN_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _has_masks(out: Path) -> bool:
    return any(any((out / d).glob("*.png")) for d in OUTPUT_DIRS if (out / d).is_dir())


def _clear(out: Path) -> int:
    n = 0
    for d in OUTPUT_DIRS:
        for png in sorted((out / d).glob("*.png")) if (out / d).is_dir() else []:
            png.unlink()
            n += 1
    return n


def claim_output(out: str | Path, identity: dict[str, Any], overwrite: bool = False) -> str:
    """Check OUT against this run's model and options, and record them; returns what happens.

    "new" (nothing there yet), "resume" (same model and options: frames on
    disk are kept), "overwrite" (another model's masks were removed, as
    asked). A mismatch without `overwrite` is a BadInputError naming both.
    """
    out = Path(out)
    recorded = _recorded(out)
    same = recorded is not None and {k: recorded.get(k) for k in ("model", "options")} == {
        k: identity.get(k) for k in ("model", "options")}
    if same:
        return "resume"
    made = recorded is not None or _has_masks(out)
    if made and not overwrite:
        theirs = describe(recorded) if recorded else "a run that did not record its model"
        raise BadInputError(out, f"holds masks made by {theirs}; this run uses {describe(identity)}. "
                            "Resuming would mix the two models' masks: give another --out, or --overwrite "
                            "to redo every frame with this model")
    if made:
        _clear(out)
    atomic_write_json(out / RUN_FILE, {**identity, "note": "the model and options that made masks/"})
    return "overwrite" if made else "new"
