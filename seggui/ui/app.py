"""Start the window: the QApplication, the user's settings, and what to open first.

Imports here are Qt and seggui's own light modules only; torch and ONNX
Runtime load when a model first runs (see `seggui.ui.inference`), which keeps
the time to the first painted window small (`tests/benchmarks/startup.py`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from seggui import __version__

ORG = APP = "seggui"


def user_settings() -> QSettings:
    """The per-user settings file (INI, so it is readable and easy to reset)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


def has_display() -> bool:
    """False on a Linux/BSD machine with no X or Wayland display and no Qt platform chosen."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return True
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def application(argv: Sequence[str] | None = None) -> QApplication:
    """The process's QApplication (created once, with the Fusion style for a steady look)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
        app.setOrganizationName(ORG)
        app.setApplicationName(APP)
        app.setApplicationVersion(__version__)
        app.setStyle("Fusion")
    return app  # type: ignore[return-value]


def main(paths: Sequence[str | Path] = (), ground_truth: str | Path | None = None,
         model: str | Path | None = None, settings: QSettings | None = None,
         pictures: bool | None = None) -> int:
    """Show the window, then open `paths`, `ground_truth` and `model`; returns the exit code.

    `pictures=True` opens a folder's numbered pictures one by one, not as drives.
    """
    if not has_display():
        print("seggui: no display (DISPLAY is not set); run it on a desktop, under xvfb-run, or use "
              "the headless commands (seggui --help)", file=sys.stderr)
        return 2
    app = application()
    from seggui.ui.main_window import MainWindow
    from seggui.ui.truth_import import import_truth

    win = MainWindow(settings or user_settings())
    win.show()

    def open_requested() -> None:
        for p in paths:
            win.open_path(p, pictures)
        if ground_truth and not _imported_on_open(win, paths, Path(ground_truth)):
            import_truth(win, ground_truth)
        if model:
            win.model_picker.open_card(model)

    QTimer.singleShot(0, open_requested)
    return int(app.exec())


def _imported_on_open(win: Any, paths: Sequence[str | Path], ground_truth: Path) -> bool:
    """Whether opening `paths` already imported `ground_truth` (a sibling mask folder such as masks/)."""
    from seggui.core.opening import ground_truth_candidates

    ws = win.session.workspace
    auto = {c.resolve() for p in paths for c in ground_truth_candidates(Path(p).expanduser())}
    return (ground_truth.expanduser().resolve() in auto and ws is not None
            and any(rec.has_gt for rec in ws.frames.values()))
