"""Synthetic scenes as GeoTIFFs in real CRSs, with the exact area of every class.

The GIS tests need orthomosaics whose true areas are known: `write_geotiff`
puts a rendered scene on a UTM grid (EPSG:32633, square pixels of the
scene's GSD), a geographic one (EPSG:4326, square pixels in degrees) or Web
Mercator (EPSG:3857), tiled or striped, RGB or RGBN, 8 or 16 bit, with an
optional nodata border; `exact_class_m2` states each class's area: pixel
count x GSD² on the UTM grid, per-row ellipsoidal cell areas (closed form)
on the geographic grid. Needs the `geo` extra (rasterio).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np

from seggui.core.geo import require
from seggui.core.geo.areas import cell_areas

UTM = "EPSG:32633"  # UTM zone 33N (central Europe)
GEOGRAPHIC = "EPSG:4326"
WEB_MERCATOR = "EPSG:3857"
ORIGIN_UTM = (500000.0, 5000000.0)  # x, y of the top-left corner (metres)
ORIGIN_LONLAT = (15.0, 45.0)  # lon, lat of the top-left corner (degrees)
DEG_PER_M = 1 / 111_320.0  # roughly one metre of latitude: keeps geographic pixels near the scene GSD


def grid(crs: str, gsd: float) -> tuple[float, float, float, float, float, float]:
    """The (a, b, c, d, e, f) transform of a north-up grid in `crs` near the scene's GSD."""
    if crs == UTM:
        return (gsd, 0.0, ORIGIN_UTM[0], 0.0, -gsd, ORIGIN_UTM[1])
    if crs == GEOGRAPHIC:
        deg = gsd * DEG_PER_M
        return (deg, 0.0, ORIGIN_LONLAT[0], 0.0, -deg, ORIGIN_LONLAT[1])
    if crs == WEB_MERCATOR:
        to = require("pyproj").Transformer.from_crs(GEOGRAPHIC, WEB_MERCATOR, always_xy=True)
        x, y = to.transform(*ORIGIN_LONLAT)
        return (gsd, 0.0, float(x), 0.0, -gsd, float(y))  # gsd in map metres (not ground metres)
    raise ValueError(f"unknown CRS {crs!r}; one of {UTM}, {GEOGRAPHIC}, {WEB_MERCATOR}")


def nir_band(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A plausible near-infrared band: bright on vegetation (class 4), dim on asphalt."""
    nir = image[..., 1].astype(np.float32) * 0.6 + 40
    nir[mask == 4] = np.clip(nir[mask == 4] * 2.2, 0, 255)
    return cast(np.ndarray, np.clip(nir, 0, 255).astype(np.uint8))


def write_geotiff(path: str | Path, image: np.ndarray, mask: np.ndarray, gsd: float, *, crs: str = UTM,
                  tiled: bool = True, nir: bool = False, bits: int = 8, nodata_border: int = 0,
                  with_crs: bool = True, rotate_deg: float = 0.0) -> dict[str, Any]:
    """Write `image` (h, w, 3 uint8) as a GeoTIFF; return its grid and exact per-class areas.

    `nodata_border` pixels round the edge are set to nodata (0) and labelled
    255 in the returned mask copy; `bits` 16 scales values by 257 (full range).
    """
    rasterio = require("rasterio")
    affine = require("affine")
    path = Path(path)
    h, w = mask.shape
    a, b, c, d, e, f = grid(crs, gsd)
    t = affine.Affine(a, b, c, d, e, f)
    if rotate_deg:
        t = t @ affine.Affine.rotation(rotate_deg)
    bands = [image[..., i] for i in range(3)] + ([nir_band(image, mask)] if nir else [])
    data: np.ndarray = np.stack(bands).astype(np.uint16 if bits == 16 else np.uint8)
    if bits == 16:
        data = data * np.uint16(257)
    truth = mask.copy()
    if nodata_border:
        k = nodata_border
        edge = np.ones((h, w), bool)
        edge[k:h - k, k:w - k] = False
        data[:, edge] = 0
        data[:, ~edge] = np.maximum(data[:, ~edge], 1)  # only the border is nodata
        truth = truth.astype(np.uint8)
        truth[edge] = 255
    profile: dict[str, Any] = {
        "driver": "GTiff", "height": h, "width": w, "count": data.shape[0], "dtype": str(data.dtype),
        "transform": t, "compress": "deflate", "nodata": 0 if nodata_border else None,
    }
    if with_crs:
        profile["crs"] = rasterio.crs.CRS.from_string(crs)
    if tiled:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    else:
        profile.update(tiled=False, blockysize=16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
        ci = rasterio.enums.ColorInterp
        ds.colorinterp = [ci.red, ci.green, ci.blue] + ([ci.undefined] if nir else [])
    return {"path": str(path), "crs": crs, "transform": (a, b, c, d, e, f),
            "class_m2": exact_class_m2(truth, crs, gsd), "mask": truth}


def exact_class_m2(mask: np.ndarray, crs: str, gsd: float, num: int = 256) -> np.ndarray:
    """The true ground area of each class id of `mask` on the `grid(crs, gsd)` grid, in m²."""
    h = mask.shape[0]
    if crs == UTM:
        return np.bincount(mask.ravel(), minlength=num)[:num] * (gsd * gsd)
    a, _b, c, _d, e, f = grid(crs, gsd)
    if crs == GEOGRAPHIC:
        rows = cell_areas(f + e * np.arange(h + 1), a)
    else:  # Web Mercator: rows back to latitudes (spherical inverse), cells on the ellipsoid
        y = f + e * np.arange(h + 1)
        lats = np.degrees(2 * np.arctan(np.exp(y / 6378137.0)) - np.pi / 2)
        rows = cell_areas(lats, np.degrees(a / 6378137.0))
    out = np.zeros(num, np.float64)
    for r in range(h):
        out += np.bincount(mask[r], minlength=num)[:num] * rows[r]
    return out
