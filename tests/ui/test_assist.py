"""Assisted correction in the real window with real mouse and key events, on CamVid val pictures:
the refine tool (R), carrying labels along the motion, most-uncertain next (U)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from ui_helpers import drag, link_pictures

from seggui.core.masks import read_mask
from seggui.core.workspace import FrameStatus

LEFT = Qt.MouseButton.LeftButton
SHIFT = Qt.KeyboardModifier.ShiftModifier
U, ROAD, PAVEMENT, CAR = 11, 3, 4, 8


def click(qtbot, canvas, x: float, y: float, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.mouseClick(canvas.viewport(), LEFT, modifier, canvas.map_from_image(QPointF(x, y)).toPoint())


def settle(qtbot, ctrl) -> None:
    """Wait for the refine tool's cut (a worker thread) to be on the mask."""
    qtbot.waitUntil(lambda: not ctrl.assist.refiner.busy, timeout=10000)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def errors(win) -> list[str]:
    return [e.text for e in win.log.entries if e.level in ("warning", "error")]


@pytest.fixture
def refining(window, camvid_folder: Path):
    """The window on 4 CamVid val pictures; the first has a prediction whose road misses a block."""
    assert window.open_path(camvid_folder)
    s = window.session
    gt = s.mask("ground_truth")
    road = np.argwhere(gt == ROAD)
    cy, cx = (int(v) for v in np.median(road, axis=0))
    pred = gt.copy()
    block = (slice(cy - 25, cy + 25), slice(cx - 40, cx + 40))
    pred[block] = np.where(gt[block] == ROAD, PAVEMENT, gt[block])  # the model called this road pavement
    s.apply_prediction(s.current, pred, np.full(gt.shape, 230, np.uint8), "test")
    window.classes.select_class(ROAD)
    window.view.canvas.setFocus()
    qtbot_key = Qt.Key.Key_R
    return window, gt, pred, (cx, cy), qtbot_key


def test_refine_click_previews_enter_commits_one_undo_step_and_saves(qtbot, refining) -> None:
    win, gt, pred, (cx, cy), key = refining
    s, canvas, ctrl = win.session, win.view.canvas, win.editing
    qtbot.keyClick(win, key)
    assert ctrl.tool == "refine"
    before = iou(pred == ROAD, gt == ROAD)
    click(qtbot, canvas, cx + 0.5, cy + 0.5)
    settle(qtbot, ctrl)
    editor = ctrl.editor
    assert editor is not None and editor.preview is not None
    assert len(editor.history) == 0  # a preview, not yet a step
    shown = s.mask("current").copy()
    assert iou(shown == ROAD, gt == ROAD) > before + 0.02
    assert ctrl.tools["refine"].marks.isVisible()
    # the toolbar says a preview is up (it said "prediction · saved"); the readout names the preview's class
    assert "refine preview" in win.edit_toolbar.state.text() and "saved" not in win.edit_toolbar.state.text()
    ys, xs = np.nonzero(shown != pred)  # a pixel the preview changed, under a pointer that does not move
    win.view._on_hover(int(xs[0]), int(ys[0]))  # noqa: SLF001 - where the pointer rests
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    settle(qtbot, ctrl)
    assert f"class {s.classes.name_of(int(pred[ys[0], xs[0]]))}" in win.view.readout.text()
    click(qtbot, canvas, cx + 0.5, cy + 0.5)
    settle(qtbot, ctrl)
    after = f"class {s.classes.name_of(int(shown[ys[0], xs[0]]))}"
    qtbot.waitUntil(lambda: after in win.view.readout.text(), timeout=3000)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert editor.preview is None and len(editor.history) == 1
    qtbot.waitUntil(lambda: s.workspace.mask_path(s.current, "corrected").exists(), timeout=10000)
    assert np.array_equal(read_mask(s.workspace.mask_path(s.current, "corrected"), s.classes), shown)
    assert s.record(s.current).status == FrameStatus.CORRECTED
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(s.mask("current"), pred)  # the whole refine was one step


def test_esc_drops_and_a_negative_click_takes_away(qtbot, refining) -> None:
    win, gt, pred, (cx, cy), key = refining
    s, canvas, ctrl = win.session, win.view.canvas, win.editing
    qtbot.keyClick(win, key)
    click(qtbot, canvas, cx + 0.5, cy + 0.5)
    settle(qtbot, ctrl)
    assert not np.array_equal(s.mask("current"), pred)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert np.array_equal(s.mask("current"), pred)
    assert len(ctrl.editor.history) == 0 and not ctrl.tools["refine"].marks.isVisible()
    # a negative click inside the (correct) road: road there goes, to the prediction's other label
    rows = np.argwhere((pred == ROAD) & (np.arange(pred.shape[1])[None, :] < cx - 60))
    y, x = (int(v) for v in rows[len(rows) // 2])
    click(qtbot, canvas, x + 0.5, y + 0.5, SHIFT)
    settle(qtbot, ctrl)
    now = s.mask("current")
    assert now[y, x] != ROAD and (now == ROAD).sum() < (pred == ROAD).sum()
    assert not np.isin(now[(now != pred)], [ROAD]).any()


def test_box_with_colour_alone_and_protected_labels(qtbot, window, camvid_folder: Path) -> None:
    assert window.open_path(camvid_folder)
    s, canvas, ctrl = window.session, window.view.canvas, window.editing
    assert s.mask("predicted") is None  # no model ran: colour alone
    window.classes.select_class(CAR)
    ctrl.set_tool("refine")
    gt = s.mask("ground_truth")
    drag(qtbot, canvas, (300, 300), (420, 380))
    settle(qtbot, ctrl)
    now = s.mask("current")
    assert (now == CAR).any()
    ys, xs = np.nonzero(now == CAR)
    assert ys.min() >= 300 - 1 and ys.max() <= 380 + 1 and xs.min() >= 300 - 1 and xs.max() <= 420 + 1
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    # protect: with "Over" = Car only, a refine of Road may only take car pixels
    ctrl.set_paint_over(CAR)
    window.classes.select_class(ROAD)
    click(qtbot, canvas, 360.5, 340.5)
    settle(qtbot, ctrl)
    after = s.mask("current")
    changed = after != now
    assert (now[changed] == CAR).all()
    assert gt is not None


def test_refine_refuses_a_prediction_of_another_size_and_clicks_off_the_picture(qtbot, window,
                                                                                camvid_folder: Path) -> None:
    assert window.open_path(camvid_folder)
    s, canvas, ctrl = window.session, window.view.canvas, window.editing
    s.apply_prediction(s.current, np.full((100, 120), ROAD, np.uint8), None, "test")
    window.classes.select_class(ROAD)
    ctrl.set_tool("refine")
    assert ctrl.assist.refiner.refine_click(-5, 10, True) is False
    assert any("outside the" in t for t in errors(window))
    h, w = s.image().shape[:2]
    click(qtbot, canvas, w / 2, h / 2)  # the prediction that does not fit is named; colour alone works
    settle(qtbot, ctrl)
    assert any("predicted" in t and "120x100" in t for t in errors(window)), errors(window)
    assert ctrl.editor is not None and ctrl.editor.preview is not None


def test_carry_labels_along_the_motion_beats_a_copy_and_is_one_step(qtbot, window,
                                                                    camvid_folder: Path) -> None:
    assert window.open_path(camvid_folder)
    s, ctrl = window.session, window.editing
    first, second = s.frame_ids[:2]  # 0016E5_07959 and _07961: two video frames apart
    s.apply_prediction(first, s.mask("ground_truth", first), None, "test")
    s.set_frame(second)
    gt = s.mask("ground_truth")
    window.actions_by_name["carry_prev"].trigger()
    carried = s.mask("current").copy()
    copied = s.mask("current", first)
    scored = gt != U
    assert ((carried == gt) & scored).sum() > ((copied == gt) & scored).sum()
    assert len(ctrl.editor.history) == 1
    ctrl.undo()
    assert (s.mask("current") == U).all()


def test_carry_stops_at_another_size_and_says_where(qtbot, window, camvid: Path, tmp_path: Path) -> None:
    import cv2

    names = sorted(p.name for p in (camvid / "val").glob("*.png"))[:2]
    folder = link_pictures(camvid, tmp_path / "mixed", names[:1])
    small = cv2.resize(cv2.imread(str(camvid / "val" / names[1])), (320, 240))
    cv2.imwrite(str(folder / ("z" + names[1])), small)
    assert window.open_path(folder)
    s = window.session
    s.apply_prediction(s.frame_ids[0], s.mask("ground_truth", s.frame_ids[0]), None, "test")
    s.set_frame(s.frame_ids[1])
    window.editing.assist.propagate_previous()
    assert any(s.frame_ids[0] in t and s.frame_ids[1] in t and "480x360" in t for t in errors(window)), \
        errors(window)
    assert s.workspace.frames[s.frame_ids[1]].status == FrameStatus.NONE


def test_u_goes_to_the_least_confident_uncorrected_prediction(qtbot, window, camvid_folder: Path) -> None:
    assert window.open_path(camvid_folder)
    s = window.session
    ids = s.frame_ids
    h, w = s.image().shape[:2]
    levels = {ids[0]: 250, ids[1]: 90, ids[2]: 120, ids[3]: 200}  # ids[1] least sure, then ids[2]
    for fid, level in levels.items():
        conf = np.full((h, w), level, np.uint8)
        s.apply_prediction(fid, np.full((h, w), ROAD, np.uint8), conf, "test")
    s.workspace.write_mask(ids[1], "corrected", np.full((h, w), ROAD, np.uint8))  # corrected: skipped
    s.set_frame(ids[0])
    window.view.canvas.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: s.current == ids[2], timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: s.current == ids[3], timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: s.current == ids[0], timeout=5000)


def test_superpixel_brush_paints_whole_segments_after_they_are_computed(qtbot, window,
                                                                       camvid_folder: Path) -> None:
    pytest.importorskip("skimage")
    assert window.open_path(camvid_folder)
    s, canvas, ctrl = window.session, window.view.canvas, window.editing
    window.classes.select_class(CAR)
    ctrl.set_size(3)
    canvas.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert ctrl.tool == "superpixel"
    source = ctrl.tools["superpixel"].source
    qtbot.waitUntil(lambda: source.get(s.current, ctrl.superpixel_size) is not None, timeout=20000)
    segs = source.get(s.current, ctrl.superpixel_size)
    drag(qtbot, canvas, (100.5, 200.5), (180.5, 200.5))
    painted = s.mask("current") == CAR
    touched = np.unique(segs.ids[painted])
    assert painted.sum() == np.isin(segs.ids, touched).sum() > 3 * 80
    assert len(ctrl.editor.history) == 1
    cached = s.workspace.root / "superpixels" / f"{s.current}_{ctrl.superpixel_size}.png"
    qtbot.waitUntil(cached.exists, timeout=5000)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not (s.mask("current") == CAR).any()


def test_pixel_classifier_fills_unlabelled_pixels_from_strokes(qtbot, window, camvid_folder: Path) -> None:
    pytest.importorskip("sklearn")
    assert window.open_path(camvid_folder)
    s, canvas, ctrl = window.session, window.view.canvas, window.editing
    gt = s.mask("ground_truth")
    ctrl.set_tool("brush")
    ctrl.set_size(5)
    window.classes.select_class(ROAD)
    canvas.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | SHIFT)
    qtbot.waitUntil(lambda: ctrl.assist.pixels.classifying is None, timeout=20000)
    assert any("only class" in t or "nothing" in t for t in errors(window))  # no scribbles of two classes
    sky_y, road_y = (int(np.median(np.nonzero(gt == c)[0])) for c in (0, ROAD))
    sky_x, road_x = (int(np.median(np.nonzero(gt[y] == c)[0])) for y, c in ((sky_y, 0), (road_y, ROAD)))
    drag(qtbot, canvas, (road_x - 30, road_y), (road_x + 30, road_y))
    window.classes.select_class(0)
    drag(qtbot, canvas, (sky_x - 30, sky_y), (sky_x + 30, sky_y))
    painted = s.mask("current").copy()
    assert (painted == U).mean() > 0.95
    window.actions_by_name["classify"].trigger()
    qtbot.waitUntil(lambda: ctrl.assist.pixels.classifying is None, timeout=30000)
    filled = s.mask("current")
    assert not (filled == U).any()
    assert (filled[painted != U] == painted[painted != U]).all()
    scored = np.isin(gt, [0, ROAD])
    assert (filled[scored] == gt[scored]).mean() > 0.8  # sky and road told apart by the forest
    assert len(ctrl.editor.history) == 3  # two strokes and one classification
    ctrl.undo()
    assert np.array_equal(s.mask("current"), painted)
