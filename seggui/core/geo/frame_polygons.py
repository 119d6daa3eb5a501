"""Polygons of a workspace's pictures (File ▸ Export ▸ Polygons): the masks as a GIS layer.

Each picture's mask (the analyst's correction, else the prediction) becomes
polygons of the chosen classes with class, area_m2, perimeter_m, centroid,
source picture and model@version, in one GeoPackage, Shapefile or GeoJSON
(`seggui.core.geo.vectorize`). Where the polygons lie:

- a GeoTIFF picture with a CRS, or a picture with a world file and a
  `.prj` beside it (an orthomosaic's editing region is one): on its own
  grid, areas as its CRS calls for (planar, geodesic, Web Mercator corrected);
- any other picture: a local grid in metres from its GSD (a world file
  without `.prj`, or the workspace's GSD that the analyst stated), origin at
  the picture's top-left corner, y up, and **no CRS** in the file; GeoJSON
  is refused for these (RFC 7946 wants WGS84, and a picture that is not
  placed on the earth cannot be put there). Without any GSD the export is
  refused: polygons in pixels would pass for metres.

Several pictures go into one file only when they share their CRS (or all
have none; their local grids then overlap, told apart by `source`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from seggui.core.atomic import check_writable
from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.raster import GeoInfo, GeoRaster
from seggui.core.geo.vectorize import FORMATS, Grid, Polygons, mask_polygons, write_polygons
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.report import frame_gsd
from seggui.core.workspace import Workspace


@dataclass
class PolygonExport:
    """What an export wrote: the file, the polygons, their area, and the pictures left out."""

    out: Path
    polygons: int
    total_m2: float
    crs: str
    method: str
    has_crs: bool
    per_class: dict[str, Any]
    dropped: int = 0
    skipped: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the window's messages."""
        where = self.crs if self.has_crs else "no CRS: a local grid in metres from the GSD"
        text = (f"wrote {self.polygons} polygon(s), {self.total_m2:,.1f} m² in all, to {self.out.name} "
                f"({where}; areas {self.method})")
        if self.dropped:
            text += f"; {self.dropped} under the minimum area left out"
        if self.skipped:
            text += f"; not exported: {', '.join(self.skipped)}"
        return text


def picture_info(img: Path) -> GeoInfo:
    """A picture's grid as GDAL reads it (a GeoTIFF, or a world file beside a PNG or JPEG), with the
    CRS of a `.prj` beside it when the file itself names none (GDAL reads no `.prj` for a PNG)."""
    with warnings.catch_warnings():  # a plain PNG or JPEG is not georeferenced: said by the caller
        warnings.filterwarnings("ignore", message="Dataset has no geotransform")
        with GeoRaster(img) as ras:
            info = ras.info
    prj = img.with_suffix(".prj")
    if not info.has_crs and info.georeferenced and prj.is_file():
        try:
            crs = require("pyproj").CRS.from_user_input(prj.read_text(encoding="utf-8", errors="replace"))
        except Exception as exc:  # noqa: BLE001 - pyproj's CRSError: a .prj PROJ cannot read
            raise BadInputError(prj, f"is not a CRS PROJ can read ({exc})") from None
        epsg = crs.to_epsg()
        info = replace(info, crs_wkt=crs.to_wkt(), epsg=epsg,
                       crs_name=f"{f'EPSG:{epsg}' if epsg else 'custom CRS'} ({crs.name})")
    return info


def _crs_grid(img: Path, shape: tuple[int, int]) -> Grid | None:
    """The CRS grid of a picture (see `picture_info`), or None when it has no CRS."""
    info = picture_info(img)
    if not info.has_crs:
        return None
    if (info.height, info.width) != shape:
        raise BadInputError(img, f"is {info.width}x{info.height} but its mask is {shape[1]}x{shape[0]}: "
                                 "not on the same grid")
    return Grid.from_info(info)


def frame_grid(ws: Workspace, frame_id: str, shape: tuple[int, int]) -> Grid:
    """Where the mask of `frame_id` lies: its picture's CRS grid, else a local grid from its GSD."""
    img = ws.image_path(frame_id)
    if img is not None and img.is_file():
        grid = _crs_grid(img, shape)
        if grid is not None:
            return grid
    gsd = frame_gsd(ws, frame_id, None, shape)
    if gsd is None:
        raise BadInputError(img, "has no CRS and no GSD: polygons in metres need one (set the GSD in the "
                                 "Area panel, m/px), or open the GeoTIFF the picture comes from")
    return Grid.local(img if img is not None else frame_id, shape, gsd)


def check_target(out: str | Path) -> Path:
    """The output path if its format is known (.gpkg, .shp, .geojson) and it can be written."""
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise BadInputError(out, f"unknown polygon format {out.suffix or '(no suffix)'!r}: name the file "
                                 ".gpkg, .shp or .geojson")
    return check_writable(out)


def export_polygons(ws: Workspace, frame_ids: Sequence[str], out: str | Path, *,
                    classes: list[str] | None = None, min_area_m2: float = 0.0, simplify_m: float = 0.0,
                    token: CancelToken | None = None) -> Job[PolygonExport]:
    """Vectorise the masks of `frame_ids` into one polygon file (a job: progress per picture)."""
    out = check_target(out)
    if min_area_m2 < 0 or simplify_m < 0:
        raise BadInputError(None, "the minimum area and the simplification must not be negative")
    table = ws.classes
    total: Polygons | None = None
    skipped: list[str] = []
    for i, fid in enumerate(frame_ids):
        if token is not None:
            token.raise_if_cancelled()
        kind = "corrected" if ws.mask_path(fid, "corrected").exists() else "predicted"
        mask = ws.read_mask(fid, kind)
        if mask is None:
            skipped.append(f"{fid} (no mask yet)")
            yield Progress(i + 1, len(frame_ids), f"{fid}: no mask", item=fid)
            continue
        grid = frame_grid(ws, fid, mask.shape)
        polys = mask_polygons(mask, grid, table, classes=classes, min_area_m2=min_area_m2,
                              simplify_m=simplify_m, nodata=table.ignore_index)
        rec = ws.frames[fid]
        source = rec.image or fid
        model = rec.model or ws.model or ""
        if total is None:
            total = Polygons(polys.crs_wkt, polys.crs_name, polys.method)
        try:
            total.add(polys, Path(source).name, model)
        except BadInputError as exc:
            raise BadInputError(out, f"{fid}: {exc.problem}") from None
        yield Progress(i + 1, len(frame_ids), f"{fid}: {len(polys.geoms)} polygon(s)", item=fid)
    if total is None:
        raise BadInputError(out, "no picture has a mask yet: run the model or paint a correction first")
    try:
        written = write_polygons(total, out)
    except (OSError, RuntimeError) as exc:  # the disk, or GDAL (pyogrio's errors are RuntimeErrors)
        raise BadInputError(out, f"could not be written ({exc})") from None
    return PolygonExport(written, len(total.geoms), total.total_m2, total.crs_name, total.method,
                         total.crs_wkt is not None, total.summary(), total.dropped, skipped)
