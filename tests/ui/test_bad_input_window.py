"""A decompression bomb in a folder opened in the window: a message in Messages, never an exception."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from bomb_files import png_bomb

from seggui.core.images import read_image


def test_bomb_picture_lands_in_messages(window, tmp_path: Path) -> None:
    folder = tmp_path / "pictures"
    folder.mkdir()
    png_bomb(folder / "a_bomb.png", 60000, 60000)  # first by name: shown as soon as the folder opens
    good = np.full((48, 64, 3), 90, np.uint8)
    cv2.imwrite(str(folder / "b_good.png"), good)
    assert window.open_path(folder)
    s = window.session
    assert s.frame_ids == ["a_bomb", "b_good"]
    errors = [e.text for e in window.log.entries if e.level == "error"]
    assert any("a_bomb.png" in t and "60000x60000" in t and "SEGGUI_MAX_PIXELS" in t for t in errors), errors
    assert any("a_bomb.png" in t for t in window.messages.texts())  # shown in the Messages dock
    window.frames.tree.setCurrentItem(window.frames.tree.topLevelItem(1))
    assert s.current == "b_good"
    assert np.array_equal(s.image(), read_image(folder / "b_good.png"))
    assert window.isVisible()


def test_the_pixel_limit_is_a_setting(qtbot, settings, tmp_path: Path) -> None:
    from seggui.core.imagesize import DEFAULT_MAX_PIXELS, max_pixels, set_max_pixels
    from seggui.ui.main_window import MainWindow

    settings.setValue("limits/max_pixels", 2000)  # a site that wants a tight limit (or a huge one)
    pic = tmp_path / "p" / "p.png"
    pic.parent.mkdir()
    cv2.imwrite(str(pic), np.zeros((40, 60, 3), np.uint8))
    try:
        win = MainWindow(settings, store_dir=tmp_path / "workspaces", model_dirs=[])
        qtbot.addWidget(win)
        assert max_pixels() == 2000
        win.open_path(pic)
        assert any("60x40" in e.text and "over the limit of 2,000 pixels" in e.text for e in win.log.entries)
    finally:
        set_max_pixels(None)
    assert max_pixels() == DEFAULT_MAX_PIXELS
