"""Evaluate a folder of predicted masks against a folder of ground truth.

A core job (a generator yielding `Progress`, checking a `CancelToken`), so
the CLI (`seggui eval`) and the GUI run the same code.

Pairing: each ground-truth mask is matched to the prediction with the same
file-name stem (``gt/0016E5_07959.png`` <- ``pred/0016E5_07959.png`` or
``.tif`` ...; when several share a stem, ``.png`` wins, then the first by name).
A ground-truth mask without a prediction, or a pair that cannot be read, is a
problem: reported by name, skipped, and the run carries on. Predictions
without ground truth are merely listed (a drive often has ground truth for a
few frames only). If nothing at all can be evaluated the job raises
`BadInputError` with the reason.

Dataset figures come from the confusion matrix accumulated over all pairs
(see `seggui.core.metrics`); the mean of per-image IoU rides along.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.atomic import atomic_write_json
from seggui.core.class_map import ClassMap
from seggui.core.classes import ClassTable
from seggui.core.confusion import ConfusionMatrix
from seggui.core.csvfile import write_csv
from seggui.core.errors import BadInputError
from seggui.core.images import IMAGE_SUFFIXES, list_images
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.masks import read_mask
from seggui.core.metrics import ImageIoUs, SegMetrics, compute_metrics


@dataclass
class ImageScore:
    """Figures for one evaluated pair."""

    name: str
    miou: float
    pixel_accuracy: float
    scored_px: int


@dataclass
class EvalResult:
    """What an evaluation run produced: dataset metrics, per image, problems."""

    table: ClassTable
    pred_dir: Path
    gt_dir: Path
    matrix: ConfusionMatrix
    metrics: SegMetrics
    images: list[ImageScore] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    unpaired_predictions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The metrics' JSON plus the run's context, per-image figures and problems."""
        out = self.metrics.to_dict()
        out.update(
            {
                "class_table": self.table.name,
                "pred_dir": str(self.pred_dir),
                "gt_dir": str(self.gt_dir),
                "images": [
                    {
                        "name": s.name,
                        "miou": _num(s.miou),
                        "pixel_accuracy": _num(s.pixel_accuracy),
                        "scored_px": s.scored_px,
                    }
                    for s in self.images
                ],
                "problems": [{"file": f, "problem": p} for f, p in self.problems],
                "unpaired_predictions": list(self.unpaired_predictions),
            }
        )
        return out

    def write_json(self, path: str | Path) -> Path:
        """Write `to_dict()` atomically."""
        return atomic_write_json(path, self.to_dict())

    def write_csv(self, path: str | Path) -> Path:
        """One row per scored class plus a `mean` row; empty cells are undefined (NaN)."""
        rows = self.metrics.rows()
        out = [{k: _cell(v) for k, v in r.items()} for r in rows]
        m = self.metrics
        out.append(
            {
                "id": "",
                "name": "mean",
                "iou": _cell(m.miou),
                "dice": _cell(m.mean_dice),
                "precision": _cell(m.mean_precision),
                "recall": _cell(m.mean_recall),
                "pixel_share": _cell(float(np.nansum(m.pixel_share))),
                "symdiff_px": int(m.symdiff_px.sum()),
                "gt_px": int(m.gt_px.sum()),
                "pred_px": int(m.pred_px.sum()),
                "tp_px": int(m.tp.sum()),
                "mean_image_iou": _cell(m.mean_per_image_iou),
            }
        )
        return write_csv(path, list(rows[0].keys()), out)


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _cell(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6f}"
    return v


_SUFFIX_RANK = {s: i for i, s in enumerate(IMAGE_SUFFIXES)}  # .png first


def pair_files(pred_dir: str | Path, gt_dir: str | Path) -> tuple[list[tuple[Path, Path | None]], list[Path]]:
    """Match ground-truth masks to predictions by file-name stem.

    Returns ([(gt, pred or None)], predictions without ground truth). Raises
    BadInputError for a missing folder or a ground-truth folder with no masks.
    """
    gts = list_images(gt_dir)
    if not gts:
        raise BadInputError(
            Path(gt_dir), f"no mask files ({', '.join(IMAGE_SUFFIXES)}) in the ground-truth folder"
        )
    preds: dict[str, Path] = {}
    for p in list_images(pred_dir):
        have = preds.get(p.stem)
        if have is None or _SUFFIX_RANK[p.suffix.lower()] < _SUFFIX_RANK[have.suffix.lower()]:
            preds[p.stem] = p
    pairs = [(g, preds.pop(g.stem, None)) for g in gts]
    return pairs, sorted(preds.values())


def evaluate_folders(
    pred_dir: str | Path,
    gt_dir: str | Path,
    table: ClassTable,
    token: CancelToken | None = None,
    class_map: ClassMap | None = None,
) -> Job[EvalResult]:
    """Job: evaluate every (prediction, ground truth) pair of two folders.

    With `class_map`, the ground truth is drawn in `class_map.gt` and is
    compared in `table` (the predictions') through the map.

    Yields one `Progress` per ground-truth file (with `error` set when that
    file was skipped) and returns an `EvalResult`. Raises BadInputError when
    no pair at all could be evaluated.
    """
    pred_dir, gt_dir = Path(pred_dir), Path(gt_dir)
    pairs, unpaired = pair_files(pred_dir, gt_dir)
    if all(p is None for _, p in pairs):
        raise BadInputError(
            pred_dir,
            f"none of the {len(pairs)} ground-truth masks in {gt_dir} has a prediction "
            "with the same file-name stem here",
        )
    total = ConfusionMatrix.for_table(table)
    per_image = ImageIoUs(table.scored_ids)
    images: list[ImageScore] = []
    problems: list[tuple[str, str]] = []
    for done, (gt_path, pred_path) in enumerate(pairs, start=1):
        if token is not None:
            token.raise_if_cancelled()
        error = None
        try:
            cm = _evaluate_pair(gt_path, pred_path, pred_dir, table, class_map)
        except BadInputError as exc:
            where = str(exc.path) if exc.path is not None else str(gt_path)
            problems.append((where, exc.problem))
            error = str(exc)
        else:
            total.merge(cm)
            row = per_image.add(cm)
            images.append(ImageScore(gt_path.name, _mean(row), _accuracy(cm), cm.total))
        yield Progress(done, len(pairs), gt_path.name, item=gt_path.name, error=error)
    if not images:
        first = f"{problems[0][0]}: {problems[0][1]}" if problems else "no pairs"
        raise BadInputError(
            None, f"none of the {len(pairs)} pairs could be evaluated (first problem: {first})"
        )
    metrics = compute_metrics(total, table, per_image)
    return EvalResult(table, pred_dir, gt_dir, total, metrics, images, problems,
                      [p.name for p in unpaired])


def _evaluate_pair(
    gt_path: Path, pred_path: Path | None, pred_dir: Path, table: ClassTable,
    class_map: ClassMap | None = None,
) -> ConfusionMatrix:
    """One pair's matrix; BadInputError names the faulty file."""
    if pred_path is None:
        raise BadInputError(gt_path, f"no prediction named {gt_path.stem}.* in {pred_dir}")
    gt = read_mask(gt_path, table) if class_map is None else class_map.apply(
        read_mask(gt_path, class_map.gt), table)
    pred = read_mask(pred_path, table)
    if pred.shape != gt.shape:
        raise BadInputError(
            pred_path,
            f"prediction is {pred.shape[1]}x{pred.shape[0]} but ground truth {gt_path.name} "
            f"is {gt.shape[1]}x{gt.shape[0]}",
        )
    return ConfusionMatrix.for_table(table).update(pred, gt, pred_path)


def _mean(row: np.ndarray) -> float:
    """Mean of the defined entries (an image's mIoU over the classes it shows)."""
    ok = ~np.isnan(row)
    return float(row[ok].mean()) if ok.any() else math.nan


def _accuracy(cm: ConfusionMatrix) -> float:
    total = cm.total
    return float(cm.matrix.trace()) / total if total else math.nan
