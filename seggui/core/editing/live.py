"""Live figures: the confusion matrix and the per-class pixel counts, kept current per edit.

An edit hands over its changed pixels (old and new label, and the ground
truth under them); the matrix moves each from its (truth, old) cell to its
(truth, new) cell and the area counter from the old class to the new one.
Both cost O(changed pixels), so the metrics and area panels can show the
IoU and m² of the mask being painted after every mouse move.
"""

from __future__ import annotations

import numpy as np

from seggui.core.area import AreaCounter
from seggui.core.classes import ClassTable
from seggui.core.confusion import ConfusionMatrix
from seggui.core.editing.change import Change


class LiveFigures:
    """A `ConfusionMatrix` (None without ground truth) and an `AreaCounter` of one mask."""

    def __init__(self, labels: np.ndarray, table: ClassTable, gt: np.ndarray | None = None) -> None:
        self.table = table
        self.counter = AreaCounter.from_mask(labels, table.size)
        self.gt: np.ndarray | None = None
        self.matrix: ConfusionMatrix | None = None
        self.set_ground_truth(labels, gt)

    def set_ground_truth(self, labels: np.ndarray, gt: np.ndarray | None) -> None:
        """Count the matrix afresh against new ground truth (one full pass; happens on import only)."""
        if gt is not None and gt.shape != labels.shape:
            raise ValueError(f"ground truth is {gt.shape[1]}x{gt.shape[0]}, "
                             f"the mask {labels.shape[1]}x{labels.shape[0]}")
        self.gt = gt
        self.matrix = None if gt is None else ConfusionMatrix.for_table(self.table).update(labels, gt)

    def apply(self, change: Change) -> None:
        """Move the changed pixels' counts (call once per applied change)."""
        self.counter.apply_edit(change.old, change.new)
        if self.matrix is not None and self.gt is not None:
            self.matrix.apply_edit(change.values_in(self.gt), change.old, change.new)
