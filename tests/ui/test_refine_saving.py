"""A refine preview never reaches the disk until Enter keeps it: Ctrl+S, Mark reviewed, leaving the
picture and closing the window all write (or leave) the mask without it.

The real window on CamVid val pictures, driven with real keys and clicks: a
brush stroke is kept and saved first, so the file on disk is the analyst's
mask, then a refine click puts a preview on show and the save paths run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from ui_helpers import stroke

from seggui.core.masks import read_mask
from seggui.core.workspace import FrameStatus

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
ROAD, PAVEMENT = 3, 4


def click(qtbot, canvas, x: float, y: float) -> None:
    qtbot.mouseClick(canvas.viewport(), LEFT, Qt.KeyboardModifier.NoModifier,
                     canvas.map_from_image(QPointF(x, y)).toPoint())


def on_disk(win, frame: str) -> np.ndarray:
    s = win.session
    return read_mask(s.workspace.mask_path(frame, "corrected"), s.classes)


@pytest.fixture
def previewing(qtbot, window, camvid_folder: Path):
    """A kept, saved brush stroke, then a refine preview of Road on show (not kept)."""
    assert window.open_path(camvid_folder)
    s, canvas, ctrl = window.session, window.view.canvas, window.editing
    gt = s.mask("ground_truth")
    cy, cx = (int(v) for v in np.median(np.argwhere(gt == ROAD), axis=0))
    pred = gt.copy()
    block = (slice(cy - 25, cy + 25), slice(cx - 40, cx + 40))
    pred[block] = np.where(gt[block] == ROAD, PAVEMENT, gt[block])  # the model called this road pavement
    s.apply_prediction(s.current, pred, np.full(gt.shape, 230, np.uint8), "test")
    window.classes.select_class(ROAD)
    canvas.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_B)
    stroke(qtbot, canvas, 12.5)  # a kept edit far from the road block, saved at once
    qtbot.keyClick(canvas, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: ctrl.saved, timeout=10000)
    kept = s.mask("current").copy()
    assert np.array_equal(on_disk(window, s.current), kept)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert ctrl.tool == "refine"
    click(qtbot, canvas, cx + 0.5, cy + 0.5)
    qtbot.waitUntil(lambda: not ctrl.assist.refiner.busy, timeout=10000)
    assert ctrl.editor.preview is not None
    shown = s.mask("current").copy()
    assert (shown != kept).sum() > 100  # the preview is on show
    return window, kept, shown


def test_ctrl_s_and_mark_reviewed_write_the_mask_without_the_preview_enter_writes_it(
        qtbot, previewing) -> None:
    win, kept, shown = previewing
    s, canvas, ctrl = win.session, win.view.canvas, win.editing
    frame = s.current
    qtbot.keyClick(canvas, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: ctrl.saved, timeout=10000)
    assert np.array_equal(on_disk(win, frame), kept)
    qtbot.keyClick(canvas, Qt.Key.Key_Return, CTRL)  # Mark reviewed: a forced write
    assert s.record(frame).status == FrameStatus.REVIEWED
    assert np.array_equal(on_disk(win, frame), kept)
    assert np.array_equal(s.mask("current"), shown)  # still on show, still not kept
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # Enter keeps it: now it is saved
    assert ctrl.editor.preview is None
    qtbot.waitUntil(lambda: ctrl.saved and np.array_equal(on_disk(win, frame), shown), timeout=10000)


def test_leaving_the_picture_and_closing_drop_the_preview(qtbot, previewing) -> None:
    win, kept, _shown = previewing
    s, canvas, ctrl = win.session, win.view.canvas, win.editing
    frame = s.current
    qtbot.keyClick(win, Qt.Key.Key_D)  # next picture
    assert s.current != frame
    assert np.array_equal(on_disk(win, frame), kept)
    qtbot.keyClick(win, Qt.Key.Key_A)  # and back: the mask as kept, no preview, no clicks
    assert s.current == frame
    assert np.array_equal(s.mask("current"), kept)
    assert not ctrl.assist.refiner.clicks
    cy, cx = (int(v) for v in np.median(np.argwhere(kept == ROAD), axis=0))
    click(qtbot, canvas, cx + 0.5, cy + 0.5)  # a new preview, then the window closes
    qtbot.waitUntil(lambda: ctrl.editor is not None and ctrl.editor.preview is not None, timeout=10000)
    win.actions_by_name["quit"].trigger()  # File > Quit
    assert not win.isVisible()
    assert np.array_equal(on_disk(win, frame), kept)
