"""Orthomosaic benchmark: `seggui infer` on synthetic GeoTIFFs, memory and time per megapixel.

    python tests/benchmarks/orthomosaic.py [--big 8192] [--small 2048] [--seam 2048]
        [--model parking-demo] [--int8] [--threads N]

1. Writes a synthetic UTM GeoTIFF of `big` and one of `small` px a side (a
   rendered 2048-px parking scene repeated, written by windows, tiled, deflate).
2. Runs `seggui infer FILE --model M --out DIR` on each in a child process and
   takes its peak RSS (ru_maxrss of the child) and wall time: the ratio of
   seconds per megapixel big/small says whether the cost is linear, the peak
   RSS whether memory is bounded (goal: <= 800 MB whatever the size).
3. Seams: the blocked and tiled orthomosaic mask against a whole-picture
   prediction (`Predictor.predict(tile=False)`) of a `seam`-px picture; the
   share of equal pixels (goal >= 99.5%).
4. `seggui vectorize` of the big mask: seconds, and polygon vs raster area.

`--vectorize-only` skips 1-3: it writes a `big`-px mask GeoTIFF directly (a
rendered scene's true mask repeated, tiled 512 px, deflate) and runs
`seggui vectorize` on it in a child: seconds, peak RSS, polygons, area
agreement. `--old-tree DIR` runs the same command from another checkout
(e.g. a `git worktree` of an older commit) on the same file, for a
comparison in one run.

Prints ONE JSON line. The figures depend on the machine's load: run `uptime`
beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def write_big(path: Path, side: int, seed: int = 3, tile: int = 2048) -> None:
    """A `side` x `side` UTM GeoTIFF: one rendered scene repeated, written window by window."""
    import rasterio
    from rasterio.windows import Window

    from seggui.core.synth import render_scene
    from seggui.core.synth.geotiff import grid

    scene = render_scene(seed, (min(tile, side), min(tile, side)), 0.15)
    img = np.moveaxis(scene.image, -1, 0)
    a, b, c, d, e, f = grid("EPSG:32633", 0.15)
    profile = {"driver": "GTiff", "height": side, "width": side, "count": 3, "dtype": "uint8",
               "crs": "EPSG:32633", "transform": rasterio.Affine(a, b, c, d, e, f), "tiled": True,
               "blockxsize": 512, "blockysize": 512, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
    t = img.shape[1]
    with rasterio.open(path, "w", **profile) as ds:
        for r in range(0, side, t):
            for q in range(0, side, t):
                h, w = min(t, side - r), min(t, side - q)
                ds.write(img[:, :h, :w], window=Window(q, r, w, h))


def write_big_mask(path: Path, side: int, seed: int = 3, tile: int = 2048) -> None:
    """A `side` x `side` UTM mask GeoTIFF (class table in its tags): a scene's true mask repeated."""
    import rasterio
    from rasterio.windows import Window

    from seggui.core.classes import load_classes
    from seggui.core.synth import render_scene
    from seggui.core.synth.geotiff import grid

    mask = render_scene(seed, (min(tile, side), min(tile, side)), 0.15).mask
    a, b, c, d, e, f = grid("EPSG:32633", 0.15)
    profile = {"driver": "GTiff", "height": side, "width": side, "count": 1, "dtype": "uint8",
               "crs": "EPSG:32633", "transform": rasterio.Affine(a, b, c, d, e, f), "tiled": True,
               "blockxsize": 512, "blockysize": 512, "compress": "deflate", "nodata": 255,
               "BIGTIFF": "IF_SAFER"}
    t = mask.shape[0]
    with rasterio.open(path, "w", **profile) as ds:
        ds.update_tags(1, classes=json.dumps(load_classes("aerial-parking-6").to_dict()))
        for r in range(0, side, t):
            for q in range(0, side, t):
                h, w = min(t, side - r), min(t, side - q)
                ds.write(mask[None, :h, :w], window=Window(q, r, w, h))


# The child writes its own peak RSS (VmHWM of its address space) when it ends. `ru_maxrss` from
# wait4 is not used: Linux carries the parent's high-water mark across fork/vfork + exec into it.
_WRAP = """
import os, runpy, sys
try:
    sys.argv = ["seggui", *sys.argv[1:]]
    runpy.run_module("seggui", run_name="__main__")
finally:
    hwm = [x for x in open("/proc/self/status").read().splitlines() if x.startswith("VmHWM")]
    open(os.environ["SEGGUI_BENCH_HWM"], "w").write(hwm[0].split()[1] if hwm else "nan")
"""


def run_child(args: list[str], tree: Path = REPO) -> tuple[float, float, str, str]:
    """(seconds, peak RSS MB, stdout, stderr tail) of `python -m seggui ARGS` run from `tree`.

    Output goes to files, not pipes, so the child never blocks on a full pipe.
    """
    with tempfile.TemporaryDirectory(prefix="seggui-child-") as tmp:
        hwm = Path(tmp) / "hwm"
        env = {**os.environ, "PYTHONPATH": str(tree), "SEGGUI_BENCH_HWM": str(hwm)}
        with open(Path(tmp) / "out", "w+b") as out_f, open(Path(tmp) / "err", "w+b") as err_f:
            t0 = time.perf_counter()
            code = subprocess.call([sys.executable, "-c", _WRAP, *args], stdout=out_f, stderr=err_f,
                                   cwd=tree, env=env)
            secs = time.perf_counter() - t0
            out_f.seek(0)
            err_f.seek(0)
            out, err = out_f.read().decode(errors="replace"), err_f.read().decode(errors="replace")
        if code != 0:
            raise SystemExit(f"seggui {' '.join(args)} failed:\n{err[-2000:]}")
        rss_mb = float(hwm.read_text()) / 1024.0 if hwm.is_file() else float("nan")
    return secs, rss_mb, out, err[-300:]


def vectorize_only(side: int, old_tree: Path | None) -> dict[str, object]:
    """`seggui vectorize` of a `side`-px mask GeoTIFF (this checkout, and `old_tree` when given)."""
    out: dict[str, object] = {"benchmark": "orthomosaic-vectorize", "side": side,
                              "megapixels": round(side * side / 1e6, 1), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="seggui-vec-") as tmp:
        mask = Path(tmp) / "mask.tif"
        write_big_mask(mask, side)
        for name, tree in (("new", REPO), ("old", old_tree)):
            if tree is None:
                continue
            gpkg = Path(tmp) / f"{name}.gpkg"
            secs, rss, text, _ = run_child(["vectorize", str(mask), "--out", str(gpkg), "--class", "parking"],
                                           Path(tree))
            summ = json.loads(text)
            out[name] = {"tree": str(tree), "seconds": round(secs, 2), "peak_rss_mb": round(rss, 1),
                         "polygons": summ["polygons"],
                         "area_ratio_polygons_vs_raster": summ["classes"]["parking"]["ratio"]}
    out["load_after"] = os.getloadavg()[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--big", type=int, default=8192)
    ap.add_argument("--small", type=int, default=2048)
    ap.add_argument("--seam", type=int, default=2048)
    ap.add_argument("--model", default="parking-demo")
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--vectorize-only", action="store_true", help="only part 4, on a written mask")
    ap.add_argument("--old-tree", type=Path, help="another checkout to run vectorize from, for comparison")
    a = ap.parse_args()
    if a.vectorize_only:
        print(json.dumps(vectorize_only(a.big, a.old_tree)))
        return
    extra = ["--backend", "onnx", "--device", "cpu"] + (["--int8"] if a.int8 else []) + \
        (["--threads", str(a.threads)] if a.threads else [])
    out: dict[str, object] = {"benchmark": "orthomosaic", "model": a.model, "int8": a.int8,
                              "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="seggui-ortho-") as tmp:
        d = Path(tmp)
        runs = {}
        for name, side in (("small", a.small), ("big", a.big)):
            src = d / f"{name}.tif"
            write_big(src, side)
            secs, rss, _, _ = run_child(["infer", str(src), "--model", a.model, "--out", str(d / name),
                                         *extra])
            mpx = side * side / 1e6
            runs[name] = {"side": side, "megapixels": round(mpx, 2), "seconds": round(secs, 2),
                          "s_per_mpx": round(secs / mpx, 4), "peak_rss_mb": round(rss, 1)}
        out["runs"] = runs
        ratio = runs["big"]["s_per_mpx"] / runs["small"]["s_per_mpx"]
        out["time_per_mpx_ratio_big_vs_small"] = round(ratio, 3)
        # seams: blocked + tiled mask vs one whole-picture pass
        from seggui.core.geo.raster import GeoRaster
        from seggui.core.jobs import run_job
        from seggui.engine.ortho import predict_ortho
        from seggui.engine.predictor import load_predictor

        seam = d / "seam.tif"
        write_big(seam, a.seam)
        with load_predictor(a.model, "onnx", "cpu", a.threads, int8=a.int8) as p:
            res = run_job(predict_ortho(p, seam, d / "seam-mask.tif", block=1024))
            with GeoRaster(seam) as ras:
                rgb, _ = ras.read((0, a.seam, 0, a.seam))
            whole = p.predict(rgb, confidence=False, tile=False).labels
        with GeoRaster(res.mask, bands=(1,)) as ras:
            tiled = ras.read_raw((0, a.seam, 0, a.seam))[0]
        out["seam_agreement"] = {"side": a.seam, "block": 1024, "tile": p.card.input.tile_size,
                                 "pixel_agreement": round(float((tiled == whole).mean()), 5)}
        # vectorise the big mask
        t0 = time.perf_counter()
        big_mask = str(d / "big" / "masks" / "big.tif")
        proc = subprocess.run([sys.executable, "-m", "seggui", "vectorize", big_mask, "--out",
                               str(d / "big.gpkg"), "--class", "parking"],
                              capture_output=True, text=True, cwd=REPO)
        if proc.returncode == 0:
            summ = json.loads(proc.stdout)
            out["vectorize_big"] = {"seconds": round(time.perf_counter() - t0, 2),
                                    "polygons": summ["polygons"],
                                    "area_ratio_polygons_vs_raster": summ["classes"]["parking"]["ratio"]}
        else:
            out["vectorize_big"] = {"error": proc.stderr[-300:]}
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
