"""An orthomosaic's mask as one file: the analyst's correction laid over the model's prediction.

The workspace keeps an orthomosaic's masks apart (`seggui.core.geo.ortho_region`):
`ortho/<name>.predicted.tif` from a model run over the whole file and
`ortho/<name>.corrected.tif` holding only the regions corrected in the
window (nodata elsewhere). GIS wants one raster, so `merge_masks` writes the
correction where it has a value, else the prediction, else nodata, block by
block (a few MB in memory whatever the size) into a tiled, deflate GeoTIFF
on the same grid (CRS, transform, nodata, class colour table, overviews for
QGIS). It is written under a temporary name and renamed only when complete,
so a cancelled or failed merge leaves no file, and never a half one.

`export_ortho` is File ▸ Export ▸ Orthomosaic mask: the merged GeoTIFF
itself, or (a .gpkg/.shp/.geojson name) the merged mask kept in the
workspace as `ortho/<name>.merged.tif` and traced strip by strip into
polygons with their class and area (`seggui.core.geo.vectorize`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.atomic import check_writable
from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.maskfile import colormap, iter_blocks, mask_profile
from seggui.core.geo.ortho_region import OrthoFiles, lock_for
from seggui.core.geo.raster import GeoInfo, GeoRaster, same_grid
from seggui.core.geo.vectorize import FORMATS, raster_polygons, write_polygons
from seggui.core.jobs import CancelToken, Job, Progress

RASTER_SUFFIXES = (".tif", ".tiff")
MERGE_BLOCK = 2048  # rows and columns read and written at a time: 4 MB per array for uint8


@dataclass
class MergeResult:
    """What `merge_masks` wrote: the file, its size and how many pixels came from each source."""

    path: Path
    height: int
    width: int
    corrected_px: int = 0
    predicted_px: int = 0
    nodata_px: int = 0

    def describe(self) -> str:
        total = self.height * self.width
        return (f"{self.path.name}: {self.width}x{self.height}, {self.corrected_px / total:.1%} corrected, "
                f"{self.predicted_px / total:.1%} predicted, {self.nodata_px / total:.1%} nodata")


@dataclass
class OrthoExport:
    """What `export_ortho` wrote: the merged mask and, for a polygon file, the polygons' figures."""

    path: Path
    merge: MergeResult
    polygons: int | None = None
    total_m2: float = 0.0
    crs_name: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        if self.polygons is None:
            return f"Orthomosaic mask written to {self.path} ({self.merge.describe()})"
        return (f"{self.polygons} polygon(s), {self.total_m2:,.1f} m² in all, written to {self.path} "
                f"({self.crs_name}; from {self.merge.path.name}: {self.merge.describe()})")


def _info(path: Path) -> GeoInfo | None:
    if not path.is_file():
        return None
    with GeoRaster(path, bands=(1,)) as ras:
        return ras.info


def _source_style(path: Path) -> tuple[dict[int, tuple[int, ...]] | None, dict[str, str]]:
    """The colour table and band-1 tags (the class table) of a mask file, to carry into the merge."""
    with require("rasterio").open(path) as ds:
        try:
            cmap = ds.colormap(1)
        except ValueError:  # no colour table
            cmap = None
        return cmap, dict(ds.tags(1))


def _temporary(out: Path) -> Path:
    return out.with_name(f".{out.stem}.merging.tif")


def merge_masks(predicted: str | Path, corrected: str | Path, out: str | Path,
                table: ClassTable | None = None, *, block: int = MERGE_BLOCK,
                token: CancelToken | None = None) -> Job[MergeResult]:
    """Write `out`: `corrected` where it has a value, else `predicted`, else nodata (a job, per block).

    Either file may be missing (not both). Both must lie on the same grid.
    The colour table and class tags come from `table` when given, else from
    the source files. Nothing appears under `out` unless the merge completes.
    """
    rasterio = require("rasterio")
    windows = require("rasterio.windows")
    pred_path, corr_path, out = Path(predicted), Path(corrected), Path(out)
    pred_info, corr_info = _info(pred_path), _info(corr_path)
    if pred_info is None and corr_info is None:
        raise BadInputError(pred_path, f"not found, nor {corr_path.name}: run the model on the orthomosaic "
                                       "(Model ▸ Run on this picture) or correct a region first")
    if pred_info is not None and corr_info is not None:
        same_grid(corr_info, pred_info)
    info = pred_info if pred_info is not None else corr_info
    assert info is not None
    if info.dtype not in ("uint8", "uint16"):
        raise BadInputError(info.path, f"is {info.dtype}: a class mask is uint8 or uint16")
    check_writable(out)
    dtype = "uint16" if "uint16" in (getattr(pred_info, "dtype", ""), getattr(corr_info, "dtype", "")) \
        else "uint8"
    profile = mask_profile(info, dtype)
    nodata = int(profile["nodata"])
    cmap: dict[int, tuple[int, ...]] | None = None
    tags: dict[str, str] = {}
    for src_info in (pred_info, corr_info):  # the first colour table and class tags the files carry
        if src_info is not None:
            more_cmap, more_tags = _source_style(src_info.path)
            cmap = cmap or more_cmap
            tags = tags if "classes" in tags else more_tags
    if table is not None:
        cmap, tags = dict(colormap(table)), {"classes": json.dumps(table.to_dict())}
    sources = [(p, i) for p, i in ((corr_path, corr_info), (pred_path, pred_info)) if i is not None]
    result = MergeResult(out, info.height, info.width)
    blocks = list(iter_blocks(info.height, info.width, block))
    tmp = _temporary(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = False
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            if cmap and dtype == "uint8":
                dst.write_colormap(1, cmap)
            dst.update_tags(1, **tags)
            dst.update_tags(seggui_merged="correction over prediction")
            handles = [(rasterio.open(p), i) for p, i in sources]
            try:
                for n, (_key, (r0, r1, c0, c1)) in enumerate(blocks):
                    if token is not None:
                        token.raise_if_cancelled()
                    win = windows.Window(c0, r0, c1 - c0, r1 - r0)
                    merged = np.full((r1 - r0, c1 - c0), nodata, dtype)
                    filled = np.zeros(merged.shape, bool)
                    for ds, src_info in handles:  # the correction first: it wins where it has a value
                        with lock_for(src_info.path):  # the window writes corrections back meanwhile
                            labels = ds.read(1, window=win)
                        has = ~filled if src_info.nodata is None else ~filled & (labels != src_info.nodata)
                        merged[has] = labels[has]
                        filled |= has
                        if src_info.path == corr_path:
                            result.corrected_px += int(has.sum())
                        else:
                            result.predicted_px += int(has.sum())
                    result.nodata_px += int((~filled).sum())
                    dst.write(merged, 1, window=win)
                    yield Progress(n + 1, len(blocks), f"merged rows {r0}-{r1}, columns {c0}-{c1}")
            finally:
                for ds, _i in handles:
                    ds.close()
        with rasterio.open(tmp, "r+") as ds:  # QGIS shows a 20k mask at once through these
            factors = [f for f in (2, 4, 8, 16, 32, 64) if max(ds.width, ds.height) // f >= 256]
            if factors:
                ds.build_overviews(factors, require("rasterio.enums").Resampling.nearest)
        os.replace(tmp, out)
        done = True
    except OSError as exc:
        raise BadInputError(out, f"could not be written ({exc})") from None
    finally:
        if not done:
            tmp.unlink(missing_ok=True)
    return result


def export_ortho(root: str | Path, source: str | Path, out: str | Path, table: ClassTable, *,
                 model: str = "", token: CancelToken | None = None) -> Job[OrthoExport]:
    """The orthomosaic `source`'s merged mask (workspace `root`) as a GeoTIFF or as polygons at `out`.

    A .tif/.tiff `out` is the merged GeoTIFF; a .gpkg/.shp/.geojson `out`
    gets the polygons of the merged mask, which is kept as
    `ortho/<name>.merged.tif` in the workspace.
    """
    files = OrthoFiles(Path(root), Path(source))
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in RASTER_SUFFIXES and suffix not in FORMATS:
        raise BadInputError(out, f"unknown format {suffix or '(no suffix)'!r}: name the file .tif "
                                 "(the mask) or .gpkg, .shp, .geojson (polygons)")
    check_writable(out)
    raster = out if suffix in RASTER_SUFFIXES else files.root / "ortho" / f"{files.stem}.merged.tif"
    merged = yield from merge_masks(files.predicted, files.corrected, raster, table, token=token)
    if suffix in RASTER_SUFFIXES:
        return OrthoExport(out, merged)
    if token is not None:
        token.raise_if_cancelled()
    yield Progress(0, None, f"tracing the polygons of {raster.name}…")
    polys = raster_polygons(raster, table)
    try:
        written = write_polygons(polys, out, source=files.source.name, model=model)
    except (OSError, RuntimeError) as exc:  # the disk, or GDAL (pyogrio's errors are RuntimeErrors)
        raise BadInputError(out, f"could not be written ({exc})") from None
    return OrthoExport(written, merged, len(polys.geoms), polys.total_m2, polys.crs_name, polys.summary())
