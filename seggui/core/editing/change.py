"""A `Change`: the pixels one edit changed, inside a bounding box, with their old and new labels.

Every editing operation (a brush segment, a whole stroke, a fill, an undo)
is described by one `Change`, and everything downstream consumes that one
shape: the label map applies it, the undo history packs it, the live figures
move its pixels between confusion-matrix cells and area counts, the canvas
repaints only its box. Holding the changed pixels only (a boolean mask of the
box plus one old and one new value per changed pixel, row-major) is what
keeps undo memory and live figures O(edit) rather than O(image).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np


@dataclass(frozen=True, eq=False)
class Change:
    """Pixels `mask` of the box at (top, left) changed from `old` to `new` (both 1-D, row-major)."""

    top: int
    left: int
    mask: np.ndarray
    old: np.ndarray
    new: np.ndarray

    @property
    def height(self) -> int:
        return int(self.mask.shape[0])

    @property
    def width(self) -> int:
        return int(self.mask.shape[1])

    @property
    def count(self) -> int:
        """Number of changed pixels."""
        return int(self.old.size)

    @property
    def rect(self) -> tuple[int, int, int, int]:
        """(x, y, width, height) of the box in image pixels."""
        return self.left, self.top, self.width, self.height

    def window(self, arr: np.ndarray) -> np.ndarray:
        """The box's view of a full-size array (labels, ground truth, ...)."""
        return arr[self.top:self.top + self.height, self.left:self.left + self.width]

    def values_in(self, arr: np.ndarray) -> np.ndarray:
        """The changed pixels' values in another full-size array (e.g. the ground truth)."""
        return cast(np.ndarray, self.window(arr)[self.mask])

    def apply_to(self, labels: np.ndarray) -> None:
        """Write the new values into `labels` (in place)."""
        self.window(labels)[self.mask] = self.new

    def reversed(self) -> Change:
        """The change that undoes this one."""
        return Change(self.top, self.left, self.mask, self.new, self.old)

    def tight(self) -> Change | None:
        """The same change in the smallest box that holds its pixels; None when nothing changed."""
        if self.old.size == 0:
            return None
        rows = np.flatnonzero(self.mask.any(axis=1))
        cols = np.flatnonzero(self.mask.any(axis=0))
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        if (r0, c0) == (0, 0) and (r1, c1) == self.mask.shape:
            return self
        # cropping keeps the row-major order of the changed pixels, so old/new stay aligned
        return Change(self.top + r0, self.left + c0, self.mask[r0:r1, c0:c1], self.old, self.new)


def selection_change(labels: np.ndarray, top: int, left: int, selected: np.ndarray,
                     new: int | np.ndarray) -> Change | None:
    """The change that sets the `selected` pixels of a box to `new` (a value or per-pixel values).

    Pixels that already hold their new value are left out, so a change lists
    only real changes; None when nothing would change.
    """
    h, w = selected.shape
    win = labels[top:top + h, left:left + w]
    if np.isscalar(new) or np.ndim(new) == 0:
        sel = selected & (win != new)
        old = win[sel]
        if old.size == 0:
            return None
        return Change(top, left, sel, old, np.full(old.size, new, labels.dtype))
    new_win = np.asarray(new)
    sel = selected & (win != new_win)
    old = win[sel]
    if old.size == 0:
        return None
    return Change(top, left, sel, old, new_win[sel].astype(labels.dtype, copy=False))


def merge(changes: Sequence[Change]) -> Change | None:
    """One change equivalent to applying `changes` in order (first old value, last new value).

    A pixel changed and later changed back drops out. Costs O(union box),
    paid once per stroke when the stroke becomes one undo step.
    """
    changes = [c for c in changes if c is not None and c.count]
    if not changes:
        return None
    if len(changes) == 1:
        return changes[0]
    top = min(c.top for c in changes)
    left = min(c.left for c in changes)
    bottom = max(c.top + c.height for c in changes)
    right = max(c.left + c.width for c in changes)
    dtype = changes[0].old.dtype
    touched = np.zeros((bottom - top, right - left), bool)
    old = np.zeros(touched.shape, dtype)
    new = np.zeros(touched.shape, dtype)
    for c in changes:
        ys, xs = slice(c.top - top, c.top - top + c.height), slice(c.left - left, c.left - left + c.width)
        seen = touched[ys, xs]
        first = c.mask & ~seen
        old[ys, xs][first] = c.old[first[c.mask]]
        new[ys, xs][c.mask] = c.new
        seen |= c.mask
    old_v, new_v = old[touched], new[touched]
    moved = old_v != new_v
    if not moved.all():
        touched[touched] = moved
        old_v, new_v = old_v[moved], new_v[moved]
    return Change(top, left, touched, old_v, new_v).tight()
