"""The editor of one frame's mask: tools in, `Change`s out, undo, live figures.

This is the whole editing model without any UI: a window (or a script, or
a benchmark) calls `begin_stroke` / `stroke_to` / `end_stroke`, `fill`,
`polygon`, `replace`, `undo`, `redo`, and gets back the `Change` each made,
whose box is what needs repainting. Every applied change updates the label
map, the live confusion matrix and area counts at once, so the three never
disagree. A stroke is one undo step however many segments it has.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.confusion import ConfusionMatrix
from seggui.core.editing.brush import brush_change, check_size, dab_centre
from seggui.core.editing.change import Change, merge
from seggui.core.editing.fill import flood_change, polygon_change, replace_change
from seggui.core.editing.history import DEFAULT_BUDGET, History
from seggui.core.editing.label_map import LabelMap
from seggui.core.editing.live import LiveFigures


class Editor:
    """Edits `labels` (taken over, not copied) of a frame whose ground truth is `gt` (or None)."""

    def __init__(self, labels: np.ndarray, table: ClassTable, gt: np.ndarray | None = None,
                 budget_bytes: int = DEFAULT_BUDGET) -> None:
        if labels.dtype != np.dtype(table.mask_dtype):
            labels = labels.astype(table.mask_dtype)
        self.table = table
        self.map = LabelMap(labels)
        self.history = History(budget_bytes)
        self.live = LiveFigures(labels, table, gt)
        self._stroke: list[Change] | None = None
        self._stroke_args: tuple[int, int, Collection[int] | None] = (1, 0, None)
        self._last: tuple[float, float] | None = None

    # --------------------------------------------------------------- views
    @property
    def labels(self) -> np.ndarray:
        return self.map.labels

    @property
    def version(self) -> int:
        return self.map.version

    @property
    def matrix(self) -> ConfusionMatrix | None:
        return self.live.matrix

    @property
    def in_stroke(self) -> bool:
        return self._stroke is not None

    def pick(self, x: float, y: float) -> int | None:
        """The label under image position (x, y), or None off the mask."""
        h, w = self.map.shape
        px, py = int(np.floor(x)), int(np.floor(y))
        return int(self.labels[py, px]) if 0 <= px < w and 0 <= py < h else None

    def set_ground_truth(self, gt: np.ndarray | None) -> None:
        self.live.set_ground_truth(self.labels, gt)

    # ------------------------------------------------------------- strokes
    def begin_stroke(self, size: int, value: int, only_over: Collection[int] | None = None) -> None:
        """Start a brush (or eraser: `value` is then the unlabelled id) stroke."""
        self.end_stroke()
        self._stroke = []
        protect = None if only_over is None else frozenset(only_over)
        self._stroke_args = (check_size(size), int(value), protect)
        self._last = None

    def stroke_to(self, x: float, y: float) -> Change | None:
        """Paint from the stroke's last point to (x, y) (a dab on the first call)."""
        if self._stroke is None:
            raise RuntimeError("stroke_to outside a stroke: call begin_stroke first")
        size, value, only_over = self._stroke_args
        here = dab_centre(x, y, size)
        start = self._last if self._last is not None else here
        self._last = here
        change = brush_change(self.labels, start, here, size, value, only_over)
        if change is not None:
            self._apply(change)
            self._stroke.append(change)
        return change

    def end_stroke(self) -> Change | None:
        """Finish the stroke: its segments become one undo step, returned (None if it changed nothing)."""
        if self._stroke is None:
            return None
        segments, self._stroke = self._stroke, None
        change = merge(segments)
        self.history.push(change)
        return change

    def cancel_stroke(self) -> Change | None:
        """Take back the stroke in progress (Esc); returns the change that restored the pixels."""
        if self._stroke is None:
            return None
        segments, self._stroke = self._stroke, None
        change = merge(segments)
        if change is None:
            return None
        back = change.reversed()
        self._apply(back)
        return back

    def dab(self, x: float, y: float, size: int, value: int,
            only_over: Collection[int] | None = None) -> Change | None:
        """One click of the brush: a stroke of one dab."""
        self.begin_stroke(size, value, only_over)
        self.stroke_to(x, y)
        return self.end_stroke()

    # --------------------------------------------------------------- fills
    def fill(self, x: float, y: float, value: int, contiguous: bool = True,
             only_over: Collection[int] | None = None, connectivity: int = 4) -> Change | None:
        self.end_stroke()
        return self._step(flood_change(self.labels, x, y, value, contiguous, only_over, connectivity))

    def polygon(self, points: Sequence[tuple[float, float]], value: int,
                only_over: Collection[int] | None = None) -> Change | None:
        self.end_stroke()
        return self._step(polygon_change(self.labels, points, value, only_over))

    def replace(self, new_labels: np.ndarray, only_over: Collection[int] | None = None) -> Change | None:
        """Make the mask equal `new_labels` as one undoable step (accept prediction, clear, copy frame)."""
        self.end_stroke()
        return self._step(replace_change(self.labels, new_labels, only_over))

    # ----------------------------------------------------------------- undo
    def undo(self) -> Change | None:
        self.end_stroke()
        change = self.history.undo()
        if change is not None:
            self._apply(change)
        return change

    def redo(self) -> Change | None:
        self.end_stroke()
        change = self.history.redo()
        if change is not None:
            self._apply(change)
        return change

    # -------------------------------------------------------------- helpers
    def _apply(self, change: Change) -> None:
        self.map.apply(change)
        self.live.apply(change)

    def _step(self, change: Change | None) -> Change | None:
        if change is not None:
            self._apply(change)
            self.history.push(change)
        return change
