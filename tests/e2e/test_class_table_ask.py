"""A folder whose masks come without classes.json: the window asks for their class table, never guesses."""

from __future__ import annotations

import shutil
from pathlib import Path

from journey import press_ok, trigger, type_path_and_enter, when_dialog
from PySide6.QtWidgets import QDialog, QFileDialog

from seggui.ui.class_table_dialog import ClassTableDialog


def _survey(houston: Path, dest: Path) -> Path:
    """Two Houston pictures with their masks beside them, and no class table anywhere."""
    for sub, ext in (("images", "jpg"), ("masks", "png")):
        (dest / sub).mkdir(parents=True)
        for stem in ("6411", "7677"):
            shutil.copy(houston / sub / f"{stem}.{ext}", dest / sub / f"{stem}.{ext}")
    return dest / "images"


def test_the_table_chosen_in_the_dialog_reads_the_masks(qtbot, user_window, houston: Path,
                                                        tmp_path: Path) -> None:
    win = user_window
    pictures = _survey(houston, tmp_path / "survey")
    seen: list[str] = []

    def choose_file(dialog: QDialog) -> None:
        assert isinstance(dialog, ClassTableDialog)
        seen.append(dialog.windowTitle())
        dialog.file.setText(str(houston / "classes.json"))
        press_ok(dialog)

    opened = when_dialog(type_path_and_enter(pictures), QFileDialog)
    asked = when_dialog(choose_file, ClassTableDialog)
    trigger(win, "open_folder")
    assert opened == ["answered"] and asked == ["answered"], (opened, asked)
    ws = win.session.workspace
    assert ws.classes.name == "houston-uav25"
    assert all(ws.frames[f].has_gt for f in ("6411", "7677"))  # 25-class ids read as such


def test_later_keeps_the_default_for_now_and_says_so(qtbot, user_window, houston: Path,
                                                    tmp_path: Path) -> None:
    win = user_window
    pictures = _survey(houston, tmp_path / "survey")
    opened = when_dialog(type_path_and_enter(pictures), QFileDialog)
    asked = when_dialog(lambda d: d.reject(), ClassTableDialog)
    trigger(win, "open_folder")
    assert opened == ["answered"] and asked == ["answered"]
    assert win.session.workspace.classes.name == "camvid-11"
    warnings = [m.text for m in win.log.entries if m.level == "warning"]
    assert any("no class table (classes.json)" in w and "masks" in w for w in warnings), warnings
    # the 25-class masks do not fit the driving classes: each is refused by name, none is read wrongly
    assert not any(rec.has_gt for rec in win.session.workspace.frames.values())
    assert any("7677.png" in m.text for m in win.log.errors())
