"""Polygons of workspace pictures: a GeoTIFF's CRS, a local grid from the GSD, refusals that name files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.core.errors import BadInputError
from seggui.core.geo.frame_polygons import export_polygons
from seggui.core.jobs import run_job
from seggui.core.synth.geotiff import GEOGRAPHIC, write_geotiff
from seggui.core.workspace import Workspace


def _workspace(tmp_path: Path, scene, pictures: dict[str, str | None], gsd: float | None) -> Workspace:
    """A workspace of PNG pictures (or GeoTIFFs in the given CRS) with the scene's mask corrected."""
    ws = Workspace.create(tmp_path / "ws", "aerial-parking-6", model="truth@1", gsd=gsd)
    for name, crs in pictures.items():
        if crs is None:
            path = tmp_path / f"{name}.png"
            cv2.imwrite(str(path), scene.image[..., ::-1])
        else:
            made = write_geotiff(tmp_path / f"{name}.tif", scene.image, scene.mask, 0.15, crs=crs)
            path = Path(made["path"])
        fid = ws.add_image(path).id
        ws.write_mask(fid, "corrected", scene.mask)
    return ws


def test_pictures_without_crs_get_a_local_grid_in_metres(tmp_path: Path, scene) -> None:
    import pyogrio.raw

    ws = _workspace(tmp_path, scene, {"a": None, "b": None}, gsd=0.2)
    out = tmp_path / "poly.gpkg"
    res = run_job(export_polygons(ws, list(ws.frames), out, classes=["parking"]))
    meta, _f, geoms, fields = pyogrio.raw.read(out)
    cols = dict(zip(meta["fields"], fields, strict=True))
    assert meta["crs"] is None and not res.has_crs and "no CRS" in res.describe()
    want = 2 * np.count_nonzero(scene.mask == 1) * 0.04
    assert float(cols["area_m2"].sum()) == pytest.approx(want, rel=0.005) == res.total_m2
    assert set(cols["source"]) == {"a.png", "b.png"} and set(cols["model"]) == {"truth@1"}
    import shapely

    x0, y0, x1, y1 = shapely.total_bounds(shapely.from_wkb(geoms))
    assert x0 >= 0 and y1 <= 0 and x1 <= 304 * 0.2 + 1e-9 and y0 >= -240 * 0.2 - 1e-9  # metres, y up
    geojson = tmp_path / "poly.geojson"
    with pytest.raises(BadInputError, match="poly.geojson.*WGS84"):
        run_job(export_polygons(ws, list(ws.frames), geojson))
    assert not geojson.exists()


def test_without_a_gsd_the_picture_is_named(tmp_path: Path, scene) -> None:
    ws = _workspace(tmp_path, scene, {"plain": None}, gsd=None)
    with pytest.raises(BadInputError, match=r"plain\.png.*no CRS and no GSD"):
        run_job(export_polygons(ws, list(ws.frames), tmp_path / "x.shp"))
    assert not list(tmp_path.glob("x.*"))


def test_a_geographic_geotiff_and_a_plain_picture_do_not_mix(tmp_path: Path, scene) -> None:
    import pyogrio.raw

    ws = _workspace(tmp_path, scene, {"geo": GEOGRAPHIC, "plain": None}, gsd=0.15)
    geo = [f for f in ws.frames if ws.frames[f].image and ws.frames[f].image.endswith(".tif")]
    out = tmp_path / "geo.geojson"
    res = run_job(export_polygons(ws, geo, out, classes=["parking"]))
    meta, _f, _g, fields = pyogrio.raw.read(out)
    assert meta["crs"] == "EPSG:4326" and res.has_crs and "geodesic" in res.method
    assert res.per_class["parking"]["ratio"] == pytest.approx(1.0, abs=0.005)
    with pytest.raises(BadInputError, match=r"mixed\.gpkg.*cannot go into one polygon file"):
        run_job(export_polygons(ws, list(ws.frames), tmp_path / "mixed.gpkg"))


def test_a_picture_with_a_world_file_and_prj_is_placed_in_its_crs(tmp_path: Path, scene) -> None:
    """As the window writes an orthomosaic's editing region: a PNG, a world file and a .prj."""
    import pyogrio.raw
    import pyproj
    import shapely

    ws = _workspace(tmp_path, scene, {"region": None}, gsd=None)
    (tmp_path / "region.pgw").write_text("0.15\n0\n0\n-0.15\n500000.075\n5000000.925\n")
    (tmp_path / "region.prj").write_text(pyproj.CRS.from_epsg(32633).to_wkt(version="WKT1_ESRI"))
    out = tmp_path / "region.gpkg"
    res = run_job(export_polygons(ws, list(ws.frames), out, classes=["parking"]))
    meta, _f, geoms, fields = pyogrio.raw.read(out)
    assert meta["crs"] == "EPSG:32633" and res.has_crs and res.crs.startswith("EPSG:32633")
    x0, _y0, _x1, y1 = shapely.total_bounds(shapely.from_wkb(geoms))
    assert 500000 <= x0 < 500000 + 304 * 0.15 and 5000001 - 240 * 0.15 < y1 <= 5000001
    area = float(dict(zip(meta["fields"], fields, strict=True))["area_m2"].sum())
    assert area == pytest.approx(np.count_nonzero(scene.mask == 1) * 0.0225, rel=0.005)
