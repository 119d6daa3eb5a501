"""Areas that hold in any CRS: planar in UTM, geodesic per row in EPSG:4326, Mercator corrected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seggui.core.errors import BadInputError
from seggui.core.geo.areas import cell_areas, pixel_areas
from seggui.core.geo.raster import GeoRaster
from seggui.core.gsd import find_gsd
from seggui.core.synth.geotiff import GEOGRAPHIC, UTM, WEB_MERCATOR, write_geotiff


def test_cell_areas_agree_with_pyproj_geod() -> None:
    """The closed form (authalic latitude) against pyproj's geodesic polygon area, from equator to 80°."""
    import pyproj

    geod = pyproj.Geod(ellps="WGS84")
    for lat in (0.0, 30.0, 45.0, -60.0, 80.0):
        d = 1e-4
        ref, _ = geod.polygon_area_perimeter([10, 10 + d, 10 + d, 10], [lat, lat, lat + d, lat + d])
        assert cell_areas(np.array([lat, lat + d]), d)[0] == pytest.approx(abs(ref), rel=1e-7)


@pytest.mark.parametrize(("crs", "tiled", "nir", "bits"), [
    (UTM, True, False, 8), (UTM, False, True, 16), (GEOGRAPHIC, True, True, 8),
    (GEOGRAPHIC, False, False, 16), (WEB_MERCATOR, True, False, 8),
])
def test_class_areas_match_the_generator(tmp_path: Path, scene, crs: str, tiled: bool, nir: bool,
                                         bits: int) -> None:
    made = write_geotiff(tmp_path / "s.tif", scene.image, scene.mask, scene.gsd_m, crs=crs, tiled=tiled,
                         nir=nir, bits=bits)
    with GeoRaster(made["path"]) as ras:
        info = ras.info
        assert info.tiled is tiled and info.count == (4 if nir else 3) and info.bands == (1, 2, 3)
        rgb, ok = ras.read((10, 60, 20, 90))
        assert rgb.shape == (50, 70, 3) and rgb.dtype == np.uint8 and ok.all()
        if bits == 8:
            assert np.array_equal(rgb, scene.image[10:60, 20:90])
    px = pixel_areas(info)
    got = px.class_m2(scene.mask)[:6]
    assert got == pytest.approx(made["class_m2"][:6], rel=1e-6)  # Mercator: PROJ vs the closed-form inverse
    assert crs in px.describe()
    method = {UTM: "planar", GEOGRAPHIC: "geodesic per row", WEB_MERCATOR: "Mercator scale corrected"}[crs]
    assert method in px.method


def test_web_mercator_planar_area_would_overstate(tmp_path: Path, scene) -> None:
    """At 45° N a Web Mercator metre is 1/cos(45°) ground metres: planar areas are twice too large."""
    made = write_geotiff(tmp_path / "m.tif", scene.image, scene.mask, scene.gsd_m, crs=WEB_MERCATOR)
    with GeoRaster(made["path"]) as ras:
        px = pixel_areas(ras.info)
    planar = scene.mask.size * scene.gsd_m ** 2
    true = float(made["class_m2"].sum())
    assert planar / true == pytest.approx(2.0, rel=0.01)
    assert px.m2_per_px * scene.mask.size == pytest.approx(true, rel=1e-9)


def test_find_gsd_measures_a_geographic_geotiff_instead_of_refusing(tmp_path: Path, scene) -> None:
    made = write_geotiff(tmp_path / "wgs.tif", scene.image, scene.mask, scene.gsd_m, crs=GEOGRAPHIC)
    g = find_gsd(made["path"])
    assert g is not None and g.source == "geotiff"
    assert "EPSG:4326" in g.note and "geodesic" in g.note
    assert g.m2_per_px * scene.mask.size == pytest.approx(float(made["class_m2"].sum()), rel=1e-9)
    # the UTM file keeps the planar figure of the hand-parsed tags, as before
    utm = write_geotiff(tmp_path / "utm.tif", scene.image, scene.mask, scene.gsd_m, crs=UTM)
    assert find_gsd(utm["path"]).m2_per_px == pytest.approx(scene.gsd_m ** 2)


def test_no_crs_and_rotated_geographic_grids_are_named(tmp_path: Path, scene) -> None:
    bare = write_geotiff(tmp_path / "bare.tif", scene.image, scene.mask, 0.15, with_crs=False)
    with GeoRaster(bare["path"]) as ras:
        assert not ras.info.has_crs
        with pytest.raises(BadInputError, match="no CRS.*--gsd") as err:
            pixel_areas(ras.info)
    assert err.value.path.name == "bare.tif"
    rot = write_geotiff(tmp_path / "rot.tif", scene.image, scene.mask, 0.15, crs=GEOGRAPHIC, rotate_deg=15)
    with GeoRaster(rot["path"]) as ras:
        assert ras.info.rotated
        with pytest.raises(BadInputError, match="rotated") as err:
            pixel_areas(ras.info)
    assert err.value.path.name == "rot.tif"
    # a rotated projected grid is fine: |det| is the true pixel area
    rp = write_geotiff(tmp_path / "rotp.tif", scene.image, scene.mask, 0.15, crs=UTM, rotate_deg=15)
    with GeoRaster(rp["path"]) as ras:
        assert pixel_areas(ras.info).m2_per_px == pytest.approx(0.0225)


def test_without_the_geo_extra_the_message_names_it(tmp_path: Path, scene, monkeypatch) -> None:
    """The default install has no rasterio: GIS calls say which extra to install, degrees are refused."""
    import sys

    from seggui.core.geo import GeoUnavailable, geo_available, require

    made = write_geotiff(tmp_path / "wgs.tif", scene.image, scene.mask, scene.gsd_m, crs=GEOGRAPHIC)
    monkeypatch.setitem(sys.modules, "rasterio", None)
    assert not geo_available()
    with pytest.raises(GeoUnavailable, match=r"seggui\[geo\]"):
        require("rasterio")
    with pytest.raises(BadInputError, match=r"geographic.*seggui\[geo\]") as err:
        find_gsd(made["path"])
    assert err.value.path.name == "wgs.tif"
