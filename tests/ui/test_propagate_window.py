"""Propagation along a drive in the real window (Edit ▸ Propagate labels along the drive…, Ctrl+Shift+P):
the dialog answered through its widgets, the job in the background, the frames' masks and "propagated"
status, their marks in the picture list and the timeline strip, undo and autosave of the frame being
corrected, Mark reviewed and editing afterwards, and the stop at a cut with where it happened."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QColor
from ui_helpers import link_pictures, stroke

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from journey import press_ok, shortcut, trigger, when_dialog  # noqa: E402

from seggui.core.masks import read_mask  # noqa: E402
from seggui.core.workspace import FrameStatus  # noqa: E402
from seggui.ui.frame_browser import STATUS_COLORS  # noqa: E402
from seggui.ui.propagate_drive import PropagateDialog  # noqa: E402
from seggui.ui.timeline import STATUS_ORDER  # noqa: E402

U, SKY, ROAD, CAR = 11, 0, 3, 8
VAL = [f"0016E5_{n:05d}.png" for n in range(7959, 7979, 2)]  # 10 labelled frames, 2 video frames apart
# (a folder's numbered pictures open as a drive from 10 on)


def messages(win, *levels: str) -> list[str]:
    return [m.text for m in win.log.entries if m.level in levels]


def answer_frames(count: int, seen: list[str]):  # noqa: ANN201
    """Type `count` into the dialog's Frames box, note its summary, press Propagate."""
    def answer(dialog: PropagateDialog) -> None:
        from PySide6.QtTest import QTest

        box = dialog.count
        box.setFocus()
        box.selectAll()
        QTest.keyClicks(box, str(count))
        seen.append(dialog.summary.text())
        press_ok(dialog)

    return answer


def strip_colour(win, position: int) -> QColor:
    """The colour the timeline strip paints over a frame's column (its upper part)."""
    strip = win.timeline.strip
    image = strip.grab().toImage()
    n = len(strip.codes)
    x = int((position + 0.5) * strip.width() / n)
    return image.pixelColor(int(x * image.width() / strip.width()), 1)


@pytest.fixture
def drive(camvid: Path, tmp_path: Path) -> Path:
    return link_pictures(camvid, tmp_path / "drive", VAL)


def test_propagate_through_the_window(qtbot, window, drive: Path) -> None:
    assert window.open_path(drive)
    s, ctrl, canvas = window.session, window.editing, window.view.canvas
    frames = s.drive_frames()
    assert len(frames) == 10
    ws = s.workspace
    # frame 3 is the analyst's: a road stroke over a blank mask
    s.set_frame(frames[3])
    window.classes.select_class(ROAD)
    ctrl.set_tool("brush")
    stroke(qtbot, canvas, 300.5)
    # frame 0: a model that got it right, accepted, and a car stroke painted in the sky
    s.set_frame(frames[0])
    assert ws.frames[frames[3]].status == FrameStatus.CORRECTED
    truth = {f: s.mask("ground_truth", f) for f in frames}
    s.apply_prediction(frames[0], truth[frames[0]], None, "test")
    trigger(window, "accept")
    window.classes.select_class(CAR)
    stroke(qtbot, canvas, 30.5)
    assert len(ctrl.editor.history) == 1  # the accepted prediction was the editor's start already

    seen: list[str] = []
    answered = when_dialog(answer_frames(5, seen), PropagateDialog)
    shortcut(qtbot, window, "Ctrl+Shift+P")
    assert answered == ["answered"], answered
    assert "5 frames" in seen[0] and "1 corrected or reviewed: kept" in seen[0]
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=60000)

    assert not list((ws.root / "corrected").glob(".*"))  # every staged mask was put in place
    status = {f: ws.frames[f].status for f in frames}
    assert [status[f] for f in frames[:6]] == [FrameStatus.CORRECTED, FrameStatus.PROPAGATED,
                                           FrameStatus.PROPAGATED, FrameStatus.CORRECTED,
                                           FrameStatus.PROPAGATED, FrameStatus.PROPAGATED]
    assert all(status[f] == FrameStatus.NONE for f in frames[6:])
    said = messages(window, "info")
    assert any("carried to 4 frames" in t and "1 corrected or reviewed frame left" in t for t in said), said
    # the masks: the car stroke travelled with the picture, and the carry beats a copy against the truth
    first = read_mask(ws.mask_path(frames[0], "corrected"), s.classes)
    second = read_mask(ws.mask_path(frames[2], "corrected"), s.classes)
    scored = truth[frames[2]] != U
    assert ((second == truth[frames[2]]) & scored).sum() > ((first == truth[frames[2]]) & scored).sum()
    assert (second[:60] == CAR).sum() > 0.5 * (first[:60] == CAR).sum()
    # after frame 3 the chain went on from the analyst's own (mostly blank) mask
    assert (read_mask(ws.mask_path(frames[4], "corrected"), s.classes) == U).mean() > 0.9
    # the picture list and the timeline strip mark them
    rows = window.frames._items  # noqa: SLF001
    assert rows[frames[1]].text(1) == "propagated" and rows[frames[3]].text(1) == "corrected"
    qtbot.waitUntil(lambda: list(window.timeline.strip.codes) ==
                    [STATUS_ORDER.index(st) for st in status.values()], timeout=5000)
    assert strip_colour(window, 1) == QColor(*STATUS_COLORS[FrameStatus.PROPAGATED])
    assert strip_colour(window, 3) == QColor(*STATUS_COLORS[FrameStatus.CORRECTED])
    assert "2 frames corrected or reviewed" in window.retrain.status.text()
    assert "4 propagated frames are left out until reviewed" in window.retrain.status.text()

    # the frame being corrected keeps its undo (the editor was parked, written, before the job started):
    # Ctrl+Z takes the car stroke back and autosave writes it
    assert s.current == frames[0] and ctrl.saving.parked(frames[0])
    window.activateWindow()  # as the analyst's window is again once the dialog has gone
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    shortcut(qtbot, window, "Ctrl+Z")
    assert not (s.mask("current")[:60] == CAR).any()
    on_disk = ws.mask_path(frames[0], "corrected")
    qtbot.waitUntil(lambda: not (read_mask(on_disk, s.classes)[:60] == CAR).any(), timeout=10000)

    # Mark reviewed turns a propagated frame reviewed; an edit makes another the analyst's (corrected)
    s.set_frame(frames[1])
    assert window.areas.source_combo.itemText(0) == "Correction"  # the carried mask, not the model's
    shortcut(qtbot, window, "Ctrl+Return")
    assert ws.frames[frames[1]].status == FrameStatus.REVIEWED
    s.set_frame(frames[2])
    window.classes.select_class(SKY)
    ctrl.set_tool("brush")
    stroke(qtbot, canvas, 20.5)
    assert ctrl.flush() or ctrl.saved
    s.set_frame(frames[0])
    assert ws.frames[frames[2]].status == FrameStatus.CORRECTED
    qtbot.waitUntil(lambda: rows[frames[1]].text(1) == "reviewed", timeout=5000)
    assert "2 propagated frames" in window.retrain.status.text()
    saved = (ws.root / "seggui.json").read_text()
    assert saved.count('"propagated"') == 2


def test_it_stops_at_a_cut_and_says_where(qtbot, window, drive: Path, camvid: Path) -> None:
    other = sorted((camvid / "train").glob("0001TP_*.png"))[0]  # another drive spliced into this one
    (drive / "0016E5_07979.png").symlink_to(other)
    assert window.open_path(drive)
    s = window.session
    frames = s.drive_frames()
    assert len(frames) == 11
    s.set_frame(frames[8])
    s.apply_prediction(frames[8], s.mask("ground_truth"), None, "test")
    trigger(window, "accept")
    seen: list[str] = []
    answered = when_dialog(answer_frames(2, seen), PropagateDialog)
    trigger(window, "propagate")
    assert answered == ["answered"]
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=60000)
    ws = s.workspace
    assert ws.frames[frames[9]].status == FrameStatus.PROPAGATED
    assert ws.frames[frames[10]].status == FrameStatus.NONE
    warned = messages(window, "warning")
    assert any("stopped" in t and frames[9] in t and frames[10] in t and "cut" in t for t in warned), warned


def test_the_dialog_refuses_what_cannot_be_carried(qtbot, window, drive: Path) -> None:
    assert window.open_path(drive)
    s = window.session
    frames = s.drive_frames()
    s.set_frame(frames[2])  # no mask yet: nothing to carry; the dialog says so and cannot start
    seen: list[str] = []

    def look(dialog: PropagateDialog) -> None:
        seen.append(dialog.summary.text())
        assert not dialog.ok.isEnabled()
        dialog.reject()

    answered = when_dialog(look, PropagateDialog)
    trigger(window, "propagate")
    assert answered == ["answered"] and "no correction to carry" in seen[0]
    assert not window.runner.is_running()
    # at the last frame the dialog turns to the previous frames; asked for more than there are, it says so
    s.set_frame(frames[-1])
    s.apply_prediction(frames[-1], s.mask("ground_truth"), None, "test")
    trigger(window, "accept")
    chosen: list[tuple[int, int, bool]] = []

    def back(dialog: PropagateDialog) -> None:
        dialog.count.setValue(9)
        chosen.append(dialog.choice())
        seen.append(dialog.summary.text())
        dialog.reject()

    answered = when_dialog(back, PropagateDialog)
    trigger(window, "propagate")
    assert answered == ["answered"] and chosen[0] == (9, -1, False)
    assert f"9 frames: {frames[-2]} … {frames[0]}" in seen[-1]


def test_a_picture_is_not_a_drive(qtbot, window, camvid_folder: Path) -> None:
    assert window.open_path(camvid_folder)  # 4 separate pictures
    window.session.apply_prediction(window.session.current, window.session.mask("ground_truth"), None, "t")
    trigger(window, "accept")
    shown = when_dialog(lambda d: d.reject(), PropagateDialog, wait_ms=500)  # rejected, should it come
    trigger(window, "propagate")
    assert any("go to a frame of a video or an image sequence" in t for t in messages(window, "warning"))
    qtbot.wait(600)
    assert shown == [] and not window.runner.is_running()
