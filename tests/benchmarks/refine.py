"""Benchmark: clicks to a good mask with the refine tool, against a scripted brush; propagation along a drive.

    python tests/benchmarks/refine.py [--pictures 4] [--max-clicks 20]

- NoC (number of clicks, the standard of interactive segmentation): a
  scripted annotator clicks the centre (the farthest point from its edge) of
  the largest wrong region, positive where the class is missing, negative
  where it is too much, until the class's IoU with the ground truth reaches
  0.85 / 0.90 (or `--max-clicks`). On the CamVid val pictures' large classes
  (road, sky, building, ...) starting from models/camvid-small's prediction,
  and on the "Parking Area - Commercial" region of Houston 7677 with no
  prediction (colour alone, starting from an empty mask).
- Each refine method (GrabCut, random walker) and each source of the model's
  probability (`mask+conf`: the stored prediction and confidence PNG, what
  the window uses; `softmax`: the model's full per-class probabilities, what a
  stored probability file would give) is scored the same way.
- The scripted brush: each stroke paints the largest wrong region's
  inscribed disk (a generous brush: its size is chosen perfectly every time).
- Time per click: median over the refine calls on a picture scaled to 1000x750.
- Propagation: CamVid val frames are 1/30 s apart in their drive; every
  other frame has ground truth, so the previous labelled frame's ground truth
  is carried to the next one (2 video frames on) by a plain copy or warped by
  dense optical flow (`seggui.core.editing.propagate`); mIoU against its truth.
- Pixel classifier: Houston 7677 at 1000x750, 8 short scripted strokes in
  each class covering 1% of the picture or more; the IoU of each class on the
  pixels not scribbled, and the seconds from the scribbles to the whole mask.

Prints ONE JSON line; without ../shared/data it prints a "skipped" line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
THRESHOLDS = (0.85, 0.90)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def worst_error(region: np.ndarray, target: np.ndarray) -> tuple[float, float, bool, float]:
    """(x, y, positive, depth) at the centre of the largest wrong region."""
    best = None
    for positive, err in ((True, target & ~region), (False, region & ~target)):
        n, comp, stats, _ = cv2.connectedComponentsWithStats(err.astype(np.uint8), connectivity=4)
        if n <= 1:
            continue
        k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area = int(stats[k, cv2.CC_STAT_AREA])
        if best is None or area > best[0]:
            best = (area, positive, comp == k)
    assert best is not None
    _, positive, blob = best
    dist = cv2.distanceTransform(np.pad(blob, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return x + 0.5, y + 0.5, positive, float(dist[y, x])


def annotate(image, start, target_class, gt, table, prob, fallback, method, max_clicks, brush=False):
    """Clicks (or strokes) to reach each threshold, and the refine time per click."""
    from seggui.core.editing import Click, Editor

    editor = Editor(start.copy(), table)
    target = gt == target_class
    clicks: list = []
    reached = {t: None for t in THRESHOLDS}
    times = []
    score = iou(editor.labels == target_class, target)
    for n in range(1, max_clicks + 1):
        if all(v is not None for v in reached.values()):
            break
        for t in THRESHOLDS:
            if reached[t] is None and score >= t:
                reached[t] = n - 1
        if all(v is not None for v in reached.values()):
            break
        x, y, positive, depth = worst_error(editor.labels == target_class, target)
        if brush:
            size = int(min(500, max(1, 2 * depth)))
            value = target_class if positive else int(gt[int(y), int(x)])
            editor.dab(x, y, size, value)
        else:
            clicks.append(Click(x, y, positive))
            t0 = time.perf_counter()
            editor.refine_preview(image, clicks, target_class, prob, None, fallback, None, method)
            times.append(time.perf_counter() - t0)
        score = iou(editor.labels == target_class, target)
    for t in THRESHOLDS:
        if reached[t] is None and score >= t:
            reached[t] = len(clicks) if not brush else max_clicks
    return {t: (v if v is not None else max_clicks) for t, v in reached.items()}, times


def softmax_probs(predictor, image):
    prep = predictor.prepare(image)
    logits = predictor._run(prep.tensor[None])[0]
    wh, ww = prep.work_hw
    logits = logits[:, :wh, :ww]
    h, w = prep.orig_hw
    up = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in logits])
    e = np.exp(up - up.max(0, keepdims=True))
    return e / e.sum(0, keepdims=True)


def noc(args) -> dict:
    from seggui.core.classes import load_classes
    from seggui.core.editing import class_probability
    from seggui.core.masks import read_mask
    from seggui.engine.predictor import load_predictor

    table = load_classes(DATA / "camvid" / "classes.json")
    predictor = load_predictor(ROOT / "models" / "camvid-small", backend="torch", device="cpu")
    unl = 11
    names = sorted(p.name for p in (DATA / "camvid" / "val").glob("*.png"))[::25][:args.pictures]
    cases = []
    for name in names:
        image = cv2.cvtColor(cv2.imread(str(DATA / "camvid" / "val" / name)), cv2.COLOR_BGR2RGB)
        gt = read_mask(DATA / "camvid" / "valannot" / name, table)
        pred = predictor.predict(image)
        soft = softmax_probs(predictor, image)
        counts = np.bincount(gt.ravel(), minlength=12)
        counts[unl] = 0
        for c in np.argsort(counts)[::-1][:2]:  # the two largest classes of the picture
            cases.append((name, image, gt, int(c), pred, soft))
    out: dict = {}
    variants = [("grabcut", "mask+conf"), ("grabcut", "softmax"), ("walker", "mask+conf"),
                ("grabcut", "none")]
    for method, source in variants:
        per = {t: [] for t in THRESHOLDS}
        times: list = []
        for _name, image, gt, c, pred, soft in cases:
            prob = (None if source == "none" else soft[c].astype(np.float32) if source == "softmax"
                    else class_probability(pred.labels, pred.confidence, c, 12))
            fb = np.where(pred.labels == c, unl, pred.labels)
            r, tm = annotate(image, pred.labels, c, gt, table, prob, fb, method, args.max_clicks)
            for t in THRESHOLDS:
                per[t].append(r[t])
            times += tm
        key = f"{method}_{source.replace('+', '_')}"
        out[key] = {f"noc{int(t * 100)}": round(statistics.mean(per[t]), 2) for t in THRESHOLDS}
        out[key].update({f"noc{int(t * 100)}_per_case": per[t] for t in THRESHOLDS})
        out[key]["ms_per_click_camvid"] = round(1000 * statistics.median(times), 1) if times else None
    per = {t: [] for t in THRESHOLDS}
    for _name, image, gt, c, pred, _soft in cases:
        r, _ = annotate(image, pred.labels, c, gt, table, None, unl, "grabcut", 50, brush=True)
        for t in THRESHOLDS:
            per[t].append(r[t])
    out["brush"] = {f"strokes{int(t * 100)}": round(statistics.mean(per[t]), 2) for t in THRESHOLDS}
    out["brush"].update({f"strokes{int(t * 100)}_per_case": per[t] for t in THRESHOLDS})
    out["cases_camvid"] = [f"{n}:{table.name_of(c)}:start_iou={iou(p.labels == c, g == c):.3f}"
                           for n, _i, g, c, p, _s in cases]
    out["cap"] = {"clicks": args.max_clicks, "strokes": 50}
    out.update(houston(args))
    return out


def houston(args) -> dict:
    from seggui.core.classes import load_classes
    from seggui.core.masks import read_mask

    folder = DATA / "houston-uav"
    table = load_classes(folder / "classes.json")
    image = cv2.cvtColor(cv2.imread(str(folder / "images" / "7677.jpg")), cv2.COLOR_BGR2RGB)
    gt = read_mask(folder / "masks" / "7677.png", table)
    k = 1000 / max(image.shape[:2])
    size = (round(image.shape[1] * k), round(image.shape[0] * k))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    gt = cv2.resize(gt, size, interpolation=cv2.INTER_NEAREST)
    parking = 18
    start = np.zeros_like(gt)
    res = {}
    r, tm = annotate(image, start, parking, gt, table, None, 0, "grabcut", args.max_clicks)
    b, _ = annotate(image, start, parking, gt, table, None, 0, "grabcut", 50, brush=True)
    res["houston7677_parking"] = {"size": f"{size[0]}x{size[1]}", "start": "empty, colour alone",
                                  **{f"noc{int(t * 100)}": r[t] for t in THRESHOLDS},
                                  **{f"brush_strokes{int(t * 100)}": b[t] for t in THRESHOLDS},
                                  "ms_per_click_median": round(1000 * statistics.median(tm), 1)}
    return res


def propagation() -> dict:
    from seggui.core.classes import load_classes
    from seggui.core.editing.propagate import warp_labels
    from seggui.core.masks import read_mask

    table = load_classes(DATA / "camvid" / "classes.json")
    names = sorted(p.name for p in (DATA / "camvid" / "val").glob("*.png"))
    copy_s, flow_s = [], []
    for a, b in zip(names, names[1:], strict=False):
        sa, sb = a.rsplit("_", 1), b.rsplit("_", 1)
        if sa[0] != sb[0] or int(sb[1][:-4]) - int(sa[1][:-4]) != 2:
            continue
        ia, ib = (cv2.cvtColor(cv2.imread(str(DATA / "camvid" / "val" / n)), cv2.COLOR_BGR2RGB)
                  for n in (a, b))
        ga, gb = (read_mask(DATA / "camvid" / "valannot" / n, table) for n in (a, b))
        for labels, acc in ((ga, copy_s), (warp_labels(ia, ib, ga, 11), flow_s)):
            ious = [iou(labels == c, gb == c) for c in range(11) if (gb == c).any() or (labels == c).any()]
            acc.append(float(np.mean(ious)))
    return {"pairs": len(copy_s), "miou_copy": round(float(np.mean(copy_s)), 4),
            "miou_flow": round(float(np.mean(flow_s)), 4),
            "flow_better_share": round(float(np.mean(np.array(flow_s) > np.array(copy_s))), 3)}


def scripted_scribbles(gt: np.ndarray, classes: list[int], per_class: int, seed: int = 0) -> np.ndarray:
    """A fixed set of scribbles: short horizontal strokes (21 px, 3 px thick) well inside each class."""
    rng = np.random.default_rng(seed)
    out = np.full(gt.shape, 255, np.uint8)
    for c in classes:
        inner = cv2.erode((gt == c).astype(np.uint8), np.ones((15, 31), np.uint8)) > 0
        ys, xs = np.nonzero(inner)
        for i in rng.choice(ys.size, min(per_class, ys.size), replace=False):
            out[ys[i] - 1:ys[i] + 2, xs[i] - 10:xs[i] + 11] = c
    return out


def classifier() -> dict:
    """The live pixel classifier on Houston 7677 at 1000x750: scribbles of every large class -> mask."""
    from seggui.core.classes import load_classes
    from seggui.core.editing.pixel_classifier import PixelClassifier, pixel_features
    from seggui.core.masks import read_mask

    folder = DATA / "houston-uav"
    table = load_classes(folder / "classes.json")
    image = cv2.cvtColor(cv2.imread(str(folder / "images" / "7677.jpg")), cv2.COLOR_BGR2RGB)
    gt = read_mask(folder / "masks" / "7677.png", table)
    k = 1000 / max(image.shape[:2])
    size = (round(image.shape[1] * k), round(image.shape[0] * k))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    gt = cv2.resize(gt, size, interpolation=cv2.INTER_NEAREST)
    counts = np.bincount(gt.ravel(), minlength=25)
    classes = [int(c) for c in np.argsort(counts)[::-1] if counts[c] > 0.01 * gt.size]
    scribbles = scripted_scribbles(gt, classes, 8)
    t0 = time.perf_counter()
    feats = pixel_features(image)
    t1 = time.perf_counter()
    model = PixelClassifier.fit(feats, scribbles, 255)
    t2 = time.perf_counter()
    out = model.predict(feats)
    t3 = time.perf_counter()
    rest = scribbles == 255
    ious = {table.name_of(c): round(iou((out == c) & rest, (gt == c) & rest), 3) for c in classes}
    return {"size": f"{size[0]}x{size[1]}", "classes": len(classes),
            "scribbled_px": int((~rest).sum()), "iou_unscribbled": ious,
            "parking_iou": ious.get(table.name_of(18)),
            "seconds": {"features": round(t1 - t0, 2), "fit": round(t2 - t1, 2),
                        "predict": round(t3 - t2, 2), "scribble_to_mask": round(t3 - t0, 2)}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pictures", type=int, default=4)
    ap.add_argument("--max-clicks", type=int, default=20)
    ap.add_argument("--skip-noc", action="store_true")
    args = ap.parse_args()
    if not (DATA / "camvid").is_dir():
        print(json.dumps({"benchmark": "refine", "skipped": f"no data at {DATA}"}))
        return
    sys.path.insert(0, str(ROOT))
    import os
    out: dict = {"benchmark": "refine"}
    if not args.skip_noc:
        out.update(noc(args))
    out["propagation_camvid_val"] = propagation()
    out["pixel_classifier_houston7677"] = classifier()
    out["load_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
