"""Opening a 10,000-picture folder in the window: does the window stay live, and when does it paint?

    python tests/benchmarks/open_folder.py [--pictures 10000]

Makes a folder of small PNGs (a survey of separate pictures) and opens it in
the real main window (offscreen Qt), twice per variant, alternating:
- `direct`: the opening runs on the GUI thread (`Opener.open`, then the
  session takes the workspace), as before the opening moved to a worker;
- `background`: `MainWindow.open_path` as shipped (the opening on a worker
  thread, the window's event loop running meanwhile).
A 10 ms QTimer ticks throughout; the longest gap between ticks is the
longest the window could not repaint or answer. `first_paint_s` is when the
picture list shows the folder's rows. Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_folder(root: Path, n: int) -> Path:
    import cv2
    import numpy as np

    folder = root / "survey"
    folder.mkdir(parents=True)
    png = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    for i in range(n):  # letters after the number: separate pictures, not one numbered drive
        (folder / f"shot_{i:05d}_{'abcdefghij'[i % 10]}.png").write_bytes(png)
    return folder


def run_once(folder: Path, store: Path, background: bool) -> dict[str, float]:
    from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from seggui.core.opening import Opener
    from seggui.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    shutil.rmtree(store, ignore_errors=True)
    win = MainWindow(QSettings(str(store.parent / "s.ini"), QSettings.Format.IniFormat), store_dir=store,
                     model_dirs=[])
    win.show()
    app.processEvents()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    t0 = time.perf_counter()
    ticks.append(t0)
    if background:
        win.open_path(folder, pictures=True)
    else:
        s = win.session
        opened = Opener(s.store_dir, s.default_classes).open(folder, True)
        s._set_workspace(opened.workspace, opened.source, opened.drives)
    app.processEvents()
    first_paint = time.perf_counter() - t0
    assert win.frames.tree.topLevelItemCount() or len(win.session.frame_ids) == len(list(folder.iterdir()))
    end = time.perf_counter()
    ticks.append(end)
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    worst = max(range(len(gaps)), key=gaps.__getitem__)
    win.close()
    win.deleteLater()
    # torn down now: processEvents leaves deferred deletes, and the old window's 10,000 rows were freed
    # inside the next run's measurement (a 0.77 s "stall" at its start)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    return {"first_paint_s": round(first_paint, 3), "longest_stall_ms": round(1000 * max(gaps), 1),
            "stall_at_s": round(ticks[worst] - t0, 3), "ticks": len(ticks)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pictures", type=int, default=10000)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = make_folder(root, args.pictures)
        runs: dict[str, list[dict[str, float]]] = {"direct": [], "background": []}
        for _ in range(args.rounds):
            for name in ("direct", "background"):
                runs[name].append(run_once(folder, root / "store", name == "background"))
    out: dict[str, object] = {"pictures": args.pictures, "rounds": args.rounds}
    for name, rs in runs.items():
        out[f"{name}_first_paint_s"] = statistics.median(r["first_paint_s"] for r in rs)
        out[f"{name}_longest_stall_ms"] = statistics.median(r["longest_stall_ms"] for r in rs)
        out[f"{name}_stalls"] = [(r["longest_stall_ms"], r["stall_at_s"]) for r in rs]  # (ms, starting at s)
    out["stall_ratio_direct_over_background"] = round(
        float(out["direct_longest_stall_ms"]) / max(float(out["background_longest_stall_ms"]), 1e-3), 1)
    out["load"] = os.getloadavg()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
