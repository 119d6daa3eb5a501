"""A second window on a workspace in use opens it read-only, says so in a banner, and saves nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from ui_helpers import stroke

from seggui.core.workspace import Workspace


def test_second_window_reads_only_until_the_first_closes(qtbot, window, camvid_folder: Path,
                                                         tmp_path: Path) -> None:
    from seggui.ui.main_window import MainWindow

    assert window.open_path(camvid_folder)
    root = window.session.workspace.root
    assert window.banner.isHidden() and window.session.read_only is None

    other = MainWindow(QSettings(str(tmp_path / "other.ini"), QSettings.Format.IniFormat),
                       store_dir=tmp_path / "workspaces", model_dirs=[tmp_path / "models"])
    qtbot.addWidget(other)
    other.show()
    assert other.open_path(camvid_folder)
    s = other.session
    assert s.read_only and "process" in s.read_only
    assert other.banner.isVisible() and "Read-only" in other.banner.text()

    # a brush stroke there changes nothing on disk, and says why
    before = (root / "seggui.json").read_bytes()
    other.editing.set_tool("brush")
    stroke(qtbot, other.view.canvas, 40.5)
    other.editing.finish()
    assert (root / "seggui.json").read_bytes() == before
    assert not (root / "corrected").exists() or not any((root / "corrected").iterdir())
    assert any("read-only" in m.text for m in other.log.entries)
    assert not other.run_model("current")
    assert any("open in another window" in m.text for m in other.log.errors())

    # the first window closes: opening again in the second edits
    window.close()
    assert other.open_path(camvid_folder)
    assert s.read_only is None and other.banner.isHidden()
    stroke(qtbot, other.view.canvas, 40.5)
    other.editing.finish()
    fid = s.current
    assert Workspace.open(root).frames[fid].status == "corrected"
    other.close()
