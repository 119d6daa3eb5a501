"""The aerial journey through the real window, from an empty home folder, on the real Houston pictures.

Only what a user does: File ▸ Open folder answered in its dialog, the model
box, the class map dialog, Run, a polygon on the canvas, Mark reviewed, the
Retrain panel's buttons and Advanced dialog, Promote, Roll back, File ▸
Export ▸ Area report. Figures are read off the panels, and checked against
`seggui eval --map` on the same files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from journey import (
    click,
    click_row,
    polygon,
    press_ok,
    retrain_one_epoch,
    trigger,
    type_path_and_enter,
    when_dialog,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit

from seggui.paths import shipped_models_dir

PARKING_GT = 18  # "Parking Area - Commercial" in the Houston table
PARKING = 1  # "parking" in parking-2

pytestmark = pytest.mark.skipif(not (shipped_models_dir() / "parking-demo" / "model.json").exists(),
                                reason="parking-demo is not in this checkout")


def _row(tree, text: str):  # noqa: ANN001, ANN202
    found = tree.findItems(text, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive, 0)
    assert found, f"{text} is not in the list"
    return found[0]


def _inside_parking(gt: np.ndarray) -> list[tuple[float, float]]:
    """A square well inside the largest true parking area (where the analyst sees the lot)."""
    dist = cv2.distanceTransform((gt == PARKING_GT).astype(np.uint8), cv2.DIST_L2, 5)
    cy, cx = np.unravel_index(int(np.argmax(dist)), dist.shape)
    r = float(dist[cy, cx]) * 0.6
    return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]


@pytest.mark.slow
def test_aerial_journey(qtbot, user_window, houston: Path, tmp_path: Path) -> None:
    win, s = user_window, user_window.session
    data = tmp_path / "houston"
    shutil.copytree(houston, data)

    # File ▸ Open folder: the pictures, their masks/ beside them imported as ground truth
    answered = when_dialog(type_path_and_enter(data / "images"), QFileDialog)
    trigger(win, "open_folder")
    assert answered == ["answered"] and sorted(s.frame_ids) == ["6411", "6703", "7677"]
    assert all(s.workspace.frames[f].has_gt for f in s.frame_ids)
    assert s.workspace.classes.name == "houston-uav25"

    # the shipped parking model from the toolbar's model box; go to 7677 in the Pictures list
    combo = win.model_picker.combo
    combo.setCurrentIndex(combo.findText("parking-demo", Qt.MatchFlag.MatchStartsWith))
    assert win.inference.card is not None and win.inference.card.name == "parking-demo"
    click_row(qtbot, win.frames.tree, _row(win.frames.tree, "7677"))
    assert s.current == "7677"

    # Run: the class map dialog suggests Parking Area - Commercial -> parking; accept it
    seen: dict[str, str] = {}

    def accept_map(dialog) -> None:  # noqa: ANN001
        seen.update({name: dialog.combos[name].currentText() for name in ("Parking Area - Commercial",
                                                                            "Vehicle", "Background")})
        press_ok(dialog)

    answered = when_dialog(accept_map)
    with qtbot.waitSignal(win.runner.finished, timeout=180000):
        trigger(win, "run")
    assert answered == ["answered"], answered
    assert seen == {"Parking Area - Commercial": "parking", "Vehicle": "background",
                    "Background": "background"}
    ws = s.workspace
    assert ws.classes.name == "parking-2" and ws.model and Path(ws.model).name == "parking-demo"

    # the parking IoU the Metrics panel shows is `seggui eval --map` on the same files
    qtbot.waitUntil(lambda: win.metrics.metrics is not None and PARKING in win.metrics.metrics.ids,
                    timeout=20000)
    shown = win.metrics.value(PARKING, "iou")
    pred, gt = tmp_path / "eval" / "pred", tmp_path / "eval" / "gt"
    pred.mkdir(parents=True)
    gt.mkdir()
    shutil.copy(ws.mask_path("7677", "predicted"), pred / "7677.png")
    shutil.copy(data / "masks" / "7677.png", gt / "7677.png")
    from seggui.cli import main as cli

    out = tmp_path / "eval.json"
    assert cli(["eval", "--pred", str(pred), "--gt", str(gt), "--classes", "parking-2", "--gt-classes",
                str(data / "classes.json"), "--map", "Parking Area - Commercial=parking", "--json", str(out),
                "-q"]) == 0
    figures = json.loads(out.read_text())["per_class_iou"]
    assert figures["parking"] == pytest.approx(shown, abs=1e-9)
    assert figures["background"] == pytest.approx(win.metrics.value(0, "iou"), abs=1e-9)

    # a polygon of parking over the lot raises it, live
    classes = win.classes.table
    click_row(qtbot, classes, classes.findItems("parking", Qt.MatchFlag.MatchExactly)[0])
    assert s.active_class == PARKING
    trigger(win, "tool_polygon")
    truth = cv2.imread(str(data / "masks" / "7677.png"), cv2.IMREAD_UNCHANGED)
    polygon(qtbot, win.view.canvas, _inside_parking(truth))
    qtbot.waitUntil(lambda: win.metrics.value(PARKING, "iou") > shown + 0.05, timeout=20000)
    corrected_iou = win.metrics.value(PARKING, "iou")

    # review it, and 6411 after running the model on it
    trigger(win, "reviewed")
    click_row(qtbot, win.frames.tree, _row(win.frames.tree, "6411"))
    with qtbot.waitSignal(win.runner.finished, timeout=180000):
        trigger(win, "run")  # the class map is the workspace's now: no dialog
    trigger(win, "reviewed")
    assert sorted(ws.frames_with_status("reviewed")) == ["6411", "7677"]

    # Retrain: one epoch (Advanced), then the comparison says what it rests on
    panel = win.retrain
    assert "2 pictures corrected or reviewed" in panel.status.text()
    assert retrain_one_epoch(qtbot, win) == "compared", panel.message.text()
    cmp = panel.comparison
    assert cmp.frames == ["6703"]  # the ground-truth picture nobody trained on
    assert "measured on 1 validation frame," in panel.status.text()
    assert "weak comparison: only 1 validation frame" in panel.message.text()
    assert [r for r in panel.table_rows() if r[0] == "mIoU"][0][1:3] == (cmp.old_miou, cmp.new_miou)

    # Promote, then Roll back: the panel says which model is in use
    with qtbot.waitSignal(panel.done, timeout=300000):
        click(qtbot, panel.promote_button)
    new_dir, old_ref = panel.result.card_dir, cmp.old_ref
    assert Path(ws.model) == new_dir.resolve()
    # exported like the shipped model it came from, so it runs on ONNX Runtime; the status bar names it
    name, version = cmp.new_ref.split("@")
    assert (new_dir / "model.onnx").is_file() and win.model_label.text().startswith(f"{name} v{version} · ")
    assert "in use" in panel.versions.currentText() or panel.versions.count() == 2
    panel.versions.setCurrentIndex(0)  # the version listed first: the shipped model
    click(qtbot, panel.rollback_button)
    assert Path(ws.model).name == "parking-demo"
    name, version = old_ref.split("@")
    assert f"{name} v{version} is the model in use again" in panel.status.text()

    # File ▸ Name this workspace…, then File ▸ Export ▸ Area report: titled so, it lists the corrected area
    def name_it(dialog) -> None:  # noqa: ANN001
        dialog.findChild(QLineEdit).setText("Harvey parking survey")
        press_ok(dialog)

    answered = when_dialog(name_it)
    trigger(win, "name_ws")
    assert answered == ["answered"] and win.windowTitle().startswith("Harvey parking survey")
    report = tmp_path / "out" / "areas.html"
    report.parent.mkdir()
    answered = when_dialog(type_path_and_enter(report), QFileDialog)
    with qtbot.waitSignal(win.runner.finished, timeout=120000):
        trigger(win, "export_report")
    assert answered == ["answered"] and report.is_file()
    corrected = cv2.imread(str(ws.mask_path("7677", "corrected")), cv2.IMREAD_UNCHANGED)
    html = report.read_text(encoding="utf-8")
    assert f"{int((corrected == PARKING).sum()):,}" in html
    assert "<h1>Area report — Harvey parking survey</h1>" in html
    assert corrected_iou > shown
