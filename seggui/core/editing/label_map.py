"""The editable mask of one frame: its labels, a version counter, and the dirty rectangle.

Edits arrive as `Change`s. The version counter lets the autosave tell "changed
since the last write" without comparing arrays; the dirty rectangle is the
union of the boxes changed since the view last repainted, so the canvas
uploads that rectangle and not the whole layer.

`unlabelled_value` and `starting_labels` answer "what does a fresh
correction start from", the same way for the UI and for scripts.
"""

from __future__ import annotations

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.editing.change import Change

UNLABELLED_NAMES = ("unlabelled", "unlabeled", "void", "background", "ignore")


def unlabelled_value(table: ClassTable) -> int:
    """The id that means "not labelled yet": the ignore index, else a class named like it, else the first.

    CamVid's "Unlabelled" (11) and Cityscapes' 255 are ignore indices; tables
    without one (parking-2, kitti-road-2) use their "background"-like class.
    """
    if table.ignore_index is not None:
        return int(table.ignore_index)
    for name in UNLABELLED_NAMES:
        for c in table.classes:
            if c.name.casefold() == name:
                return c.id
    return table.ids[0]


def blank_labels(shape: tuple[int, int], table: ClassTable) -> np.ndarray:
    """An all-unlabelled mask of the table's dtype."""
    return np.full(shape, unlabelled_value(table), table.mask_dtype)


def starting_labels(shape: tuple[int, int], table: ClassTable, corrected: np.ndarray | None,
                    predicted: np.ndarray | None, from_prediction: bool = True) -> np.ndarray:
    """A private copy of what an edit starts from: the correction, else the prediction, else blank."""
    for base in (corrected, predicted if from_prediction else None):
        if base is not None:
            if base.shape != tuple(shape):
                raise ValueError(f"mask is {base.shape[1]}x{base.shape[0]}, picture {shape[1]}x{shape[0]}")
            return np.array(base, dtype=table.mask_dtype, copy=True)
    return blank_labels(shape, table)


class LabelMap:
    """Labels being edited (owned, writable), with a version and a dirty rectangle."""

    def __init__(self, labels: np.ndarray) -> None:
        if labels.ndim != 2:
            raise ValueError(f"labels must be 2-D, got shape {labels.shape}")
        self.labels = labels
        self.version = 0
        self._dirty: tuple[int, int, int, int] | None = None  # top, left, bottom, right

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.labels.shape[0]), int(self.labels.shape[1])

    def apply(self, change: Change) -> None:
        """Write a change's new values, bump the version, grow the dirty rectangle."""
        change.apply_to(self.labels)
        self.version += 1
        self.mark_dirty(change.top, change.left, change.height, change.width)

    def mark_dirty(self, top: int, left: int, height: int, width: int) -> None:
        box = (top, left, top + height, left + width)
        d = self._dirty
        self._dirty = box if d is None else (min(d[0], box[0]), min(d[1], box[1]),
                                             max(d[2], box[2]), max(d[3], box[3]))

    def take_dirty(self) -> tuple[int, int, int, int] | None:
        """(x, y, width, height) changed since the last call, or None; resets it."""
        d, self._dirty = self._dirty, None
        if d is None:
            return None
        return d[1], d[0], d[3] - d[1], d[2] - d[0]
