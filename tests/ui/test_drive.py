"""Drives in the window: a short video of CamVid frames, timeline keys, drive-wide inference,
the area/IoU plot with click-to-jump, and the exports (overlay video, per-frame area CSV)."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from seggui.core.images import read_image
from seggui.core.masks import read_mask, write_mask
from seggui.core.media import open_source
from seggui.core.synth import write_drive_video
from seggui.core.workspace import FrameStatus
from seggui.ui.drive_export import export_area_csv, export_overlay_video

N_FRAMES = 12
HW = (96, 128)


@pytest.fixture
def drive(camvid: Path, tmp_path: Path) -> tuple[Path, list[Path]]:
    """tmp/drive.mp4 from 12 CamVid 0016E5 train frames at 96x128, and their resized ground truth."""
    names = sorted(p.name for p in (camvid / "train").glob("0016E5_*.png"))[:N_FRAMES]
    assert len(names) == N_FRAMES
    frames = [cv2.resize(read_image(camvid / "train" / n), (HW[1], HW[0]), interpolation=cv2.INTER_AREA)
              for n in names]
    video = write_drive_video(tmp_path / "clip" / "drive.mp4", frames, fps=10.0)
    gts = []
    for i, n in enumerate(names[:3]):
        gt = cv2.resize(read_mask(camvid / "trainannot" / n), (HW[1], HW[0]), interpolation=cv2.INTER_NEAREST)
        gts.append(write_mask(tmp_path / "gt" / f"{i}.png", gt))
    return video, gts


def test_open_video_and_timeline_keys(qtbot, window, drive) -> None:
    video, _gts = drive
    assert window.open_path(video)
    s, tl = window.session, window.timeline
    assert len(s.frame_ids) == N_FRAMES
    assert s.frame_ids[0] == "drive_000000"
    image = s.image()
    assert image is not None and image.shape == (*HW, 3)
    assert window.view.canvas.image_size() == (HW[1], HW[0])
    assert window.drive_dock.isVisible()
    assert tl.frames == s.frame_ids and tl.isEnabled()
    assert tl.label.text().startswith(f"frame 1 of {N_FRAMES}")
    # every frame decodes, equal to a sequential decode of the file
    with open_source(video) as src:
        frames = [frame for _i, frame in src.iter_frames()]
    for i, frame in enumerate(frames):
        assert np.array_equal(s.image(s.frame_ids[i]), frame)

    def key(k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> int:
        qtbot.keyClick(window, k, mod)
        return tl.position

    shift = Qt.KeyboardModifier.ShiftModifier
    assert key(Qt.Key.Key_D) == 1
    assert key(Qt.Key.Key_D, shift) == 11
    assert key(Qt.Key.Key_D) == 11  # clamped at the end
    assert key(Qt.Key.Key_Home) == 0
    assert key(Qt.Key.Key_End) == N_FRAMES - 1
    assert key(Qt.Key.Key_A, shift) == 1
    assert key(Qt.Key.Key_A) == 0
    assert tl.slider.value() == 0
    tl.slider.setValue(5)
    assert s.current == s.frame_ids[5]
    assert "0:00.50" in tl.label.text()

    # play from the start at the video's rate, with the overlay on; stops at the last frame
    window.view.set_view("picture")
    qtbot.keyClick(window, Qt.Key.Key_Home)
    qtbot.keyClick(window, Qt.Key.Key_K)
    assert tl.is_playing()
    assert window.view.view == "prediction"
    assert tl.timer.interval() == 100
    qtbot.waitUntil(lambda: not tl.is_playing(), timeout=10000)
    assert tl.position == N_FRAMES - 1
    qtbot.keyClick(window, Qt.Key.Key_K)  # at the end: plays again from the start
    assert tl.is_playing() and tl.position == 0
    qtbot.keyClick(window, Qt.Key.Key_K)
    assert not tl.is_playing()

    # the managed workspace, opened as a workspace, reads its frames from the video again
    root = s.workspace.root
    assert window.open_path(root)
    assert s.source == root and len(tl.frames) == N_FRAMES
    assert np.array_equal(s.image(s.frame_ids[4]), frames[4])


def test_bad_video_is_a_message(window, tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    assert not window.open_path(bad)
    assert str(bad) in window.log.entries[-1].text
    assert window.session.workspace is None and not window.drive_dock.isVisible()


def test_drive_inference_plot_and_exports(qtbot, window, drive, tiny_card: Path, tmp_path: Path) -> None:
    video, gts = drive
    assert window.open_path(video)
    assert window.model_picker.open_card(tiny_card) is not None
    s, ws = window.session, window.session.workspace
    ids = list(s.frame_ids)

    # one frame first; "Run all" then skips it (resume) and predicts the other eleven
    s.set_frame(ids[3])
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.run_model("current")
    assert window.inference.last_result == {"predicted": 1, "failed": 0}
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.run_model("all")
        qtbot.keyClick(window, Qt.Key.Key_D)  # browsable while it runs
    assert window.inference.last_result == {"predicted": N_FRAMES - 1, "failed": 0}
    ws = s.workspace
    for fid in ids:
        assert s.record(fid).status == FrameStatus.PREDICTED
        assert read_mask(ws.mask_path(fid, "predicted")).shape == HW
    assert not window.run_model("all")  # nothing left to do
    texts = [m.text for m in window.log.entries[-2:]]
    assert any("already predicted" in t for t in texts) and texts[-1] == "nothing to predict"

    # status strip: every frame predicted; ground truth on three frames
    for i, gt in enumerate(gts):
        s.import_mask_file(ids[i], gt)
    plot = window.drive_plot
    qtbot.waitUntil(lambda: len(plot.series()) == N_FRAMES and not plot.runner.is_running(), timeout=20000)
    qtbot.waitUntil(lambda: plot.iou_curve.getData()[0] is not None
                    and len(plot.iou_curve.getData()[0]) == 3, timeout=20000)
    qtbot.waitUntil(lambda: window.timeline.strip.gt.sum() == 3, timeout=5000)
    assert set(window.timeline.strip.codes.tolist()) == {1}
    xs, ys = plot.area_curve.getData()
    assert list(xs) == list(range(1, N_FRAMES + 1))  # frames counted from 1, like the timeline
    from seggui.core.area import area_per_class

    cid = s.active_class
    px = [area_per_class(read_mask(ws.mask_path(f, "predicted")), ws.classes).get(cid).pixels for f in ids]
    assert list(ys) == px  # no GSD: pixels, as the area report counts them
    iou_x, iou_y = plot.iou_curve.getData()
    assert list(iou_x) == [1, 2, 3] and all(0 <= v <= 1 for v in iou_y)
    name = ws.classes.name_of(cid)
    assert plot.area_plot.getAxis("left").labelText == f"{name} (px)"
    assert plot.iou_plot.getAxis("left").labelText == f"{name} IoU"

    # a GSD typed into the Area panel turns the plot into m² at once (it kept px until reopened)
    panel = window.areas
    panel.gsd_spin.lineEdit().selectAll()
    qtbot.keyClicks(panel.gsd_spin.lineEdit(), "0.5")
    qtbot.mouseClick(panel.set_button, Qt.MouseButton.LeftButton)
    assert ws.gsd is not None and ws.gsd.m_per_px == 0.5
    qtbot.waitUntil(lambda: plot.area_plot.getAxis("left").labelText == f"{name} (m²)"
                    and len(plot.series()) == N_FRAMES, timeout=20000)
    assert list(plot.area_curve.getData()[1]) == pytest.approx([v * 0.25 for v in px])

    # clicking the plot near frame 7 jumps there (a real mouse click on the plot's viewport)
    qtbot.waitUntil(lambda: plot.widget.isVisible(), timeout=5000)
    vb = plot.area_plot.vb

    def frame7_pos():
        y_mid = (vb.viewRange()[1][0] + vb.viewRange()[1][1]) / 2
        # frame 8 on screen (counted from 1) is index 7
        return plot.widget.mapFromScene(vb.mapViewToScene(QPointF(8.2, y_mid)))

    # the plots lay themselves out after the IoU curve appears: click once the geometry is still
    last = None
    for _ in range(50):
        qtbot.wait(50)
        pos = frame7_pos()
        if pos == last:
            break
        last = pos
    qtbot.mouseClick(plot.widget.viewport(), Qt.MouseButton.LeftButton, pos=frame7_pos())
    qtbot.waitUntil(lambda: s.current == ids[7], timeout=3000)
    assert window.timeline.position == 7

    # exports: the overlay video has every frame at the drive's size; the CSV one row a frame
    out = tmp_path / "out" / "overlay.mp4"
    with qtbot.waitSignal(window.runner.finished, timeout=60000):
        assert export_overlay_video(s, window.runner, out)
    with open_source(out) as src:
        assert len(src) == N_FRAMES and src.frame_size == HW
    table = tmp_path / "out" / "area.csv"
    with qtbot.waitSignal(window.runner.finished, timeout=60000):
        assert export_area_csv(s, window.runner, table)
    rows = list(csv.DictReader(table.open()))
    frames = [r["frame"] for r in rows if r["frame"] in ids]
    assert frames == ids
