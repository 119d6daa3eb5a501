"""File ▸ Export ▸ Area report from the window equals `seggui report` on the same workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seggui.core.errors import BadInputError
from seggui.core.jobs import run_job
from seggui.core.report import build_report
from seggui.core.report_formats import to_json
from seggui.ui.report_export import export_report


def test_export_report_from_the_window(qtbot, window, camvid_folder: Path, tiny_card: Path,
                                       tmp_path: Path) -> None:
    assert window.open_path(camvid_folder)
    assert window.model_picker.open_card(tiny_card) is not None
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.run_model("all")
    out = tmp_path / "r" / "area.json"
    with qtbot.waitSignal(window.runner.finished, timeout=60000):
        assert export_report(window.session, window.runner, out)
    got = json.loads(out.read_text())
    want = json.loads(to_json(run_job(build_report(window.session.workspace))))
    for key in ("created",):
        got.pop(key), want.pop(key)
    assert got == want
    assert len(got["frames"]) == len(window.session.frame_ids)
    assert got["frames"][0]["ground_truth"]["miou"] is not None  # the sibling ground truth was scored
    html = tmp_path / "r" / "area.html"
    with qtbot.waitSignal(window.runner.finished, timeout=60000):
        assert export_report(window.session, window.runner, html)
    assert html.read_text().startswith("<!doctype html>")
    with pytest.raises(BadInputError, match=".html, .csv or .json"):
        export_report(window.session, window.runner, tmp_path / "r" / "area.pdf")


def test_the_stroke_just_painted_is_in_the_report(qtbot, window, camvid_folder: Path, tmp_path: Path) -> None:
    """File ▸ Export ▸ Area report right after a stroke, inside the autosave delay: the stroke is measured."""
    import sys

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit
    from ui_helpers import stroke

    assert window.open_path(camvid_folder)
    s = window.session
    window.editing.set_tool("brush")
    stroke(qtbot, window.view.canvas, 40.5)  # no wait: the autosave has not run yet
    out = tmp_path / "r" / "now.json"
    out.parent.mkdir()

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(50, answer)
            return
        dialog.findChild(QLineEdit, "fileNameEdit").setText(str(out))
        dialog.accept()

    QTimer.singleShot(50, answer)
    with qtbot.waitSignal(window.runner.finished, timeout=60000):
        window.actions_by_name["export_report"].trigger()
    frame = next(f for f in json.loads(out.read_text())["frames"] if f["frame"] == s.current)
    assert frame["mask"] == "corrected", sys.stderr
    painted = next(c for c in frame["classes"] if c["id"] == s.active_class)
    assert painted["pixels"] > 0
