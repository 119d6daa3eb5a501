"""Image-sequence folders in the window: CamVid drives open with a timeline, frame ranges run in the
background and resume, and the drive exports work on them as on a video."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from seggui.core.masks import read_mask
from seggui.core.media import open_source
from seggui.core.workspace import FrameStatus
from seggui.ui.drive_export import export_area_csv, export_overlay_video
from seggui.ui.drive_run import RangeDialog, run_drive, run_range, run_range_dialog

PER_DRIVE = 12


@pytest.fixture
def drives(camvid: Path, tmp_path: Path) -> Path:
    """tmp/drives/train: 12 frames each of CamVid 0016E5 and 0001TP plus one loose picture (symlinks),
    with trainannot/ beside it (the ground truth the window imports by itself)."""
    root = tmp_path / "drives"
    (root / "train").mkdir(parents=True)
    (root / "trainannot").mkdir()
    (root / "classes.json").symlink_to(camvid / "classes.json")
    for prefix in ("0016E5_", "0001TP_"):
        for p in sorted((camvid / "train").glob(f"{prefix}*.png"))[:PER_DRIVE]:
            (root / "train" / p.name).symlink_to(p)
            (root / "trainannot" / p.name).symlink_to(camvid / "trainannot" / p.name)
    loose = sorted((camvid / "val").glob("*.png"))[0]
    (root / "train" / "overview.png").symlink_to(loose)
    return root / "train"


def _names(folder: Path, prefix: str) -> list[str]:
    return sorted(p.stem for p in folder.glob(f"{prefix}*.png"))


def test_a_sequence_folder_opens_as_drives_with_a_timeline(qtbot, window, drives: Path) -> None:
    assert window.open_path(drives)
    s, tl, ws = window.session, window.timeline, window.session.workspace
    e5, tp = _names(drives, "0016E5_"), _names(drives, "0001TP_")
    assert set(s.frame_ids) == {*e5, *tp, "overview"}
    assert len(ws.drives()) == 2 and ws.frames["overview"].drive is None
    assert all(ws.frames[f].has_gt for f in e5 + tp)  # trainannot/ imported by name
    assert any("12 frames opened as a drive" in m.text for m in window.log.entries)

    s.set_frame(e5[0])
    assert window.drive_dock.isVisible() and tl.isEnabled()
    assert tl.frames == e5 and tl.label.text().startswith(f"frame 1 of {PER_DRIVE}")
    assert s.video().frame_size == (360, 480) and s.image().shape == (360, 480, 3)

    def key(k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> int:
        qtbot.keyClick(window, k, mod)
        return tl.position

    assert key(Qt.Key.Key_D) == 1
    assert key(Qt.Key.Key_End) == PER_DRIVE - 1
    assert key(Qt.Key.Key_D) == PER_DRIVE - 1  # the drive ends here: D does not run into the next one
    assert s.current == e5[-1]
    s.set_frame(tp[3])
    assert tl.frames == tp and tl.position == 3

    # a sequence carries no frame rate: 30 is assumed until the analyst types the real one
    assert tl.fps == 30 and tl.fps_box.value() == 30 and "0:00.10" in tl.label.text()
    tl.fps_box.setValue(1.0)
    assert tl.fps == 1.0 and "0:03.00" in tl.label.text()
    s.set_frame(e5[0])
    assert tl.fps == 30  # the other drive keeps its own
    assert window.open_path(drives)  # kept with the workspace
    s.set_frame(tp[3])
    assert tl.fps == 1.0 and tl.fps_box.value() == 1.0
    s.set_frame("overview")
    assert not tl.isEnabled() and not window.drive_dock.isVisible()
    assert tl.fps_box.text() == "–"  # a picture has no frame rate (the box said 0.10 fps)
    s.set_frame(tp[3])
    tl.fps_box.setValue(0.0)  # typed down to nothing: the drive keeps its rate
    assert tl.fps == 1.0 and tl.fps_box.value() == 1.0

    # the range marks: I / O on the timeline, cleared by moving to another drive
    s.set_frame(e5[2])
    qtbot.keyClick(window, Qt.Key.Key_I)
    s.set_frame(e5[6])
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert tl.marked_range() == (2, 6) and tl.strip.marked == (2, 6) and "range 3–7" in tl.label.text()
    qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ShiftModifier)
    assert not tl.has_marks() and tl.strip.marked is None


def test_one_sequence_by_glob_and_pictures_only(window, drives: Path) -> None:
    s = window.session
    assert window.open_path(drives / "0016E5_*")
    assert s.frame_ids == _names(drives, "0016E5_") and len(s.workspace.drives()) == 1
    assert window.timeline.frames == s.frame_ids

    assert window.open_path(drives, pictures=True)
    assert len(s.frame_ids) == 2 * PER_DRIVE + 1 and s.workspace.drives() == {}
    assert not window.timeline.isEnabled()
    assert window.open_path(drives)  # the folder remembers it was opened as pictures
    assert s.workspace.drives() == {}
    assert window.open_path(drives, pictures=False)
    assert len(s.workspace.drives()) == 2


@pytest.mark.slow
def test_range_runs_resume_and_exports(qtbot, window, drives: Path, tiny_card: Path, tmp_path: Path) -> None:
    assert window.open_path(drives)
    assert window.model_picker.open_card(tiny_card) is not None
    s = window.session
    e5 = _names(drives, "0016E5_")
    s.set_frame(e5[0])

    # frames 3..7 of the drive, from the dialog prefilled with the I / O marks
    window.timeline.go_to(3)
    window.timeline.mark_in()
    window.timeline.go_to(7)
    window.timeline.mark_out()

    def accept() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, RangeDialog) and dialog.span() == (3, 7)
        assert "5 frames" in dialog.summary.text()
        buttons = dialog.findChild(QDialogButtonBox)
        qtbot.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)

    QTimer.singleShot(200, accept)
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert run_range_dialog(window)
    assert window.inference.last_result == {"predicted": 5, "failed": 0}
    ws = s.workspace
    assert [f for f in e5 if ws.frames[f].status == FrameStatus.PREDICTED] == e5[3:8]
    assert all(ws.frames[f].status == FrameStatus.NONE for f in _names(drives, "0001TP_"))

    # a range overlapping the done frames predicts only the new ones; then the drive resumes
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert run_range(window, 6, 9)
    assert window.inference.last_result == {"predicted": 2, "failed": 0}
    s.set_frame(e5[0])
    window.activateWindow()  # the range dialog had the focus: shortcuts go to the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert run_drive(window)
        qtbot.keyClick(window, Qt.Key.Key_D)  # browsable while it runs
        assert window.runner.is_running() and s.current == e5[1]
    assert window.inference.last_result == {"predicted": PER_DRIVE - 7, "failed": 0}
    assert all(ws.frames[f].status == FrameStatus.PREDICTED for f in e5)
    assert read_mask(ws.mask_path(e5[0], "predicted")).shape == (360, 480)
    assert not run_drive(window) and window.log.entries[-1].text == "nothing to predict"

    # the drive's area/IoU plot has one point per frame, IoU everywhere (ground truth on every frame)
    plot = window.drive_plot
    qtbot.waitUntil(lambda: len(plot.series()) == PER_DRIVE and not plot.runner.is_running(), timeout=30000)
    qtbot.waitUntil(lambda: plot.iou_curve.getData()[0] is not None
                    and len(plot.iou_curve.getData()[0]) == PER_DRIVE, timeout=30000)

    out = tmp_path / "out" / "overlay.mp4"
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert export_overlay_video(s, window.runner, out)
    with open_source(out) as src:
        assert len(src) == PER_DRIVE and src.frame_size == (360, 480)
        assert src.fps == pytest.approx(30.0)
    window.timeline.set_fps(5.0)  # the rate typed for the sequence is the overlay video's
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert export_overlay_video(s, window.runner, out.with_name("slow.mp4"))
    with open_source(out.with_name("slow.mp4")) as src:
        assert len(src) == PER_DRIVE and src.fps == pytest.approx(5.0)
    table = tmp_path / "out" / "area.csv"
    with qtbot.waitSignal(window.runner.finished, timeout=60000):
        assert export_area_csv(s, window.runner, table)
    rows = [r for r in csv.DictReader(table.open()) if r["frame"] != "TOTAL"]
    assert [r["frame"] for r in rows] == e5
    assert {r["source"] for r in rows} == {ws.frames[e5[0]].drive}

    # copy labels from the previous frame: the drive's previous frame, never another drive's last one
    s.set_frame(e5[5])
    window.editing.copy_previous()
    assert (s.mask("current") == read_mask(ws.mask_path(e5[4], "predicted"))).all()
    window.editing.undo()
    s.set_frame(_names(drives, "0001TP_")[0])
    window.editing.copy_previous()
    assert "first frame of its drive" in window.log.entries[-1].text


def test_range_without_a_drive_is_a_message(window, drives: Path) -> None:
    assert window.open_path(drives)
    window.session.set_frame("overview")
    actions = window.actions_by_name
    drive_only = ("run_drive", "run_range", "export_overlay", "export_csv")
    assert not any(actions[k].isEnabled() for k in drive_only)  # greyed on a picture
    assert not run_range_dialog(window)
    assert "go to a frame of a drive first" in window.log.entries[-1].text
    window.session.set_frame(sorted(f for f in window.session.workspace.frames if f != "overview")[0])
    assert all(actions[k].isEnabled() for k in drive_only)


def _copy_frames(camvid: Path, dest: Path, names: list[str]) -> list[Path]:
    """Real (not linked) copies of CamVid frames, since the test deletes some of them."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    src = sorted((camvid / "train").glob("0016E5_*.png"))
    return [Path(shutil.copyfile(p, dest / n)) for p, n in zip(src, names, strict=False)]


def test_reopening_a_changed_folder_leaves_no_ghost_frames(window, camvid: Path, tmp_path: Path) -> None:
    folder = tmp_path / "changing"
    files = _copy_frames(camvid, folder, [f"g_{i:04d}.png" for i in range(14)])
    s = window.session
    assert window.open_path(folder)
    assert len(s.workspace.drives()) == 1
    files[2].unlink()
    assert window.open_path(folder)
    (frames,) = s.workspace.drives().values()
    assert len(frames) == 13 and "g_0002" not in s.frame_ids
    assert [s.record(f).index for f in frames] == list(range(13))
    s.set_frame(frames[0])
    assert window.timeline.frames == frames
    for p in files[3:8]:  # below ten frames: the rest are pictures again, no drive left behind
        p.unlink()
    assert window.open_path(folder)
    assert s.workspace.drives() == {} and len(s.frame_ids) == 8
    assert any("were dropped" in m.text for m in window.log.entries)


def test_a_loose_picture_sharing_a_frame_stem_gets_its_own_id(window, camvid: Path, tmp_path: Path) -> None:
    folder = tmp_path / "clash"
    _copy_frames(camvid, folder, [f"cam_{i:04d}.png" for i in range(12)])
    _copy_frames(camvid, folder, ["cam_0005.jpg"])  # a PNG's bytes under .jpg: still a readable picture
    s = window.session
    assert window.open_path(folder)
    (frames,) = s.workspace.drives().values()
    assert len(frames) == 12 and "cam_0005" in frames
    assert s.record("cam_0005_jpg").drive is None and s.workspace.image_path("cam_0005_jpg").suffix == ".jpg"


def test_opening_another_workspace_stops_a_drive_run(qtbot, window, drives: Path, tiny_card: Path,
                                                      camvid_folder: Path) -> None:
    assert window.open_path(drives)
    assert window.model_picker.open_card(tiny_card) is not None
    first = window.session.workspace.root
    window.session.set_frame(_names(drives, "0016E5_")[0])
    with qtbot.waitSignal(window.runner.cancelled, timeout=60000):
        assert run_drive(window)
        assert window.open_path(camvid_folder)
    assert window.session.workspace.root != first
    assert all(r.status == FrameStatus.NONE for r in window.session.workspace.frames.values())
    assert any("another workspace was opened" in m.text for m in window.log.entries)
