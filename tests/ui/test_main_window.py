"""The main window on real CamVid and Houston pictures: opening, browsing, areas, errors, settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from ui_helpers import N_PICTURES

from seggui.core.area import area_per_class, count_regions
from seggui.core.errorview import label_rgba
from seggui.core.gsd import Gsd
from seggui.core.masks import read_mask, write_mask
from seggui.ui.qtutil import qimage_to_rgba


def test_open_folder_imports_ground_truth_and_browses(qtbot, window, camvid_folder: Path, camvid: Path,
                                                      tmp_path: Path) -> None:
    before = sorted(os.listdir(camvid_folder))
    assert window.open_path(camvid_folder)
    s = window.session
    assert len(s.frame_ids) == N_PICTURES
    assert all(s.record(f).has_gt for f in s.frame_ids)
    assert s.workspace.root.parent == tmp_path / "workspaces"  # managed workspace, not in the picture folder
    assert sorted(os.listdir(camvid_folder)) == before
    tree = window.frames.tree
    assert tree.topLevelItemCount() == N_PICTURES
    assert [tree.topLevelItem(i).text(2) for i in range(N_PICTURES)] == ["✓"] * N_PICTURES
    assert tree.topLevelItem(0).text(1) == "no mask"

    # the ground-truth view shows the class colours of the real mask
    window.view.set_view("ground_truth")
    gt = read_mask(camvid / "valannot" / f"{s.current}.png", s.classes)
    shown = qimage_to_rgba(window.view.canvas.overlay_pixmap().toImage())
    expected = label_rgba(gt, s.classes)
    opaque = expected[..., 3] == 255
    assert np.array_equal(shown[..., 3] == 255, opaque)
    assert np.array_equal(shown[opaque], expected[opaque])

    # A/D move through the pictures; the browser follows
    first = s.current
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert s.current == s.frame_ids[1]
    assert tree.currentItem().text(0) == s.current
    qtbot.keyClick(window, Qt.Key.Key_A)
    assert s.current == first
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=tree.visualItemRect(tree.topLevelItem(2)).center())
    assert s.current == s.frame_ids[2]

    # filters
    window.frames.set_filter("predicted")
    assert window.frames.visible_ids() == []
    window.frames.set_filter("gt")
    assert len(window.frames.visible_ids()) == N_PICTURES
    window.frames.set_filter("all")
    window.frames.search.setText(s.frame_ids[3][-3:])
    assert window.frames.visible_ids() == [s.frame_ids[3]]

    # hiding a class makes its pixels transparent in the layer
    road = 3
    window.classes.table.item(window.classes._rows[road], 0).setCheckState(Qt.CheckState.Unchecked)
    assert road in s.hidden
    gt = read_mask(camvid / "valannot" / f"{s.current}.png", s.classes)
    shown = qimage_to_rgba(window.view.canvas.overlay_pixmap().toImage())
    assert (shown[gt == road, 3] == 0).all() and (gt == road).any()

    # the same folder opened again finds the same workspace
    root = s.workspace.root
    assert window.open_path(camvid_folder)
    assert s.workspace.root == root


def test_drop_recent_files_and_remembered_layout(qtbot, window, camvid_folder: Path, settings) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(camvid_folder))])
    enter = QDragEnterEvent(QPoint(300, 300), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert len(window.session.frame_ids) == N_PICTURES
    assert window.recent.paths()[0] == camvid_folder.resolve()
    window.view.opacity.setValue(70)
    window.metrics_dock.hide()
    window.close()
    settings.sync()
    assert settings.value("window/state") is not None

    from seggui.ui.main_window import MainWindow

    again = MainWindow(settings, store_dir=window.session.store_dir, model_dirs=[])
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.view.opacity.value() == 70
    assert again.view.canvas.overlay_opacity() == 0.7
    assert not again.metrics_dock.isVisible()
    again.fill_recent_menu()
    assert [a.text() for a in again.recent_menu.actions()] == [str(camvid_folder.resolve())]


def test_bad_inputs_are_messages_naming_the_file(window, camvid_folder: Path, tmp_path: Path) -> None:
    assert window.open_path(camvid_folder)
    small = tmp_path / "small_gt.png"
    write_mask(small, np.zeros((10, 12), np.uint8))
    assert not window.open_ground_truth(small)
    last = window.log.entries[-1]
    assert last.level == "error" and "small_gt.png" in last.text and "12x10" in last.text

    # a ground-truth folder: one good mask, one of the wrong size, one of a picture not opened
    ids = window.session.frame_ids
    gt_dir = tmp_path / "gt"
    gt_dir.mkdir()
    (gt_dir / f"{ids[0]}.png").symlink_to((camvid_folder.parent / "valannot" / f"{ids[0]}.png").resolve())
    write_mask(gt_dir / f"{ids[1]}.png", np.zeros((36, 48), np.uint8))
    write_mask(gt_dir / "not_opened.png", np.zeros((360, 480), np.uint8))
    n = len(window.log.entries)
    assert window.open_ground_truth(gt_dir)
    new = window.log.entries[n:]
    assert [m.level for m in new] == ["error", "info"]
    assert f"{ids[1]}.png" in new[0].text and "48x36" in new[0].text
    assert new[1].text == (f"imported 1 ground-truth mask from {gt_dir} "
                           "(1 mask without an open picture skipped)")

    pickle = tmp_path / "model.pkl"
    pickle.write_bytes(b"\x80\x04junk")
    assert window.model_picker.open_card(pickle) is None
    assert "model.pkl" in window.log.entries[-1].text and "not a model card" in window.log.entries[-1].text
    broken = tmp_path / "broken" / "model.json"
    broken.parent.mkdir()
    broken.write_text("{not json")
    assert window.model_picker.open_card(broken.parent) is None
    assert str(broken) in window.log.entries[-1].text

    assert not window.open_path(tmp_path / "nowhere")
    assert "nowhere: not found" in window.log.entries[-1].text
    assert not window.run_model("current")  # no model chosen: a message, not an exception
    assert "choose a model" in window.log.entries[-1].text
    # all of it non-blocking: the messages dock lists them, the window is still up
    assert window.isVisible()
    assert len(window.messages.texts()) == len(window.log.entries)
    assert window.messages_dock.windowTitle() == f"Messages ({len(window.log.entries)})"


def test_area_panel_highlights_parking_with_region_count(window, houston: Path, tmp_path: Path) -> None:
    site = tmp_path / "houston"
    (site / "images").mkdir(parents=True)
    (site / "masks").mkdir()
    (site / "classes.json").symlink_to(houston / "classes.json")
    (site / "images" / "7677.jpg").symlink_to(houston / "images" / "7677.jpg")
    (site / "masks" / "7677.png").symlink_to(houston / "masks" / "7677.png")
    assert window.open_path(site / "images")
    s = window.session
    assert s.record("7677").has_gt  # masks/ beside images/ was found
    window.areas.set_source("ground_truth")
    assert "No GSD" in window.areas.gsd_label.text()
    window.areas.gsd_spin.setValue(0.1)  # an assumed GSD: the data set does not publish one
    window.areas._on_set_gsd()
    assert s.workspace.gsd is not None and s.workspace.gsd.m_per_px == 0.1
    assert "0.100 m/px" in window.areas.gsd_label.text()

    gt = read_mask(houston / "masks" / "7677.png", s.classes)
    gsd = Gsd.square(0.1)
    expected = area_per_class(gt, s.classes, gsd, count_regions(gt, s.classes.scored_ids, gsd, min_px=20))
    shown = window.areas.report
    assert shown is not None
    for c in expected.classes:
        got = shown.get(c.id)
        assert (got.pixels, got.m2, got.percent, got.regions) == (c.pixels, c.m2, c.percent, c.regions)
    parking = expected.get(18)
    assert window.areas.focus_id == 18 and parking.pixels > 0
    text = window.areas.focus.text()
    assert "Parking Area - Commercial" in text and f"{parking.regions}</b> region" in text
    row = window.areas.table.item(18, 0)
    assert row.text() == "Parking Area - Commercial" and row.font().bold()
    assert window.areas.table.item(18, 1).text() == f"{parking.m2:,.1f} m²"

    # another place opened next: its GSD box says "not set", not the last workspace's 0.1 m/px
    other = tmp_path / "other"
    other.mkdir()
    (other / "6411.jpg").symlink_to(houston / "images" / "6411.jpg")
    assert window.open_path(other)
    assert window.session.workspace.gsd is None and "No GSD" in window.areas.gsd_label.text()
    assert window.areas.gsd_spin.value() == 0 and window.areas.gsd_spin.text() == "not set"


def test_open_command_is_registered_and_passes_its_arguments(monkeypatch) -> None:
    from seggui import cli

    calls: list[tuple] = []
    monkeypatch.setattr("seggui.ui.app.main", lambda *a, **kw: calls.append((*a, kw)) or 0)
    assert cli.main(["open", "pics", "--gt", "masks", "--model", "card"]) == 0
    assert calls == [(["pics"], "masks", "card", {"pictures": None})]
    assert cli.main(["open", "survey", "--pictures"]) == 0
    assert calls[-1] == (["survey"], None, None, {"pictures": True})
    assert cli.main(["open", "survey", "--drives"]) == 0
    assert calls[-1] == (["survey"], None, None, {"pictures": False})
    assert cli.main([]) == 0  # no subcommand: the window, with nothing to open
    assert calls[-1] == ([], None, None, {"pictures": None})


def test_no_display_is_a_clear_message(monkeypatch, capsys) -> None:
    from seggui.ui import app

    monkeypatch.setattr(sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert app.main([]) == 2
    assert "no display" in capsys.readouterr().err


def test_window_shows_without_loading_torch(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from PySide6.QtCore import QSettings\n"
        "from seggui.ui.app import application\n"
        "app = application()\n"
        "from seggui.ui.main_window import MainWindow\n"
        f"w = MainWindow(QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat), "
        f"store_dir={str(tmp_path / 'ws')!r}, model_dirs=[])\n"
        "w.show()\n"
        "for _ in range(5): app.processEvents()\n"
        "heavy = ('torch', 'onnxruntime', 'segmentation_models_pytorch', 'torchvision')\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
