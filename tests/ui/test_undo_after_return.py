"""Undo survives leaving a picture: back on it, Ctrl+Z undoes its last stroke (real mouse and keys)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from ui_helpers import stroke

from seggui.core.masks import read_mask, write_mask

CTRL = Qt.KeyboardModifier.ControlModifier


def _on_disk(window) -> np.ndarray:
    s = window.session
    return read_mask(s.workspace.mask_path(s.current, "corrected"))


def test_undo_after_coming_back_to_a_picture(qtbot, window, camvid_folder: Path) -> None:
    assert window.open_path(camvid_folder)
    s, ctrl, canvas = window.session, window.editing, window.view.canvas
    first, second = s.frame_ids[:2]
    ctrl.set_tool("brush")
    s.set_frame(first)
    stroke(qtbot, canvas, 40.5)
    one = s.mask("current").copy()
    stroke(qtbot, canvas, 90.5)
    two = s.mask("current").copy()
    qtbot.keyClick(window, Qt.Key.Key_D)  # next picture: the correction is saved, the editor parked
    assert s.current == second and first in ctrl.shelf
    stroke(qtbot, canvas, 40.5)
    qtbot.keyClick(window, Qt.Key.Key_A)
    assert s.current == first and np.array_equal(s.mask("current"), two)

    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)  # the second stroke of this picture goes...
    assert np.array_equal(s.mask("current"), one)
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(s.mask("current"), two)  # ...and comes back with redo
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    assert ctrl.flush() and np.array_equal(_on_disk(window), one)
    assert second in ctrl.shelf  # the other picture's history is parked in turn


def test_a_correction_changed_meanwhile_is_not_undone_into(qtbot, window, camvid_folder: Path) -> None:
    assert window.open_path(camvid_folder)
    s, ctrl, canvas = window.session, window.editing, window.view.canvas
    first = s.frame_ids[0]
    ctrl.set_tool("brush")
    stroke(qtbot, canvas, 40.5)
    qtbot.keyClick(window, Qt.Key.Key_D)
    outside = np.full_like(_on_disk_of(s, first), 2)
    write_mask(s.workspace.mask_path(first, "corrected"), outside)  # another tool rewrote it
    s._drop(lambda key: key[0] == first)  # as if evicted from the session cache
    qtbot.keyClick(window, Qt.Key.Key_A)
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    assert np.array_equal(s.mask("current"), outside)  # nothing to undo: the old history was dropped
    assert first not in ctrl.shelf


def _on_disk_of(s, fid: str) -> np.ndarray:
    return read_mask(s.workspace.mask_path(fid, "corrected"))
