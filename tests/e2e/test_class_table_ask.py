"""A folder whose masks come without classes.json: the window asks for their class table, never guesses."""

from __future__ import annotations

import shutil
from pathlib import Path

from journey import press_ok, trigger, type_path_and_enter, when_dialog
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel

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
        said = " ".join(label.text() for label in dialog.findChildren(QLabel))
        assert "no preset holds all of: choose a class table file" in said  # 25 classes: ids up to 23
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


def test_the_dialog_starts_on_a_preset_that_holds_the_masks_ids(qtbot, user_window, camvid: Path,
                                                                tmp_path: Path) -> None:
    """CamVid masks beside their pictures, no classes.json: OK at once reads them as camvid-11, not as
    the first preset in alphabetical order (aerial-parking-6, which cannot hold ids 6-11)."""
    win = user_window
    names = sorted(p.name for p in (camvid / "val").glob("*.png"))[:2]
    for sub in ("drive", "driveannot"):
        (tmp_path / sub).mkdir()
        for name in names:
            shutil.copy(camvid / ("val" if sub == "drive" else "valannot") / name, tmp_path / sub / name)
    offered: list[str] = []

    def press_ok_at_once(dialog: QDialog) -> None:
        assert isinstance(dialog, ClassTableDialog)
        offered.extend(dialog.presets.itemText(i) for i in range(dialog.presets.count()))
        offered.append(dialog.presets.currentText())
        press_ok(dialog)

    opened = when_dialog(type_path_and_enter(tmp_path / "drive"), QFileDialog)
    asked = when_dialog(press_ok_at_once, ClassTableDialog)
    trigger(win, "open_folder")
    assert opened == ["answered"] and asked == ["answered"], (opened, asked)
    assert offered[-1] == "camvid-11"
    assert "aerial-parking-6 (does not hold those ids)" in offered
    ws = win.session.workspace
    assert ws.classes.name == "camvid-11" and all(rec.has_gt for rec in ws.frames.values())
