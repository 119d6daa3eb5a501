"""The report's region table (area, perimeter, centroid), its map, and the CRS and area method it names."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.cli import main
from seggui.core.report_regions import Placement, edge_counts, region_rows
from seggui.core.workspace import Workspace


def _mask() -> np.ndarray:
    m = np.zeros((60, 80), np.uint8)
    m[5:15, 10:30] = 1  # 10 x 20 with a 2 x 2 hole: 196 px, outline 2*(10+20) + 8 edges
    m[8:10, 15:17] = 0
    m[40:50, 50:54] = 1  # 10 x 4: 40 px, outline 28 edges
    return m


def test_rows_in_pixels_and_in_a_crs() -> None:
    from seggui.core.gsd import Gsd

    gsd = Gsd.square(0.2, "workspace")
    rows = region_rows(_mask(), 1, gsd, Placement(None, None, "GSD stated by the user"))
    assert [r["pixels"] for r in rows] == [196, 40] and [r["n"] for r in rows] == [1, 2]
    assert rows[0]["perimeter_px"] == 68 and rows[1]["perimeter_px"] == 28
    assert rows[0]["m2"] == pytest.approx(196 * 0.04) and rows[0]["perimeter_m"] == pytest.approx(68 * 0.2)
    assert (rows[1]["centroid_x"], rows[1]["centroid_y"], rows[1]["centroid_in"]) == (52.0, 45.0, "px")
    utm = Placement("EPSG:32633", (0.2, 0.0, 500000.0, 0.0, -0.2, 5000000.0), "projected")
    moved = region_rows(_mask(), 1, gsd, utm)[1]
    assert (moved["centroid_x"], moved["centroid_y"], moved["centroid_in"]) == pytest.approx(
        (500000.0 + 52 * 0.2, 5000000.0 - 45 * 0.2, "CRS"))
    assert region_rows(_mask(), 1, None, utm)[0]["m2"] is None
    assert region_rows(_mask(), 1, gsd, utm, min_px=50)[0]["pixels"] == 196 and len(
        region_rows(_mask(), 1, gsd, utm, min_px=50)) == 1


def test_edge_counts_equal_the_polygon_outline() -> None:
    lab = np.array([[1, 1, 0], [0, 1, 2]], np.int32)
    vert, horiz = edge_counts(lab, 3)
    assert (vert[1], horiz[1]) == (4, 4) and (vert[2], horiz[2]) == (2, 2)


def test_report_names_the_crs_and_method_lists_and_maps_regions(tmp_path: Path, capsys) -> None:
    pytest.importorskip("rasterio")
    from seggui.core.synth.geotiff import UTM, write_geotiff

    rgb = np.full((60, 80, 3), 120, np.uint8)
    made = write_geotiff(tmp_path / "site.tif", rgb, _mask(), 0.15, crs=UTM)
    cv2.imwrite(str(tmp_path / "plain.png"), rgb)
    ws = Workspace.create(tmp_path / "ws", "aerial-parking-6", gsd=0.2)
    for path in (Path(made["path"]), tmp_path / "plain.png"):
        ws.write_mask(ws.add_image(path).id, "corrected", _mask())
    out = tmp_path / "r.json"
    assert main(["report", str(ws.root), "--format", "json", "--out", str(out)]) == 0
    frames = {Path(f["image"]).name: f for f in json.loads(out.read_text())["frames"]}
    geo, plain = frames["site.tif"], frames["plain.png"]
    assert geo["crs"].startswith("EPSG:32633") and geo["area_method"].startswith("projected")
    assert plain["crs"] is None and plain["area_method"] == "GSD stated by the user"
    assert geo["region_class"] == "parking" and len(geo["regions"]) == 2
    r = geo["regions"][1]
    a, b, c, d, e, f = made["transform"]
    assert r["m2"] == pytest.approx(40 * 0.0225) and r["perimeter_m"] == pytest.approx(28 * 0.15)
    assert (r["centroid_x"], r["centroid_y"]) == pytest.approx((c + 52 * a, f + 45 * e))
    assert plain["regions"][1]["centroid_in"] == "px" and plain["regions"][1]["m2"] == pytest.approx(1.6)
    page = tmp_path / "r.html"
    assert main(["report", str(ws.root), "--out", str(page), "--region-class", "parking"]) == 0
    text = page.read_text()
    assert "CRS and area method" in text and "projected (planar pixel area from the GeoTIFF)" in text
    assert "GSD stated by the user" in text and "Regions of parking" in text
    assert text.count('class="map" src="data:image/png;base64,') == 2
    assert "Centroids in EPSG:32633" in text and "Centroids in pixels (column, row)" in text


def test_a_world_file_with_prj_gives_centroids_in_its_crs(tmp_path: Path) -> None:
    pytest.importorskip("rasterio")
    import pyproj

    cv2.imwrite(str(tmp_path / "region.png"), np.full((60, 80, 3), 120, np.uint8))
    (tmp_path / "region.pgw").write_text("0.15\n0\n0\n-0.15\n500000.075\n5000000.925\n")
    (tmp_path / "region.prj").write_text(pyproj.CRS.from_epsg(32633).to_wkt(version="WKT1_ESRI"))
    ws = Workspace.create(tmp_path / "ws", "aerial-parking-6")
    ws.write_mask(ws.add_image(tmp_path / "region.png").id, "corrected", _mask())
    out = tmp_path / "r.json"
    assert main(["report", str(ws.root), "--format", "json", "--out", str(out)]) == 0
    frame = json.loads(out.read_text())["frames"][0]
    assert frame["crs"].startswith("EPSG:32633") and frame["area_method"].startswith("projected")
    r = frame["regions"][1]
    assert (r["centroid_x"], r["centroid_y"], r["centroid_in"]) == pytest.approx(
        (500000.0 + 52 * 0.15, 5000001.0 - 45 * 0.15, "CRS"))
