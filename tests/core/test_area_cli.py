"""`seggui area` on tmp folders and on the Houston masks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.cli import main
from seggui.core.masks import write_mask

CLASSES = {"name": "lot", "ignore_index": 255, "classes": [
    {"id": 0, "name": "ground", "color": [0, 0, 0]},
    {"id": 1, "name": "parking", "color": [255, 200, 0]},
    {"id": 2, "name": "road", "color": [128, 64, 128]}]}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "classes.json").write_text(json.dumps(CLASSES))
    masks = tmp_path / "masks"
    a = np.zeros((20, 30), np.uint8)
    a[2:6, 3:9] = 1      # 24 px lot
    a[15:17, 25:27] = 1  # 4 px lot
    a[10:12, :] = 2
    a[0, 0] = 255
    write_mask(masks / "a.png", a)
    (masks / "a.pgw").write_text("0.5\n0\n0\n-0.5\n0\n0\n")
    write_mask(masks / "b.png", np.ones((10, 10), np.uint8))
    return tmp_path


def test_folder_with_json_output(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = folder / "out" / "area.json"
    rc = main(["area", str(folder / "masks"), "--classes", str(folder / "classes.json"),
               "--json", str(out), "--quiet"])
    assert rc == 0
    data = json.loads(out.read_text())
    a, b = data["masks"]
    assert Path(a["path"]).name == "a.png" and a["gsd"]["source"] == "world file"
    lot = {c["name"]: c for c in a["classes"]}["parking"]
    assert (lot["pixels"], lot["m2"], lot["regions"]) == (28, pytest.approx(7.0), 2)
    assert a["ignored_px"] == 1 and a["counted_px"] == 599
    assert b["gsd"] is None and b["classes"][1]["m2"] is None and b["classes"][1]["pixels"] == 100
    totals = {c["name"]: c for c in data["totals"]}
    assert totals["parking"]["pixels"] == 128 and totals["parking"]["m2"] is None
    assert data["failed"] == []
    printed = capsys.readouterr().out
    assert "a.png: 30x20 px, GSD 0.500 m/px from world file a.pgw" in printed
    assert "b.png: 10x10 px, GSD unknown" in printed


def test_focus_class_lists_regions_to_csv(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = folder / "regions.csv"
    mask = folder / "masks" / "a.png"
    rc = main(["area", str(mask), "--classes", str(folder / "classes.json"), "--gsd", "0.2",
               "--class", "park", "--min-region", "0.3", "--csv", str(out), "--quiet"])
    assert rc == 0
    rows = list(csv.DictReader(out.open()))
    assert [int(r["pixels"]) for r in rows] == [24]  # the 4 px (0.16 m²) region is left out
    assert [rows[0][k] for k in ("bbox_x", "bbox_y", "bbox_w", "bbox_h")] == ["3", "2", "6", "4"]
    assert float(rows[0]["m2"]) == pytest.approx(0.96)
    printed = capsys.readouterr().out
    assert "0.200 m/px set by the user" in printed
    assert "1 regions of parking (8-connected, at least 0.3 m²); 1 smaller left out (4 px)" in printed


def test_bad_file_in_a_folder_is_reported_and_the_run_goes_on(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "masks" / "c.png").write_bytes(b"not a png at all")
    out = folder / "area.json"
    rc = main(["area", str(folder / "masks"), "--classes", str(folder / "classes.json"), "--gsd", "1",
               "--json", str(out), "--csv", str(folder / "area.csv"), "--quiet"])
    assert rc == 1
    data = json.loads(out.read_text())
    assert [Path(m["path"]).name for m in data["masks"]] == ["a.png", "b.png"]
    assert Path(data["failed"][0]["path"]).name == "c.png"
    assert len(list(csv.DictReader((folder / "area.csv").open()))) == 2 * 3
    err = capsys.readouterr().err
    assert "c.png" in err and "1 of 3 masks could not be measured" in err


@pytest.mark.parametrize("extra, reason", [
    (["--gsd", "-1"], "positive"),
    (["--class", "nope"], "no single class"),
    (["--min-region", "2"], "no GSD"),
    (["--image", "missing.jpg"], "picture not found"),
])
def test_bad_input_exits_non_zero_with_one_line(folder: Path, capsys: pytest.CaptureFixture[str],
                                                extra: list[str], reason: str) -> None:
    rc = main(["area", str(folder / "masks" / "b.png"), "--classes", str(folder / "classes.json"), "--quiet",
               *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and reason in err[0]


def test_images_folder_gives_the_gsd_scaled_to_the_mask(folder: Path) -> None:
    images = folder / "images"
    images.mkdir()
    cv2.imwrite(str(images / "b.jpg"), np.zeros((40, 40, 3), np.uint8))  # 4x the 10x10 mask
    (images / "b.jgw").write_text("0.05\n0\n0\n-0.05\n0\n0\n")
    out = folder / "b.json"
    rc = main(["area", str(folder / "masks" / "b.png"), "--classes", str(folder / "classes.json"),
               "--images", str(images), "--json", str(out), "--quiet"])
    assert rc == 0
    b = json.loads(out.read_text())["masks"][0]
    assert b["gsd"]["m2_per_px"] == pytest.approx(0.04)
    assert b["classes"][1]["m2"] == pytest.approx(4.0)


def test_houston_parking(houston: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "h.json"
    rc = main(["area", str(houston / "masks"), "--classes", str(houston / "classes.json"), "--gsd", "0.2",
               "--class", "Parking Area - Commercial", "--json", str(out), "--quiet"])
    assert rc == 0
    data = json.loads(out.read_text())
    raw = cv2.imread(str(houston / "masks" / "7677.png"), cv2.IMREAD_UNCHANGED)
    m7677 = next(m for m in data["masks"] if m["path"].endswith("7677.png"))
    assert m7677["focus"]["class_id"] == 18
    assert sum(r["pixels"] for r in m7677["focus"]["regions"]) == int((raw == 18).sum())
    total = {c["id"]: c for c in data["totals"]}[18]
    assert total["m2"] == pytest.approx(int((raw == 18).sum()) * 0.04)
    assert "7677.png:" in capsys.readouterr().out
