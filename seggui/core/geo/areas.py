"""Pixel areas in m² that hold in any CRS, and which method gave them.

- Projected CRS (UTM, national grids): the planar pixel area |det| of the
  affine transform times the unit in metres squared, as seggui always did.
- Geographic CRS (degrees, EPSG:4326): a pixel's area depends on its latitude,
  so every row gets its own area on the CRS's ellipsoid, in closed form (the
  area between two parallels, from the authalic latitude function q):
  ``A = a² Δλ (q(φ2) - q(φ1)) / 2``. Exact for a north-up grid; rotated
  geographic grids are refused.
- Mercator (Web Mercator EPSG:3857 and other normal Mercators): map metres
  grow as 1/cos(latitude), so the planar area overstates the ground (by 2x at
  45°). Rows are taken back to latitudes and measured on the ellipsoid as for
  a geographic CRS (the "scale factor corrected" area).

`PixelAreas.describe()` names the CRS and the method for reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.raster import GeoInfo
from seggui.core.gsd import Gsd

WGS84 = (6378137.0, 1 / 298.257223563)  # semi-major axis (m), flattening
PLANAR, GEODESIC, MERCATOR = "planar", "geodesic per row", "Mercator scale corrected per row"


def _q(phi: np.ndarray, e: float) -> np.ndarray:
    """The authalic-latitude function q(φ) (Snyder 3-12); 2 sin φ on a sphere."""
    s = np.sin(phi)
    if e < 1e-12:
        return cast(np.ndarray, 2.0 * s)
    q = (1 - e * e) * (s / (1 - e * e * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))
    return cast(np.ndarray, q)


def cell_areas(lat_edges_deg: np.ndarray, dlon_deg: float, a: float = WGS84[0],
               f: float = WGS84[1]) -> np.ndarray:
    """m² of the cells between consecutive latitudes (degrees), `dlon_deg` wide, on an ellipsoid."""
    e = math.sqrt(max(f * (2 - f), 0.0))
    q = _q(np.radians(np.asarray(lat_edges_deg, np.float64)), e)
    return np.abs(np.diff(q)) * (a * a * math.radians(abs(dlon_deg)) / 2)


@dataclass(frozen=True)
class PixelAreas:
    """Ground area of the pixels of one grid: one figure (planar) or one per row."""

    m2_per_px: float  # the planar figure, or the mean over rows
    row_m2: np.ndarray | None
    crs_name: str
    method: str

    def describe(self) -> str:
        """'EPSG:4326 (WGS 84), geodesic per row (ellipsoid): mean 0.0225 m²/px'."""
        what = "mean " if self.row_m2 is not None else ""
        return f"{self.crs_name}, {self.method}: {what}{self.m2_per_px:.6g} m²/px"

    def rows(self, r0: int, r1: int) -> np.ndarray:
        """m² per pixel for rows r0..r1-1 (constant for planar)."""
        if self.row_m2 is None:
            return np.full(r1 - r0, self.m2_per_px)
        return self.row_m2[r0:r1]

    def class_m2(self, mask: np.ndarray, r0: int = 0, num: int = 256) -> np.ndarray:
        """m² per class id (length `num`) of a mask block whose first row is row r0 of the grid."""
        h = mask.shape[0]
        if self.row_m2 is None:
            return np.bincount(mask.ravel(), minlength=num)[:num] * self.m2_per_px
        out = np.zeros(num, np.float64)
        weights = self.rows(r0, r0 + h)
        for y in range(h):
            out += np.bincount(mask[y], minlength=num)[:num] * weights[y]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"crs": self.crs_name, "method": self.method, "m2_per_px": self.m2_per_px}


def _ellipsoid(crs: Any) -> tuple[float, float]:
    ell = crs.ellipsoid
    if ell is None:
        return WGS84
    inv_f = ell.inverse_flattening
    return float(ell.semi_major_metre), (1.0 / inv_f if inv_f else 0.0)


def is_mercator(crs: Any) -> bool:
    """A normal (not transverse, not oblique) Mercator projection, Web Mercator included."""
    op = getattr(crs, "coordinate_operation", None)
    name = (op.method_name if op is not None else "").lower()
    return "mercator" in name and "transverse" not in name and "oblique" not in name


def pixel_areas(info: GeoInfo) -> PixelAreas:
    """The pixel areas of a georeferenced grid, by the method its CRS calls for."""
    if not info.has_crs:
        raise BadInputError(info.path, "the file has no CRS, so its pixel size in metres is unknown: "
                                       "give the GSD (--gsd) and the report will say it came from you")
    pyproj = require("pyproj")
    crs = pyproj.CRS.from_wkt(info.crs_wkt)
    a, b, c, d, e, f = info.transform
    name = info.crs_name
    if crs.is_geographic or is_mercator(crs):
        if info.rotated:
            raise BadInputError(info.path, f"the grid is rotated in {name}: per-row areas need a "
                                           "north-up grid; reproject (gdalwarp) to a north-up raster")
        edges_y = f + e * np.arange(info.height + 1, dtype=np.float64)
        ax, ay = _ellipsoid(crs)
        if crs.is_geographic:
            lats, dlon, method = edges_y, a, GEODESIC
        else:
            to_geo = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
            lon0, lats = to_geo.transform(np.full_like(edges_y, c), edges_y)
            lon1, _ = to_geo.transform(np.full(1, c + a), edges_y[:1])
            dlon, method = float(lon1[0] - lon0[0]), MERCATOR
        if np.any(np.abs(lats) > 90):
            raise BadInputError(info.path, "latitudes beyond ±90°: the transform does not fit the CRS")
        rows = cell_areas(np.asarray(lats), dlon, ax, ay)
        return PixelAreas(float(rows.mean()), rows, name, f"{method} (ellipsoid {crs.ellipsoid.name})")
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    area = abs(a * e - b * d) * unit * unit
    if not (math.isfinite(area) and area > 0):
        raise BadInputError(info.path, "pixel size is zero or not a number (degenerate transform)")
    return PixelAreas(area, None, name, f"{PLANAR} (projected CRS, unit {unit:g} m)")


def gsd_from_geotiff(path: Any) -> Gsd:
    """A `Gsd` for a geographic or Mercator GeoTIFF: the mean pixel area, CRS and method in its note.

    The window and reports speak `Gsd` (one m² per pixel); for a picture a few
    kilometres tall the mean is within 0.05% of the per-row figures, which
    the GIS commands (`seggui vectorize`, orthomosaic inference) use exactly.
    """
    from seggui.core.geo.raster import GeoRaster

    with GeoRaster(path) as ras:
        info = ras.info
    px = pixel_areas(info)
    side = math.sqrt(px.m2_per_px)
    return Gsd(px.m2_per_px, side, side, "geotiff", info.path,
               f"{px.crs_name}, {px.method}, mean over {info.height} rows")
