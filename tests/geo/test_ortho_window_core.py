"""The window's orthomosaic decisions without a window: overviews built once, regions read, written back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from seggui.core.classes import load_classes
from seggui.core.geo.maskfile import mask_profile
from seggui.core.geo.ortho_region import (
    OrthoFiles,
    ensure_overviews,
    frame_picture,
    is_orthomosaic,
    make_region,
    mask_window,
    parse_region_id,
    region_at,
    write_back,
)
from seggui.core.geo.overviews import TileReader, level_shape, open_pyramid
from seggui.core.geo.raster import GeoRaster
from seggui.core.gsd import find_gsd
from seggui.core.mask_kind import MaskKind
from seggui.core.synth.ortho import write_orthomosaic
from seggui.core.workspace import Workspace

SIDE = 2600


@pytest.fixture(scope="module")
def ortho(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_orthomosaic(tmp_path_factory.mktemp("o") / "site.tif", SIDE, tile=512)["path"]


def test_overviews_are_built_once_into_the_workspace_and_serve_every_level(ortho: Path, tmp_path: Path,
                                                                          monkeypatch) -> None:
    monkeypatch.setenv("SEGGUI_ORTHO_PIXELS", "1000000")
    assert is_orthomosaic(ortho)
    pyramid = open_pyramid(ortho, tmp_path)
    assert pyramid.cache is not None and not pyramid.cache.exists()
    assert pyramid.cache.parent == tmp_path / "overviews" and pyramid.picture_level == 1
    ensure_overviews(tmp_path, ortho)
    stamp = pyramid.cache.stat().st_mtime_ns
    with rasterio.open(pyramid.cache) as cache, rasterio.open(ortho) as src:
        assert cache.crs == src.crs
        assert tuple(cache.transform)[:6] == tuple(src.transform @ src.transform.scale(4, 4))[:6]
        assert (cache.height, cache.width) == level_shape(SIDE, SIDE, 2) and cache.overviews(1)
        full = np.moveaxis(src.read(), 0, -1)
    assert frame_picture(tmp_path, ortho).shape == (*level_shape(SIDE, SIDE, 1), 3)
    ensure_overviews(tmp_path, ortho)
    assert pyramid.cache.stat().st_mtime_ns == stamp  # cached: not built again
    with TileReader(pyramid) as reader:
        assert np.array_equal(reader.tile(0, 1, 2), full[512:1024, 1024:1536])  # full resolution as is
        coarse = reader.tile(2, 0, 0).astype(np.float32)  # from the cache: the 4x4 means of the source
    want = full[:2048, :2048].reshape(512, 4, 512, 4, 3).mean(axis=(1, 3))
    assert np.abs(coarse - want).mean() < 1.0


def test_a_file_with_its_own_overviews_needs_no_cache(tmp_path: Path) -> None:
    path = write_orthomosaic(tmp_path / "cog.tif", 1500, tile=512, overviews=True)["path"]
    pyramid = open_pyramid(path, tmp_path / "ws")
    assert pyramid.cache is None
    with TileReader(pyramid) as reader:
        assert reader.picture().shape == (1500, 1500, 3)  # under PICTURE_SIDE: level 0
        assert reader.tile(1, 0, 0).shape == (512, 512, 3)
    assert not (tmp_path / "ws" / "overviews").exists()


def test_regions_are_cells_of_the_grid() -> None:
    assert region_at(5000.5, 10.0, 6000, 9000) == (0, 4096, 4096, 8192)
    assert region_at(8999, 5999, 6000, 9000) == (4096, 6000, 8192, 9000)
    assert region_at(9000, 0, 6000, 9000) is None
    assert parse_region_id("site@r4096c8192", 6000, 9000) == ("site", (4096, 6000, 8192, 9000))
    assert parse_region_id("site@r100c0", 6000, 9000) is None  # not on the grid
    assert parse_region_id("site", 6000, 9000) is None


def test_region_round_trip_keeps_the_grid_and_writes_only_its_window(ortho: Path, tmp_path: Path,
                                                                     monkeypatch) -> None:
    monkeypatch.setattr("seggui.core.geo.ortho_region.REGION", 1024)  # cells of 1024: several in 2600
    table = load_classes("aerial-parking-6")
    ws = Workspace.create(tmp_path / "ws", table)
    ws.add_image(ortho)
    files = OrthoFiles(ws.root, ortho)
    with GeoRaster(ortho) as ras:
        info = ras.info
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 6, (SIDE, SIDE), dtype=np.uint8)
    files.predicted.parent.mkdir(parents=True)
    with rasterio.open(files.predicted, "w", **mask_profile(info)) as ds:
        ds.write(pred, 1)
    win = region_at(2100, 1500.5, SIDE, SIDE)
    assert win == (1024, 2048, 2048, SIDE)  # the last column of cells is narrower
    fid = make_region(ws, ortho, win)
    r0, r1, c0, c1 = win
    assert fid == f"site@r{r0}c{c0}" and ws.frames[fid].image is not None
    assert np.array_equal(ws.read_mask(fid, MaskKind.PREDICTED), pred[r0:r1, c0:c1])
    assert ws.read_mask(fid, MaskKind.CORRECTED) is None
    gsd = find_gsd(ws.image_path(fid))
    assert gsd is not None and abs(gsd.m2_per_px - 0.15 ** 2) < 1e-9  # areas in m², as the source

    corrected = pred[r0:r1, c0:c1].copy()
    corrected[10:20, 30:50] = 1
    ws.write_mask(fid, MaskKind.CORRECTED, corrected)
    assert write_back(ws, ortho, fid) == files.corrected
    with rasterio.open(files.corrected) as ds, rasterio.open(ortho) as src:
        assert ds.crs == src.crs and ds.transform == src.transform and (ds.height, ds.width) == (SIDE, SIDE)
        assert ds.profile["tiled"] and ds.profile["compress"] == "deflate" and ds.nodata == 255
        assert json.loads(ds.tags(1)["classes"])["name"] == table.name and ds.colormap(1)[1][:3]
        assert np.array_equal(ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0)), corrected)
    labels, from_correction = mask_window(files, win)
    assert from_correction and np.array_equal(labels, corrected)
    other, from_correction = mask_window(files, (0, 1024, 0, 1024))  # another cell: the prediction
    assert not from_correction and np.array_equal(other, pred[:1024, :1024])
    with rasterio.open(files.corrected) as ds:
        assert (ds.read(1, window=Window(0, 0, 2048, 1024)) == 255).all()  # nodata: not corrected
    assert make_region(ws, ortho, win) == fid  # made once: its own files are the newer


@pytest.mark.slow
def test_overviews_and_a_region_of_a_large_file_in_bounded_memory(tmp_path: Path) -> None:
    """An 8000 x 8000 orthomosaic (192 MB as RGB): overviews, the picture and a region stay far below it."""
    path = write_orthomosaic(tmp_path / "big.tif", 8000, tile=512)["path"]
    code = (
        "import resource, sys, json\n"
        "from pathlib import Path\n"
        "import rasterio\n"
        "from seggui.core.classes import load_classes\n"
        "from seggui.core.geo.ortho_region import frame_picture, make_region, write_back\n"
        "from seggui.core.mask_kind import MaskKind\n"
        "from seggui.core.workspace import Workspace\n"
        "import numpy as np\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        f"src, root = Path({str(path)!r}), Path({str(tmp_path / 'ws')!r})\n"
        "ws = Workspace.create(root, load_classes('aerial-parking-6'))\n"
        "ws.add_image(src)\n"
        "pic = frame_picture(root, src)\n"
        "fid = make_region(ws, src, (4096, 8000, 4096, 8000))\n"
        "ws.write_mask(fid, MaskKind.CORRECTED, np.ones((3904, 3904), np.uint8))\n"
        "write_back(ws, src, fid)\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'base': base, 'peak': peak, 'picture': list(pic.shape)}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["picture"] == [2000, 2000, 3]
    # the region (3904² RGB, 46 MB, and its PNG encoding) is the largest thing held; the whole file is 192 MB
    assert got["peak"] - got["base"] < 150, got


def test_a_thumbnail_of_an_orthomosaic_is_one_decimated_read(ortho: Path, monkeypatch) -> None:
    from seggui.core import thumbnails

    monkeypatch.setenv("SEGGUI_ORTHO_PIXELS", "1000000")

    def whole(path):  # noqa: ANN001, ANN202
        raise AssertionError(f"{path} decoded whole")

    monkeypatch.setattr(thumbnails, "read_image", whole)
    thumb = thumbnails.read_small(ortho, 160)
    assert thumb.shape == (160, 160, 3) and thumb.dtype == np.uint8 and thumb.std() > 5


def test_opening_a_folder_builds_the_overviews_of_its_orthomosaics_and_names_a_damaged_one(
        ortho: Path, tmp_path: Path, monkeypatch) -> None:
    from seggui.core.opening import Opener

    monkeypatch.setenv("SEGGUI_ORTHO_PIXELS", "1000000")
    folder = tmp_path / "survey"
    folder.mkdir()
    (folder / "site.tif").symlink_to(ortho)
    data = ortho.read_bytes()
    (folder / "cut.tif").write_bytes(data[:len(data) * 2 // 3])  # the last third of its tiles is gone
    opened = Opener(tmp_path / "store").open(folder)
    root = opened.workspace.root
    caches = sorted(p.name for p in (root / "overviews").glob("*.tif"))
    assert [c.split("-")[0] for c in caches] == ["cut", "site"]
    said = [str(what) for _level, what in opened.notes]
    assert any("site.tif opens as an orthomosaic" in t for t in said)
    assert any(t.startswith("cut.tif: ") and "shown black" in t for t in said)  # named, once or a few times
    assert sum("cut.tif: " in t and "shown black" in t for t in said) <= 3
    with TileReader(open_pyramid(folder / "cut.tif", root)) as reader:  # the cached level: 1/4
        coarse = reader.read(2, (0, SIDE, 0, SIDE))
    assert coarse[:200].std() > 5 and (coarse[-100:] == 0).all()  # what the file gives, black the rest
