"""A selected row of the picture list still shows its status dot, thumbnails on or off.

The selection's highlight is blue and so is the "predicted" dot: drawn as
on any other row the dot melted into the highlight (thumbnails on), or Qt
tinted it with the highlight (thumbnails off, the icon's Selected mode). The
rows are clicked with the mouse, the list is grabbed to an image, and the
selected row must hold the status colour itself, set off from the highlight
by a light ring.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from seggui.core.workspace import FrameStatus
from seggui.ui.frame_browser import STATUS_COLORS
from seggui.ui.qtutil import qimage_to_rgba


def click_row(qtbot, tree, fid: str):  # noqa: ANN001, ANN201
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == fid)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    qtbot.waitUntil(lambda: item.isSelected(), timeout=3000)
    return item


def dot_in_row(tree, item, rgb: tuple[int, int, int]) -> tuple[int, int]:  # noqa: ANN001
    """(pixels of exactly the status colour, near-white pixels right around them) in the row's image."""
    rect = tree.visualItemRect(item)
    image = qimage_to_rgba(tree.viewport().grab().toImage())
    rows = image[rect.top():rect.bottom() + 1, :rect.right() + 1, :3]
    exact = np.all(rows == rgb, axis=2)
    if not exact.any():
        return 0, 0
    ys, xs = np.nonzero(exact)
    around = rows[max(ys.min() - 2, 0):ys.max() + 3, max(xs.min() - 2, 0):xs.max() + 3]
    return int(exact.sum()), int(np.all(around >= 225, axis=2).sum())


@pytest.mark.parametrize("thumbnails", [True, False])
def test_a_selected_row_shows_its_status_dot(qtbot, window, camvid_folder: Path, thumbnails: bool) -> None:
    assert window.open_path(camvid_folder)
    s, tree = window.session, window.frames.tree
    if not thumbnails:
        window.actions_by_name["thumbnails"].trigger()  # View > Thumbnails in the picture list, off
    assert window.frames.thumbnails_on is thumbnails
    first, second = s.frame_ids[:2]
    gt = s.mask("ground_truth", first)
    for fid in (first, second):
        s.apply_prediction(fid, gt, None, "test")
    click_row(qtbot, tree, second)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Mark reviewed
    assert s.record(second).status == FrameStatus.REVIEWED
    for fid, status in ((first, FrameStatus.PREDICTED), (second, FrameStatus.REVIEWED)):
        item = click_row(qtbot, tree, fid)
        qtbot.wait(50)
        fill, ring = dot_in_row(tree, item, STATUS_COLORS[status])
        assert fill >= 20, f"{status.value}: the dot's colour is not on the selected row"
        assert ring >= 8, f"{status.value}: the dot is not set off from the selection's highlight"
