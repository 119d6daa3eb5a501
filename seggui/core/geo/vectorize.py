"""Class regions of a georeferenced mask as polygons with their area, for GIS.

`mask_polygons` traces each region's pixel edges (GDAL's polygonize through
rasterio.features.shapes, 4-connected so every polygon is valid; holes are
kept as interior rings) in the mask's CRS, then measures each polygon the
way its CRS calls for: planar in a projected CRS, geodesic on the ellipsoid
(pyproj.Geod) in a geographic or Mercator one. Unsimplified polygons follow
pixel edges exactly, so their areas equal the raster's (a test holds them to
0.5%, the issue's figure; they agree to rounding).

`write_polygons` picks the format from the name: GeoPackage (.gpkg),
Shapefile (.shp, with its .prj) in the mask's CRS, or GeoJSON (.geojson,
.json) in WGS84 longitude/latitude as RFC 7946 asks. Files appear whole:
they are written into a temporary folder beside the target and moved.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.areas import is_mercator, pixel_areas
from seggui.core.geo.raster import GeoInfo

FORMATS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON"}


@dataclass
class Polygons:
    """Polygons of a mask with their attributes, in the mask's CRS."""

    crs_wkt: str
    crs_name: str
    method: str
    geoms: list[Any] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    area_m2: list[float] = field(default_factory=list)
    perimeter_m: list[float] = field(default_factory=list)
    raster_m2: dict[str, float] = field(default_factory=dict)  # the raster's area per class kept
    dropped: int = 0  # regions under the minimum area

    def summary(self) -> dict[str, Any]:
        """Per class: polygon count, polygon area, raster area, their ratio."""
        out: dict[str, Any] = {}
        for name, raster in self.raster_m2.items():
            areas = [a for c, a in zip(self.classes, self.area_m2, strict=True) if c == name]
            poly = float(sum(areas))
            out[name] = {"polygons": len(areas), "area_m2": round(poly, 3), "raster_m2": round(raster, 3),
                         "ratio": round(poly / raster, 6) if raster else None}
        return out


def _measure(geom: Any, crs: Any, geod: Any, to_geo: Any, unit: float) -> tuple[float, float]:
    """(area m², perimeter m) of a polygon in `crs`: planar, or geodesic when `geod` is given."""
    if geod is None:
        return geom.area * unit * unit, geom.length * unit
    shapely = require("shapely")
    g = shapely.transform(geom, lambda xy: np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1]))) \
        if to_geo is not None else geom
    g = shapely.segmentize(g, 0.001)  # geodesic edges stay within millimetres of the parallels
    area, perim = geod.geometry_area_perimeter(g)
    return abs(float(area)), float(perim)


def mask_polygons(labels: np.ndarray, info: GeoInfo, table: ClassTable, *, classes: list[str] | None = None,
                  min_area_m2: float = 0.0, simplify_m: float = 0.0, nodata: int | None = 255) -> Polygons:
    """Polygons of the regions of `labels` (on `info`'s grid) for the named classes (default: all)."""
    if not info.has_crs:
        raise BadInputError(info.path, "has no CRS: polygons could not be placed on a map; give a "
                                       "georeferenced picture with --picture or write the mask as GeoTIFF")
    features = require("rasterio.features")
    shapely = require("shapely")
    pyproj = require("pyproj")
    affine = require("affine")
    crs = pyproj.CRS.from_wkt(info.crs_wkt)
    wanted = [table.find(c) for c in classes] if classes else [table.by_id[i] for i in table.scored_ids]
    ids = {c.id: c.name for c in wanted}
    px = pixel_areas(info)
    geodesic = crs.is_geographic or is_mercator(crs)
    geod = pyproj.Geod(ellps="WGS84") if not geodesic else crs.get_geod()
    to_geo = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True) \
        if geodesic and not crs.is_geographic else None
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    tol = 0.0
    if simplify_m > 0:
        tol = simplify_m / unit if not crs.is_geographic else simplify_m / 111_320.0
    out = Polygons(info.crs_wkt or "", px.crs_name, ("geodesic (pyproj.Geod, ellipsoid)" if geodesic
                                                     else "planar in the projected CRS"))
    m2 = px.class_m2(labels, 0, max(256, max(ids, default=0) + 1))
    out.raster_m2 = {name: float(m2[cid]) for cid, name in ids.items()}
    keep = np.isin(labels, list(ids)) if ids else np.zeros(labels.shape, bool)
    if nodata is not None:
        keep &= labels != nodata
    transform = affine.Affine(*info.transform)
    src = labels if labels.dtype in (np.uint8, np.uint16, np.int16, np.int32) else labels.astype(np.int32)
    for geo, value in features.shapes(src, mask=keep, connectivity=4, transform=transform):
        geom = shapely.geometry.shape(geo)
        if tol:
            geom = geom.simplify(tol, preserve_topology=True)
            if geom.is_empty:
                out.dropped += 1
                continue
        area, perim = _measure(geom, crs, geod if geodesic else None, to_geo, unit)
        if area < min_area_m2:
            out.dropped += 1
            continue
        out.geoms.append(geom)
        out.classes.append(ids[int(value)])
        out.area_m2.append(area)
        out.perimeter_m.append(perim)
    return out


def write_polygons(polys: Polygons, out: str | Path, *, source: str = "", model: str = "") -> Path:
    """Write the polygons (attributes class, area_m2, perimeter_m, centroid, source, model)."""
    out = Path(out)
    driver = FORMATS.get(out.suffix.lower())
    if driver is None:
        raise BadInputError(out, f"unknown polygon format {out.suffix!r}: use .gpkg, .shp or .geojson")
    shapely = require("shapely")
    pyproj = require("pyproj")
    raw = require("pyogrio.raw")
    crs = pyproj.CRS.from_wkt(polys.crs_wkt)
    geoms = list(polys.geoms)
    cent = [g.centroid for g in geoms]
    crs_out = crs
    if driver == "GeoJSON":  # RFC 7946: WGS84 longitude, latitude
        crs_out = pyproj.CRS.from_epsg(4326)
        tr = pyproj.Transformer.from_crs(crs, crs_out, always_xy=True)
        geoms = [shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
                 for g in geoms]
        cent = [g.centroid for g in geoms]
    n = len(geoms)
    fields = ["class", "area_m2", "perimeter_m", "centroid_x", "centroid_y", "source", "model"]
    if driver == "ESRI Shapefile":  # dBASE field names hold 10 characters
        fields = ["class", "area_m2", "perim_m", "cent_x", "cent_y", "source", "model"]
    data = [np.array(polys.classes, dtype=object), np.array(polys.area_m2, np.float64),
            np.array(polys.perimeter_m, np.float64), np.array([c.x for c in cent], np.float64),
            np.array([c.y for c in cent], np.float64), np.array([source] * n, dtype=object),
            np.array([model] * n, dtype=object)]
    wkb = np.array([shapely.to_wkb(shapely.geometry.MultiPolygon([g]) if g.geom_type == "Polygon" else g)
                    for g in geoms], dtype=object)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".seggui-vec-", dir=out.parent))
    try:
        opts = {"RFC7946": "YES"} if driver == "GeoJSON" else None
        raw.write(tmp / out.name, wkb, data, fields, driver=driver, geometry_type="MultiPolygon",
                  crs=crs_out.to_wkt(), layer=out.stem, layer_options=opts, encoding="UTF-8"
                  if driver == "ESRI Shapefile" else None)
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
