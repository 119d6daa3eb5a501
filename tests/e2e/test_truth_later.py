"""Ground truth brought in after a model ran, in another class table: asked for, mapped, scored.

Walkthrough: a Houston picture opened alone, parking-demo run, then its mask (25 classes) loaded with
File ▸ Ground truth of this picture; it was refused id by id ("class ids not in the parking-2 table")
with no way on. Now the table beside the masks (houston-uav/classes.json) is read and the class map
dialog Run uses comes up.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from journey import press_ok, trigger, type_path_and_enter, when_dialog
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from seggui.core.masks import read_mask
from seggui.paths import shipped_models_dir

PARKING = 1


@pytest.mark.skipif(not (shipped_models_dir() / "parking-demo" / "model.json").exists(),
                    reason="parking-demo is not in this checkout")
def test_a_mask_in_another_table_is_mapped_then_scored(qtbot, user_window, houston: Path,
                                                       tmp_path: Path) -> None:
    win, s = user_window, user_window.session
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(houston / "images" / "7677.jpg", site)  # the picture alone, no masks beside it
    answered = when_dialog(type_path_and_enter(site), QFileDialog)
    trigger(win, "open_folder")
    assert answered == ["answered"] and s.current == "7677"
    combo = win.model_picker.combo
    combo.setCurrentIndex(combo.findText("parking-demo", Qt.MatchFlag.MatchStartsWith))
    with qtbot.waitSignal(win.runner.finished, timeout=180000):
        trigger(win, "run")
    assert s.workspace.classes.name == "parking-2" and not s.record("7677").has_gt

    seen: dict[str, str] = {}

    def accept_map(dialog) -> None:  # noqa: ANN001
        seen["Parking Area - Commercial"] = dialog.combos["Parking Area - Commercial"].currentText()
        press_ok(dialog)

    mask = houston / "masks" / "7677.png"
    answered = when_dialog(type_path_and_enter(mask), QFileDialog)
    mapped = when_dialog(accept_map)
    trigger(win, "open_gt_file")
    assert answered == ["answered"] and mapped == ["answered"], (answered, mapped)
    assert seen == {"Parking Area - Commercial": "parking"}
    assert s.record("7677").has_gt and s.workspace.gt_classes.name == "houston-uav25"
    truth = s.mask("ground_truth")  # in the model's classes, through the map
    raw = read_mask(mask)
    assert np.array_equal(truth == PARKING, raw == 18)
    qtbot.waitUntil(lambda: win.metrics.metrics is not None and PARKING in win.metrics.metrics.ids,
                    timeout=20000)
    assert any("class map you confirmed" in m.text for m in win.log.entries)
