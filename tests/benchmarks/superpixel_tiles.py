"""Benchmark: superpixels of a 4000x3000 picture, tile by tile against the whole picture at once.

    python tests/benchmarks/superpixel_tiles.py [--size 24] [--repeat 1]

The picture is Houston 7677 (1000x750 in ../shared/data, itself a 4x area
downscale of the 4000x3000 original) scaled back up to 4000x3000 with cubic
interpolation. Both paths run `seggui.core.editing.superpixels.compute_superpixels`
(the tiled one is what the window uses above 4 Mpx: 1024-pixel tiles): wall
time (best of `--repeat`), peak memory the computation allocated
(tracemalloc: numpy's arrays are traced), and the segment count. Each path runs
in a fresh process so one's peak does not hide in the other's.

Prints ONE JSON line; without ../shared/data it prints a "skipped" line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PICTURE = DATA / "houston-uav" / "images" / "7677.jpg"


def one(path: str, size: int, tiled: bool, repeat: int) -> dict:
    import tracemalloc

    import cv2
    import numpy as np

    from seggui.core.editing.superpixels import compute_superpixels

    img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
    img = cv2.resize(img, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    above = 4_000_000 if tiled else img.shape[0] * img.shape[1]
    best, peak, n = float("inf"), 0, 0
    for _ in range(repeat):
        tracemalloc.start()
        t0 = time.perf_counter()
        segs = compute_superpixels(img, size, tile_above=above)
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        n = int(np.max(segs.ids)) + 1
    return {"seconds": round(best, 2), "peak_mb": round(peak / 2**20), "segments": n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--one", choices=("tiled", "whole"))
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(str(PICTURE), args.size, args.one == "tiled", args.repeat)))
        return
    if not PICTURE.exists():
        print(json.dumps({"benchmark": "superpixel_tiles", "skipped": f"{PICTURE} not found"}))
        return
    out: dict = {"benchmark": "superpixel_tiles", "picture": "Houston 7677 upscaled to 4000x3000",
                 "size": args.size, "load_before": os.getloadavg()[0]}
    for mode in ("whole", "tiled"):
        run = subprocess.run([sys.executable, __file__, "--one", mode, "--size", str(args.size),
                              "--repeat", str(args.repeat)], capture_output=True, text=True, check=True)
        out[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    out["load_after"] = os.getloadavg()[0]
    out["cpus"] = os.cpu_count()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
