"""The Qt binding must not leak references to None/True/False (PySide6 6.12.0 does on 3.11).

A leaking build aborts the interpreter ("none_dealloc") after some thousands
of wrapped calls, i.e. after a minute of mouse moves over the canvas; the
pin in pyproject.toml keeps such a build out, and this test catches it.
"""

from __future__ import annotations

import subprocess
import sys

CODE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget()
before = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
for _ in range(3000):
    w.setEnabled(True)
    w.isEnabled()
    w.repaint()
after = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
print(*(b - a for a, b in zip(before, after)))
"""


def test_wrapped_calls_keep_none_true_false_counts() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    deltas = [int(v) for v in out.stdout.split()]
    assert all(abs(d) < 100 for d in deltas), f"reference drift over 3000 calls: {deltas}"
