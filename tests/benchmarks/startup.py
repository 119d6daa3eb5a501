"""Start-up benchmark: seconds from process start to the window's first paint.

    python tests/benchmarks/startup.py [--runs 3]

Each variant runs in a fresh Python process (offscreen Qt, temporary settings
and workspace folders); the parent times from spawning it to the child's
report of its first QEvent.Paint, so interpreter start and every import count.
Variants, side by side:

- `qt_window`: an empty QMainWindow (the floor any Qt app pays);
- `seggui_window`: seggui's MainWindow with all panels;
- `torch_import`: a process that only imports torch (what showing the window
  would cost on top if torch loaded eagerly).

Prints ONE JSON line: median seconds of each, the modules loaded and whether
torch was loaded when seggui's window first painted, and the ratios
seggui/qt and torch/seggui.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import sys, time, json
variant, tmp = sys.argv[1], sys.argv[2]
if variant == "torch_import":
    import torch  # noqa: F401
    print(json.dumps({"t": time.time(), "modules": len(sys.modules), "torch": True}), flush=True)
    raise SystemExit(0)
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([sys.argv[0]])

class FirstPaint(QObject):
    done = False
    def eventFilter(self, obj, event):
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            print(json.dumps({"t": time.time(), "modules": len(sys.modules),
                              "torch": "torch" in sys.modules}), flush=True)
            QTimer.singleShot(0, app.quit)
        return False

spy = FirstPaint()
app.installEventFilter(spy)
if variant == "qt_window":
    win = QMainWindow()
else:
    from seggui.ui.main_window import MainWindow
    win = MainWindow(QSettings(tmp + "/s.ini", QSettings.Format.IniFormat), store_dir=tmp + "/ws",
                     model_dirs=[])
win.resize(1366, 768)
win.show()
app.exec()
"""


def run_once(variant: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=tmp, XDG_CONFIG_HOME=tmp)
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD, variant, tmp], capture_output=True, text=True,
                             env=env, timeout=300)
        if out.returncode != 0:
            raise SystemExit(f"{variant} failed:\n{out.stderr}")
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
        report = json.loads(line)
        report["seconds"] = report["t"] - t0
        return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, list[dict]] = {"qt_window": [], "seggui_window": [], "torch_import": []}
    for _ in range(args.runs):  # interleaved, so machine load hits every variant alike
        for variant in results:
            results[variant].append(run_once(variant))
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    seg = results["seggui_window"][-1]
    print(json.dumps({
        "benchmark": "startup",
        "runs": args.runs,
        "seconds_to_first_paint": round(med["seggui_window"], 3),
        "modules_loaded": seg["modules"],
        "torch_loaded": any(r["torch"] for r in results["seggui_window"]),
        "qt_window_seconds": round(med["qt_window"], 3),
        "torch_import_seconds": round(med["torch_import"], 3),
        "seggui_over_qt": round(med["seggui_window"] / med["qt_window"], 2),
        "torch_import_over_seggui": round(med["torch_import"] / med["seggui_window"], 2),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
