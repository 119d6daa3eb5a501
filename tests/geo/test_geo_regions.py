"""Regions traced strip by strip equal the whole-mask trace: same polygons, holes, areas."""

from __future__ import annotations

import numpy as np
import pytest

from seggui.core.geo.regions import array_strips, trace_regions


def _whole(labels: np.ndarray, ids: list[int]) -> list[tuple[int, object]]:
    import rasterio.features
    import shapely

    keep = np.isin(labels, ids)
    return [(int(v), shapely.geometry.shape(g))
            for g, v in rasterio.features.shapes(labels, mask=keep, connectivity=4)]


def _same(a: list[tuple[int, object]], b: list[tuple[int, object]]) -> None:
    """Same number of regions per class, and each region of `a` equals one of `b` exactly."""
    import shapely

    assert sorted(c for c, _ in a) == sorted(c for c, _ in b)
    left: dict[tuple, list[object]] = {}
    for c, h in b:
        left.setdefault((c, h.bounds, h.area), []).append(h)
    for cid, g in a:
        cands = left.get((cid, g.bounds, g.area), [])
        match = [i for i, h in enumerate(cands) if shapely.equals(g, h)]
        assert match, f"class {cid} region {g.wkt[:80]} has no equal in the whole trace"
        cands.pop(match[0])


def test_u_shape_ring_and_spiral_across_strips() -> None:
    m = np.zeros((40, 30), np.uint8)
    m[2:20, 2:5] = 1  # a U: two arms cut by the strip borders, joined at the bottom
    m[2:20, 10:13] = 1
    m[17:20, 2:13] = 1
    m[5:35, 15:28] = 2  # a ring across three strips: its hole is made by merging
    m[12:28, 18:25] = 0
    m[15:25, 20:23] = 1  # an island of class 1 in the hole
    m[30:40, 0:3] = 1  # touching the last row
    m[24, 2:12] = 2  # a one-row region lying on a strip border (row 24 = start of a strip of 8)
    for rows in (1, 3, 8, 40):
        got = list(trace_regions(array_strips(m, rows), m.shape[0], [1, 2]))
        _same(got, _whole(m, [1, 2]))
    ring = [g for c, g in trace_regions(array_strips(m, 8), 40, [2]) if g.area > 100]
    assert len(ring) == 1 and len(ring[0].interiors) == 1


def test_diagonal_neighbours_stay_apart() -> None:
    m = np.zeros((4, 4), np.uint8)
    m[1, 1] = m[2, 2] = 1  # touching at a corner only: two regions with 4-connectivity
    got = list(trace_regions(array_strips(m, 2), 4, [1]))
    assert len(got) == 2 and {g.area for _, g in got} == {1.0}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_masks(seed: int) -> None:
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.random((97, 83)).astype(np.float32)
    m = (cv2.GaussianBlur(noise, (0, 0), 2.0) * 40).astype(np.uint8) % 4  # blobs, nested and tangled
    m[rng.random(m.shape) < 0.01] = 255  # nodata specks
    for rows in (5, 16, 33):
        got = list(trace_regions(array_strips(m, rows), m.shape[0], [1, 2, 3], nodata=255))
        _same(got, _whole(m, [1, 2, 3]))


@pytest.mark.parametrize("crs", ["EPSG:32633", "EPSG:4326"])
def test_a_mask_geotiff_by_strips_gives_the_whole_trace_areas(tmp_path, scene, crs: str) -> None:
    from seggui.core.classes import load_classes
    from seggui.core.geo.maskfile import MaskWriter
    from seggui.core.geo.raster import GeoRaster
    from seggui.core.geo.vectorize import check_agreement, mask_polygons, raster_polygons
    from seggui.core.synth.geotiff import write_geotiff

    made = write_geotiff(tmp_path / "pic.tif", scene.image, scene.mask, scene.gsd_m, crs=crs)
    with GeoRaster(made["path"]) as ras:
        info = ras.info
    table = load_classes("aerial-parking-6")
    out = tmp_path / "mask.tif"
    w = MaskWriter(out, info, table, {})
    w.write((0, info.height, 0, info.width), scene.mask, (0, 0))
    w.close(True)
    strips = raster_polygons(out, table, rows=37)
    whole = mask_polygons(scene.mask, info, table)
    assert len(strips.geoms) == len(whole.geoms)
    assert sorted(round(a, 6) for a in strips.area_m2) == sorted(round(a, 6) for a in whole.area_m2)
    assert strips.raster_m2 == pytest.approx(whole.raster_m2)
    assert not check_agreement(strips)
    assert strips.raster_m2["parking"] == pytest.approx(made["class_m2"][1], rel=1e-6)
