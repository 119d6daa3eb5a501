"""Undo and redo, one step per stroke, bounded by memory rather than by a step count.

A step keeps only what the stroke changed: its bounding box, a bit-packed
"changed" mask of the box (1 bit per pixel) and the old and new label of each
changed pixel, stored once when all of them are equal (a brush or a fill
paints one label). A radius-25 dab thus costs a few hundred bytes and a
clear of a 4096x4096 picture tens of megabytes, never a copy of the image
per step. When the steps together pass the budget the oldest are dropped, so
hundreds of small strokes stay undoable while one huge edit cannot exhaust
memory; a single step larger than the whole budget is not kept at all (and
the history before it goes, since it could no longer be reached).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from seggui.core.editing.change import Change

DEFAULT_BUDGET = 256 * 1024 * 1024
RECORD_OVERHEAD = 640  # bytes of Python objects around a record's arrays (tracemalloc: ~575)


def _pack_values(values: np.ndarray) -> np.ndarray:
    """All values, or one when they are all equal."""
    if values.size > 1 and (values == values[0]).all():
        return values[:1].copy()
    return values.copy()


def _unpack_values(stored: np.ndarray, count: int) -> np.ndarray:
    return stored if stored.size == count else np.full(count, stored[0], stored.dtype)


@dataclass(frozen=True, eq=False)
class Record:
    """A `Change` packed for the history."""

    top: int
    left: int
    shape: tuple[int, int]
    bits: np.ndarray
    old: np.ndarray
    new: np.ndarray
    count: int

    @classmethod
    def pack(cls, change: Change) -> Record:
        return cls(change.top, change.left, (change.height, change.width),
                   np.packbits(change.mask, axis=None), _pack_values(change.old), _pack_values(change.new),
                   change.count)

    def unpack(self) -> Change:
        h, w = self.shape
        mask = np.unpackbits(self.bits, count=h * w).reshape(h, w).view(bool)
        return Change(self.top, self.left, mask, _unpack_values(self.old, self.count),
                      _unpack_values(self.new, self.count))

    @property
    def nbytes(self) -> int:
        return int(self.bits.nbytes + self.old.nbytes + self.new.nbytes) + RECORD_OVERHEAD


class History:
    """Undo and redo stacks of `Record`s whose total size stays within `budget_bytes`."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET) -> None:
        if budget_bytes < RECORD_OVERHEAD:
            raise ValueError(f"a history budget of {budget_bytes} bytes cannot hold one step")
        self.budget_bytes = int(budget_bytes)
        self._undo: deque[Record] = deque()
        self._redo: list[Record] = []
        self._nbytes = 0
        self.dropped = 0  # steps forgotten to stay within the budget

    @property
    def nbytes(self) -> int:
        """Bytes held by both stacks (the figure the budget bounds)."""
        return self._nbytes

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def __len__(self) -> int:
        return len(self._undo)

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._nbytes = 0

    def push(self, change: Change | None) -> bool:
        """Record a finished edit; a new edit clears the redo stack. False if it could not be kept."""
        if change is None or change.count == 0:
            return False
        self._nbytes -= sum(r.nbytes for r in self._redo)
        self._redo.clear()
        record = Record.pack(change)
        if record.nbytes > self.budget_bytes:
            self.dropped += len(self._undo) + 1
            self.clear()
            return False
        self._undo.append(record)
        self._nbytes += record.nbytes
        while self._nbytes > self.budget_bytes:
            self._nbytes -= self._undo.popleft().nbytes
            self.dropped += 1
        return True

    def undo(self) -> Change | None:
        """The change that undoes the last step (to apply), or None."""
        if not self._undo:
            return None
        record = self._undo.pop()
        self._redo.append(record)
        return record.unpack().reversed()

    def redo(self) -> Change | None:
        """The change that redoes the last undone step (to apply), or None."""
        if not self._redo:
            return None
        record = self._redo.pop()
        self._undo.append(record)
        return record.unpack()
