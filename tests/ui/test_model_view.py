"""View ▸ Model's prediction: what the model said about a picture, also under the analyst's correction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from ui_helpers import drag

from seggui.core.confusion import ConfusionMatrix
from seggui.core.errorview import view_rgba
from seggui.core.metrics import compute_metrics
from seggui.core.workspace import FrameStatus
from seggui.ui.qtutil import qimage_to_rgba

CAR = 8


def test_model_view_shows_the_prediction_under_a_correction(qtbot, window, camvid_folder: Path,
                                                            tiny_card: Path) -> None:
    assert window.open_path(camvid_folder)
    assert window.model_picker.open_card(tiny_card) is not None
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.run_model("all")
    s, canvas = window.session, window.view.canvas
    predicted = s.mask("current").copy()  # the model's mask, before any edit
    window.editing.set_tool("brush")
    window.classes.select_class(CAR)
    window.editing.set_size(31)
    drag(qtbot, canvas, (100, 100), (300, 200))
    qtbot.waitUntil(lambda: s.record(s.current).status == FrameStatus.CORRECTED, timeout=10000)
    corrected = s.mask("current")
    assert not np.array_equal(corrected, predicted)
    qtbot.waitUntil(lambda: window.classes.source.text() == "Share of labelled pixels in the correction",
                    timeout=5000)  # once painting pauses
    assert window.view.view_combo.itemText(0) == "Correction"  # the view of the mask being edited
    # the pointer rests where the stroke ended: its readout follows the picture's new status unmoved
    qtbot.waitUntil(lambda: "class Car  ·  model's confidence" in window.view.readout.text(), timeout=5000)

    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)  # View ▸ Model's prediction
    assert window.view.view == "model"
    shown = qimage_to_rgba(window.view.canvas.overlay_pixmap().toImage())
    want = view_rgba("prediction", predicted, s.mask("ground_truth"), s.classes, s.hidden)
    assert np.array_equal(shown, want)  # the model's own labels, not the correction
    assert "your correction" in window.view.hint.text()
    # the Metrics panel scores what the view shows: the model's own mask, not the correction
    gt = s.mask("ground_truth")
    assert gt is not None
    model_miou = compute_metrics(ConfusionMatrix.for_table(s.classes).update(predicted, gt), s.classes).miou
    edited_miou = compute_metrics(ConfusionMatrix.for_table(s.classes).update(corrected, gt), s.classes).miou
    assert model_miou != edited_miou
    assert window.metrics.metrics.miou == model_miou
    assert "model's prediction" in window.metrics.summary.text()
    # and the class shares count it (they stayed the correction's)
    assert window.classes.source.text() == "Share of labelled pixels in the model's prediction"
    car_row = window.classes._rows[CAR]  # noqa: SLF001
    car_share = 100 * (predicted == CAR).sum() / (predicted != s.classes.ignore_index).sum()
    assert window.classes.table.item(car_row, 1).text() == f"{car_share:.1f}%"
    # the pointer readout names the class shown: the model's, on a pixel the stroke painted car
    vp = canvas.viewport()
    spot = canvas.map_from_image(QPointF(200, 150)).toPoint()
    with qtbot.waitSignal(canvas.pixelHovered) as hovered:
        qtbot.mouseMove(vp, spot)
    x, y = hovered.args
    assert corrected[y, x] == CAR and predicted[y, x] != CAR
    assert f"class {s.classes.name_of(int(predicted[y, x]))}" in window.view.readout.text()

    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)  # back to the mask being edited
    assert window.metrics.metrics.miou == edited_miou
    assert window.classes.source.text() == "Share of labelled pixels in the correction"
    with qtbot.waitSignal(canvas.pixelHovered) as again:
        qtbot.mouseMove(vp, spot + QPoint(1, 0))
    qtbot.waitUntil(lambda: "class Car" in window.view.readout.text(), timeout=5000)
    assert "model's confidence" in window.view.readout.text()  # beside a corrected class: whose it is
    px, py = again.args  # painted car over the model's class: the figure says which class it is for
    if predicted[py, px] != CAR:
        assert f" in {s.classes.name_of(int(predicted[py, px]))}" in window.view.readout.text()
    shown = qimage_to_rgba(window.view.canvas.overlay_pixmap().toImage())
    assert np.array_equal(shown, view_rgba("prediction", corrected, s.mask("ground_truth"), s.classes,
                                           s.hidden))

    # a stroke under the read-only model view goes to the correction, and the window says so
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    drag(qtbot, canvas, (100, 250), (300, 250))
    assert window.view.view == "prediction"
    assert any("painting edits your correction" in m.text for m in window.log.entries)
