"""View ▸ Sort pictures by uncertainty: the Pictures list most uncertain prediction first, in the window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QMenu

ROAD = 3


def view_menu_action(win, text: str):
    """The View menu's action whose text (without &) is `text`, as a user finds it in the menu."""
    view = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == "View")
    assert isinstance(view, QMenu)
    return next(a for a in view.actions() if a.text().replace("&", "") == text)


def predict(s, fid: str, level: int) -> None:
    h, w = s.image(fid).shape[:2]
    s.apply_prediction(fid, np.full((h, w), ROAD, np.uint8), np.full((h, w), level, np.uint8), "test")


def test_sorting_by_uncertainty_follows_predictions_and_is_kept(qtbot, window, camvid_folder: Path) -> None:
    assert window.open_path(camvid_folder)
    s, browser = window.session, window.frames
    ids = list(s.frame_ids)
    ranker = window.editing.assist.ranker
    predict(s, ids[0], 250)
    predict(s, ids[1], 90)  # least sure
    predict(s, ids[2], 140)  # ids[3]: no prediction
    act = view_menu_action(window, "Sort pictures by uncertainty")
    assert not act.isChecked() and browser.row_ids() == ids
    assert browser.tree.isColumnHidden(3)
    act.trigger()  # as a click on the menu entry does
    assert act.isChecked() and not browser.tree.isColumnHidden(3)
    qtbot.waitUntil(lambda: browser.row_ids() == [ids[1], ids[2], ids[0], ids[3]], timeout=10000)
    row = browser._items[ids[1]]
    assert row.text(3) == "100%"  # every pixel under 60 % confidence
    assert "100% of its pixels under 60% confidence" in row.toolTip(0)
    assert browser._items[ids[3]].text(3) == ""  # no prediction: no score, last
    # a new prediction moves its row: ids[0] predicted again, now the least sure of all
    predict(s, ids[0], 40)
    qtbot.waitUntil(lambda: browser.row_ids()[0] == ids[0], timeout=10000)
    assert browser.row_ids()[-1] == ids[3]
    # the current picture stays current while rows move; the filter still applies
    s.set_frame(ids[2])
    browser.set_filter("none")
    assert browser.visible_ids() == [ids[3]]
    browser.set_filter("all")
    assert browser.visible_ids() == browser.row_ids()
    assert browser.tree.currentItem() is browser._items[ids[2]]
    # kept with the workspace: opened again, the list comes sorted
    assert s.workspace.settings.get("picture_order") == "uncertainty"
    root = s.workspace.root
    assert window.open_path(root)
    assert act.isChecked()
    qtbot.waitUntil(lambda: not ranker.pending and browser.row_ids()[0] == ids[0], timeout=10000)
    act.trigger()  # off: back to the workspace's own order
    assert browser.row_ids() == ids and browser.tree.isColumnHidden(3)
    assert "picture_order" not in s.workspace.settings
