"""Background inference with a tiny model through the real runner; metrics and the error view."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt
from ui_helpers import N_PICTURES, link_pictures

from seggui.core.confusion import ConfusionMatrix
from seggui.core.errorview import FN_COLOR, FP_COLOR, TP_ALPHA, class_errors
from seggui.core.masks import read_mask
from seggui.core.metrics import compute_metrics
from seggui.core.workspace import FrameStatus
from seggui.ui.metrics_panel import COLUMNS, fmt
from seggui.ui.qtutil import qimage_to_rgba


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def check_panel(window, metrics) -> None:
    """Every number in the table equals the core figure, and is shown as such."""
    panel = window.metrics
    assert panel.metrics is not None
    for j, cid in enumerate(metrics.ids):
        for key, _title in COLUMNS:
            expected = float(getattr(metrics, key)[j])
            assert same(panel.value(cid, key), expected), (cid, key)
            col = 1 + [k for k, _t in COLUMNS].index(key)
            assert panel.table.item(j, col).text() == fmt(expected)
    assert f"mIoU {fmt(metrics.miou)}" in panel.summary.text()


def test_inference_metrics_and_error_view(qtbot, window, camvid_folder: Path, camvid: Path,
                                          tiny_card: Path) -> None:
    assert window.open_path(camvid_folder)
    assert window.model_picker.open_card(tiny_card) is not None
    assert window.model_label.text() == "tiny-camvid v1 · loads on first run"
    s = window.session
    ids = list(s.frame_ids)
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.run_model("all")
        assert window.job_panel.cancel_button.isVisible()
        # the window stays usable while the job runs
        qtbot.keyClick(window, Qt.Key.Key_D)
        assert s.current == ids[1]
        window.view.canvas.zoom_at(2.0, window.view.canvas.viewport().rect().center())
    assert window.inference.last_result == {"predicted": N_PICTURES, "failed": 0}
    assert any(m.text == f"predicted the {N_PICTURES} pictures" for m in window.log.entries)  # not "frames"
    assert all(s.record(f).status == FrameStatus.PREDICTED for f in ids)
    assert window.model_label.text() == "tiny-camvid v1 · torch · CPU"
    assert not window.job_panel.cancel_button.isVisible()
    assert window.frames.tree.topLevelItem(0).text(1) == "predicted"

    table, ws = s.classes, s.workspace

    def core_matrix(fid: str) -> ConfusionMatrix:
        pred = read_mask(ws.mask_path(fid, "predicted"), table)
        gt = read_mask(camvid / "valannot" / f"{fid}.png", table)
        return ConfusionMatrix.for_table(table).update(pred, gt)

    # this picture: the tiny model's prediction
    s.set_frame(ids[0])
    check_panel(window, compute_metrics(core_matrix(ids[0]), table))

    # a telling prediction for picture 2: the ground truth shifted by 9 pixels
    gt2 = read_mask(camvid / "valannot" / f"{ids[2]}.png", table)
    shifted = np.roll(gt2, 9, axis=1)
    s.set_frame(ids[2])
    s.apply_prediction(ids[2], shifted, None, "test")
    expected2 = compute_metrics(core_matrix(ids[2]), table)
    assert 0.5 < expected2.miou < 1.0
    check_panel(window, expected2)

    # the whole workspace: matrices of every picture summed
    with qtbot.waitSignal(window.metrics.runner.finished, timeout=30000):
        window.metrics.set_scope("workspace")
    total = ConfusionMatrix.for_table(table)
    for fid in ids:
        total.merge(core_matrix(fid))
    check_panel(window, compute_metrics(total, table))
    assert window.metrics.frames_counted == N_PICTURES
    assert window.metrics.bars is not None

    # the error view of Road on picture 2 colours exactly its FP and FN pixels
    road = 3
    window.classes.select_class(road)
    assert s.active_class == road
    window.view.set_view("errors")
    shown = qimage_to_rgba(window.view.canvas.overlay_pixmap().toImage())
    err = class_errors(shifted, gt2, road, table.ignore_index)
    assert err.fp.any() and err.fn.any()
    opaque = shown[..., 3] == 255
    assert np.array_equal(opaque & (shown[..., :3] == FP_COLOR).all(-1), err.fp)
    assert np.array_equal(opaque & (shown[..., :3] == FN_COLOR).all(-1), err.fn)
    assert (np.abs(shown[err.tp, 3].astype(int) - TP_ALPHA) <= 1).all()
    assert (shown[~(err.tp | err.fp | err.fn), 3] == 0).all()
    assert "Road" in window.view.hint.text()

    # pixel readout of the hovered pixel
    canvas = window.view.canvas
    canvas.fit()
    qtbot.wait(100)  # the layout settles first (the status bar's job widgets hide after a run)
    middle = canvas.map_to_image(canvas.viewport().rect().center())
    centre = QPointF(int(middle.x()) + 0.5, int(middle.y()) + 0.5)  # a pixel's centre, off its edges
    pos = canvas.map_from_image(centre).toPoint()
    qtbot.mouseMove(canvas.viewport(), pos)
    x, y = canvas.pixel_at(pos)  # read after the move, in the view the readout used
    text = window.view.readout.text()
    assert text.startswith(f"x {x}, y {y}") and f"truth {table.name_of(int(gt2[y, x]))}" in text


def test_cancel_stops_a_long_inference_run(qtbot, window, camvid: Path, tmp_path: Path,
                                           tiny_card: Path) -> None:
    names = sorted(p.name for p in (camvid / "val").glob("*.png"))[:4]
    for i in range(10):  # 40 pictures: far longer than the cancel takes
        folder = link_pictures(camvid, tmp_path / "long", names, prefix=f"{i:02d}_")
    assert window.open_path(folder)
    total = len(window.session.frame_ids)
    assert total == 40
    window.model_picker.open_card(tiny_card)
    clicked: list[int] = []

    def on_progress(p) -> None:
        if p.item and not clicked:  # a frame was predicted
            clicked.append(p.done)
            qtbot.mouseClick(window.job_panel.cancel_button, Qt.MouseButton.LeftButton)

    window.runner.progress.connect(on_progress)
    with qtbot.waitSignal(window.runner.cancelled, timeout=120000):
        assert window.run_model("all")
    predicted = window.session.workspace.frames_with_status(FrameStatus.PREDICTED)
    assert 1 <= len(predicted) < total
    assert "cancelled" in window.job_panel.title.text()
    assert not window.runner.is_running()


def test_corrupt_picture_is_a_message_and_the_others_are_predicted(qtbot, window, camvid: Path,
                                                                     tmp_path: Path, tiny_card: Path) -> None:
    names = sorted(p.name for p in (camvid / "val").glob("*.png"))[:2]
    folder = link_pictures(camvid, tmp_path / "mixed", names)
    bad = folder / "0000_broken.png"
    bad.write_bytes((camvid / "val" / names[0]).read_bytes()[:3000])  # a truncated PNG
    assert window.open_path(folder)
    s = window.session
    assert s.current == "0000_broken"  # sorted first, shown first
    errors = [m.text for m in window.log.errors()]
    assert any("0000_broken.png" in t and "truncated" in t for t in errors)
    assert "Cannot show" in window.view.hint.text()
    window.model_picker.open_card(tiny_card)
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.run_model("all")
    assert window.inference.last_result == {"predicted": 2, "failed": 1}
    assert s.record("0000_broken").status == FrameStatus.NONE
    assert sum("0000_broken.png" in m.text for m in window.log.errors()) >= 2
    qtbot.keyClick(window, Qt.Key.Key_D)  # the app goes on: the next picture shows with its prediction
    assert window.view.canvas.has_image() and s.mask("current") is not None


def test_a_drive_is_written_off_the_gui_thread_and_recorded_in_one_save(qtbot, window, tmp_path: Path,
                                                                        tiny_card: Path, monkeypatch) -> None:
    """The window's run encodes every mask on a worker and saves seggui.json per batch, not per frame."""
    import threading

    import cv2

    import seggui.core.masks as masks_module
    import seggui.core.workspace as workspace_module
    from seggui.core.workspace import Workspace

    folder, n = tmp_path / "seq", 30
    folder.mkdir()
    y, x = np.mgrid[0:48, 0:64]
    for i in range(n):
        cv2.imwrite(str(folder / f"run_{i:04d}.png"),
                    np.dstack([(x * 3 + i) % 256, (y * 5) % 256, (x + y + 7 * i) % 256]).astype(np.uint8))
    assert window.open_path(folder)
    assert window.model_picker.open_card(tiny_card) is not None
    window.inference.record_every_s = 3600.0  # one batch at the end: the count below does not hang on speed
    on_gui: list[str] = []
    saves: list[Path] = []
    encode, save = masks_module.encode_png, workspace_module.save_merged

    def spy_encode(mask, path):  # noqa: ANN001, ANN202
        if threading.current_thread() is threading.main_thread():
            on_gui.append(str(path))
        return encode(mask, path)

    def spy_save(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        saves.append(path)
        return save(path, *args, **kwargs)

    monkeypatch.setattr(masks_module, "encode_png", spy_encode)
    monkeypatch.setattr(workspace_module, "save_merged", spy_save)
    with qtbot.waitSignal(window.runner.finished, timeout=120000):
        assert window.run_model("all")
    assert window.inference.last_result == {"predicted": n, "failed": 0}
    assert on_gui == []
    assert len(saves) <= 2  # the model in use at the start, then the frames: one write for all of them
    on_disk = Workspace.open(window.session.workspace.root)
    assert all(on_disk.frames[f].status == FrameStatus.PREDICTED for f in window.session.frame_ids)
    assert all(on_disk.mask_path(f, "confidence").is_file() for f in window.session.frame_ids)
