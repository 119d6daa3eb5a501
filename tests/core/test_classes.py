"""Class tables: presets, user JSON, validation messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seggui.cli import main
from seggui.core.classes import ClassTable, list_presets, load_classes
from seggui.core.errors import BadInputError


def test_presets_are_listed_and_load() -> None:
    names = list_presets()
    for expected in ("cityscapes-19", "camvid-11", "bdd100k-drivable-3", "kitti-road-2", "parking-2"):
        assert expected in names
    for name in names:
        t = load_classes(name)
        assert t.name == name and len(t.classes) >= 2


def test_camvid_preset_matches_shared_data(camvid: Path) -> None:
    preset = load_classes("camvid-11")
    shared = load_classes(camvid / "classes.json")
    assert preset.ignore_index == shared.ignore_index == 11
    assert [(c.id, c.name, c.color) for c in preset.classes] == [
        (c.id, c.name, c.color) for c in shared.classes
    ]
    assert preset.scored_ids == list(range(11))


def test_cityscapes_label_map_turns_label_ids_into_train_ids() -> None:
    t = load_classes("cityscapes-19")
    assert t.size == 19 and t.ignore_index == 255
    lut = t.label_lut
    assert lut is not None
    assert lut[7] == 0 and lut[26] == 13 and lut[33] == 18  # road, car, bicycle
    assert lut[0] == 255 and lut[9] == 255  # unlabeled and parking are not trained on


def test_find_by_name_id_and_prefix() -> None:
    t = load_classes("camvid-11")
    assert t.find("car").id == 8
    assert t.find(3).name == "Road"
    assert t.find("Pave").name == "Pavement"
    with pytest.raises(BadInputError, match="no single class"):
        t.find("nothing")


def test_duplicate_ids_are_refused_with_the_file_named(tmp_path: Path) -> None:
    p = tmp_path / "dup.json"
    p.write_text(json.dumps({"classes": [
        {"id": 0, "name": "a", "color": [0, 0, 0]}, {"id": 0, "name": "b", "color": [1, 1, 1]}]}))
    with pytest.raises(BadInputError) as err:
        load_classes(p)
    assert "dup.json" in str(err.value) and "duplicate class id 0" in str(err.value)


def test_duplicate_colours_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "dupc.json"
    p.write_text(json.dumps({"classes": [
        {"id": 0, "name": "a", "color": [5, 5, 5]}, {"id": 1, "name": "b", "color": [5, 5, 5]}]}))
    with pytest.raises(BadInputError, match="duplicate colour"):
        load_classes(p)


def test_malformed_tables(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(BadInputError, match="bad.json"):
        load_classes(bad)
    with pytest.raises(BadInputError, match="not found"):
        load_classes(tmp_path / "missing.json")
    with pytest.raises(BadInputError, match="unknown class table"):
        load_classes("no-such-preset")
    with pytest.raises(BadInputError, match="RGB"):
        ClassTable.from_dict({"classes": [{"id": 0, "name": "x", "color": [300, 0, 0]}]})


def test_round_trip_and_uint16_past_255() -> None:
    classes = [{"id": i, "name": f"c{i}", "color": [i % 256, i // 256, 7]} for i in range(300)]
    t = ClassTable.from_dict({"name": "big", "classes": classes})
    assert t.mask_dtype is np.uint16
    again = ClassTable.from_dict(t.to_dict())
    assert again.classes == t.classes
    assert load_classes("parking-2").mask_dtype is np.uint8


def test_cli_lists_and_shows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classes"]) == 0
    out = capsys.readouterr().out
    assert "camvid-11" in out and "parking-2" in out
    assert main(["classes", "camvid-11"]) == 0
    assert "(ignored)" in capsys.readouterr().out
    assert main(["classes", "nope"]) == 2
