"""Workspaces: create, add pictures, masks and status, ground truth, reopen."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from seggui.core.errors import BadInputError
from seggui.core.masks import read_mask, write_mask
from seggui.core.workspace import FrameStatus, Workspace


@pytest.fixture()
def camvid_ws(tmp_path: Path, camvid: Path) -> Workspace:
    imgs = sorted((camvid / "val").glob("*.png"))[:3]
    ws = Workspace.create(tmp_path / "ws", "camvid-11", model="tiny", gsd=0.1)
    ws.add_images(imgs)
    return ws


def test_create_add_and_reopen(camvid_ws: Workspace) -> None:
    ws = camvid_ws
    assert len(ws.frames) == 3
    again = Workspace.open(ws.root)
    assert again.classes.name == "camvid-11"
    assert again.model == "tiny" and again.gsd is not None
    assert again.gsd.m_per_px == pytest.approx(0.1) and again.gsd.source == "flag"
    assert list(again.frames) == list(ws.frames)
    fid = next(iter(again.frames))
    assert again.image_path(fid).exists()
    assert again.frames[fid].status == FrameStatus.NONE


def test_status_moves_with_masks(camvid_ws: Workspace) -> None:
    ws = camvid_ws
    fid = next(iter(ws.frames))
    mask = np.zeros((360, 480), np.uint8)
    ws.write_mask(fid, "predicted", mask)
    assert ws.frames[fid].status == FrameStatus.PREDICTED
    assert ws.current_mask(fid) is not None
    mask[:10] = 3
    ws.write_mask(fid, "corrected", mask)
    assert ws.frames[fid].status == FrameStatus.CORRECTED
    ws.set_status(fid, "reviewed")
    ws.write_mask(fid, "predicted", np.zeros_like(mask))  # a new prediction does not downgrade
    ws.write_mask(fid, "corrected", mask)
    assert Workspace.open(ws.root).frames[fid].status == FrameStatus.REVIEWED
    assert (ws.current_mask(fid)[:10] == 3).all()  # the correction wins over the prediction
    assert ws.frames_with_status("reviewed") == [fid]


def test_import_ground_truth_reports_wrong_sizes(camvid_ws: Workspace, camvid: Path, tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    gt.mkdir()
    ids = list(camvid_ws.frames)
    shutil.copy(camvid / "valannot" / f"{ids[0]}.png", gt)
    write_mask(gt / f"{ids[1]}.png", np.zeros((10, 10), np.uint8))
    write_mask(gt / "stranger.png", np.zeros((10, 10), np.uint8))
    done, problems = camvid_ws.import_ground_truth(gt)
    assert done == [ids[0]]
    assert any(f"{ids[1]}.png" in p and "10x10" in p for p in problems)
    assert any("stranger" in p for p in problems)
    ws = Workspace.open(camvid_ws.root)
    assert ws.frames[ids[0]].has_gt and not ws.frames[ids[1]].has_gt
    assert np.array_equal(
        ws.read_mask(ids[0], "ground_truth"), read_mask(camvid / "valannot" / f"{ids[0]}.png")
    )


def test_bad_workspaces(tmp_path: Path, camvid_ws: Workspace) -> None:
    with pytest.raises(BadInputError, match="not a workspace"):
        Workspace.open(tmp_path)
    with pytest.raises(BadInputError, match="already holds"):
        Workspace.create(camvid_ws.root, "camvid-11")
    (tmp_path / "w2").mkdir()
    (tmp_path / "w2" / "seggui.json").write_text("{oops")
    with pytest.raises(BadInputError, match="cannot read"):
        Workspace.open(tmp_path / "w2")
    with pytest.raises(BadInputError, match="picture not found"):
        camvid_ws.add_image(tmp_path / "none.png")
    with pytest.raises(BadInputError, match="no frame"):
        camvid_ws.read_mask("nope", "predicted")


def test_paths_inside_are_relative(tmp_path: Path, camvid: Path) -> None:
    ws = Workspace.create(tmp_path / "w", "camvid-11")
    src = sorted((camvid / "val").glob("*.png"))[0]
    ws.add_images([src], copy=True)
    data = json.loads((ws.root / "seggui.json").read_text())
    assert data["frames"][src.stem]["image"] == f"images/{src.name}"
    moved = tmp_path / "moved"
    shutil.move(str(ws.root), moved)
    assert Workspace.open(moved).image_path(src.stem).exists()
