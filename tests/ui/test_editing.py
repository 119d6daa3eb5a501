"""Mask editing in the real window with real mouse and key events, on CamVid val pictures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from seggui.core import area as core_area
from seggui.core.confusion import ConfusionMatrix
from seggui.core.errorview import label_rgba
from seggui.core.masks import read_mask
from seggui.core.metrics import compute_metrics
from seggui.core.workspace import FrameStatus
from seggui.ui.qtutil import qimage_to_rgba

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier
U = 11  # CamVid "Unlabelled"
ROAD, CAR, SKY = 3, 8, 0


@pytest.fixture
def editing(window, camvid_folder: Path):
    assert window.open_path(camvid_folder)
    assert window.editing.tool == "navigate"  # the default: clicks do not edit
    window.editing.set_tool("brush")
    return window


def drag(qtbot, canvas, image_points, modifier=NONE) -> list[QPointF]:
    """Press, move through and release at image points; returns the image positions the events had."""
    vp = canvas.viewport()
    pts = [canvas.map_from_image(QPointF(x, y)).toPoint() for x, y in image_points]
    qtbot.mousePress(vp, LEFT, modifier, pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(vp, p)
    qtbot.mouseRelease(vp, LEFT, modifier, pts[-1])
    return [canvas.map_to_image(p) for p in pts]


def click(qtbot, canvas, x: float, y: float, modifier=NONE) -> None:
    qtbot.mouseClick(canvas.viewport(), LEFT, modifier, canvas.map_from_image(QPointF(x, y)).toPoint())


def expected_stroke(shape, positions: list[QPointF], size: int) -> np.ndarray:
    """Pixels within size/2 of the polyline through the snapped dab centres (odd size: pixel centres)."""
    assert size % 2 == 1
    centres = [(math.floor(p.x()) + 0.5, math.floor(p.y()) + 0.5) for p in positions]
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    out = np.zeros(shape, bool)
    for (ax, ay), (bx, by) in zip(centres, centres[1:] or centres, strict=False):
        dx, dy = bx - ax, by - ay
        den = dx * dx + dy * dy
        t = np.zeros(shape) if den == 0 else np.clip(((xs - ax) * dx + (ys - ay) * dy) / den, 0, 1)
        out |= np.hypot(xs - ax - t * dx, ys - ay - t * dy) <= size / 2 + 1e-9
    return out


def corrected_on_disk(window) -> np.ndarray | None:
    s = window.session
    path = s.workspace.mask_path(s.current, "corrected")
    return read_mask(path, s.classes) if path.exists() else None


def test_drag_paints_the_expected_pixels_at_a_non_1to1_zoom(qtbot, editing) -> None:
    win, canvas = editing, editing.view.canvas
    canvas.actual_size()
    canvas.zoom_at(2.5, QPointF(canvas.viewport().rect().center()))
    assert canvas.zoom() == pytest.approx(2.5)
    win.classes.select_class(CAR)
    win.editing.set_size(5)
    centre = canvas.map_to_image(QPointF(canvas.viewport().rect().center()))
    cx, cy = centre.x(), centre.y()
    # a quick zig-zag: 20 picture pixels per mouse event, far more than the brush
    positions = drag(qtbot, canvas, [(cx - 60, cy - 20), (cx - 40, cy + 10), (cx - 20, cy - 25),
                                     (cx + 5, cy + 20), (cx + 30, cy - 5)])
    labels = win.session.mask("current")
    expected = expected_stroke(labels.shape, positions, 5)
    assert expected.sum() > 400
    assert np.array_equal(labels == CAR, expected)
    assert (labels[~expected] == U).all()  # no prediction yet: the correction started blank
    # the layer was repainted where painted (car colour, opaque) and stays clear elsewhere
    shown = qimage_to_rgba(canvas.overlay_pixmap().toImage())
    want = label_rgba(labels, win.session.classes)
    assert np.array_equal(shown[..., 3], want[..., 3])
    assert np.array_equal(shown[expected][:, :3], want[expected][:, :3])


def test_shortcuts_switch_tools_and_sizes(qtbot, editing) -> None:
    win, ctrl = editing, editing.editing
    for key, tool in ((Qt.Key.Key_H, "navigate"), (Qt.Key.Key_E, "eraser"), (Qt.Key.Key_F, "fill"),
                      (Qt.Key.Key_P, "polygon"), (Qt.Key.Key_L, "picker"), (Qt.Key.Key_B, "brush")):
        qtbot.keyClick(win, key)
        assert ctrl.tool == tool
        assert win.actions_by_name[f"tool_{tool}"].isChecked()
        assert win.view.canvas.tool is ctrl.tools[tool]
    ctrl.set_size(10)
    qtbot.keyClick(win, Qt.Key.Key_BracketRight)
    assert ctrl.size == 12 and win.edit_toolbar.size_spin.value() == 12
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft)
    assert ctrl.size == 8
    vp = win.view.canvas.viewport()
    zoom = win.view.canvas.zoom()
    pos = QPoint(200, 200)
    wheel = QWheelEvent(QPointF(pos), QPointF(vp.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, wheel)
    assert ctrl.size == 10 and win.view.canvas.zoom() == zoom  # Ctrl+wheel sizes, does not zoom
    # the outline cursor is the brush's true size, centred on the dab
    qtbot.mouseMove(vp, pos)
    outline = ctrl.tools["brush"].cursor
    assert outline.isVisible()
    assert outline.path().boundingRect().width() == pytest.approx(10)


def test_navigate_drags_the_view_and_never_edits(qtbot, editing) -> None:
    win, canvas = editing, editing.view.canvas
    qtbot.keyClick(win, Qt.Key.Key_H)
    vp = canvas.viewport()
    a, b = QPoint(300, 250), QPoint(340, 200)
    grabbed = canvas.map_to_image(a)
    qtbot.mousePress(vp, LEFT, NONE, a)
    qtbot.mouseMove(vp, QPoint(320, 230))
    qtbot.mouseMove(vp, b)
    qtbot.mouseRelease(vp, LEFT, NONE, b)
    assert canvas.map_to_image(b).x() == pytest.approx(grabbed.x(), abs=1 / canvas.zoom())
    assert canvas.map_to_image(b).y() == pytest.approx(grabbed.y(), abs=1 / canvas.zoom())
    assert win.session.editor is None and corrected_on_disk(win) is None


def test_iou_and_areas_follow_the_brush_without_whole_image_passes(qtbot, editing, monkeypatch) -> None:
    win, canvas, s = editing, editing.view.canvas, editing.session
    win.metrics.set_scope("picture")
    win.classes.select_class(ROAD)
    win.editing.set_size(31)
    click(qtbot, canvas, 10.5, 10.5)  # the first edit makes the editor (one full count)
    full_passes: list[str] = []
    real_update = ConfusionMatrix.update
    real_count = core_area.count_classes

    def counting_update(self, *a, **k):  # noqa: ANN001, ANN002, ANN003
        full_passes.append("matrix")
        return real_update(self, *a, **k)

    def counting_count(*a, **k):  # noqa: ANN002, ANN003
        full_passes.append("areas")
        return real_count(*a, **k)

    monkeypatch.setattr(ConfusionMatrix, "update", counting_update)
    monkeypatch.setattr(core_area, "count_classes", counting_count)
    vp = canvas.viewport()
    points = [canvas.map_from_image(QPointF(60 + 15 * i, 300 - 3 * i)).toPoint() for i in range(20)]
    qtbot.mousePress(vp, LEFT, NONE, points[0])
    for p in points[1:10]:
        qtbot.mouseMove(vp, p)
    qtbot.wait(80)  # the panels update while the button is still down
    mid_iou = win.metrics.value(ROAD, "iou")
    assert mid_iou > 0 and win.areas.report.get(ROAD).pixels == int((s.mask("current") == ROAD).sum())
    for p in points[10:]:
        qtbot.mouseMove(vp, p)
    qtbot.mouseRelease(vp, LEFT, NONE, points[-1])
    assert full_passes == []  # live figures came from the changed pixels only

    gt = s.mask("ground_truth")
    labels = s.mask("current").copy()
    full = compute_metrics(ConfusionMatrix.for_table(s.classes).update(labels, gt), s.classes)
    for cid in (ROAD, SKY, CAR):
        shown, want = win.metrics.value(cid, "iou"), float(full.iou[full.ids.index(cid)])
        assert (math.isnan(shown) and math.isnan(want)) or shown == pytest.approx(want, abs=1e-12)
    assert win.metrics.value(ROAD, "iou") > mid_iou
    assert win.areas.report.get(ROAD).pixels == int((labels == ROAD).sum())
    # when painting pauses the region counts (a whole pass) catch up
    qtbot.waitUntil(lambda: win.areas.report.get(ROAD).regions is not None, timeout=3000)
    assert win.areas.report.get(ROAD).regions == 2  # the first click and the stroke
    # the workspace sum takes the live matrix of the picture being edited (the only one with a mask)
    win.metrics.set_scope("workspace")
    qtbot.waitUntil(lambda: win.metrics.frames_counted == 1 and not win.metrics.runner.is_running(),
                    timeout=10000)
    assert win.metrics.value(ROAD, "iou") == pytest.approx(float(full.iou[full.ids.index(ROAD)]), abs=1e-12)


def test_undo_and_redo_by_keys(qtbot, editing) -> None:
    win, canvas, s = editing, editing.view.canvas, editing.session
    win.classes.select_class(CAR)
    win.editing.set_size(9)
    drag(qtbot, canvas, [(100, 100), (160, 120)])
    first = s.mask("current").copy()
    drag(qtbot, canvas, [(120, 200), (180, 150)])
    second = s.mask("current").copy()
    assert not np.array_equal(first, second)
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.mask("current").tobytes() == first.tobytes()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (s.mask("current") == U).all()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(canvas, Qt.Key.Key_Z, ctrl_shift)
    assert s.mask("current").tobytes() == first.tobytes()
    qtbot.keyClick(canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert s.mask("current").tobytes() == second.tobytes()
    # the layer shows the redone mask
    shown = qimage_to_rgba(canvas.overlay_pixmap().toImage())
    assert np.array_equal(shown[..., 3], label_rgba(second, s.classes)[..., 3])


def test_correction_is_autosaved_and_there_after_reopening(qtbot, editing, settings) -> None:
    win, canvas, s = editing, editing.view.canvas, editing.session
    fid = s.current
    win.classes.select_class(ROAD)
    drag(qtbot, canvas, [(50, 300), (250, 280)])
    painted = s.mask("current").copy()
    qtbot.waitUntil(lambda: corrected_on_disk(win) is not None, timeout=3000)  # the debounced autosave
    assert np.array_equal(corrected_on_disk(win), painted)
    assert s.record(fid).status == FrameStatus.CORRECTED
    assert win.frames.tree.topLevelItem(0).text(1) == "corrected"
    drag(qtbot, canvas, [(300, 100), (320, 100)])  # a last stroke, then close at once
    painted = s.mask("current").copy()
    store, folder = s.store_dir, s.source
    win.close()

    from seggui.ui.main_window import MainWindow

    again = MainWindow(settings, store_dir=store, model_dirs=[])
    qtbot.addWidget(again)
    assert again.open_path(folder)
    assert again.session.current == fid
    assert np.array_equal(again.session.mask("current"), painted)
    assert again.session.record(fid).status == FrameStatus.CORRECTED


def test_fill_polygon_picker_and_protected_labels(qtbot, editing) -> None:
    win, canvas, s, ctrl = editing, editing.view.canvas, editing.session, editing.editing
    win.classes.select_class(ROAD)
    ctrl.set_size(21)
    drag(qtbot, canvas, [(40, 300), (440, 300)])  # a road band across the picture
    road = s.mask("current") == ROAD
    # polygon: four clicks, Esc cancels, then four clicks and Enter fills
    qtbot.keyClick(win, Qt.Key.Key_P)
    win.classes.select_class(CAR)
    for x, y in ((100, 50), (200, 50), (200, 120)):
        click(qtbot, canvas, x + 0.5, y + 0.5)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not (s.mask("current") == CAR).any() and ctrl.tools["polygon"].points == []
    for x, y in ((100, 50), (200, 50), (200, 120), (100, 120)):
        click(qtbot, canvas, x + 0.5, y + 0.5)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    car = s.mask("current") == CAR
    assert car.sum() == 101 * 71 and car[50:121, 100:201].all()
    # protect: paint pedestrian only over unlabelled, across the road band and the car: both hold
    qtbot.keyClick(win, Qt.Key.Key_B)
    win.classes.select_class(9)
    combo = win.edit_toolbar.over_combo
    combo.setCurrentIndex(combo.findData(U))
    assert ctrl.paint_over == U
    drag(qtbot, canvas, [(150, 20), (150, 355)])
    labels = s.mask("current")
    assert (labels[road] == ROAD).all() and (labels[car] == CAR).all() and (labels[20:40, 150] == 9).all()
    combo.setCurrentIndex(0)
    assert ctrl.paint_over is None
    # fill: the unlabelled area becomes sky; everything else stays
    qtbot.keyClick(win, Qt.Key.Key_F)
    win.classes.select_class(SKY)
    before = s.mask("current").copy()
    click(qtbot, canvas, 5.5, 5.5)
    labels = s.mask("current")
    assert (labels[before != U] == before[before != U]).all()
    assert (labels[:, :140] != U).all()  # the left part is one connected unlabelled area
    # Alt+click picks the label under the pointer with any tool; L picks and returns to the brush
    click(qtbot, canvas, 120.5, 80.5, Qt.KeyboardModifier.AltModifier)
    assert s.active_class == CAR and ctrl.tool == "fill"
    qtbot.keyClick(win, Qt.Key.Key_B)
    qtbot.keyClick(win, Qt.Key.Key_L)
    assert ctrl.tool == "picker"
    click(qtbot, canvas, 50.5, 300.5)
    assert s.active_class == ROAD and ctrl.tool == "brush"


def test_accept_prediction_copy_previous_review_and_saving_on_picture_change(qtbot, editing) -> None:
    win, canvas, s, ctrl = editing, editing.view.canvas, editing.session, editing.editing
    first, second = s.frame_ids[:2]
    win.classes.select_class(ROAD)
    drag(qtbot, canvas, [(60, 200), (90, 200)])
    painted = s.mask("current").copy()
    qtbot.keyClick(win, Qt.Key.Key_D)  # next picture: the correction is written at once, no timer
    assert s.current == second
    assert np.array_equal(read_mask(s.workspace.mask_path(first, "corrected"), s.classes), painted)
    ctrl.copy_previous()
    assert np.array_equal(s.mask("current"), painted)
    ctrl.undo()
    assert (s.mask("current") == U).all()
    prediction = s.mask("ground_truth").copy()
    s.apply_prediction(second, prediction, None, "test")
    ctrl.accept_prediction()
    assert np.array_equal(s.mask("current"), prediction)
    assert np.array_equal(corrected_on_disk(win), prediction)
    assert win.metrics.value(ROAD, "iou") == pytest.approx(1.0)
    ctrl.clear()
    assert (s.mask("current") == U).all()
    ctrl.undo()
    qtbot.keyClick(win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert s.record(second).status == FrameStatus.REVIEWED
    assert np.array_equal(corrected_on_disk(win), prediction)
    assert "reviewed" in win.edit_toolbar.state.text()
    drag(qtbot, canvas, [(10, 10), (20, 10)])  # a later edit keeps it reviewed
    ctrl.flush()
    assert s.record(second).status == FrameStatus.REVIEWED
