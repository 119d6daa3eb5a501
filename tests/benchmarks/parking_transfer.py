"""Benchmark: does a parking model trained on generated scenes work on real aerial pictures (zero-shot)?

Issue 21 asks for a parking model, never trained on the Houston UAV pictures,
that finds the commercial lot of 7677 and leaves the suburbs of 6411 and 6703
alone. This script measures exactly that for one model card:

- parking IoU on 7677, its 25-class mask read through the class map
  "Parking Area - Commercial" (id 18) -> parking and every other class ->
  background (the map `seggui eval --gt-classes ... --map ...` builds; checked
  here so no other class slips into parking);
- the share of the pixels of 6411 and 6703 (no parking in their masks) the
  model calls parking.

The pictures go to the predictor whole, at their own resolution (1000 x 750;
`--scale` shrinks them first, to probe a model at another GSD). Their GSD is
not published; from car lengths (about 45-50 px for a 4.5 m car in 6411) it is
near 0.1 m/px. Runs on the CPU through `load_predictor` (ONNX Runtime when the
card has an export, as the app does), threads from SEGGUI_BENCH_THREADS
(default 2). Prints one JSON line with the machine's `uptime` load. Skips with
a JSON "skipped" line when ../shared/data is absent.

Run: python tests/benchmarks/parking_transfer.py [--model models/parking-demo] [--backend auto]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2

from seggui.core.class_map import parse_map_arg
from seggui.core.classes import load_classes
from seggui.core.images import read_image
from seggui.core.masks import read_mask

REPO = Path(__file__).resolve().parents[2]
HOUSTON = REPO.parent / "shared" / "data" / "houston-uav"
LOT, EMPTY = "7677", ("6411", "6703")
MAP = "Parking Area - Commercial=parking"


def load() -> str:
    """The machine's load averages as `uptime` prints them (figures mean little without it)."""
    try:
        out = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout
        return out.split("load average:")[-1].strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def measure(model: str | Path, backend: str = "auto", scale: float = 1.0) -> dict[str, Any]:
    """Zero-shot parking figures of one card on the Houston pictures (see the module docstring)."""
    from seggui.engine.predictor import load_predictor

    threads = int(os.environ.get("SEGGUI_BENCH_THREADS", "2"))
    gt_table = load_classes(HOUSTON / "classes.json")
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    with load_predictor(model, backend, "cpu", threads) as predictor:
        table = predictor.card.classes
        cmap = parse_map_arg([MAP], gt_table, table)
        parking = table.find("parking").id
        lut = cmap.lut()
        wrong = [c.name for c in gt_table.classes if (lut[c.id] == parking) != (c.id == 18)]
        if wrong:
            raise SystemExit(f"class map sends {wrong} the wrong way")
        for name in (LOT, *EMPTY):
            image = read_image(HOUSTON / "images" / f"{name}.jpg")
            truth = cmap.apply(read_mask(HOUSTON / "masks" / f"{name}.png", gt_table))
            if scale != 1.0:
                image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                truth = cv2.resize(truth, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
            pred = predictor.predict(image, confidence=False).labels == parking
            true = truth == parking
            if name == LOT:
                union = int((pred | true).sum())
                out[f"parking_iou_{name}"] = round(int((pred & true).sum()) / union, 4) if union else 0.0
                out[f"called_parking_{name}"] = round(float(pred.mean()), 4)
                out[f"true_parking_{name}"] = round(float(true.mean()), 4)
            else:
                out[f"false_parking_{name}"] = round(float((pred & ~true).mean()), 4)
        backend_used = f"{predictor.runner.backend} {predictor.runner.device}"
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["backend"] = backend_used
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "models" / "parking-demo"),
                    help="model card folder, model.json or name (default models/parking-demo)")
    ap.add_argument("--backend", default="auto", choices=("auto", "torch", "onnx"))
    ap.add_argument("--scale", type=float, default=1.0, help="resize the pictures by this factor first")
    args = ap.parse_args(argv)
    if not (HOUSTON / "images" / f"{LOT}.jpg").is_file():
        print(json.dumps({"benchmark": "parking_transfer", "skipped": f"{HOUSTON} is absent"}))
        return 0
    before = load()
    figures = measure(args.model, args.backend, args.scale)
    goal = (figures[f"parking_iou_{LOT}"] >= 0.5
            and all(figures[f"false_parking_{n}"] <= 0.03 for n in EMPTY))
    print(json.dumps({"benchmark": "parking_transfer", "model": str(args.model), "scale": args.scale,
                      **figures, "goal_met": goal, "load_before": before, "load_after": load()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
