"""Editing benchmark on a 4096x4096 label map: core dab, canvas stroke, dirty-rect vs full overlay.

    python tests/benchmarks/editing.py [--segments 200] [--full-segments 12]

The label map and ground truth are two CamVid val masks scaled up to 4096x4096
(nearest neighbour, so the class shapes are real), the picture the matching
CamVid photo scaled up; without ../shared/data it prints a "skipped" line.

- (a) `dab_*`: one radius-25 brush dab (size 51) through `Editor.dab`:
  footprint, the undo record, the live confusion-matrix and area update.
  Median and p95 over many dabs at random places.
- (b) `stroke_patch_*`: the real main window (offscreen Qt, 1366x768) with the
  picture open; a 200-segment stroke of real mouse events (QTest press, moves,
  release) on the canvas viewport, each move followed by processing the
  paint it caused. Per segment: the editor's work, the overlay repaint of the
  dirty rectangle only, the throttled panel updates and the viewport paint.
  Measured at 1:1 and at fit-to-window zoom.
- (c) `stroke_full_*`: the same stroke where every segment recomputes the
  whole overlay layer (what a naive canvas does); fewer segments, as it is
  slow. `full_over_patch` is (c) / (b) per segment.
- (d) `save_*`: what the autosave costs the window's thread per save, on
  this 4096x4096 map and on an 8000x6000 aerial-sized one: a synchronous
  save (PNG encode + atomic write + status) against the background path's
  GUI-thread part (a snapshot copy into a reused buffer; the encode runs on
  the worker). `save_sync_over_snapshot_*` is the ratio.

Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "camvid"
SIDE = 4096


def upscale(path: Path, flags: int) -> np.ndarray:
    img = cv2.imread(str(path), flags)
    return cv2.resize(img, (SIDE, SIDE), interpolation=cv2.INTER_NEAREST)


def core_dabs(labels: np.ndarray, gt: np.ndarray, n: int) -> dict:
    from seggui.core.classes import load_classes
    from seggui.core.editing import Editor

    table = load_classes(DATA / "classes.json")
    editor = Editor(labels.copy(), table, gt)
    rng = np.random.default_rng(0)
    times = []
    for i in range(n):
        x, y = rng.uniform(30, SIDE - 30, 2)
        t0 = time.perf_counter()
        editor.dab(x, y, 51, i % 11)
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    return {"dab_median_ms": round(float(np.median(ms)), 4),
            "dab_p95_ms": round(float(np.percentile(ms, 95)), 4),
            "dab_count": n, "history_steps": len(editor.history)}


def stroke(win, app, segments: int, zoom: str, full: bool) -> tuple[float, int]:
    """(ms per segment, viewport paints) of a scripted stroke through real mouse events."""
    from PySide6.QtCore import QEvent, QObject, QPointF, Qt
    from PySide6.QtTest import QTest

    class PaintCount(QObject):
        n = 0

        def eventFilter(self, _obj, event) -> bool:  # noqa: N802 - Qt override
            self.n += event.type() == QEvent.Type.Paint
            return False

    canvas = win.view.canvas
    canvas.fit() if zoom == "fit" else canvas.actual_size()
    app.processEvents()
    ctrl = win.editing
    original = ctrl.repaint_dirty
    if full:
        def full_refresh() -> None:
            editor = ctrl.editor
            if editor is not None and editor.map.take_dirty() is not None:
                win.view.refresh_layer()
        ctrl.repaint_dirty = full_refresh
    vp = canvas.viewport()
    centre = canvas.map_to_image(QPointF(vp.rect().center()))
    step = 6.0 / canvas.zoom()  # 6 screen pixels per mouse event, a brisk stroke
    start = QPointF(centre.x() - step * segments / 4, centre.y() - step * segments / 8)
    points = [canvas.map_from_image(QPointF(start.x() + step * i / 2, start.y() + step * i / 4)).toPoint()
              for i in range(segments + 1)]
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    app.processEvents()
    paints = PaintCount()
    vp.installEventFilter(paints)
    t0 = time.perf_counter()
    for p in points[1:]:
        QTest.mouseMove(vp, p)
        app.processEvents()  # the repaint the move asked for
    elapsed = time.perf_counter() - t0
    vp.removeEventFilter(paints)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
    app.processEvents()
    ctrl.repaint_dirty = original
    ctrl.undo()
    return elapsed / segments * 1e3, paints.n


def canvas_strokes(labels: np.ndarray, gt: np.ndarray, picture: np.ndarray, segments: int,
                   full_segments: int) -> dict:
    from PySide6.QtCore import QSettings

    from seggui.core.images import encode_png
    from seggui.core.masks import write_mask
    from seggui.ui.app import application

    app = application()
    from seggui.ui.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="seggui-bench-"))
    (tmp / "pics").mkdir()
    (tmp / "pics" / "big.png").write_bytes(encode_png(picture, tmp / "big.png"))
    write_mask(tmp / "picsannot" / "big.png", gt)
    (tmp / "classes.json").write_bytes((DATA / "classes.json").read_bytes())
    win = MainWindow(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), store_dir=tmp / "ws",
                     model_dirs=[])
    win.resize(1366, 768)
    win.show()
    app.processEvents()
    win.open_path(tmp / "pics")
    win.session.apply_prediction("big", labels, None, "bench")
    win.classes.select_class(3)
    win.editing.set_size(51)
    win.editing.set_tool("brush")
    app.processEvents()
    out = {}
    for zoom in ("one", "fit"):
        stroke(win, app, 10, zoom, False)  # warm-up: the editor is made, caches filled
        patch, paints = stroke(win, app, segments, zoom, False)
        full, _ = stroke(win, app, full_segments, zoom, True)
        out[f"stroke_patch_{zoom}_ms_per_segment"] = round(patch, 3)
        out[f"stroke_patch_{zoom}_viewport_paints"] = paints
        out[f"stroke_full_{zoom}_ms_per_segment"] = round(full, 2)
        out[f"full_over_patch_{zoom}"] = round(full / patch, 1)
    out["stroke_segments"] = segments
    out["full_segments"] = full_segments
    win.close()
    return out


def save_costs(labels: np.ndarray, repeats: int = 5) -> dict:
    """(d): GUI-thread milliseconds of a synchronous save vs a background save's snapshot."""
    from seggui.core.editing import AutoSave, Editor
    from seggui.core.workspace import FrameRecord, Workspace

    out: dict = {}
    big = cv2.resize(labels, (8000, 6000), interpolation=cv2.INTER_NEAREST)
    with tempfile.TemporaryDirectory() as d:
        ws = Workspace.create(d, "camvid-11")
        for name, lab in (("4096", labels), ("8000x6000", big)):
            ws.frames[name] = FrameRecord(name)
            editor = Editor(lab.copy(), ws.classes, None)
            saver = AutoSave(ws, name, editor)
            sync, snap, buf = [], [], None
            for i in range(repeats):
                editor.dab(100 + 10 * i, 100, 21, i % 11)
                t0 = time.perf_counter()
                saver.save()
                sync.append(time.perf_counter() - t0)
                editor.dab(200 + 10 * i, 200, 21, i % 11)
                t0 = time.perf_counter()
                _v, buf = saver.snapshot(buf)
                snap.append(time.perf_counter() - t0)
            s_ms, n_ms = float(np.median(sync)) * 1e3, float(np.median(snap)) * 1e3
            out[f"save_sync_ms_{name}"] = round(s_ms, 2)
            out[f"save_snapshot_ms_{name}"] = round(n_ms, 2)
            out[f"save_sync_over_snapshot_{name}"] = round(s_ms / n_ms, 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=200)
    ap.add_argument("--full-segments", type=int, default=12)
    ap.add_argument("--dabs", type=int, default=2000)
    args = ap.parse_args()
    if not DATA.exists():
        print(json.dumps({"skipped": f"no data at {DATA}"}))
        return 0
    names = sorted(p.name for p in (DATA / "valannot").glob("*.png"))
    labels = upscale(DATA / "valannot" / names[1], cv2.IMREAD_UNCHANGED)
    gt = upscale(DATA / "valannot" / names[0], cv2.IMREAD_UNCHANGED)
    picture = cv2.cvtColor(upscale(DATA / "val" / names[0], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    result = {"label_map": f"{SIDE}x{SIDE} (CamVid val upscaled)", "brush_size": 51}
    result.update(core_dabs(labels, gt, args.dabs))
    result.update(canvas_strokes(labels, gt, picture, args.segments, args.full_segments))
    result.update(save_costs(labels))
    result["python"] = sys.version.split()[0]
    result["cpu_threads"] = os.cpu_count()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
