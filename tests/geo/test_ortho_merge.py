"""The merged orthomosaic mask: correction over prediction, by blocks, on the source's grid, whole or none."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from seggui.core.classes import load_classes
from seggui.core.errors import BadInputError, Cancelled
from seggui.core.geo.maskfile import mask_profile
from seggui.core.geo.ortho_merge import export_ortho, merge_masks
from seggui.core.geo.ortho_region import OrthoFiles, write_region
from seggui.core.geo.raster import GeoRaster
from seggui.core.jobs import CancelToken, drive, run_job
from seggui.core.synth.ortho import write_orthomosaic

SIDE = 1500
GSD = 0.15


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_orthomosaic(tmp_path_factory.mktemp("src") / "site.tif", SIDE, tile=SIDE, gsd=GSD)["path"]


def prediction() -> np.ndarray:
    """Bands of classes 0..2, with a nodata corner the model never reached."""
    rows, cols = np.mgrid[0:SIDE, 0:SIDE]
    pred = ((rows // 250 + cols // 300) % 3).astype(np.uint8)
    pred[:100, :100] = 255
    return pred


def workspace(tmp_path: Path, source: Path, *, predicted: bool = True) -> tuple[OrthoFiles, np.ndarray]:
    """A workspace folder with the orthomosaic's prediction and two corrected windows; the expected merge."""
    table = load_classes("aerial-parking-6")
    files = OrthoFiles(tmp_path / "ws", source)
    files.predicted.parent.mkdir(parents=True)
    pred = prediction()
    with GeoRaster(source) as ras:
        info = ras.info
    if predicted:
        with rasterio.open(files.predicted, "w", **mask_profile(info)) as ds:
            ds.write(pred, 1)
    expected = pred.copy() if predicted else np.full((SIDE, SIDE), 255, np.uint8)
    for win, value in (((200, 700, 300, 900), 4), ((50, 80, 50, 80), 1)):  # the second inside the nodata
        r0, r1, c0, c1 = win
        write_region(files, win, np.full((r1 - r0, c1 - c0), value, np.uint8), table)
        expected[r0:r1, c0:c1] = value
    return files, expected


def test_correction_lies_over_the_prediction_on_the_source_grid(tmp_path: Path, source: Path) -> None:
    files, expected = workspace(tmp_path, source)
    out = tmp_path / "out" / "merged.tif"
    seen = []
    result = drive(merge_masks(files.predicted, files.corrected, out, block=512), seen.append)
    assert len(seen) == 9 and seen[-1].done == seen[-1].total == 9  # 3 x 3 blocks of 512 over 1500
    with rasterio.open(out) as ds, rasterio.open(source) as src:
        assert ds.crs == src.crs and ds.transform == src.transform and (ds.height, ds.width) == (SIDE, SIDE)
        assert ds.nodata == 255 and ds.profile["tiled"] and ds.profile["compress"] == "deflate"
        assert ds.colormap(1)[4][:3] == tuple(load_classes("aerial-parking-6").by_id[4].color)
        assert json.loads(ds.tags(1)["classes"])["name"] == "aerial-parking-6"
        assert ds.overviews(1)  # QGIS shows it at once
        merged = ds.read(1)
    assert np.array_equal(merged, expected)
    assert (merged[:50, :50] == 255).all()  # neither file has a value there
    assert result.corrected_px == 500 * 600 + 30 * 30
    assert result.nodata_px == 100 * 100 - 30 * 30
    assert result.predicted_px == SIDE * SIDE - result.corrected_px - result.nodata_px
    assert not list(out.parent.glob(".*"))  # the temporary name is gone


def test_only_a_correction_gives_nodata_elsewhere(tmp_path: Path, source: Path) -> None:
    files, expected = workspace(tmp_path, source, predicted=False)
    out = tmp_path / "merged.tif"
    result = run_job(merge_masks(files.predicted, files.corrected, out))
    with rasterio.open(out) as ds:
        assert np.array_equal(ds.read(1), expected)
    assert result.predicted_px == 0 and result.corrected_px == 500 * 600 + 30 * 30


def test_grids_that_differ_or_no_mask_at_all_are_refused_by_name(tmp_path: Path, source: Path) -> None:
    files, _ = workspace(tmp_path, source)
    with rasterio.open(files.corrected) as ds:
        profile = ds.profile
    moved = tmp_path / "moved.tif"
    profile["transform"] = profile["transform"] @ rasterio.Affine.translation(10, 0)
    with rasterio.open(moved, "w", **profile) as ds:
        ds.write(np.zeros((SIDE, SIDE), np.uint8), 1)
    out = tmp_path / "merged.tif"
    with pytest.raises(BadInputError, match="not on the same grid") as err:
        run_job(merge_masks(files.predicted, moved, out))
    assert "moved.tif" in str(err.value)
    with pytest.raises(BadInputError, match="not found") as err:
        run_job(merge_masks(tmp_path / "none.predicted.tif", tmp_path / "none.corrected.tif", out))
    assert "none.predicted.tif" in str(err.value) and "none.corrected.tif" in str(err.value)
    assert not out.exists()


def test_a_cancelled_merge_leaves_no_file(tmp_path: Path, source: Path) -> None:
    files, _ = workspace(tmp_path, source)
    out = tmp_path / "out" / "merged.tif"
    out.parent.mkdir()
    token = CancelToken()
    with pytest.raises(Cancelled):
        drive(merge_masks(files.predicted, files.corrected, out, block=512, token=token),
              lambda p: token.cancel() if p.done == 2 else None)
    assert list(out.parent.iterdir()) == []


def test_polygons_of_the_merged_mask_keep_the_merged_raster_in_the_workspace(tmp_path: Path,
                                                                             source: Path) -> None:
    import pyogrio

    files, expected = workspace(tmp_path, source)
    table = load_classes("aerial-parking-6")
    out = tmp_path / "parking.gpkg"
    result = run_job(export_ortho(files.root, source, out, table, model="demo@1"))
    with rasterio.open(files.root / "ortho" / "site.merged.tif") as ds:
        assert np.array_equal(ds.read(1), expected)
        crs = ds.crs
    meta = pyogrio.read_info(out)
    assert meta["features"] == result.polygons and result.polygons > 0
    assert rasterio.crs.CRS.from_user_input(meta["crs"]) == crs
    info, _fids, _geoms, values = pyogrio.raw.read(out)
    names = list(info["fields"]) if isinstance(info, dict) else list(meta["fields"])
    classes, area = values[names.index("class")], values[names.index("area_m2")]
    parking = float(area[classes == table.by_id[4].name].sum())
    assert parking == pytest.approx(500 * 600 * GSD ** 2, rel=1e-6)  # the corrected block, whole
    assert float(area.sum()) == pytest.approx(result.total_m2)
    scored = np.isin(expected, list(table.scored_ids))
    assert float(area.sum()) == pytest.approx(scored.sum() * GSD ** 2, rel=1e-6)  # polygons = raster
    assert set(values[names.index("source")]) == {"site.tif"}
    assert set(values[names.index("model")]) == {"demo@1"}


def test_an_unknown_format_is_refused_before_any_work(tmp_path: Path, source: Path) -> None:
    files, _ = workspace(tmp_path, source)
    with pytest.raises(BadInputError, match="unknown format") as err:
        run_job(export_ortho(files.root, source, tmp_path / "mask.png", load_classes("aerial-parking-6")))
    assert "mask.png" in str(err.value)
    assert not (files.root / "ortho" / "site.merged.tif").exists()
