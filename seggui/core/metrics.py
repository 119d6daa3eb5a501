"""Segmentation figures, all derived from one `ConfusionMatrix`.

For each scored class c (the table's ids except the ignore one), with the
matrix M (rows ground truth, columns prediction):

- tp = M[c, c]; gt_px = row sum (every scored pixel whose truth is c,
  including those predicted as the ignore id: a miss); pred_px = column sum;
  fp = pred_px - tp; fn = gt_px - tp.
- IoU = tp / (tp + fp + fn); Dice/F1 = 2 tp / (2 tp + fp + fn);
  precision = tp / pred_px; recall = tp / gt_px; pixel share = gt_px / total;
  symmetric difference |O Δ E| = fp + fn pixels (the parking-challenge metric).
- A ratio whose denominator is 0 is undefined and is NaN (None in JSON): a
  class absent from both truth and prediction has NaN IoU, Dice, precision and
  recall; a class never predicted has NaN precision, one absent from the truth
  NaN recall. Means skip NaN, so absent classes never drag a mean down.
- mIoU (and mean Dice, precision, recall) = mean over classes of the figures
  computed from the ACCUMULATED matrix: over a dataset, pixels of all images
  are summed first (large images and common classes weigh more). The mean of
  per-image IoU (`ImageIoUs`) is offered too: each image weighs the same.
- pixel accuracy = trace / total scored pixels; class-average accuracy =
  mean recall over classes present in the truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.confusion import ConfusionMatrix


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den as float64, NaN where den is 0 (undefined, not zero)."""
    num = np.asarray(num, np.float64)
    den = np.asarray(den, np.float64)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _nanmean(values: np.ndarray) -> float:
    """Mean of the defined values; NaN when none is defined (no warning)."""
    ok = ~np.isnan(values)
    return float(values[ok].mean()) if ok.any() else math.nan


def _json_num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def class_stats(cm: ConfusionMatrix, ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tp, gt_px, pred_px) int64 vectors for the given class ids."""
    m = cm.matrix
    idx = np.asarray(ids, np.intp)
    tp = m[idx, idx]
    gt_px = cm.gt_totals[idx]  # includes pixels predicted as the ignore id: misses
    pred_px = m[:, idx].sum(axis=0)
    return tp, gt_px, pred_px


def iou_vector(cm: ConfusionMatrix, ids: list[int]) -> np.ndarray:
    """Per-class IoU for `ids` (NaN for a class absent from truth and prediction)."""
    tp, gt_px, pred_px = class_stats(cm, ids)
    return _ratio(tp, gt_px + pred_px - tp)


@dataclass
class ImageIoUs:
    """Per-image IoU vectors, for the image-weighted "mean of per-image IoU".

    Each image adds one row of per-class IoU (NaN where the class is absent
    from that image's truth and prediction). The per-class figure is the mean
    over the images where the class is defined; `mean_miou` is the mean over
    images of each image's own mIoU.
    """

    ids: list[int]
    rows: list[np.ndarray] = field(default_factory=list)

    def add(self, cm: ConfusionMatrix) -> np.ndarray:
        """Record one image's matrix; returns its IoU row."""
        row = iou_vector(cm, self.ids)
        self.rows.append(row)
        return row

    def __len__(self) -> int:
        return len(self.rows)

    def per_class(self) -> np.ndarray:
        if not self.rows:
            return np.full(len(self.ids), np.nan)
        table = np.vstack(self.rows)
        return np.array([_nanmean(table[:, j]) for j in range(table.shape[1])])

    def mean_miou(self) -> float:
        return _nanmean(np.array([_nanmean(r) for r in self.rows], np.float64))


@dataclass
class SegMetrics:
    """Every figure for one matrix; per-class arrays follow `ids` order."""

    ids: list[int]
    names: list[str]
    tp: np.ndarray
    gt_px: np.ndarray
    pred_px: np.ndarray
    pred_ignore_px: np.ndarray
    iou: np.ndarray
    dice: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    pixel_share: np.ndarray
    symdiff_px: np.ndarray
    total_px: int
    miou: float
    mean_dice: float
    mean_precision: float
    mean_recall: float
    pixel_accuracy: float
    class_avg_accuracy: float
    fw_iou: float
    confusion: np.ndarray
    ignore_index: int | None = None
    n_images: int = 0
    per_image_iou: np.ndarray | None = None
    mean_per_image_iou: float = math.nan

    def _keys(self) -> list[str]:
        """Class names as JSON keys; a repeated name gets its id appended."""
        seen: dict[str, int] = {}
        for n in self.names:
            seen[n] = seen.get(n, 0) + 1
        return [n if seen[n] == 1 else f"{n} (id {i})" for n, i in zip(self.names, self.ids, strict=True)]

    def _per_class(self, values: np.ndarray) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {}
        for key, v in zip(self._keys(), values, strict=True):
            out[key] = int(v) if np.issubdtype(values.dtype, np.integer) else _json_num(float(v))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures: NaN becomes None, per-class values keyed by name."""
        out: dict[str, Any] = {
            "miou": _json_num(self.miou),
            "pixel_accuracy": _json_num(self.pixel_accuracy),
            "class_avg_accuracy": _json_num(self.class_avg_accuracy),
            "mean_dice": _json_num(self.mean_dice),
            "mean_precision": _json_num(self.mean_precision),
            "mean_recall": _json_num(self.mean_recall),
            "fw_iou": _json_num(self.fw_iou),
            "mean_per_image_iou": _json_num(self.mean_per_image_iou),
            "n_images": self.n_images,
            "total_px": self.total_px,
            "symdiff_px_total": int(self.symdiff_px.sum()),
            "per_class_iou": self._per_class(self.iou),
            "per_class_dice": self._per_class(self.dice),
            "per_class_precision": self._per_class(self.precision),
            "per_class_recall": self._per_class(self.recall),
            "pixel_share": self._per_class(self.pixel_share),
            "symdiff_px": self._per_class(self.symdiff_px),
            "tp_px": self._per_class(self.tp),
            "gt_px": self._per_class(self.gt_px),
            "pred_px": self._per_class(self.pred_px),
            "pred_ignore_px": self._per_class(self.pred_ignore_px),
            "class_ids": dict(zip(self._keys(), self.ids, strict=True)),
            "ignore_index": self.ignore_index,
            "confusion_matrix": self.confusion.tolist(),
        }
        if self.per_image_iou is not None:
            out["per_class_mean_image_iou"] = self._per_class(self.per_image_iou)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One flat record per scored class (for CSV and tables)."""
        pim = self.per_image_iou
        return [
            {
                "id": cid,
                "name": name,
                "iou": float(self.iou[j]),
                "dice": float(self.dice[j]),
                "precision": float(self.precision[j]),
                "recall": float(self.recall[j]),
                "pixel_share": float(self.pixel_share[j]),
                "symdiff_px": int(self.symdiff_px[j]),
                "gt_px": int(self.gt_px[j]),
                "pred_px": int(self.pred_px[j]),
                "tp_px": int(self.tp[j]),
                "mean_image_iou": float(pim[j]) if pim is not None else math.nan,
            }
            for j, (cid, name) in enumerate(zip(self.ids, self.names, strict=True))
        ]


def compute_metrics(
    cm: ConfusionMatrix, table: ClassTable, per_image: ImageIoUs | None = None
) -> SegMetrics:
    """All figures for `cm` (one image, or a dataset's accumulated matrix).

    `per_image`, when given, adds the image-weighted mean of per-image IoU
    beside the pixel-weighted dataset figures. Costs O(classes²), independent
    of image size, so a live panel can call it after every brush stroke.
    """
    if cm.num_ids != table.size or cm.ignore_index != table.ignore_index:
        raise ValueError(
            f"matrix of {cm.num_ids} ids (ignore {cm.ignore_index}) does not fit class table "
            f"{table.name} ({table.size} ids, ignore {table.ignore_index})"
        )
    ids = table.scored_ids
    tp, gt_px, pred_px = class_stats(cm, ids)
    fp = pred_px - tp
    fn = gt_px - tp
    total = cm.total
    iou = _ratio(tp, tp + fp + fn)
    recall = _ratio(tp, gt_px)
    share = _ratio(gt_px, np.full(len(ids), total))
    miou = _nanmean(iou)
    defined = ~np.isnan(iou)
    fw = float((share[defined] * iou[defined]).sum()) if total and defined.any() else math.nan
    return SegMetrics(
        ids=list(ids),
        names=[table.name_of(i) for i in ids],
        tp=tp,
        gt_px=gt_px,
        pred_px=pred_px,
        pred_ignore_px=cm.pred_ignore[np.asarray(ids, np.intp)],
        iou=iou,
        dice=_ratio(2 * tp, 2 * tp + fp + fn),
        precision=_ratio(tp, pred_px),
        recall=recall,
        pixel_share=share,
        symdiff_px=fp + fn,
        total_px=total,
        miou=miou,
        mean_dice=_nanmean(_ratio(2 * tp, 2 * tp + fp + fn)),
        mean_precision=_nanmean(_ratio(tp, pred_px)),
        mean_recall=_nanmean(recall),
        pixel_accuracy=float(tp.sum() / total) if total else math.nan,
        class_avg_accuracy=_nanmean(recall),
        fw_iou=fw,
        confusion=cm.matrix.copy(),
        ignore_index=table.ignore_index,
        n_images=len(per_image) if per_image is not None else 0,
        per_image_iou=per_image.per_class() if per_image is not None else None,
        mean_per_image_iou=per_image.mean_miou() if per_image is not None else math.nan,
    )
