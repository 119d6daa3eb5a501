"""Thumbnails in the picture list, in the real window on real CamVid pictures and a CamVid drive video."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings
from ui_helpers import link_pictures

import seggui.core.thumbnails as thumbnails
from seggui.core.images import read_image, write_image
from seggui.core.synth import write_drive_video
from seggui.core.thumbnails import THUMBNAIL_DIR, make_thumbnail
from seggui.ui.frame_browser import ROW_MARGIN
from seggui.ui.qtutil import qimage_to_rgba
from seggui.ui.thumbnails import THUMB_BOX

N_MANY = 30


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stem of every picture decoded for a thumbnail (the cache's misses), in order."""
    calls: list[str] = []
    real = thumbnails.read_small

    def counting(path: str | Path, max_side: int = thumbnails.DEFAULT_MAX_SIDE) -> np.ndarray:
        calls.append(Path(path).stem)
        return real(path, max_side)

    monkeypatch.setattr(thumbnails, "read_small", counting)
    return calls


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch):
    """Decodes wait until the test opens the gate: what is in flight and what waits stays put."""
    opened = threading.Event()
    started = threading.Event()
    calls: list[str] = []
    real = thumbnails.read_small

    def gated(path: str | Path, max_side: int = thumbnails.DEFAULT_MAX_SIDE) -> np.ndarray:
        calls.append(Path(path).stem)
        started.set()
        assert opened.wait(20), "the test never opened the gate"
        return real(path, max_side)

    monkeypatch.setattr(thumbnails, "read_small", gated)
    yield calls, started, opened
    opened.set()


@pytest.fixture
def many_pictures(camvid: Path, tmp_path: Path) -> Path:
    names = sorted(p.name for p in (camvid / "val").glob("*.png"))[:N_MANY]
    return link_pictures(camvid, tmp_path / "many", names)


def _pixels(pixmap) -> np.ndarray:
    return qimage_to_rgba(pixmap.toImage())[..., :3]


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def _settle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.frames.thumbnails_loading, timeout=10000)


def test_visible_rows_get_thumbnails_cached_and_reused(qtbot, window, many_pictures: Path,
                                                       decodes: list[str]) -> None:
    assert window.open_path(many_pictures, pictures=True)
    frames, ids = window.frames, window.session.frame_ids
    assert len(ids) == N_MANY and frames.thumbnails_on
    _settle(qtbot, window)
    shown = frames.rows_in_view()
    assert 2 <= len(shown) < N_MANY - 2 * ROW_MARGIN
    assert all(frames.thumbnail(f) is not None for f in shown)
    # only the rows in view and the margin were decoded; the far end of the list was not
    assert sorted(decodes) == sorted(frames.rows_in_view(ROW_MARGIN))
    assert ids[-1] not in decodes and frames.thumbnail(ids[-1]) is None
    # the right aspect (480x360 pictures in a 64x48 box), and the row's own picture
    first = frames.thumbnail(ids[0])
    assert (first.width(), first.height()) == (THUMB_BOX.width(), THUMB_BOX.height())
    own = make_thumbnail(read_image(many_pictures / f"{ids[0]}.png"), 64)
    other = make_thumbnail(read_image(many_pictures / f"{ids[-1]}.png"), 64)
    assert _diff(_pixels(first), own) < 6 < _diff(_pixels(first), other)
    assert frames.tree.visualItemRect(frames.tree.topLevelItem(0)).height() >= THUMB_BOX.height()
    # cached on disk in the workspace, one small JPEG per decoded picture
    folder = window.session.workspace.root / THUMBNAIL_DIR
    assert len(list(folder.glob("*.jpg"))) == len(decodes)

    # a filter brings a far row into view: it gets its thumbnail
    window.frames.search.setText(ids[20][-5:])
    qtbot.waitUntil(lambda: frames.thumbnail(ids[20]) is not None, timeout=10000)
    assert frames.rows_in_view() == [ids[20]]
    window.frames.search.clear()

    # scrolling to the end loads the end
    frames.tree.scrollToBottom()
    qtbot.waitUntil(lambda: frames.thumbnail(ids[-1]) is not None, timeout=10000)
    _settle(qtbot, window)
    made = len(decodes)

    # the second open reads the disk cache: no picture is decoded again
    decodes.clear()
    assert window.open_path(many_pictures, pictures=True)
    assert frames.thumbnail(ids[0]) is None  # a new list starts empty
    _settle(qtbot, window)
    assert all(frames.thumbnail(f) is not None for f in frames.rows_in_view())
    assert decodes == []
    assert frames.loader.cache.hits >= len(frames.rows_in_view()) and frames.loader.cache.misses == 0
    assert len(list(folder.glob("*.jpg"))) == made


def test_fast_scroll_drops_rows_left_behind(qtbot, window, many_pictures: Path, gate) -> None:
    calls, started, opened = gate
    assert window.open_path(many_pictures, pictures=True)
    frames, tree, ids = window.frames, window.frames.tree, window.session.frame_ids
    qtbot.waitUntil(started.is_set, timeout=10000)  # the first row's decode is in flight, held
    bar = tree.verticalScrollBar()
    for value in np.linspace(bar.minimum(), bar.maximum(), 8).round().astype(int):
        bar.setValue(int(value))
        qtbot.wait(60)  # long enough for the list to ask for the rows now in view
        assert len(frames.loader.pending) <= len(frames.rows_in_view(ROW_MARGIN))
    end = frames.rows_in_view(ROW_MARGIN)
    assert ids[-1] in end and ids[0] not in end
    # the list's last request (the rows at the end) is what waits behind the held job
    qtbot.waitUntil(lambda: sorted(frames.loader.pending) == sorted(f for f in end if f != ids[0]),
                    timeout=5000)
    opened.set()
    _settle(qtbot, window)
    # what was asked for while scrolling past was dropped: only the held job and the end were made
    assert calls[0] == ids[0]
    assert sorted(calls[1:]) == sorted(f for f in end if f != ids[0])
    middle = ids[len(ids) // 2]
    assert middle not in calls and frames.thumbnail(middle) is None
    assert all(frames.thumbnail(f) is not None for f in frames.rows_in_view())


def test_switching_workspace_drops_pending_work(qtbot, window, camvid: Path, many_pictures: Path,
                                                tmp_path: Path, gate) -> None:
    calls, started, opened = gate
    others = sorted(p.name for p in (camvid / "val").glob("*.png"))[N_MANY:N_MANY + 3]
    other_folder = link_pictures(camvid, tmp_path / "other", others)
    assert window.open_path(many_pictures, pictures=True)
    qtbot.waitUntil(started.is_set, timeout=10000)
    waiting = window.frames.loader.pending
    assert waiting  # rows queued behind the held one
    assert window.open_path(other_folder)
    assert window.frames.loader.pending != waiting
    opened.set()
    _settle(qtbot, window)
    new_ids = window.session.frame_ids
    assert all(window.frames.thumbnail(f) is not None for f in new_ids)
    assert not set(waiting) & set(calls)  # never started
    # the old workspace's result arrived after the switch and was not shown in the new list
    assert calls[0] not in new_ids and window.frames.thumbnail(calls[0]) is None


def test_rewritten_picture_gets_a_new_thumbnail(qtbot, window, camvid: Path, tmp_path: Path,
                                                decodes: list[str]) -> None:
    folder = tmp_path / "copies"
    folder.mkdir()
    names = sorted(p.name for p in (camvid / "val").glob("*.png"))[:3]
    for name in names:
        shutil.copy(camvid / "val" / name, folder / name)
    assert window.open_path(folder)
    _settle(qtbot, window)
    fid = Path(names[0]).stem
    assert window.frames.thumbnail(fid).size().toTuple() == (64, 48)
    picture = folder / names[0]
    st = picture.stat()
    write_image(picture, read_image(picture)[:, 60:420])  # cropped square, in place
    os.utime(picture, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    decodes.clear()
    assert window.open_path(folder)
    _settle(qtbot, window)
    assert decodes == [fid]  # the other two came from the cache
    assert window.frames.thumbnail(fid).size().toTuple() == (48, 48)
    thumbs = window.session.workspace.root / THUMBNAIL_DIR
    assert len(list(thumbs.glob(f"{fid}.*.jpg"))) == 1  # the stale one is gone


def test_corrupt_picture_has_no_thumbnail_and_no_crash(qtbot, window, camvid: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    names = sorted(p.name for p in (camvid / "val").glob("*.png"))[:2]
    for name in names:
        shutil.copy(camvid / "val" / name, folder / name)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 500)
    (folder / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)
    assert window.open_path(folder)
    _settle(qtbot, window)
    frames = window.frames
    rows = {frames.tree.topLevelItem(i).text(0): frames.tree.topLevelItem(i)
            for i in range(frames.tree.topLevelItemCount())}
    for bad in ("broken", "cut"):
        assert frames.thumbnail_unreadable(bad) and frames.thumbnail(bad) is None
        assert "cannot be read" in rows[bad].toolTip(0)
    for name in names:
        assert frames.thumbnail(Path(name).stem) is not None
    thumbs = window.session.workspace.root / THUMBNAIL_DIR
    assert not list(thumbs.glob("broken.*")) and not list(thumbs.glob("cut.*"))
    frames.tree.viewport().repaint()  # the crossed-out box paints
    assert window.isVisible()


def test_toggle_hides_thumbnails_and_is_remembered(qtbot, window, camvid_folder: Path, settings: QSettings,
                                                   tmp_path: Path, decodes: list[str]) -> None:
    from seggui.ui.main_window import MainWindow

    act = window.actions_by_name["thumbnails"]
    assert act.isCheckable() and act.isChecked()  # on by default
    assert act in window.menuBar().actions()[2].menu().actions()  # in the View menu
    assert window.open_path(camvid_folder)
    _settle(qtbot, window)
    frames, tree = window.frames, window.frames.tree
    item = tree.topLevelItem(0)
    assert frames.thumbnail(item.text(0)) is not None
    assert tree.isColumnHidden(1) and tree.visualItemRect(item).height() >= THUMB_BOX.height()

    act.trigger()
    assert not frames.thumbnails_on and not tree.isColumnHidden(1)
    assert tree.iconSize().height() < THUMB_BOX.height()
    assert tree.visualItemRect(item).height() < THUMB_BOX.height()
    assert item.text(1) == "no mask" and not item.icon(0).isNull()  # the status dot is back by the name
    assert settings.value("view/thumbnails", type=bool) is False

    # a new window starts with them off and decodes nothing
    decodes.clear()
    again = MainWindow(settings, store_dir=tmp_path / "workspaces", model_dirs=[tmp_path / "models"])
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert not again.actions_by_name["thumbnails"].isChecked() and not again.frames.thumbnails_on
    assert again.open_path(camvid_folder)
    qtbot.wait(150)
    assert decodes == [] and again.frames.thumbnail(again.session.frame_ids[0]) is None
    again.actions_by_name["thumbnails"].trigger()
    qtbot.waitUntil(lambda: all(again.frames.thumbnail(f) is not None for f in again.session.frame_ids),
                    timeout=10000)
    assert decodes == []  # the first window cached them
    again.close()


def test_video_frames_get_thumbnails_from_their_own_decoder(qtbot, window, camvid: Path,
                                                             tmp_path: Path) -> None:
    names = sorted(p for p in (camvid / "train").glob("0016E5_*.png"))[:12]
    frames = [cv2.resize(read_image(p), (128, 96), interpolation=cv2.INTER_AREA) for p in names]
    video = write_drive_video(tmp_path / "clip" / "drive.mp4", frames, fps=10.0)
    assert window.open_path(video)
    s = window.session
    _settle(qtbot, window)
    shown = window.frames.rows_in_view()
    assert shown and all(window.frames.thumbnail(f) is not None for f in shown)
    for fid in shown[:3]:
        pixels = _pixels(window.frames.thumbnail(fid))
        assert pixels.shape == (48, 64, 3)
        assert _diff(pixels, make_thumbnail(s.image(fid), 64)) < 8  # this frame, not another
    assert _diff(_pixels(window.frames.thumbnail(shown[0])), make_thumbnail(s.image(shown[2]), 64)) > \
        _diff(_pixels(window.frames.thumbnail(shown[0])), make_thumbnail(s.image(shown[0]), 64))
    assert len(list((s.workspace.root / THUMBNAIL_DIR).glob("drive_*.jpg"))) >= len(shown)
