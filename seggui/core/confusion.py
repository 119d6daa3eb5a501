"""The confusion matrix every segmentation figure derives from.

Rows are ground truth, columns are prediction, both indexed by class id
(0 .. num_ids-1; ids a table skips keep empty rows and columns). Building it is
one histogram of joint codes ``gt * k + pred``, never a loop over classes.

The ignore index, in ground truth, removes the pixel from scoring. A
*predicted* ignore value is different: the model (or the annotator) declined
to label a pixel whose true class is known, so it counts as a miss (a false
negative) of that true class and is never a true positive. When the ignore id
lies inside the id range (CamVid's "Unlabelled" 11) those pixels sit in its
column of the square matrix; when it lies outside (Cityscapes' 255) they go
to one extra column, exposed as `pred_ignore`. Either way `matrix` is square
over class ids and the row sums hold every scored ground-truth pixel.

Live editing needs O(stroke), not O(image): `apply_edit` moves the changed
pixels from their old column to their new one with `np.add.at`.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import cv2
import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError

# cv2.calcHist counts in float32, exact only up to 2**24 per bin: histogram larger
# images in chunks of this many pixels and add the chunks as integers.
_CHUNK = 1 << 24


class ConfusionMatrix:
    """Pixel counts of (ground truth, prediction) pairs, accumulated over images.

    `num_ids` is the length of per-id arrays (a class table's `size`);
    `ignore_index` (or None) is the id that ground truth uses for pixels that
    are not scored. Accumulating one matrix over many images gives dataset
    figures weighted by pixels (the usual "macro over classes, summed over
    images" mIoU); per-image figures come from one matrix per image.
    """

    def __init__(self, num_ids: int, ignore_index: int | None = None) -> None:
        if num_ids < 1:
            raise ValueError(f"num_ids must be >= 1, got {num_ids}")
        if ignore_index is not None and not 0 <= ignore_index <= 65535:
            raise ValueError(f"ignore_index must lie in 0..65535, got {ignore_index}")
        self.num_ids = int(num_ids)
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        # Column num_ids holds predictions of an ignore id that lies outside 0..num_ids-1.
        self._k = self.num_ids + 1
        self._m = np.zeros((self.num_ids, self._k), np.int64)
        self._flat = self._m.reshape(-1)  # a view: edits through it change _m

    @classmethod
    def for_table(cls, table: ClassTable) -> ConfusionMatrix:
        """An empty matrix sized for a `ClassTable` (its size and ignore index)."""
        return cls(table.size, table.ignore_index)

    # ---------------------------------------------------------------- views
    @property
    def matrix(self) -> np.ndarray:
        """(num_ids, num_ids) int64 counts, rows = ground truth, cols = prediction.

        A read-only view; the ignore id's row is always zero (not scored).
        """
        view = self._m[:, : self.num_ids]
        view.flags.writeable = False
        return view

    @property
    def pred_ignore(self) -> np.ndarray:
        """(num_ids,) pixels of each true class predicted as the ignore id.

        Includes the ignore id's column when it lies inside the id range, so
        this is the full count of "declined to label" misses per class.
        """
        out = self._m[:, self.num_ids].copy()
        if self.ignore_index is not None and self.ignore_index < self.num_ids:
            out += self._m[:, self.ignore_index]
        return out

    @property
    def gt_totals(self) -> np.ndarray:
        """(num_ids,) scored ground-truth pixels per class, whatever was predicted."""
        return cast(np.ndarray, self._m.sum(axis=1))

    @property
    def total(self) -> int:
        """Scored pixels counted so far (ground-truth ignore excluded)."""
        return int(self._m.sum())

    def copy(self) -> ConfusionMatrix:
        other = ConfusionMatrix(self.num_ids, self.ignore_index)
        other._m[...] = self._m
        return other

    def reset(self) -> None:
        """Forget every count (e.g. when the ground truth of a frame changes)."""
        self._m[...] = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfusionMatrix):
            return NotImplemented
        return (
            self.num_ids == other.num_ids
            and self.ignore_index == other.ignore_index
            and bool(np.array_equal(self._m, other._m))
        )

    def __repr__(self) -> str:
        return (
            f"ConfusionMatrix(num_ids={self.num_ids}, ignore_index={self.ignore_index}, "
            f"total={self.total})"
        )

    # -------------------------------------------------------------- building
    def update(self, pred: np.ndarray, gt: np.ndarray, path: str | Path | None = None) -> ConfusionMatrix:
        """Add one image's (prediction, ground truth) pair; returns self.

        Both are integer id arrays of the same shape. `path` names the file in
        the errors (size mismatch, ids outside the table).
        """
        pred = np.asarray(pred)
        gt = np.asarray(gt)
        if pred.shape != gt.shape:
            raise BadInputError(
                path, f"prediction is {_size(pred)} but ground truth is {_size(gt)}"
            )
        if pred.size == 0:
            return self
        g = self._codes(gt, "ground truth", path)
        p = self._codes(pred, "prediction", path)
        k = self._k
        dtype = np.uint8 if k * k <= 256 else np.uint16 if k * k <= 65536 else np.intp
        joint = np.multiply(g, k, dtype=dtype, casting="unsafe")
        np.add(joint, p, out=joint, casting="unsafe")
        counts = joint_histogram(joint, k * k).reshape(k, k)
        if self.ignore_index is not None and self.ignore_index < self.num_ids:
            counts[self.ignore_index] = 0  # ground truth "ignore": not scored
        # Row num_ids is ground truth of an outside ignore id: dropped by the slice.
        self._m += counts[: self.num_ids]
        return self

    def merge(self, other: ConfusionMatrix) -> ConfusionMatrix:
        """Add another matrix's counts (another image, another worker); returns self."""
        if (other.num_ids, other.ignore_index) != (self.num_ids, self.ignore_index):
            raise ValueError(
                f"cannot merge a matrix of {other.num_ids} ids (ignore {other.ignore_index}) "
                f"into one of {self.num_ids} ids (ignore {self.ignore_index})"
            )
        self._m += other._m
        return self

    def apply_edit(self, gt: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Update in place for pixels whose prediction changed from `old` to `new`.

        The three 1-D arrays describe the same pixels (each pixel once): its
        ground truth, its label before and after the edit. Cost is O(len(gt)),
        whatever the image size. Ground-truth ignore pixels are skipped.
        Raises ValueError (and leaves the matrix unchanged) if the edit removes
        counts the matrix does not hold, i.e. `old` disagrees with what was
        counted.
        """
        gt = np.asarray(gt).reshape(-1)
        old = np.asarray(old).reshape(-1)
        new = np.asarray(new).reshape(-1)
        if not gt.shape == old.shape == new.shape:
            raise ValueError(f"edit arrays differ in length: {gt.shape}, {old.shape}, {new.shape}")
        if gt.size == 0:
            return
        g = self._codes(gt, "ground truth", None).astype(np.intp)
        o = self._codes(old, "old label", None).astype(np.intp)
        n = self._codes(new, "new label", None).astype(np.intp)
        keep = g < self.num_ids  # drops an outside ignore id
        if self.ignore_index is not None and self.ignore_index < self.num_ids:
            keep &= g != self.ignore_index
        if not keep.all():
            g, o, n = g[keep], o[keep], n[keep]
        moved = o != n
        if not moved.all():
            g, o, n = g[moved], o[moved], n[moved]
        if g.size == 0:
            return
        row = g * self._k
        np.subtract.at(self._flat, row + o, 1)
        if self._flat[row + o].min() < 0:
            np.add.at(self._flat, row + o, 1)
            raise ValueError("edit removes pixels the matrix never counted (old labels disagree)")
        np.add.at(self._flat, row + n, 1)

    # ---------------------------------------------------------------- helpers
    def _codes(self, arr: np.ndarray, what: str, path: str | Path | None) -> np.ndarray:
        """Map ids to column codes: id itself, an outside ignore id -> num_ids.

        Fast path: when every value is below num_ids the array is used as is
        (one max() pass). Anything else goes through a lookup table that also
        finds ids outside the table.
        """
        if arr.dtype.kind not in "ui":
            raise BadInputError(path, f"{what} must hold integer class ids, got {arr.dtype}")
        if arr.dtype.kind == "i" and arr.size and int(arr.min()) < 0:
            raise BadInputError(path, f"{what} holds negative class ids")
        top = int(arr.max(initial=0))
        if top < self.num_ids:
            return arr
        ign = self.ignore_index
        if top > 65535:
            raise BadInputError(path, f"{what} holds class id {top}, outside 0..{self.num_ids - 1}")
        # Values 0..top map through a table; self._k marks an id the table lacks.
        lut = np.full(256 if arr.dtype == np.uint8 else top + 1, self._k, np.uint16)
        low = min(self.num_ids, len(lut))
        lut[:low] = np.arange(low, dtype=np.uint16)
        if ign is not None and self.num_ids <= ign < len(lut):
            lut[ign] = self.num_ids
        if arr.dtype == np.uint8 and self._k < 256:
            flat = np.ascontiguousarray(arr).reshape(-1)  # LUT reads 2-D as rows x cols
            mapped = cv2.LUT(flat, lut.astype(np.uint8)).reshape(arr.shape)  # faster than lut[arr]
        else:
            mapped = lut[arr]
        bad_mask = mapped == self._k
        if bad_mask.any():
            bad, counts = np.unique(arr[bad_mask], return_counts=True)
            shown = ", ".join(f"{int(b)} ({int(c)} px)" for b, c in zip(bad[:5], counts[:5], strict=True))
            raise BadInputError(
                path, f"{what} holds class ids outside 0..{self.num_ids - 1}"
                f"{'' if ign is None else f' and ignore {ign}'}: {shown}"
            )
        return mapped


def joint_histogram(codes: np.ndarray, bins: int) -> np.ndarray:
    """Counts of each value 0..bins-1 in an integer array, as int64.

    The same result as ``np.bincount(codes.ravel(), minlength=bins)``. For
    uint8 and uint16 codes OpenCV's calcHist gives it several times faster
    (measured in tests/benchmarks/metrics.py): bincount first widens every
    pixel to a 64-bit index, calcHist does not and splits rows over threads,
    so a 2-D array is kept 2-D. calcHist counts in float32, exact only up to
    2**24 per bin, so big images are counted in row blocks of at most 2**24
    pixels and the blocks added as integers. Other codes use bincount.
    """
    grid = codes.reshape(1, -1) if codes.ndim < 2 else codes.reshape(codes.shape[0], -1)
    cols = grid.shape[1]
    if codes.dtype not in (np.uint8, np.uint16) or bins > 65536 or cols > _CHUNK or cols == 0:
        return np.bincount(codes.reshape(-1), minlength=bins)[:bins].astype(np.int64, copy=False)
    grid = np.ascontiguousarray(grid)
    step = max(1, _CHUNK // cols)
    out = np.zeros(bins, np.int64)
    for start in range(0, grid.shape[0], step):
        hist = cv2.calcHist([grid[start : start + step]], [0], None, [bins], [0, bins])
        out += hist.reshape(-1).astype(np.int64)
    return out


def _size(arr: np.ndarray) -> str:
    """`WxH` for a 2-D mask, the shape otherwise."""
    if arr.ndim == 2:
        return f"{arr.shape[1]}x{arr.shape[0]}"
    return "x".join(str(s) for s in arr.shape) or "a scalar"
