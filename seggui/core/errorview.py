"""What the canvas paints over a picture: class colours and error colours as RGBA layers.

The window shows a mask as a separate translucent layer (its opacity is a
slider, so the blend is done by the graphics card, not re-computed per move).
These functions turn index masks into such RGBA layers. They hold the only
mask arithmetic the views need, so the Qt side merely converts arrays to
pixmaps.

The error view answers "where is the model wrong about class c?": false
positives (predicted c, ground truth another scored class) and false
negatives (ground truth c, predicted something else). Ground-truth pixels of
the ignore index are never counted, exactly as the metrics do, so the coloured
pixels add up to the FP and FN cells of the confusion matrix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.masks import index_to_color

# Vivid orange-red and cyan differ in lightness and along the blue-yellow
# axis, so they stay apart for the common red-green colour blindnesses and on
# both dark road and bright sky.
FP_COLOR = (255, 72, 0)
FN_COLOR = (0, 200, 255)
TP_COLOR = (40, 200, 60)
TP_ALPHA = 110


@dataclass(frozen=True)
class ClassErrors:
    """Boolean maps of one class's true positives, false positives and false negatives."""

    class_id: int
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray

    @property
    def counts(self) -> tuple[int, int, int]:
        """(TP, FP, FN) pixel counts."""
        return int(self.tp.sum()), int(self.fp.sum()), int(self.fn.sum())


def _check_pair(pred: np.ndarray, gt: np.ndarray) -> None:
    if pred.shape != gt.shape:
        raise BadInputError(
            None,
            f"prediction {pred.shape[1]}x{pred.shape[0]} and ground truth "
            f"{gt.shape[1]}x{gt.shape[0]} differ in size",
        )


def class_errors(
    pred: np.ndarray, gt: np.ndarray, class_id: int, ignore_index: int | None = None
) -> ClassErrors:
    """Where `pred` agrees and disagrees with `gt` about one class.

    Pixels whose ground truth is the ignore index are left out of all three
    maps, so TP + FN is the scored ground-truth area of the class and TP + FP
    the predicted area over scored ground truth.
    """
    _check_pair(pred, gt)
    is_pred = pred == class_id
    is_gt = gt == class_id
    if ignore_index is not None:
        scored = gt != ignore_index
        is_pred &= scored
        is_gt &= scored
    tp = is_pred & is_gt
    return ClassErrors(int(class_id), tp, is_pred & ~is_gt, is_gt & ~is_pred)


def error_rgba(
    pred: np.ndarray,
    gt: np.ndarray,
    class_id: int,
    ignore_index: int | None = None,
    show_tp: bool = True,
) -> np.ndarray:
    """An (H, W, 4) layer: FP in `FP_COLOR`, FN in `FN_COLOR`, TP faint green.

    Everything else is transparent, so the picture shows through where the
    model is right about the class or the class is absent.
    """
    err = class_errors(pred, gt, class_id, ignore_index)
    out = np.zeros((*pred.shape, 4), np.uint8)
    if show_tp:
        out[err.tp] = (*TP_COLOR, TP_ALPHA)
    out[err.fp] = (*FP_COLOR, 255)
    out[err.fn] = (*FN_COLOR, 255)
    return out


def label_rgba(mask: np.ndarray, table: ClassTable, hidden: Iterable[int] = ()) -> np.ndarray:
    """An (H, W, 4) layer of class colours; ignore-index and hidden classes transparent.

    Ids the table does not list stay opaque (in `index_to_color`'s colour), so
    a mask that does not fit its table is visible rather than silently blank.
    """
    rgb = index_to_color(mask, table)
    alpha = np.full(max(table.size, int(mask.max(initial=0)) + 1), 255, np.uint8)
    for cid in hidden:
        if 0 <= cid < len(alpha):
            alpha[cid] = 0
    if table.ignore_index is not None and table.ignore_index < len(alpha):
        alpha[table.ignore_index] = 0
    out = np.empty((*mask.shape, 4), np.uint8)
    out[..., :3] = rgb
    out[..., 3] = alpha[mask]
    return out


def view_rgba(view: str, current: np.ndarray | None, truth: np.ndarray | None, table: ClassTable,
              hidden: Iterable[int] = (), class_id: int | None = None) -> np.ndarray | None:
    """The RGBA layer a view of the window shows, for a whole mask or a patch of one (None: nothing).

    The one mapping from a view's name to its layer, shared by the view panel
    (whole frames) and the editor (the rectangle a stroke changed), so the two
    cannot drift: "prediction" paints the current mask (the correction being
    made, else the prediction), "ground_truth" the ground truth, "errors" the
    FP/FN of `class_id` (current against truth); other views paint nothing.
    """
    if view == "prediction":
        return None if current is None else label_rgba(current, table, hidden)
    if view == "ground_truth":
        return None if truth is None else label_rgba(truth, table, hidden)
    if view == "errors" and current is not None and truth is not None and class_id is not None:
        return error_rgba(current, truth, class_id, table.ignore_index)
    return None
