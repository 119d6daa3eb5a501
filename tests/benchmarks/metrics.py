"""Benchmark: confusion matrix + every per-class metric on a 3840x2160 pair.

Compares, side by side in one run:
- `fast`: ConfusionMatrix.update (joint uint8 codes, OpenCV histogram) + compute_metrics;
- `bincount`: the same joint codes counted with np.bincount (the textbook way);
- `naive`: a per-class loop over boolean masks (tp/fp/fn per class);
- incremental: `apply_edit` for a 50x50 brush stroke (+ compute_metrics) vs a
  full recompute of the image.

The pair is 8x6 tiled CamVid val masks (12 ids, "Unlabelled" 11 ignored) and a
shifted copy with a patch relabelled; random ids when ../shared/data is absent.
Prints one JSON line. Run: python tests/benchmarks/metrics.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from seggui.core.classes import ClassInfo, ClassTable, load_classes
from seggui.core.confusion import ConfusionMatrix
from seggui.core.masks import read_mask
from seggui.core.metrics import compute_metrics

REPO = Path(__file__).resolve().parents[2]
CAMVID = REPO.parent / "shared" / "data" / "camvid"
H, W = 2160, 3840


def best_ms(fn, repeats: int) -> float:
    """Fastest of `repeats` runs in milliseconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def make_pair() -> tuple[ClassTable, np.ndarray, np.ndarray, str]:
    rng = np.random.default_rng(0)
    if (CAMVID / "valannot").is_dir():
        table = load_classes(CAMVID / "classes.json")
        paths = sorted((CAMVID / "valannot").glob("*.png"))[:48]
        tiles = [read_mask(p, table) for p in paths]
        gt = np.vstack([np.hstack(tiles[r * 8 : r * 8 + 8]) for r in range(6)])
        source = "camvid val tiled 8x6"
    else:
        table = ClassTable("random-12", tuple(ClassInfo(i, f"c{i}", (i, i, 20 * i)) for i in range(12)), 11)
        gt = rng.integers(0, 12, (H, W), dtype=np.uint8)
        source = "random"
    pred = np.roll(gt, (11, 17), axis=(0, 1))
    pred[500:900, 1000:1600] = 3
    return table, np.ascontiguousarray(gt), np.ascontiguousarray(pred), source


def bincount_matrix(pred: np.ndarray, gt: np.ndarray, n: int, ignore: int) -> np.ndarray:
    """Same joint codes, counted by np.bincount (widens to 64-bit indices)."""
    codes = gt * np.uint8(n)
    codes += pred
    m = np.bincount(codes.ravel(), minlength=n * n).reshape(n, n)
    m[ignore] = 0
    return m


def naive(pred: np.ndarray, gt: np.ndarray, table: ClassTable) -> dict[str, list[float]]:
    """The per-class boolean loop people write first."""
    valid = gt != table.ignore_index
    total = int(valid.sum())
    out: dict[str, list[float]] = {k: [] for k in ("iou", "dice", "precision", "recall", "share", "symdiff")}
    for c in table.scored_ids:
        g = (gt == c) & valid
        p = (pred == c) & valid
        tp = int((g & p).sum())
        fp = int(p.sum()) - tp
        fn = int(g.sum()) - tp
        nan = float("nan")
        out["iou"].append(tp / (tp + fp + fn) if tp + fp + fn else nan)
        out["dice"].append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else nan)
        out["precision"].append(tp / (tp + fp) if tp + fp else nan)
        out["recall"].append(tp / (tp + fn) if tp + fn else nan)
        out["share"].append((tp + fn) / total)
        out["symdiff"].append(fp + fn)
    return out


def main() -> int:
    table, gt, pred, source = make_pair()
    n, ignore = table.size, table.ignore_index

    def fast():
        return compute_metrics(ConfusionMatrix.for_table(table).update(pred, gt), table)

    ours = fast()
    ref = naive(pred, gt, table)
    agree = bool(
        np.allclose(ours.iou, ref["iou"], equal_nan=True)
        and np.allclose(ours.dice, ref["dice"], equal_nan=True)
        and np.allclose(ours.precision, ref["precision"], equal_nan=True)
        and np.allclose(ours.recall, ref["recall"], equal_nan=True)
        and ours.symdiff_px.tolist() == ref["symdiff"]
        and np.array_equal(bincount_matrix(pred, gt, n, ignore), ours.confusion)
    )
    t_fast = best_ms(fast, 7)
    t_bincount = best_ms(lambda: bincount_matrix(pred, gt, n, ignore), 5)
    t_naive = best_ms(lambda: naive(pred, gt, table), 3)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    t_fast_1 = best_ms(fast, 7)
    cv2.setNumThreads(threads)

    # A 50x50 stroke painting "Car" (8) over part of the prediction.
    y, x = 1200, 2000
    old = pred[y : y + 50, x : x + 50].copy()
    new = old.copy()
    new[:] = 8
    g_patch = gt[y : y + 50, x : x + 50]
    changed = old != new
    g_changed, o_changed, n_changed = g_patch[changed], old[changed], new[changed]
    cm = ConfusionMatrix.for_table(table).update(pred, gt)

    def stroke():
        cm.apply_edit(g_changed, o_changed, n_changed)  # paint ...
        cm.apply_edit(g_changed, n_changed, o_changed)  # ... and undo: two strokes per call

    def stroke_and_metrics():
        cm.apply_edit(g_changed, o_changed, n_changed)
        compute_metrics(cm, table)
        cm.apply_edit(g_changed, n_changed, o_changed)
        compute_metrics(cm, table)

    edited = pred.copy()
    edited[y : y + 50, x : x + 50] = new
    cm.apply_edit(g_changed, o_changed, n_changed)
    incremental_ok = cm == ConfusionMatrix.for_table(table).update(edited, gt)
    cm.apply_edit(g_changed, n_changed, o_changed)

    t_stroke = best_ms(stroke, 50) / 2
    t_stroke_m = best_ms(stroke_and_metrics, 50) / 2
    t_full = best_ms(lambda: compute_metrics(ConfusionMatrix.for_table(table).update(edited, gt), table), 7)

    print(json.dumps({
        "benchmark": "metrics",
        "pair": f"{W}x{H}",
        "source": source,
        "classes": n,
        "changed_px": int(changed.sum()),
        "cv2_threads": threads,
        "agree": agree and bool(incremental_ok),
        "fast_ms": round(t_fast, 2),
        "fast_1thread_ms": round(t_fast_1, 2),
        "bincount_ms": round(t_bincount, 2),
        "naive_ms": round(t_naive, 2),
        "naive_over_fast": round(t_naive / t_fast, 1),
        "bincount_over_fast": round(t_bincount / t_fast, 2),
        "bincount_over_fast_1thread": round(t_bincount / t_fast_1, 2),
        "stroke_update_ms": round(t_stroke, 4),
        "stroke_update_plus_metrics_ms": round(t_stroke_m, 4),
        "full_recompute_ms": round(t_full, 2),
        "full_over_stroke": round(t_full / t_stroke, 0),
        "full_over_stroke_plus_metrics": round(t_full / t_stroke_m, 0),
    }))
    return 0 if agree and incremental_ok else 1


if __name__ == "__main__":
    sys.exit(main())
