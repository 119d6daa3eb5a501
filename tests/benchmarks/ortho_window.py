"""Orthomosaic window benchmark: open to first paint of a 20k x 20k GeoTIFF, frame times while panning.

    python tests/benchmarks/ortho_window.py [--side 20000] [--frames 120] [--keep DIR]

1. Writes a synthetic `side` x `side` UTM GeoTIFF without overviews
   (`seggui.core.synth.ortho.write_orthomosaic`: tiled 512, deflate), or
   reuses DIR/ortho-<side>.tif with --keep.
2. Opens it in the real main window (offscreen Qt, 1600 x 1000): seconds from
   `open_path` to the first painted canvas, the first time (the overviews are
   built into the workspace) and again in a fresh window (they are cached).
3. Pans 20 screen px a frame (1200 px/s at 60 frames/s) at fit and at 1:1
   (one source pixel per screen pixel): per frame, the pan, the loaded tiles
   taken in, and a synchronous repaint of the canvas; median, 95th
   percentile and worst frame in ms (goal: median <= 33 ms), and the share of
   frames that drew a coarser tile where the right one was not loaded yet.
4. Peak RSS of the process.

Prints ONE JSON line. The figures depend on the machine's load: run `uptime` beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def open_and_paint(app, path: Path, store: Path, settings_dir: Path):  # noqa: ANN001, ANN201
    """A fresh main window; seconds from open_path to the first synchronous paint of the canvas."""
    from PySide6.QtCore import QSettings

    from seggui.ui.main_window import MainWindow

    settings = QSettings(str(settings_dir / "seggui.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings, store_dir=store, model_dirs=[])
    win.resize(1600, 1000)
    win.show()
    app.processEvents()
    t0 = time.perf_counter()
    assert win.open_path(path)
    win.view.canvas.viewport().repaint()
    return win, time.perf_counter() - t0


def pan(app, win, frames: int, step: int = 20) -> dict[str, float]:  # noqa: ANN001
    """Pan `frames` frames of `step` px (right, then back left); per-frame ms and coarse-frame share."""
    canvas, layer = win.view.canvas, win.ortho.layer
    times, coarse = [], 0
    for i in range(frames):
        d = step if (i // 40) % 2 == 0 else -step
        t0 = time.perf_counter()
        canvas.pan_by(-d, -d / 2)
        app.processEvents()  # the tiles the loader read meanwhile go in
        missing_before = _missing(win)
        canvas.viewport().repaint()
        times.append((time.perf_counter() - t0) * 1000)
        coarse += missing_before > 0
        time.sleep(max(0.0, 1 / 60 - times[-1] / 1000))  # a 60 Hz display's pace
    del layer
    times.sort()
    return {"median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2), "max_ms": round(times[-1], 2),
            "coarse_frames": round(coarse / frames, 3)}


def _missing(win) -> int:  # noqa: ANN001
    layer = win.ortho.layer
    view = win.ortho.view_rect().intersected(layer.boundingRect())
    level = layer.level_for(win.ortho.source_zoom())
    return sum(k not in layer.tiles for k in layer.visible_keys(view, level))


def settle(app, win, seconds: float = 20.0) -> float:  # noqa: ANN001
    """Let the loader read the view's tiles; seconds until none is missing."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        win.view.canvas.viewport().repaint()
        app.processEvents()
        if _missing(win) == 0:
            break
        time.sleep(0.01)
    return round(time.perf_counter() - t0, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", type=int, default=20000)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--keep", type=Path, help="a folder to keep (and reuse) the written GeoTIFF in")
    args = ap.parse_args()

    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from seggui.core.synth.ortho import write_orthomosaic

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="seggui-ortho-win-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ortho-{args.side}.tif"
        t0 = time.perf_counter()
        if not path.exists():
            write_orthomosaic(path, args.side)
        write_s = time.perf_counter() - t0
        store = Path(tmp) / "workspaces"
        win, first = open_and_paint(app, path, store, Path(tmp) / "s1")
        win.close()
        win, again = open_and_paint(app, path, store, Path(tmp) / "s2")
        canvas = win.view.canvas
        out: dict[str, object] = {"side": args.side, "write_s": round(write_s, 1),
                                  "open_to_first_paint_s": {"first_open_building_overviews": round(first, 2),
                                                            "again_overviews_cached": round(again, 2)},
                                  "picture": list(canvas.image_size())}
        out["settle_fit_s"] = settle(app, win)
        out["pan_fit"] = pan(app, win, args.frames)
        centre = win.ortho.to_scene(QPointF(args.side / 2, args.side / 2))
        canvas.show_at(centre, win.ortho.ortho.scale)  # one source px per screen px
        out["settle_1to1_s"] = settle(app, win)
        out["pan_1to1"] = pan(app, win, args.frames)
        out["goal_median_ms"] = 33
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        out["load"] = os.getloadavg()[0]
        win.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
