"""The drive journey through the real window, from an empty home folder, on the real CamVid val drive.

File ▸ Open folder turns the numbered pictures into a drive with its ground
truth; the shipped camvid-small runs on a range marked with I and O; three
frames are corrected with the brush and marked reviewed; Retrain validates
away from them; the overlay video holds exactly the range.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from journey import drag, press_ok, retrain_one_epoch, trigger, type_path_and_enter, when_dialog
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from seggui.core.media import open_source
from seggui.paths import shipped_models_dir
from seggui.training.retrain import DRIVE_BLOCK

pytestmark = pytest.mark.skipif(not (shipped_models_dir() / "camvid-small" / "model.json").exists(),
                                reason="camvid-small is not in this checkout")

LAST = 20  # the range run: frames 0..20 of the drive
REVIEWED = (2, 10, 18)


@pytest.mark.slow
def test_drive_journey(qtbot, user_window, camvid: Path, tmp_path: Path) -> None:
    win, s = user_window, user_window.session
    data = tmp_path / "camvid"
    for part in ("val", "valannot"):
        shutil.copytree(camvid / part, data / part)
    shutil.copy(camvid / "classes.json", data / "classes.json")

    answered = when_dialog(type_path_and_enter(data / "val"), QFileDialog)
    trigger(win, "open_folder")
    assert answered == ["answered"]
    drives = s.workspace.drives()
    assert len(drives) == 1 and len(s.drive_frames()) == 101
    frames = s.drive_frames()
    assert all(s.workspace.frames[f].has_gt for f in frames)

    combo = win.model_picker.combo
    combo.setCurrentIndex(combo.findText("camvid-small", Qt.MatchFlag.MatchStartsWith))
    assert win.inference.card.name == "camvid-small"

    # I at the first frame, two jumps of ten (Shift+D), O; then Run on part of this drive: prefilled
    trigger(win, "first")
    trigger(win, "mark_in")
    trigger(win, "next10")
    trigger(win, "next10")
    trigger(win, "mark_out")
    assert s.current == frames[LAST]
    prefilled: list[tuple[int, int]] = []

    def ok_range(dialog) -> None:  # noqa: ANN001
        prefilled.append(dialog.span())
        press_ok(dialog)

    answered = when_dialog(ok_range)
    with qtbot.waitSignal(win.runner.finished, timeout=180000):
        trigger(win, "run_range")
    assert answered == ["answered"] and prefilled == [(0, LAST)]
    ws = s.workspace
    predicted = [i for i, f in enumerate(frames) if ws.frames[f].status == "predicted"]
    assert predicted == list(range(LAST + 1))
    assert ws.model and Path(ws.model).name == "camvid-small"

    # correct three frames with the brush (the Road class) and mark them reviewed (Ctrl+Enter)
    road = ws.classes.find("Road").id
    win.classes.select_class(road)
    trigger(win, "tool_brush")
    trigger(win, "first")
    at = 0
    for i in REVIEWED:
        while at < i:
            trigger(win, "next")
            at += 1
        assert s.current == frames[i]
        drag(qtbot, win.view.canvas, [(40.5, 330.5), (240.5, 330.5), (440.5, 330.5)])
        trigger(win, "reviewed")
    assert sorted(ws.frames_with_status("reviewed")) == [frames[i] for i in REVIEWED]

    # Retrain, one epoch: validation keeps away from the trained frames, and says so
    panel = win.retrain
    assert retrain_one_epoch(qtbot, win) == "compared", panel.message.text()
    trained = sorted(frames.index(f) for f in panel.plan.train_ids)
    val = sorted(frames.index(f) for f in panel.plan.val_ids)
    assert trained == list(REVIEWED)
    assert val and all(min(abs(v - t) for t in trained) >= DRIVE_BLOCK for v in val)
    assert len(val) == 101 - (REVIEWED[-1] + DRIVE_BLOCK)  # frames 28..100
    assert f"measured on {len(val)} validation frames" in panel.status.text()

    # File ▸ Export ▸ Overlay video of the marked range: exactly frames 0..20, H.264
    out = tmp_path / "out" / "range.mp4"
    out.parent.mkdir()
    answered = when_dialog(type_path_and_enter(out), QFileDialog)
    with qtbot.waitSignal(win.runner.finished, timeout=180000) as done:
        trigger(win, "export_overlay")
    assert answered == ["answered"]
    assert done.args[0].frames == LAST + 1 and (done.args[0].first, done.args[0].last) == (0, LAST)
    assert done.args[0].codec.startswith("H.264")
    with open_source(out) as video:
        assert len(video) == LAST + 1 and video.frame_size == (360, 480)
