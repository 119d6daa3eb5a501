"""Ground sampling distance from a flag, world files and GeoTIFF tags."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile

from seggui.core.errors import BadInputError
from seggui.core.gsd import Gsd, find_gsd, picture_size, read_geotiff_gsd, read_world_file, world_file_for


def _world(path: Path, a: float, d: float, b: float, e: float, c: float = 5e5, f: float = 3.3e6) -> Path:
    path.write_text("\n".join(str(v) for v in (a, d, b, e, c, f)) + "\n")
    return path


def _geotiff(path: Path, keys: tuple[int, ...], scale: tuple[float, float] | None = (0.25, 0.25),
             matrix: tuple[float, ...] | None = None, shape: tuple[int, int] = (6, 8)) -> Path:
    """A real GeoTIFF: ModelPixelScale + ModelTiepoint (or a transformation) + GeoKeyDirectory."""
    tags = []
    if scale is not None:
        tags.append((33550, "d", 3, (scale[0], scale[1], 0.0), False))
        tags.append((33922, "d", 6, (0.0, 0.0, 0.0, 271000.0, 3290000.0, 0.0), False))
    if matrix is not None:
        tags.append((34264, "d", 16, matrix, False))
    directory = (1, 1, 0, len(keys) // 4, *keys)
    tags.append((34735, "H", len(directory), directory, False))
    tifffile.imwrite(path, np.zeros(shape, np.uint8), extratags=tags)
    return path


UTM15N = (1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32615, 3076, 0, 1, 9001)
WGS84 = (1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326, 2054, 0, 1, 9102)


def test_flag_gives_a_square_pixel() -> None:
    g = Gsd.square(0.15)
    assert g.m2_per_px == pytest.approx(0.0225)
    assert (g.x_m, g.y_m, g.source, g.path) == (0.15, 0.15, "flag", None)
    assert g.describe() == "0.150 m/px set by the user"


@pytest.mark.parametrize("bad", [0, -0.1, float("nan"), float("inf"), "ten"])
def test_flag_must_be_a_positive_number(bad: object) -> None:
    with pytest.raises(BadInputError, match="GSD"):
        Gsd.square(bad)  # type: ignore[arg-type]


def test_world_file_beside_the_picture(tmp_path: Path) -> None:
    _world(tmp_path / "site.jgw", 0.15, 0.0, 0.0, -0.15)
    g = find_gsd(tmp_path / "site.jpg")
    assert g is not None
    assert g.m2_per_px == pytest.approx(0.0225)
    assert g.source == "world file" and g.path == tmp_path / "site.jgw"
    assert g.describe() == "0.150 m/px from world file site.jgw"


def test_world_file_with_upper_case_suffix_and_non_square_pixels(tmp_path: Path) -> None:
    _world(tmp_path / "ortho.TFW", 0.1, 0.0, 0.0, -0.2)
    g = find_gsd(tmp_path / "ortho.tif")
    assert g is not None and g.path == tmp_path / "ortho.TFW"
    assert (g.x_m, g.y_m, g.m2_per_px) == pytest.approx((0.1, 0.2, 0.02))
    assert g.describe().startswith("0.100 x 0.200 m/px")


def test_rotated_world_file_area_is_the_determinant(tmp_path: Path) -> None:
    t = math.radians(30)
    g = read_world_file(_world(tmp_path / "r.wld", 0.1 * math.cos(t), 0.1 * math.sin(t),
                               0.1 * math.sin(t), -0.1 * math.cos(t)))
    assert g.m2_per_px == pytest.approx(0.01)
    assert (g.x_m, g.y_m) == pytest.approx((0.1, 0.1))
    # a sheared grid: the pixel is a parallelogram smaller than x_m * y_m
    s = read_world_file(_world(tmp_path / "s.wld", 0.1, 0.0, 0.05, -0.1))
    assert s.m2_per_px == pytest.approx(0.01)
    assert s.x_m * s.y_m > s.m2_per_px


@pytest.mark.parametrize("text, problem", [
    ("0.1\n0\n0\n-0.1\n5\n", "found 5"),
    ("0.1\n0\n0\n-0.1\n5\n6\n7\n", "found 7"),
    ("0.1\n0\nzero\n-0.1\n5\n6\n", "6 numbers"),
    ("0\n0\n0\n-0.1\n5\n6\n", "zero"),
    ("0.1\n0.1\n0.1\n0.1\n5\n6\n", "zero"),
])
def test_bad_world_file_names_the_file(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "bad.pgw").write_text(text)
    with pytest.raises(BadInputError, match=problem) as err:
        find_gsd(tmp_path / "bad.png")
    assert err.value.path == tmp_path / "bad.pgw"


def test_world_file_units_from_prj(tmp_path: Path) -> None:
    _world(tmp_path / "tx.tfw", 0.5, 0.0, 0.0, -0.5)
    (tmp_path / "tx.prj").write_text(
        'PROJCS["NAD83 / Texas South Central (ftUS)",GEOGCS["NAD83",UNIT["degree",0.0174532925199433]],'
        'PROJECTION["Lambert_Conformal_Conic_2SP"],UNIT["US survey foot",0.304800609601219]]')
    g = read_world_file(tmp_path / "tx.tfw")
    assert g.x_m == pytest.approx(0.5 * 0.304800609601219)
    assert "us survey foot" in g.describe()
    (tmp_path / "tx.prj").write_text('GEOGCS["WGS 84",DATUM["WGS_1984"],UNIT["degree",0.0174532925199433]]')
    with pytest.raises(BadInputError, match="degrees") as err:
        read_world_file(tmp_path / "tx.tfw")
    assert err.value.path == tmp_path / "tx.prj"


def test_geotiff_projected_crs(tmp_path: Path) -> None:
    path = _geotiff(tmp_path / "utm.tif", UTM15N)
    g = read_geotiff_gsd(path)
    assert g is not None
    assert g.m2_per_px == pytest.approx(0.0625)
    assert (g.source, g.path) == ("geotiff", path)
    assert g.describe() == "0.250 m/px from GeoTIFF tags of utm.tif"
    assert find_gsd(path) == g


def test_geotiff_geographic_crs_off_the_globe_is_refused(tmp_path: Path) -> None:
    """Degrees are measured on the ellipsoid with the geo extra (tests/geo); a tiepoint at latitude
    3,290,000° is refused either way, naming the file."""
    from seggui.core.geo import geo_available

    path = _geotiff(tmp_path / "wgs84.tif", WGS84, scale=(2.5e-6, 2.5e-6))
    with pytest.raises(BadInputError) as err:
        read_geotiff_gsd(path)
    assert err.value.path == path
    assert ("latitudes beyond" if geo_available() else "seggui[geo]") in err.value.problem


def test_geotiff_feet_and_rotated_transformation(tmp_path: Path) -> None:
    feet = (1024, 0, 1, 1, 3072, 0, 1, 2278, 3076, 0, 1, 9003)
    g = read_geotiff_gsd(_geotiff(tmp_path / "ft.tif", feet, scale=(1.0, 1.0)))
    assert g is not None and g.x_m == pytest.approx(1200 / 3937)
    t = math.radians(20)
    m = (0.3 * math.cos(t), -0.3 * math.sin(t), 0, 271000.0,
         -0.3 * math.sin(t), -0.3 * math.cos(t), 0, 3290000.0, 0, 0, 0, 0, 0, 0, 0, 1)
    r = read_geotiff_gsd(_geotiff(tmp_path / "rot.tif", UTM15N, scale=None, matrix=m))
    assert r is not None and r.m2_per_px == pytest.approx(0.09)


def test_files_without_georeferencing_give_none(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "plain.tif", np.zeros((4, 4), np.uint8))
    cv2.imwrite(str(tmp_path / "plain.png"), np.zeros((4, 4), np.uint8))
    assert read_geotiff_gsd(tmp_path / "plain.tif") is None
    assert read_geotiff_gsd(tmp_path / "plain.png") is None
    assert find_gsd(tmp_path / "plain.png") is None
    assert world_file_for(tmp_path / "plain.png") is None


def test_geotiff_tags_win_over_a_world_file(tmp_path: Path) -> None:
    path = _geotiff(tmp_path / "both.tif", UTM15N)
    _world(tmp_path / "both.tfw", 9.0, 0.0, 0.0, -9.0)
    g = find_gsd(path)
    assert g is not None and g.source == "geotiff"


def test_mask_elsewhere_takes_the_pictures_gsd_scaled_to_its_size(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    picture = tmp_path / "images" / "7677.jpg"
    cv2.imwrite(str(picture), np.zeros((400, 300, 3), np.uint8))
    assert picture_size(picture) == (400, 300)
    _world(tmp_path / "images" / "7677.jgw", 0.05, 0.0, 0.0, -0.05)
    mask = tmp_path / "masks" / "7677.png"
    assert find_gsd(mask) is None
    same = find_gsd(mask, [picture], shape=(400, 300))
    assert same is not None and same.m2_per_px == pytest.approx(0.0025) and same.note == ""
    smaller = find_gsd(mask, [picture], shape=(100, 75))
    assert smaller is not None and smaller.m2_per_px == pytest.approx(0.04)
    assert "scaled" in smaller.describe()
    with pytest.raises(BadInputError, match="aspect"):
        find_gsd(mask, [picture], shape=(100, 100))


def test_workspace_round_trip(tmp_path: Path) -> None:
    g = read_world_file(_world(tmp_path / "a.pgw", 0.2, 0.0, 0.0, -0.3))
    back = Gsd.from_workspace(g.to_dict(), tmp_path / "seggui.json")
    assert (back.m2_per_px, back.x_m, back.y_m) == (g.m2_per_px, g.x_m, g.y_m)
    # the workspace remembers where the figure came from
    assert back.source == "world file" and back.describe().endswith("from world file a.pgw")
    legacy = {k: v for k, v in g.to_dict().items() if k not in ("source", "path")}
    assert Gsd.from_workspace(legacy, tmp_path / "seggui.json").describe().endswith(
        "from workspace seggui.json")
    with pytest.raises(BadInputError, match="m2_per_px"):
        Gsd.from_workspace({"x_m": 1}, tmp_path / "seggui.json")
