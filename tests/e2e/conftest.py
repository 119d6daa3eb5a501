"""The window as a new user gets it: an empty home folder, default folders, the shipped models."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # journey.py: the user's actions


@pytest.fixture
def user_window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The real main window started from an empty HOME (workspaces and settings land under it)."""
    from PySide6.QtCore import QSettings

    from seggui.ui.main_window import MainWindow

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    settings = QSettings(str(home / ".config" / "seggui" / "seggui.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    for runner in (win.runner, win.metrics.runner, win.drive_plot.runner):
        runner.cancel()
        runner.wait(30000)
    win.editing.finish()
