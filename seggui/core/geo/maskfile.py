"""Index masks as GeoTIFFs: tiled, compressed, on the source's grid, with a class colour table.

The mask of an orthomosaic is written window by window into
``NAME.partial.tif`` beside its final name; a progress file lists the blocks
already written, so a stopped run resumes block by block, and only a
complete mask is renamed to ``NAME.tif`` (a reader never sees a half-written
file under the final name). `finish` adds nearest-neighbour overviews (QGIS
shows a 20k mask at once) or rewrites the file as a Cloud Optimized GeoTIFF.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.atomic import atomic_write_json
from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.raster import GeoInfo, GeoRaster, Window

MASK_NODATA = 255  # uint8 masks; uint16 masks (over 255 classes) use 65535
BLOCK = 512  # internal tile of the mask file


def partial_path(final: Path) -> Path:
    return final.with_name(final.stem + ".partial.tif")


def progress_path(final: Path) -> Path:
    return final.with_name(final.stem + ".progress.json")


def mask_profile(info: GeoInfo, dtype: str = "uint8", tile: int = BLOCK) -> dict[str, Any]:
    """The rasterio profile of a mask on `info`'s grid: one band, tiled (512 px), deflate."""
    rasterio = require("rasterio")
    crs = rasterio.crs.CRS.from_wkt(info.crs_wkt) if info.crs_wkt else None
    a, b, c, d, e, f = info.transform
    return {
        "driver": "GTiff", "height": info.height, "width": info.width, "count": 1, "dtype": dtype,
        "crs": crs, "transform": require("affine").Affine(a, b, c, d, e, f),
        "nodata": MASK_NODATA if dtype == "uint8" else 65535,
        "tiled": True, "blockxsize": tile, "blockysize": tile, "compress": "deflate",
        "BIGTIFF": "IF_SAFER",
    }


def colormap(table: ClassTable) -> dict[int, tuple[int, int, int, int]]:
    """Class id -> RGBA for the GeoTIFF colour table (QGIS shows the classes in their colours)."""
    return {c.id: (*c.color, 255) for c in table.classes}


class MaskWriter:
    """Writes a mask GeoTIFF by windows, resumably; `close(complete=True)` publishes it."""

    def __init__(self, final: Path, info: GeoInfo, table: ClassTable, identity: dict[str, Any],
                 resume: bool = True, tile: int = BLOCK) -> None:
        rasterio = require("rasterio")
        self.final, self.partial, self.progress = final, partial_path(final), progress_path(final)
        self.identity = identity
        self.done: set[tuple[int, int]] = set()
        dtype = "uint8" if table.mask_dtype == np.uint8 else "uint16"
        self.nodata = MASK_NODATA if dtype == "uint8" else 65535
        final.parent.mkdir(parents=True, exist_ok=True)
        old = self._read_progress() if resume else None
        if old is not None and old.get("identity") == identity and self.partial.is_file():
            self.done = {(int(i), int(j)) for i, j in old.get("done", [])}
            self.ds: Any = rasterio.open(self.partial, "r+")
        else:
            for p in (self.partial, self.progress):
                p.unlink(missing_ok=True)
            self.ds = rasterio.open(self.partial, "w", **mask_profile(info, dtype, tile))
            if dtype == "uint8":
                self.ds.write_colormap(1, colormap(table))
            self.ds.update_tags(1, classes=json.dumps(table.to_dict()))
            self.ds.update_tags(**{k: str(v) for k, v in identity.items()})

    def _read_progress(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.progress.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write(self, window: Window, labels: np.ndarray, key: tuple[int, int]) -> None:
        """Write `labels` at `window` and record block `key` as done (flushed first)."""
        r0, r1, c0, c1 = window
        win = require("rasterio.windows").Window(c0, r0, c1 - c0, r1 - r0)
        self.ds.write(labels.astype(self.ds.dtypes[0], copy=False), 1, window=win)
        self.done.add(key)
        self.checkpoint()

    def checkpoint(self) -> None:
        """Flush the file (close and reopen) and then record the blocks done: a crash loses one block."""
        self.ds.close()
        self.ds = require("rasterio").open(self.partial, "r+")
        atomic_write_json(self.progress, {"identity": self.identity, "done": sorted(self.done)})

    def close(self, complete: bool, cog: bool = False) -> Path | None:
        """Close; when `complete`, add overviews (or make a COG) and rename to the final name."""
        self.ds.close()
        if not complete:
            atomic_write_json(self.progress, {"identity": self.identity, "done": sorted(self.done)})
            return None
        rasterio = require("rasterio")
        nearest = require("rasterio.enums").Resampling.nearest
        if cog:
            tmp = self.final.with_name(self.final.stem + ".cog.tif")
            require("rasterio.shutil").copy(self.partial, tmp, driver="COG", compress="DEFLATE",
                                            overview_resampling="NEAREST", BIGTIFF="IF_SAFER")
            os.replace(tmp, self.final)
            self.partial.unlink(missing_ok=True)
        else:
            with rasterio.open(self.partial, "r+") as ds:
                factors = [f for f in (2, 4, 8, 16, 32, 64) if max(ds.width, ds.height) // f >= 256]
                if factors:
                    ds.build_overviews(factors, nearest)
            os.replace(self.partial, self.final)
        self.progress.unlink(missing_ok=True)
        return self.final


def iter_blocks(height: int, width: int, block: int) -> Iterator[tuple[tuple[int, int], Window]]:
    """((i, j), (r0, r1, c0, c1)) over a grid of `block`-sized windows, row-major."""
    for i, r0 in enumerate(range(0, height, block)):
        for j, c0 in enumerate(range(0, width, block)):
            yield (i, j), (r0, min(r0 + block, height), c0, min(c0 + block, width))


def read_mask_blocks(path: str | Path, block: int = 2048) -> Iterator[tuple[Window, np.ndarray]]:
    """The first band of a mask GeoTIFF, block by block (memory bounded)."""
    with GeoRaster(path, bands=(1,)) as ras:
        for _, win in iter_blocks(ras.info.height, ras.info.width, block):
            yield win, ras.read_raw(win)[0]


def mask_class_m2(path: str | Path, num: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(pixels per class, m² per class, how the areas were measured) of a mask GeoTIFF, by blocks."""
    from seggui.core.geo.areas import pixel_areas

    with GeoRaster(path, bands=(1,)) as ras:
        info = ras.info
    if not info.has_crs:
        raise BadInputError(info.path, "the mask has no CRS: its areas in m² are unknown (give --gsd)")
    px = pixel_areas(info)
    counts = np.zeros(num, np.int64)
    m2 = np.zeros(num, np.float64)
    for (r0, _r1, _c0, _c1), labels in read_mask_blocks(path):
        counts += np.bincount(labels.ravel(), minlength=num)[:num]
        m2 += px.class_m2(labels, r0, num)
    return counts, m2, px.describe()
