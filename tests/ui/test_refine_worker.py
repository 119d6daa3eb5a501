"""The refine tool's cut runs on a worker thread: newest click wins, Enter waits for it, Esc drops it.

The cut (`refine` in seggui.ui.refine_preview) is wrapped so each call waits
on a gate the test opens: that makes "a click while a cut runs" certain
instead of a race, and records which thread ran it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

import seggui.ui.refine_preview as refine_preview

LEFT = Qt.MouseButton.LeftButton
ROAD, PAVEMENT = 3, 4


def click(qtbot, canvas, x: float, y: float) -> None:
    qtbot.mouseClick(canvas.viewport(), LEFT, Qt.KeyboardModifier.NoModifier,
                     canvas.map_from_image(QPointF(x, y)).toPoint())


class Gate:
    """Wraps `refine`: each call waits for `open_one()`; records the clicks and the thread of each call."""

    def __init__(self, monkeypatch) -> None:
        self.real = refine_preview.refine
        self.calls: list[tuple[int, str]] = []
        self.sem = threading.Semaphore(0)
        monkeypatch.setattr(refine_preview, "refine", self)

    def __call__(self, image, base, clicks, *args, **kwargs):
        self.calls.append((len(clicks), threading.current_thread().name))
        assert self.sem.acquire(timeout=20)
        return self.real(image, base, clicks, *args, **kwargs)

    def open_one(self) -> None:
        self.sem.release()


@pytest.fixture
def road(window, camvid_folder: Path):
    """A CamVid picture whose prediction calls a block of road pavement; Road active, refine tool on."""
    assert window.open_path(camvid_folder)
    s = window.session
    gt = s.mask("ground_truth")
    cy, cx = (int(v) for v in np.median(np.argwhere(gt == ROAD), axis=0))
    pred = gt.copy()
    block = (slice(cy - 25, cy + 25), slice(cx - 40, cx + 40))
    pred[block] = np.where(gt[block] == ROAD, PAVEMENT, gt[block])
    s.apply_prediction(s.current, pred, np.full(gt.shape, 230, np.uint8), "test")
    window.classes.select_class(ROAD)
    window.view.canvas.setFocus()
    window.editing.set_tool("refine")
    return window, pred, (cx, cy)


def test_a_newer_click_supersedes_the_running_cut(qtbot, road, monkeypatch) -> None:
    win, pred, (cx, cy) = road
    s, canvas, ctrl = win.session, win.view.canvas, win.editing
    gate, refiner = Gate(monkeypatch), ctrl.assist.refiner
    click(qtbot, canvas, cx + 0.5, cy + 0.5)
    qtbot.waitUntil(lambda: len(gate.calls) == 1, timeout=5000)
    assert refiner.busy and ctrl.editor.preview is None  # the GUI thread did not wait for the cut
    assert np.array_equal(s.mask("current"), pred)
    click(qtbot, canvas, cx + 10.5, cy + 0.5)  # while the first cut runs: both wait, the newest wins
    click(qtbot, canvas, cx - 10.5, cy + 0.5)
    assert len(refiner.clicks) == 3 and len(gate.calls) == 1
    gate.open_one()  # the first cut ends: its result is stale, dropped; the newest starts
    qtbot.waitUntil(lambda: len(gate.calls) == 2, timeout=10000)
    assert gate.calls[1][0] == 3  # all three clicks, the second never cut on its own
    assert ctrl.editor.preview is None
    gate.open_one()
    qtbot.waitUntil(lambda: not refiner.busy, timeout=10000)
    assert ctrl.editor.preview is not None and not np.array_equal(s.mask("current"), pred)
    assert all(name == "refine-preview" for _n, name in gate.calls)
    assert threading.current_thread() is threading.main_thread()


def test_enter_during_a_cut_keeps_it_once_it_is_in(qtbot, road, monkeypatch) -> None:
    win, pred, (cx, cy) = road
    s, canvas, ctrl = win.session, win.view.canvas, win.editing
    gate = Gate(monkeypatch)
    click(qtbot, canvas, cx + 0.5, cy + 0.5)
    qtbot.waitUntil(lambda: len(gate.calls) == 1, timeout=5000)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert len(ctrl.editor.history) == 0  # not yet: the cut is still running
    gate.open_one()
    qtbot.waitUntil(lambda: len(ctrl.editor.history) == 1, timeout=10000)
    assert ctrl.editor.preview is None and not ctrl.tools["refine"].marks.isVisible()
    kept = s.mask("current").copy()
    assert not np.array_equal(kept, pred)
    qtbot.waitUntil(lambda: s.workspace.mask_path(s.current, "corrected").exists(), timeout=10000)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(s.mask("current"), pred)


def test_esc_during_a_cut_drops_it_and_its_result_never_lands(qtbot, road, monkeypatch) -> None:
    win, pred, (cx, cy) = road
    s, canvas, ctrl = win.session, win.view.canvas, win.editing
    gate, refiner = Gate(monkeypatch), ctrl.assist.refiner
    click(qtbot, canvas, cx + 0.5, cy + 0.5)
    qtbot.waitUntil(lambda: len(gate.calls) == 1, timeout=5000)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert refiner.clicks == [] and not ctrl.tools["refine"].marks.isVisible()
    gate.open_one()
    qtbot.waitUntil(lambda: not refiner.busy, timeout=10000)
    assert ctrl.editor.preview is None and len(ctrl.editor.history) == 0
    assert np.array_equal(s.mask("current"), pred)
