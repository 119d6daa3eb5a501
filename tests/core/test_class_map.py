"""Class maps: ground truth drawn in one table, compared in a model's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seggui.core.class_map import ClassMap, parse_map_arg, suggest, words
from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import BadInputError
from seggui.core.images import write_image
from seggui.core.masks import write_mask
from seggui.core.model_classes import adopt, plan_switch, same_classes
from seggui.core.workspace import FrameStatus, Workspace


def _table(name: str, names: list[str], ignore: int | None = None) -> ClassTable:
    return ClassTable.from_dict({"name": name, "ignore_index": ignore, "classes": [
        {"id": i, "name": n, "color": [i * 9 % 256, i * 40 % 256, i * 70 % 256]}
        for i, n in enumerate(names)]})


GT = _table("uav", ["Background", "Vehicle", "Parking Area - Commercial", "Road/Highway", "Unlabelled"], 4)
PARKING = load_classes("parking-2")


def test_words_tolerate_case_punctuation_plurals_and_filler() -> None:
    assert words("Parking Area - Commercial") == {"parking", "commercial"}
    assert words("CARS") == words("car") == {"car"}
    assert words("Grass") == {"grass"}  # a double s is not a plural


def test_suggestion_by_name_puts_the_rest_in_the_catch_all_class() -> None:
    cmap = suggest(GT, PARKING)
    assert cmap.target(2) == 1  # Parking Area - Commercial -> parking
    assert [cmap.target(i) for i in (0, 1, 3)] == [0, 0, 0]  # background, vehicle, road -> background
    assert cmap.target(4) is None  # the ground truth's own ignore class is never scored
    assert cmap.problems() == []
    gt = np.array([[0, 1, 2, 3, 4]], np.uint8)
    assert cmap.apply(gt).tolist() == [[0, 0, 1, 0, 255]]


def test_without_a_catch_all_unmatched_classes_are_not_scored() -> None:
    model = _table("m", ["vehicle", "road"])
    cmap = suggest(GT, model)
    assert cmap.target(1) == 0 and cmap.target(3) == 1 and cmap.target(0) is None and cmap.needs_ignore


def test_cli_map_pairs_and_files_override_the_suggestion(tmp_path: Path) -> None:
    cmap = parse_map_arg(["Vehicle=parking", "road/highway="], GT, PARKING)
    assert cmap.target(1) == 1 and cmap.target(3) is None and cmap.target(2) == 1
    f = tmp_path / "map.json"
    f.write_text(json.dumps({"Parking Area - Commercial": None}))
    cmap = parse_map_arg([str(f)], GT, PARKING)
    assert cmap.target(2) is None
    assert any("'parking' has no ground-truth class" in p for p in cmap.problems())


@pytest.mark.parametrize("arg, says", [
    ("Runway=parking", "'Runway', which uav does not have"),
    ("Vehicle=car park", "'car park', which parking-2 does not have"),
    ("Vehicle", "GROUND TRUTH CLASS=MODEL CLASS"),
])
def test_a_map_naming_an_unknown_class_is_refused_by_name(arg: str, says: str) -> None:
    with pytest.raises(BadInputError) as err:
        parse_map_arg([arg], GT, PARKING)
    assert says in str(err.value)


def test_round_trip_by_names() -> None:
    cmap = suggest(GT, PARKING)
    back = ClassMap.from_dict(json.loads(json.dumps(cmap.to_dict())), PARKING)
    assert dict(back.pairs) == {k: v for k, v in cmap.pairs.items()} and back.gt.names == GT.names


def _workspace_with_truth(tmp_path: Path) -> Workspace:
    ws = Workspace.create(tmp_path / "ws", GT)
    pic = write_image(tmp_path / "p.png", np.zeros((4, 5, 3), np.uint8))
    ws.add_images([pic])
    write_mask(tmp_path / "gt" / "p.png", np.array([[2, 2, 1, 0, 4]] * 4, np.uint8))
    ws.import_ground_truth(tmp_path / "gt")
    return ws


def test_a_workspace_keeps_its_truth_files_and_reads_them_through_the_map(tmp_path: Path) -> None:
    ws = _workspace_with_truth(tmp_path)
    raw = (ws.root / "ground_truth" / "p.png").read_bytes()
    switch = plan_switch(ws, PARKING)
    assert switch is not None and switch.suggested is not None
    adopt(ws, switch, switch.suggested)
    assert (ws.root / "ground_truth" / "p.png").read_bytes() == raw  # the analyst's file is untouched
    again = Workspace.open(ws.root)  # kept in seggui.json
    assert same_classes(again.classes, PARKING) and again.gt_classes.name == "uav"
    assert again.read_mask("p", "ground_truth")[0].tolist() == [1, 1, 0, 0, again.classes.ignore_index]
    assert plan_switch(again, PARKING) is None  # the same model again asks nothing


def test_corrections_in_another_table_are_not_stranded(tmp_path: Path) -> None:
    ws = _workspace_with_truth(tmp_path)
    ws.write_mask("p", "corrected", np.full((4, 5), 3, np.uint8))
    assert ws.frames["p"].status == FrameStatus.CORRECTED
    with pytest.raises(BadInputError) as err:
        plan_switch(ws, PARKING)
    assert "hold corrections in the uav classes" in str(err.value) and "File ▸ Open folder" in str(err.value)


def test_eval_compares_through_a_map_and_refuses_a_bad_one(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from seggui.cli import main

    gt_table = tmp_path / "uav.json"
    gt_table.write_text(json.dumps(GT.to_dict()))
    (tmp_path / "pred").mkdir()
    write_mask(tmp_path / "pred" / "a.png", np.array([[1, 1, 0, 0]], np.uint8))
    write_mask(tmp_path / "gt" / "a.png", np.array([[2, 1, 0, 4]], np.uint8))
    out = tmp_path / "m.json"
    args = ["eval", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--classes", "parking-2",
            "--gt-classes", str(gt_table), "--json", str(out), "-q"]
    assert main([*args, "--map", "Vehicle=parking"]) == 0
    figures = json.loads(out.read_text())["per_class_iou"]
    assert figures["parking"] == 1.0 and figures["background"] == 1.0  # the Unlabelled pixel is not scored
    assert main([*args, "--map", "Vehicle=car park"]) == 2
    assert "'car park', which parking-2 does not have" in capsys.readouterr().err
    plain = [a for a in args if a not in ("--gt-classes", str(gt_table))]
    assert main([*plain, "--map", "Vehicle=parking"]) == 2  # --map without --gt-classes
    assert "--map needs --gt-classes" in capsys.readouterr().err
