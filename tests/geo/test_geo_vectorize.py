"""`seggui vectorize`: polygons with holes and areas, read back with pyogrio, in three formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seggui.cli import main
from seggui.core.geo.maskfile import MaskWriter
from seggui.core.geo.raster import GeoRaster
from seggui.core.synth.geotiff import GEOGRAPHIC, UTM, write_geotiff


def _mask_tif(tmp_path: Path, scene, crs: str, labels: np.ndarray | None = None) -> tuple[Path, dict]:
    """The scene's true mask written as a mask GeoTIFF on the picture's grid (as `seggui infer` does)."""
    from seggui.core.classes import load_classes

    made = write_geotiff(tmp_path / f"pic-{crs[-4:]}.tif", scene.image, scene.mask, scene.gsd_m, crs=crs)
    labels = scene.mask if labels is None else labels
    with GeoRaster(made["path"]) as ras:
        info = ras.info
    out = tmp_path / f"mask-{crs[-4:]}.tif"
    w = MaskWriter(out, info, load_classes("aerial-parking-6"), {"seggui_model": "truth@1"})
    w.write((0, info.height, 0, info.width), labels, (0, 0))
    w.close(True)
    return out, made


@pytest.mark.parametrize("crs", [UTM, GEOGRAPHIC])
@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson"])
def test_polygon_areas_match_the_generator(tmp_path: Path, scene, crs: str, suffix: str, capsys) -> None:
    import pyogrio.raw

    mask, made = _mask_tif(tmp_path, scene, crs)
    out = tmp_path / f"parking{suffix}"
    assert main(["vectorize", str(mask), "--out", str(out), "--class", "parking", "--class", "vehicle"]) == 0
    summary = json.loads(capsys.readouterr().out)
    meta, _fids, geoms, fields = pyogrio.raw.read(out)
    cols = dict(zip(meta["fields"], fields, strict=True))
    area = cols["area_m2"]
    for name, cid in (("parking", 1), ("vehicle", 5)):
        got = float(area[cols["class"] == name].sum())
        assert got == pytest.approx(made["class_m2"][cid], rel=0.005)
        assert summary["classes"][name]["ratio"] == pytest.approx(1.0, abs=0.005)
    assert set(cols["model"]) == {"truth@1"} and set(cols["source"]) == {mask.name}
    want = 4326 if suffix == ".geojson" else int(crs.split(":")[1])
    assert meta["crs"] == f"EPSG:{want}"
    if suffix == ".shp":
        assert out.with_suffix(".prj").is_file() and "perim_m" in cols
    else:
        assert (cols["perimeter_m"] > 0).all()
    if suffix == ".geojson":
        import shapely

        bounds = shapely.total_bounds(shapely.from_wkb(geoms))
        assert 14.9 < bounds[0] < 15.1 and 44.9 < bounds[3] < 45.2  # lon, lat near the scene's corner


def test_holes_are_kept_and_min_area_simplify(tmp_path: Path, scene, capsys) -> None:
    import pyogrio.raw
    import shapely

    ring = np.zeros_like(scene.mask)
    ring[40:140, 40:200] = 1
    ring[70:110, 90:150] = 0  # a hole of 40 x 60 px
    ring[200:203, 10:13] = 1  # a speck of 9 px = 0.2 m²
    mask, _ = _mask_tif(tmp_path, scene, UTM, ring)
    out = tmp_path / "ring.gpkg"
    assert main(["vectorize", str(mask), "--out", str(out), "--class", "parking", "--min-area", "1",
                 "--simplify", "0.05"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["left_out_under_min_area"] == 1 and summary["polygons"] == 1
    _meta, _f, geoms, fields = pyogrio.raw.read(out)
    poly = shapely.from_wkb(geoms[0]).geoms[0]
    assert len(poly.interiors) == 1
    assert fields[1][0] == pytest.approx((100 * 160 - 40 * 60) * 0.0225, rel=0.005)


def test_grids_and_formats_are_checked(tmp_path: Path, scene, capsys) -> None:
    import cv2

    mask, made = _mask_tif(tmp_path, scene, UTM)
    other = write_geotiff(tmp_path / "other.tif", scene.image[:200], scene.mask[:200], 0.15)
    assert main(["vectorize", str(mask), "--out", str(tmp_path / "x.gpkg"), "--picture", other["path"]]) == 2
    assert "not on the same grid" in capsys.readouterr().err
    png = tmp_path / "m.png"
    cv2.imwrite(str(png), scene.mask[:200])
    assert main(["vectorize", str(png), "--classes", "aerial-parking-6", "--out", str(tmp_path / "y.gpkg"),
                 "--picture", made["path"]]) == 2
    err = capsys.readouterr().err
    assert "m.png" in err and "same grid" in err
    assert main(["vectorize", str(mask), "--out", str(tmp_path / "z.kml")]) == 2
    assert "unknown polygon format" in capsys.readouterr().err
    assert not list(tmp_path.glob("[xyz].*"))
    # a PNG mask on the picture's grid works with --picture
    cv2.imwrite(str(png), scene.mask)
    assert main(["vectorize", str(png), "--classes", "aerial-parking-6", "--out", str(tmp_path / "ok.gpkg"),
                 "--picture", made["path"], "--class", "road"]) == 0
