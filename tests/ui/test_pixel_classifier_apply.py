"""The live pixel classifier on the other pictures, in the window: a background job whose output is
written as predictions (model ref "pixel-classifier (…)"), corrected like a model's, and, in a
workspace opened again, retrained from the scribbles kept with it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from ui_helpers import drag

from seggui.core.editing.classifier_run import SETTING, scribble_path
from seggui.core.workspace import FrameStatus

pytestmark = pytest.mark.slow  # a forest over four 960x720 pictures, twice: ~20 s on a busy machine
LEFT = Qt.MouseButton.LeftButton
U, SKY, ROAD = 11, 0, 3


def errors(win) -> list[str]:
    return [e.text for e in win.log.entries if e.level in ("warning", "error")]


def scribble_sky_and_road(qtbot, win) -> None:
    """Brush strokes of Road then Sky across the middle of each in the ground truth, then Ctrl+Shift+C."""
    s, canvas, ctrl = win.session, win.view.canvas, win.editing
    gt = s.mask("ground_truth")
    ctrl.set_tool("brush")
    ctrl.set_size(5)
    canvas.setFocus()
    for cls in (ROAD, SKY):
        y = int(np.median(np.nonzero(gt == cls)[0]))
        x = int(np.median(np.nonzero(gt[y] == cls)[0]))
        win.classes.select_class(cls)
        drag(qtbot, canvas, (x - 30, y), (x + 30, y))
    qtbot.keyClick(win, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: ctrl.assist.pixels.classifying is None, timeout=60000)


def test_classifier_labels_other_pictures_as_predictions(qtbot, window, camvid_folder: Path) -> None:
    pytest.importorskip("sklearn")
    assert window.open_path(camvid_folder)
    s, ctrl, act = window.session, window.editing, window.actions_by_name
    ids = list(s.frame_ids)
    act["classify_unpredicted"].trigger()  # nothing trained yet: said, nothing runs
    assert any("not trained" in t for t in errors(window)) and not window.runner.is_running()
    scribble_sky_and_road(qtbot, window)
    assert s.workspace.settings[SETTING] == {"frame": ids[0], "classes": [SKY, ROAD]}
    assert scribble_path(s.workspace.root, ids[0]).exists()
    act["classify_unpredicted"].trigger()  # Edit ▸ Pixel classifier on pictures without a prediction
    assert window.runner.is_running() and "Pixel classifier on 3 pictures" == window.runner.title
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=120000)
    ws = s.workspace
    assert not ws.mask_path(ids[0], "predicted").exists()  # the picture trained on keeps its correction
    for fid in ids[1:]:
        rec = ws.frames[fid]
        assert rec.status == FrameStatus.PREDICTED and rec.model == "pixel-classifier (Sky, Road)", rec
        assert ws.mask_path(fid, "confidence").exists()
        pred, gt = s.mask("predicted", fid), s.mask("ground_truth", fid)
        assert set(np.unique(pred)) <= {SKY, ROAD}
        scored = np.isin(gt, [SKY, ROAD])
        assert (pred[scored] == gt[scored]).mean() > 0.8  # sky and road told apart on a picture not painted
    assert ws.model is None  # the model in use (what Retrain fine-tunes) is not the forest
    # corrected like a model's prediction: the correction starts from it, a stroke makes it corrected
    s.set_frame(ids[1])
    pred = s.mask("predicted").copy()
    window.classes.select_class(ROAD)
    drag(qtbot, window.view.canvas, (10.5, 10.5), (40.5, 10.5))
    now = s.mask("current")
    assert 0 < (now != pred).sum() < 2000
    ctrl.flush()
    assert ws.frames[ids[1]].status == FrameStatus.CORRECTED
    # opened again: the forest is gone from memory, the saved scribbles train it again, in the job
    assert window.open_path(ws.root)
    assert window.editing.assist.pixels.model is None
    before = {fid: s.mask("predicted", fid).copy() for fid in ids[2:]}
    window.actions_by_name["classify_all"].trigger()
    assert window.runner.title == "Pixel classifier on 3 pictures"
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=120000)
    assert s.workspace.frames[ids[1]].status == FrameStatus.CORRECTED  # a correction stays one
    for fid in ids[2:]:  # same scribbles, same seed: the same forest, the same masks
        assert np.array_equal(s.mask("predicted", fid), before[fid])
    assert not errors(window)[1:], errors(window)


def test_classifier_job_can_be_cancelled_and_keeps_what_it_wrote(qtbot, window, camvid_folder: Path,
                                                                  monkeypatch) -> None:
    pytest.importorskip("sklearn")
    import seggui.core.editing.classifier_run as run

    assert window.open_path(camvid_folder)
    s = window.session
    ids = list(s.frame_ids)
    scribble_sky_and_road(qtbot, window)
    real, calls = run.pixel_features, []

    def slow_features(image):  # the job's second picture waits until the test has pressed cancel
        calls.append(1)
        if len(calls) == 2:  # on the job's thread: a plain wait, no event processing here
            token, end = window.runner._token, time.monotonic() + 20
            while token is not None and not token.cancelled and time.monotonic() < end:
                time.sleep(0.01)
        return real(image)

    monkeypatch.setattr(run, "pixel_features", slow_features)
    cancel = window.actions_by_name["cancel"]
    assert not cancel.isEnabled()  # greyed while nothing runs
    window.actions_by_name["classify_all"].trigger()
    qtbot.waitUntil(lambda: len(calls) >= 2, timeout=60000)
    assert cancel.isEnabled()
    cancel.trigger()  # Model ▸ Cancel background job
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=60000)
    qtbot.waitUntil(lambda: not cancel.isEnabled(), timeout=5000)
    predicted = [f for f in ids[1:] if s.workspace.frames[f].status == FrameStatus.PREDICTED]
    assert 1 <= len(predicted) <= 2 and predicted[0] == ids[1]
    assert ids[3] not in predicted
    assert any("cancelled" in e.text for e in window.log.entries)
