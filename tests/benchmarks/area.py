"""Area benchmark: full per-class count vs the brush's incremental update, 8000x6000.

Prints one JSON line. Uses Houston 7677's mask scaled up to a full-size aerial
picture (nearest neighbour), so class shapes are real.
Run: python tests/benchmarks/area.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from seggui.core.area import AreaCounter, count_classes, count_regions
from seggui.core.classes import load_classes

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "houston-uav"


def best(f, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    if not DATA.exists():
        print(json.dumps({"skipped": f"no data at {DATA}"}))
        return 0
    table = load_classes(DATA / "classes.json")
    mask = cv2.imread(str(DATA / "masks" / "7677.png"), cv2.IMREAD_UNCHANGED)
    big = cv2.resize(mask, (6000, 8000), interpolation=cv2.INTER_NEAREST)
    full = best(lambda: count_classes(big, table.size))
    counter = AreaCounter.from_mask(big, table.size)
    old = big[1000:1064, 2000:2064].copy()
    new = np.full_like(old, 18)

    def edit() -> None:
        counter.apply_edit(old, new)
        counter.apply_edit(new, old)

    inc = best(edit, 20) / 2
    regions = best(lambda: count_regions(big, table.scored_ids), 1)
    print(json.dumps({
        "mask": "8000x6000 (houston 7677 upscaled)",
        "full_bincount_s": round(full, 4),
        "edit_64x64_s": round(inc, 6),
        "full_over_edit": round(full / inc),
        "region_counts_all_classes_s": round(regions, 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
