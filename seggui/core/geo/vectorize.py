"""Class regions of a mask as polygons with their area, for GIS.

`mask_polygons` (a mask in memory) and `raster_polygons` (a mask GeoTIFF,
read strip by strip: memory bounded by a strip, not the picture) trace each
region's pixel edges (GDAL's polygonize, 4-connected so every polygon is
valid, holes kept as interior rings; `seggui.core.geo.regions` merges the
regions cut by strip borders), place them on the mask's `Grid` and measure
each polygon the way its CRS calls for: planar in a projected CRS, geodesic
on the ellipsoid (pyproj.Geod) in a geographic or Mercator one. A picture
without a CRS gets a local grid in metres from its GSD (origin at the
picture's top-left corner, y up): planar areas, and the output has no CRS.
Unsimplified polygons follow pixel edges exactly, so their areas equal the
raster's (a test holds them to 0.5%, the issue's figure; they agree to
rounding).

`write_polygons` picks the format from the name: GeoPackage (.gpkg),
Shapefile (.shp, with its .prj) in the mask's CRS, or GeoJSON (.geojson,
.json) in WGS84 longitude/latitude as RFC 7946 asks (refused for a local
grid, which cannot be placed on the earth). Files appear whole: they are
written into a temporary folder beside the target and moved.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.areas import PixelAreas, is_mercator, pixel_areas
from seggui.core.geo.raster import GeoInfo, GeoRaster
from seggui.core.geo.regions import Strip, array_strips, trace_regions
from seggui.core.gsd import Gsd

FORMATS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON"}
# Pixels per strip: tracing a strip costs about 13 bytes a pixel at its peak (the strip, its masks,
# GDAL's polygonize), so 8 Mpx (400 rows of a 20,000 px wide mask) hold that near 100 MB.
STRIP_PIXELS = 8_000_000


def strip_rows(width: int) -> int:
    """Rows per strip for a mask `width` pixels wide (64 to 4096)."""
    return max(64, min(4096, STRIP_PIXELS // max(1, width)))
LOCAL_GRID = "no CRS (local grid in metres from the GSD)"


@dataclass(frozen=True)
class Grid:
    """Where a mask's pixels lie (an affine transform, a CRS or none) and their ground areas."""

    path: Path
    height: int
    width: int
    transform: tuple[float, float, float, float, float, float]  # x = a*col + b*row + c; y = d*col + e*row + f
    crs_wkt: str | None
    px: PixelAreas

    @classmethod
    def from_info(cls, info: GeoInfo) -> Grid:
        """The grid of a georeferenced raster (it must have a CRS)."""
        if not info.has_crs:
            raise BadInputError(info.path, "has no CRS: polygons could not be placed on a map; give a "
                                           "georeferenced picture with --picture or write the mask as "
                                           "GeoTIFF")
        return cls(info.path, info.height, info.width, info.transform, info.crs_wkt, pixel_areas(info))

    @classmethod
    def local(cls, path: str | Path, shape: tuple[int, int], gsd: Gsd) -> Grid:
        """A grid without CRS: metres from the GSD, origin at the top-left corner, y up."""
        px = PixelAreas(gsd.m2_per_px, None, LOCAL_GRID, f"planar from the GSD ({gsd.describe()})")
        return cls(Path(path), shape[0], shape[1], (gsd.x_m, 0.0, 0.0, 0.0, -gsd.y_m, 0.0), None, px)

    @property
    def has_crs(self) -> bool:
        return self.crs_wkt is not None


@dataclass
class Polygons:
    """Polygons of a mask with their attributes, in the mask's CRS (or its local grid)."""

    crs_wkt: str | None
    crs_name: str
    method: str
    geoms: list[Any] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    area_m2: list[float] = field(default_factory=list)
    perimeter_m: list[float] = field(default_factory=list)
    raster_m2: dict[str, float] = field(default_factory=dict)  # the raster's area per class kept
    dropped: int = 0  # regions under the minimum area
    sources: list[str] = field(default_factory=list)  # per polygon, when pictures are gathered in one file
    models: list[str] = field(default_factory=list)

    def add(self, other: Polygons, source: str, model: str) -> None:
        """Append the polygons of another picture on the same CRS, with its source and model."""
        if (other.crs_wkt is None) != (self.crs_wkt is None) or (
                other.crs_wkt is not None and other.crs_name != self.crs_name):
            raise BadInputError(None, f"pictures in {self.crs_name} and in {other.crs_name} cannot go into "
                                      "one polygon file: export them one by one")
        self.sources.extend([source] * len(other.geoms))
        self.models.extend([model] * len(other.geoms))
        self.geoms += other.geoms
        self.classes += other.classes
        self.area_m2 += other.area_m2
        self.perimeter_m += other.perimeter_m
        self.dropped += other.dropped
        for name, m2 in other.raster_m2.items():
            self.raster_m2[name] = self.raster_m2.get(name, 0.0) + m2

    def summary(self) -> dict[str, Any]:
        """Per class: polygon count, polygon area, raster area, their ratio."""
        out: dict[str, Any] = {}
        for name, raster in self.raster_m2.items():
            areas = [a for c, a in zip(self.classes, self.area_m2, strict=True) if c == name]
            poly = float(sum(areas))
            out[name] = {"polygons": len(areas), "area_m2": round(poly, 3), "raster_m2": round(raster, 3),
                         "ratio": round(poly / raster, 6) if raster else None}
        return out

    @property
    def total_m2(self) -> float:
        return float(sum(self.area_m2))


def _measure(geom: Any, geod: Any, to_geo: Any, unit: float) -> tuple[float, float]:
    """(area m², perimeter m) of a polygon: planar, or geodesic when `geod` is given."""
    if geod is None:
        return geom.area * unit * unit, geom.length * unit
    shapely = require("shapely")
    g = shapely.transform(geom, lambda xy: np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1]))) \
        if to_geo is not None else geom
    g = shapely.segmentize(g, 0.001)  # geodesic edges stay within millimetres of the parallels
    area, perim = geod.geometry_area_perimeter(g)
    return abs(float(area)), float(perim)


def polygons_on_grid(strips: Iterable[Strip], grid: Grid, table: ClassTable, *,
                     classes: list[str] | None = None, min_area_m2: float = 0.0, simplify_m: float = 0.0,
                     nodata: int | None = 255) -> Polygons:
    """Polygons of the regions of a mask given as strips (top to bottom) on `grid` for the named classes."""
    shapely = require("shapely")
    wanted = [table.find(c) for c in classes] if classes else [table.by_id[i] for i in table.scored_ids]
    ids = {c.id: c.name for c in wanted}
    geod = to_geo = None
    unit = 1.0
    geographic = False
    if grid.crs_wkt is not None:
        pyproj = require("pyproj")
        crs = pyproj.CRS.from_wkt(grid.crs_wkt)
        geographic = bool(crs.is_geographic)
        if geographic or is_mercator(crs):
            geod = crs.get_geod() or pyproj.Geod(ellps="WGS84")
            to_geo = None if geographic else pyproj.Transformer.from_crs(crs, crs.geodetic_crs,
                                                                         always_xy=True)
        unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    tol = 0.0
    if simplify_m > 0:
        tol = simplify_m / unit if not geographic else simplify_m / 111_320.0
    out = Polygons(grid.crs_wkt, grid.px.crs_name, ("geodesic (pyproj.Geod, ellipsoid)" if geod is not None
                                                    else grid.px.method if grid.crs_wkt is None
                                                    else "planar in the projected CRS"))
    num = max(256, max(ids, default=0) + 1)
    m2 = np.zeros(num, np.float64)

    def counted(items: Iterable[Strip]) -> Iterable[Strip]:
        for r0, labels in items:
            m2[:] += grid.px.class_m2(labels, r0, num)
            yield r0, labels

    a, b, c, d, e, f = grid.transform
    matrix = [a, b, d, e, c, f]
    for cid, pix in trace_regions(counted(strips), grid.height, list(ids), nodata):
        geom = shapely.affinity.affine_transform(pix, matrix)
        if tol:
            geom = geom.simplify(tol, preserve_topology=True)
            if geom.is_empty:
                out.dropped += 1
                continue
        area, perim = _measure(geom, geod, to_geo, unit)
        if area < min_area_m2:
            out.dropped += 1
            continue
        out.geoms.append(geom)
        out.classes.append(ids[cid])
        out.area_m2.append(area)
        out.perimeter_m.append(perim)
    out.raster_m2 = {name: float(m2[cid]) for cid, name in ids.items()}
    return out


def mask_polygons(labels: np.ndarray, info: GeoInfo | Grid, table: ClassTable, *,
                  classes: list[str] | None = None, min_area_m2: float = 0.0, simplify_m: float = 0.0,
                  nodata: int | None = 255) -> Polygons:
    """Polygons of the regions of `labels` (on `info`'s grid) for the named classes (default: all)."""
    grid = info if isinstance(info, Grid) else Grid.from_info(info)
    if labels.shape != (grid.height, grid.width):
        raise BadInputError(grid.path, f"the mask is {labels.shape[1]}x{labels.shape[0]} but its grid is "
                                       f"{grid.width}x{grid.height}")
    return polygons_on_grid(array_strips(labels, strip_rows(grid.width)), grid, table, classes=classes,
                            min_area_m2=min_area_m2, simplify_m=simplify_m, nodata=nodata)


def raster_polygons(path: str | Path, table: ClassTable, *, classes: list[str] | None = None,
                    min_area_m2: float = 0.0, simplify_m: float = 0.0, rows: int | None = None,
                    info: GeoInfo | None = None) -> Polygons:
    """Polygons of a mask GeoTIFF read `rows` rows at a time (`info`: the grid to place them on)."""
    with GeoRaster(path, bands=(1,)) as ras:
        grid = Grid.from_info(info or ras.info)
        nodata = 255 if ras.info.dtype == "uint8" else 65535
        step = rows or strip_rows(ras.info.width)

        def strips() -> Iterable[Strip]:
            for r0 in range(0, ras.info.height, step):
                yield r0, ras.read_raw((r0, min(r0 + step, ras.info.height), 0, ras.info.width))[0]

        with require("rasterio").Env(GDAL_CACHEMAX=16):
            return polygons_on_grid(strips(), grid, table, classes=classes, min_area_m2=min_area_m2,
                                    simplify_m=simplify_m, nodata=nodata)


def write_polygons(polys: Polygons, out: str | Path, *, source: str = "", model: str = "") -> Path:
    """Write the polygons (attributes class, area_m2, perimeter_m, centroid, source, model).

    `source` and `model` fill the attributes of polygons that carry none of
    their own (`Polygons.sources` / `.models`, set when several pictures go
    into one file).
    """
    out = Path(out)
    driver = FORMATS.get(out.suffix.lower())
    if driver is None:
        raise BadInputError(out, f"unknown polygon format {out.suffix!r}: use .gpkg, .shp or .geojson")
    if polys.crs_wkt is None and driver == "GeoJSON":
        raise BadInputError(out, "GeoJSON must be in WGS84 longitude/latitude (RFC 7946), and a picture "
                                 "without a CRS cannot be placed on the earth: write .gpkg or .shp "
                                 "(a local grid in metres, no CRS)")
    shapely = require("shapely")
    pyproj = require("pyproj")
    raw = require("pyogrio.raw")
    geoms = list(polys.geoms)
    cent = [g.centroid for g in geoms]
    crs_out = pyproj.CRS.from_wkt(polys.crs_wkt) if polys.crs_wkt is not None else None
    if driver == "GeoJSON" and crs_out is not None:  # RFC 7946: WGS84 longitude, latitude
        tr = pyproj.Transformer.from_crs(crs_out, pyproj.CRS.from_epsg(4326), always_xy=True)
        crs_out = pyproj.CRS.from_epsg(4326)
        geoms = [shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
                 for g in geoms]
        cent = [g.centroid for g in geoms]
    n = len(geoms)
    fields = ["class", "area_m2", "perimeter_m", "centroid_x", "centroid_y", "source", "model"]
    if driver == "ESRI Shapefile":  # dBASE field names hold 10 characters
        fields = ["class", "area_m2", "perim_m", "cent_x", "cent_y", "source", "model"]
    sources = polys.sources if len(polys.sources) == n else [source] * n
    models = polys.models if len(polys.models) == n else [model] * n
    data = [np.array(polys.classes, dtype=object), np.array(polys.area_m2, np.float64),
            np.array(polys.perimeter_m, np.float64), np.array([c.x for c in cent], np.float64),
            np.array([c.y for c in cent], np.float64), np.array(sources, dtype=object),
            np.array(models, dtype=object)]
    wkb = np.array([shapely.to_wkb(shapely.geometry.MultiPolygon([g]) if g.geom_type == "Polygon" else g)
                    for g in geoms], dtype=object)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".seggui-vec-", dir=out.parent))
    try:
        opts = {"RFC7946": "YES"} if driver == "GeoJSON" else None
        with warnings.catch_warnings():  # pyogrio warns of a file without CRS: a local grid is one, by design
            warnings.filterwarnings("ignore", message="'crs' was not provided")
            raw.write(tmp / out.name, wkb, data, fields, driver=driver, geometry_type="MultiPolygon",
                      crs=crs_out.to_wkt() if crs_out is not None else None, layer=out.stem,
                      layer_options=opts, encoding="UTF-8" if driver == "ESRI Shapefile" else None)
        for f in tmp.iterdir():
            os.replace(f, out.parent / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def check_agreement(polys: Polygons, tolerance: float = 0.005) -> list[str]:
    """Classes whose polygon area differs from the raster's by more than `tolerance` (a share)."""
    bad = []
    for name, row in polys.summary().items():
        if row["raster_m2"] and not math.isclose(row["area_m2"], row["raster_m2"], rel_tol=tolerance):
            bad.append(f"{name}: polygons {row['area_m2']} m², raster {row['raster_m2']} m²")
    return bad
