"""A held-out split of the corrections that leaves every corrected class in training.

The stable-hash hold-out (seggui.training.layouts.holdout_split) knows
nothing of classes. In a window walkthrough an analyst corrected two Houston
pictures, one with a parking lot and one without; the hash held out the one
with the lot, the new version trained on a picture without parking, learnt
none (IoU 0.000 -> 0.000), and nothing said why. What counts is what the
analyst taught: the pixels a correction changed from the model's prediction,
by their new class (a correction starts from the prediction, so the other
picture still showed the model's stray parking: judged by what the masks
show, it "had parking" and the lot was held out all the same). A held-out
frame whose changes teach a class the training frames' changes do not is
trained on instead, and when that leaves nothing to validate on, a frame
whose taught classes the others teach is held out in its place. Each move
is said.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from seggui.core.workspace import Workspace
from seggui.training.retrain_versions import WEAK_CLASS_PX


def id_counts(labels: np.ndarray) -> Counter[int]:
    """Pixels per class id present in `labels` (the retrain plan's and the split's one count)."""
    per_id = np.bincount(labels.ravel())
    return Counter({int(c): int(per_id[c]) for c in np.flatnonzero(per_id)})


def taught_pixels(ws: Workspace, frame_id: str) -> Counter[int]:
    """Pixels per class id that the correction changed from the model's prediction (all of them without a
    prediction of the same size), by their corrected class; the ignore id left out."""
    mask = ws.read_mask(frame_id, "corrected")
    if mask is None:
        return Counter()
    predicted = ws.read_mask(frame_id, "predicted")
    changed = mask[mask != predicted] if predicted is not None and predicted.shape == mask.shape else mask
    counts = id_counts(changed)
    if ws.classes.ignore_index is not None:
        counts.pop(ws.classes.ignore_index, None)
    return counts


def _taught_classes(px: Counter[int]) -> set[int]:
    return {c for c, n in px.items() if n >= WEAK_CLASS_PX}


def keep_classes_taught(ws: Workspace, train: list[str],
                        val: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(train, validation, what was moved and why): no class taught only by validation frames."""
    px = {fid: taught_pixels(ws, fid) for fid in [*train, *val]}
    train, val, said = list(train), list(val), []
    taught: Counter[int] = sum((px[f] for f in train), Counter())
    for fid in list(val):
        lacking = sorted(c for c in _taught_classes(px[fid]) if taught[c] < WEAK_CLASS_PX)
        if lacking:
            val.remove(fid)
            train.append(fid)
            taught.update(px[fid])
            names = ", ".join(ws.classes.name_of(c) for c in lacking)
            said.append(f"{fid} is trained on, not held out: no other correction teaches {names}, and what "
                        "the training never sees cannot be learnt")
    if not val and len(train) > 1:
        for fid in sorted(f for f in train if ws.frames[f].drive is None):  # pictures: no drive neighbours
            rest = taught - px[fid]
            if all(rest[c] >= WEAK_CLASS_PX for c in _taught_classes(px[fid])):
                train.remove(fid)
                val.append(fid)
                said.append(f"{fid} is held out for validation instead: the other corrections teach every "
                            "class it does")
                break
    return train, val, said
