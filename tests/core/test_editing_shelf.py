"""Parked editors: kept within a byte budget, handed back only while their correction is unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seggui.core.classes import load_classes
from seggui.core.editing import Editor, EditorShelf, file_stamp


def _edited(side: int = 100) -> Editor:
    editor = Editor(np.zeros((side, side), np.uint8), load_classes("camvid-11"))
    editor.begin_stroke(9, 3)
    editor.stroke_to(10, 10)
    editor.stroke_to(60, 10)
    editor.end_stroke()
    return editor


def test_a_parked_editor_comes_back_with_its_history(tmp_path: Path) -> None:
    shelf = EditorShelf()
    editor = _edited()
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    assert shelf.put("a", editor, file_stamp(f)) and "a" in shelf
    back = shelf.take("a", file_stamp(f))
    assert back is editor and back.history.can_undo and "a" not in shelf


def test_a_changed_correction_or_nothing_to_undo_is_not_kept(tmp_path: Path) -> None:
    shelf = EditorShelf()
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    stamp = file_stamp(f)
    shelf.put("a", _edited(), stamp)
    f.write_bytes(b"changed by someone else")
    assert shelf.take("a", file_stamp(f)) is None and len(shelf) == 0
    fresh = Editor(np.zeros((10, 10), np.uint8), load_classes("camvid-11"))
    assert not shelf.put("b", fresh, stamp)  # no undo steps: nothing worth parking
    assert not shelf.put("c", _edited(), None)  # no correction on disk to check against
    assert file_stamp(tmp_path / "absent.png") is None


def test_the_oldest_are_let_go_beyond_the_budget(tmp_path: Path) -> None:
    one = _edited(200)
    cost = one.labels.nbytes + one.history.nbytes
    shelf = EditorShelf(budget_bytes=int(cost * 2.5))
    stamp = (1, 1)
    for name in ("a", "b", "c"):
        shelf.put(name, _edited(200), stamp)
    assert "a" not in shelf and "b" in shelf and "c" in shelf
    assert shelf.nbytes <= shelf.budget_bytes
    assert not EditorShelf(budget_bytes=cost // 2).put("x", _edited(200), stamp)
