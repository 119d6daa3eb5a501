"""Opening pictures, folders, sequences and workspaces without a window (seggui.core.opening)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import seggui.core.workspace as workspace_module
from seggui.core.errors import BadInputError
from seggui.core.images import write_image
from seggui.core.masks import write_mask
from seggui.core.opening import Opener, ground_truth_candidates
from seggui.core.workspace import FrameStatus, Workspace

TABLE = {"name": "two", "ignore_index": 255,
         "classes": [{"id": 0, "name": "ground", "color": [0, 0, 0]},
                     {"id": 1, "name": "car", "color": [255, 0, 0]}]}


def _pictures(folder: Path, names: list[str], size: tuple[int, int] = (6, 8)) -> list[Path]:
    out = []
    for i, name in enumerate(names):
        p = folder / f"{name}.png"
        write_image(p, np.full((*size, 3), 10 * i % 250, np.uint8))
        out.append(p)
    return out


@pytest.fixture
def survey(tmp_path: Path) -> Path:
    """data/images (three aerial pictures) with data/masks beside it and data/classes.json."""
    data = tmp_path / "data"
    _pictures(data / "images", ["a", "b", "c"])
    for name in ("a", "c", "zz"):  # zz: a mask without a picture, skipped with a summary
        write_mask(data / "masks" / f"{name}.png", np.ones((6, 8), np.uint8))
    (data / "classes.json").write_text(json.dumps(TABLE), encoding="utf-8")
    return data / "images"


def test_a_picture_folder_opens_as_a_managed_workspace_with_its_ground_truth(tmp_path: Path, survey: Path,
                                                                            monkeypatch) -> None:
    writes: list[Path] = []
    real = workspace_module.save_merged
    monkeypatch.setattr(workspace_module, "save_merged", lambda p, o, b: (writes.append(p), real(p, o, b))[1])
    opener = Opener(tmp_path / "store", "camvid-11")
    opened = opener.open(survey)
    ws = opened.workspace
    assert ws.root.parent == tmp_path / "store"  # never inside the dataset, which stays clean
    assert sorted(ws.frames) == ["a", "b", "c"] and ws.classes.name == "two"  # classes.json of the parent
    assert [f for f in ws.frames if ws.frames[f].has_gt] == ["a", "c"]
    assert ground_truth_candidates(survey) == [survey.parent / "masks"]
    said = [what for level, what in opened.notes if level == "info"]
    assert "imported 2 ground-truth masks" in said[-1]
    assert "1 mask without an open picture skipped" in said[-1]
    assert not [n for n in opened.notes if n[0] == "error"]
    assert ws.settings["opened_from"] == str(survey.resolve()) and ws.settings["open_as"] == "sequences"
    assert len(writes) == 3, writes  # made; frames, drives and settings in one write; ground truth in one

    ws.set_status("a", FrameStatus.REVIEWED)
    again = opener.open(survey)  # the same folder finds the same workspace and the analyst's work
    assert again.workspace.root == ws.root and again.workspace.frames["a"].status == FrameStatus.REVIEWED


def test_a_numbered_sequence_opens_as_a_drive_with_its_source(tmp_path: Path) -> None:
    folder = tmp_path / "cam"
    _pictures(folder, [f"cam_{i:04d}" for i in range(12)] + ["map"])
    opened = Opener(tmp_path / "store").open(folder)
    ws = opened.workspace
    drives = ws.drives()
    assert len(drives) == 1 and list(opened.drives) == list(drives)
    (frames,) = drives.values()
    assert frames == [f"cam_{i:04d}" for i in range(12)] and ws.frames["map"].drive is None
    assert len(next(iter(opened.drives.values()))) == 12  # the open source, handed on
    assert any("12 frames opened as a drive" in str(what) for _level, what in opened.notes)
    for src in opened.drives.values():
        src.close()

    pictures = Opener(tmp_path / "store").open(folder, pictures=True)  # detection off, remembered
    assert pictures.workspace.drives() == {} and pictures.drives == {}
    later = Opener(tmp_path / "store").open(folder)
    assert later.workspace.settings["open_as"] == "pictures" and later.workspace.drives() == {}


def test_one_sequence_by_glob_and_a_workspace_in_place(tmp_path: Path) -> None:
    folder = tmp_path / "cams"
    _pictures(folder, [f"a_{i:03d}" for i in range(10)] + [f"b_{i:03d}" for i in range(10)])
    opened = Opener(tmp_path / "store").open(folder / "a_*")
    assert sorted(opened.workspace.frames) == [f"a_{i:03d}" for i in range(10)]
    for src in opened.drives.values():
        src.close()
    in_place = Opener(tmp_path / "store").open(opened.workspace.root / "seggui.json")
    assert in_place.workspace.root == opened.workspace.root and in_place.drives == {}


def test_bad_paths_are_named(tmp_path: Path) -> None:
    opener = Opener(tmp_path / "store")
    with pytest.raises(BadInputError, match="not found"):
        opener.open(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no pictures"):
        opener.open(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(BadInputError, match="not a picture"):
        opener.open(tmp_path / "notes.txt")


def test_a_broken_classes_file_is_said_and_the_default_used(tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    _pictures(folder, ["x"])
    (folder / "classes.json").write_text("{not json", encoding="utf-8")
    opened = Opener(tmp_path / "store", "camvid-11").open(folder / "x.png")
    assert opened.workspace.classes.name == "camvid-11"
    assert [level for level, _what in opened.notes] == ["warning"]
    assert Workspace.open(opened.workspace.root).frames["x"].image is not None


def test_a_file_inside_a_workspace_takes_that_workspace_classes(tmp_path: Path) -> None:
    """The demo's drive.mp4 sits in the demo workspace (parking-2): it opened in camvid-11, with a warning."""
    Workspace.create(tmp_path / "demo", "parking-2").save()
    (picture,) = _pictures(tmp_path / "demo", ["drive_still"])
    opened = Opener(tmp_path / "store", "camvid-11").open(picture)
    assert opened.workspace.classes.name == "parking-2"
    assert any(level == "info" and "classes of the workspace in" in str(what) for level, what in opened.notes)
    assert not any(level == "warning" for level, _what in opened.notes)
