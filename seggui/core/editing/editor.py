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
from seggui.core.editing.refine import Click, Refined, refine, refine_change
from seggui.core.editing.superpixels import Segments, superpixel_change


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
        self._segments: Segments | None = None
        self._last: tuple[float, float] | None = None
        self._preview: Change | None = None
        self._kept_version = 0

    # --------------------------------------------------------------- views
    @property
    def labels(self) -> np.ndarray:
        return self.map.labels

    @property
    def version(self) -> int:
        return self.map.version

    @property
    def kept_version(self) -> int:
        """Moves with every change the user kept, never with a refine preview shown or dropped.

        What a save tracks: a preview on show is not work to write (Enter
        moves this; Esc leaves it where it was), so a save while one is on
        show writes `kept_labels`, and only Enter makes it due again.
        """
        return self._kept_version

    def kept_labels(self, into: np.ndarray | None = None) -> np.ndarray:
        """A copy of the labels without the refine preview: the only mask that may be saved.

        `into`, when it has the labels' shape and type, is reused (the
        autosave's buffer). The preview's change is reversed on the copy, so
        this costs one copy plus the preview's pixels.
        """
        labels = self.labels
        if into is None or into.shape != labels.shape or into.dtype != labels.dtype:
            into = np.empty_like(labels)
        np.copyto(into, labels)
        if self._preview is not None:
            self._preview.reversed().apply_to(into)
        return into

    @property
    def matrix(self) -> ConfusionMatrix | None:
        return self.live.matrix

    @property
    def in_stroke(self) -> bool:
        return self._stroke is not None

    @property
    def preview(self) -> Change | None:
        """The refine result on show but not yet an undo step (Enter commits it, Esc drops it)."""
        return self._preview

    def pick(self, x: float, y: float) -> int | None:
        """The label under image position (x, y), or None off the mask."""
        h, w = self.map.shape
        px, py = int(np.floor(x)), int(np.floor(y))
        return int(self.labels[py, px]) if 0 <= px < w and 0 <= py < h else None

    def set_ground_truth(self, gt: np.ndarray | None) -> None:
        self.live.set_ground_truth(self.labels, gt)

    # ------------------------------------------------------------- strokes
    def begin_stroke(self, size: int, value: int, only_over: Collection[int] | None = None,
                     segments: Segments | None = None) -> None:
        """Start a brush (or eraser: `value` is then the unlabelled id) stroke.

        With `segments` it is a superpixel stroke: every superpixel the
        round footprint touches is painted whole.
        """
        self.end_stroke()
        self.drop_preview()
        if segments is not None and segments.shape != self.map.shape:
            raise ValueError(f"the superpixels are {segments.shape[1]}x{segments.shape[0]}, "
                             f"the mask {self.map.shape[1]}x{self.map.shape[0]}")
        self._stroke = []
        protect = None if only_over is None else frozenset(only_over)
        self._stroke_args = (check_size(size), int(value), protect)
        self._segments = segments
        self._last = None

    def stroke_to(self, x: float, y: float) -> Change | None:
        """Paint from the stroke's last point to (x, y) (a dab on the first call)."""
        if self._stroke is None:
            raise RuntimeError("stroke_to outside a stroke: call begin_stroke first")
        size, value, only_over = self._stroke_args
        here = dab_centre(x, y, size)
        start = self._last if self._last is not None else here
        self._last = here
        if self._segments is not None:
            change = superpixel_change(self.labels, self._segments, start, here, size, value, only_over)
        else:
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
        self.drop_preview()
        return self._step(flood_change(self.labels, x, y, value, contiguous, only_over, connectivity))

    def polygon(self, points: Sequence[tuple[float, float]], value: int,
                only_over: Collection[int] | None = None) -> Change | None:
        self.end_stroke()
        self.drop_preview()
        return self._step(polygon_change(self.labels, points, value, only_over))

    def replace(self, new_labels: np.ndarray, only_over: Collection[int] | None = None) -> Change | None:
        """Make the mask equal `new_labels` as one undoable step (accept prediction, clear, copy frame)."""
        self.end_stroke()
        self.drop_preview()
        return self._step(replace_change(self.labels, new_labels, only_over))

    # --------------------------------------------------------------- refine
    def refine_preview(self, image: np.ndarray, clicks: Sequence[Click], value: int,
                       prob: np.ndarray | None = None, box: tuple[float, float, float, float] | None = None,
                       fallback: int | np.ndarray = 0, only_over: Collection[int] | None = None,
                       method: str = "grabcut") -> Change | None:
        """Add the newest click (the last of `clicks`) to the refine preview of class `value`.

        The region is recomputed from the mask as it shows now (with the
        preview), all the clicks so far held as definite, and only the changes
        the newest click reaches are kept (all of them on the first call), so
        each click improves the preview locally and never undoes an earlier
        one far away. Nothing enters the undo history until `commit_preview`;
        a ValueError (click off the picture, box of no size, maps of another
        size) leaves the preview as it was. The same in two halves, for a
        window that cuts on a worker thread: `refine_base`, then `refine`
        (core.editing.refine) anywhere, then `show_refined`.
        """
        reach = list(clicks[-1:]) if self._preview is not None else None
        found = refine(image, self.refine_base(value), clicks, prob, box, method, reach=reach)
        return self.show_refined(found, value, fallback, only_over)

    def refine_base(self, value: int) -> np.ndarray:
        """The region of `value` as it shows now (a new array: safe to hand to a worker thread)."""
        self.end_stroke()
        base: np.ndarray = self.labels == value
        return base

    def show_refined(self, found: Refined, value: int, fallback: int | np.ndarray = 0,
                     only_over: Collection[int] | None = None) -> Change | None:
        """Put a refined region on the mask as (part of) the preview; the change it made, or None."""
        self.end_stroke()
        change = refine_change(self.labels, found, value, fallback, only_over)
        if change is None:
            return None
        self._apply(change, kept=False)
        self._preview = merge([c for c in (self._preview, change) if c is not None])
        return change

    def commit_preview(self) -> Change | None:
        """The preview becomes ONE undo step (Enter); returns it (None when there was none)."""
        change, self._preview = self._preview, None
        if change is not None:
            self.history.push(change)
            self._kept_version += 1  # the pixels are already on the mask: now they are work to save
        return change

    def drop_preview(self) -> Change | None:
        """Take the preview off the mask (Esc); returns the change that restored the pixels."""
        change, self._preview = self._preview, None
        if change is None:
            return None
        back = change.reversed()
        self._apply(back, kept=False)
        return back

    # ----------------------------------------------------------------- undo
    def undo(self) -> Change | None:
        self.end_stroke()
        back = self.drop_preview()
        if back is not None:
            return back  # Ctrl+Z during a refine takes back the preview, not the step before it
        change = self.history.undo()
        if change is not None:
            self._apply(change)
        return change

    def redo(self) -> Change | None:
        self.end_stroke()
        self.drop_preview()
        change = self.history.redo()
        if change is not None:
            self._apply(change)
        return change

    # -------------------------------------------------------------- helpers
    def _apply(self, change: Change, kept: bool = True) -> None:
        """Put a change on the mask and the live figures (`kept`: not a refine preview's)."""
        self.map.apply(change)
        self.live.apply(change)
        if kept:
            self._kept_version += 1

    def _step(self, change: Change | None) -> Change | None:
        if change is not None:
            self._apply(change)
            self.history.push(change)
        return change
