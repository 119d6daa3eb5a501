"""The class map dialog says what a map means as the analyst edits it; a bad stored map is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seggui.core.class_map import suggest
from seggui.core.classes import load_classes
from seggui.core.errors import BadInputError
from seggui.core.workspace import Workspace
from seggui.ui.class_map_dialog import NOT_SCORED, ClassMapDialog


def test_the_notes_follow_the_rows(qtbot, houston: Path) -> None:
    gt, model = load_classes(houston / "classes.json"), load_classes("parking-2")
    dialog = ClassMapDialog(suggest(gt, model))
    qtbot.addWidget(dialog)
    assert dialog.combos["Parking Area - Commercial"].currentText() == "parking"
    assert "parking <- Parking Area - Commercial" in dialog.notes.text()
    dialog.combos["Parking Area - Commercial"].setCurrentText(NOT_SCORED)  # as chosen in the combo
    assert "model class 'parking' has no ground-truth class mapped to it" in dialog.notes.text()
    assert dialog.class_map().target(18) is None
    dialog.set_target("Vehicle", "parking")
    assert dialog.class_map().target(4) == 1 and "no ground-truth class" not in dialog.notes.text()


def test_a_stored_map_naming_an_unknown_class_is_one_message_naming_the_file(tmp_path: Path,
                                                                             houston: Path) -> None:
    gt, model = load_classes(houston / "classes.json"), load_classes("parking-2")
    ws = Workspace.create(tmp_path / "ws", model)
    ws.class_map = suggest(gt, model)
    ws.save()
    path = ws.root / "seggui.json"
    data = json.loads(path.read_text())
    data["class_map"]["map"]["Parking Area - Commercial"] = "car park"
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    with pytest.raises(BadInputError) as err:
        Workspace.open(ws.root)
    assert "seggui.json" in str(err.value) and "'car park'" in str(err.value)
    assert path.read_bytes() == before
