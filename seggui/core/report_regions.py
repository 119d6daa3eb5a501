"""The regions of a report frame: a table (area, perimeter, centroid) and a small map, and how areas were had.

The regions are those the report counts (`seggui.core.area`: 8-connected,
at least the workspace's minimum region size) of one class, the report's
parking class unless another is asked for, numbered largest first; the map
draws them over the picture with the same numbers.

- Area: pixels x the frame's pixel area (its GSD, as every figure of the report).
- Perimeter: along pixel edges (the outline a polygon export draws), each
  vertical edge one pixel's height and each horizontal edge one pixel's
  width on the ground (the GSD's sides; for a geographic or Web Mercator
  picture those of the mean pixel, so a perimeter there is approximate).
- Centroid: in the picture's CRS when it is a GeoTIFF with one (the geo
  extra reads it), else in pixels (column, row) from the top-left corner.

`placement` names the CRS and the area method: projected, geodesic,
Web Mercator corrected, or a GSD stated by the user.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from seggui.core.area import CONNECTIVITY
from seggui.core.gsd import Gsd, world_file_for

MAX_ROWS = 50  # rows of the HTML table per frame (the JSON holds every region)
MAP_SIDE = 480  # the region map's long side, px


@dataclass(frozen=True)
class Placement:
    """Where a frame's pixels lie: a CRS and pixel-to-CRS transform (or none), and the area method."""

    crs: str | None
    transform: tuple[float, float, float, float, float, float] | None
    method: str

    def centroid_unit(self) -> str:
        return "CRS" if self.transform is not None else "px"


def _method(gsd: Gsd | None) -> str:
    if gsd is None:
        return "no GSD: areas in pixels only"
    if gsd.source == "geotiff":
        if "Mercator" in gsd.note:
            return "Web Mercator corrected (the scale factor taken out per row; mean pixel area)"
        if "geodesic" in gsd.note:
            return "geodesic (pixel areas per row on the ellipsoid; mean pixel area)"
        return "projected (planar pixel area from the GeoTIFF)"
    return {"world file": "projected (planar pixel area from the world file)",
            "flag": "GSD stated by the user", "workspace": "GSD stated by the user",
            "generator": "GSD stated by the scene generator"}.get(gsd.source, gsd.source)


def placement(image: Path | None, gsd: Gsd | None) -> Placement:
    """The CRS and area method of a frame: a GeoTIFF's CRS, or a world file's with a `.prj` beside
    it, when the geo extra can read them (`seggui.core.geo.frame_polygons.picture_info`)."""
    method = _method(gsd)
    if image is None or not image.is_file() or (image.suffix.lower() not in (".tif", ".tiff")
                                                 and world_file_for(image) is None):
        return Placement(None, None, method)
    from seggui.core.errors import SegguiError
    from seggui.core.geo import geo_available

    if not geo_available():
        return Placement(None, None, method)
    from seggui.core.geo.frame_polygons import picture_info

    try:
        info = picture_info(image)
    except SegguiError:
        return Placement(None, None, method)
    if not info.has_crs:
        return Placement(None, None, method)
    return Placement(info.crs_name, info.transform, method)


def _labels(mask: np.ndarray, class_id: int, min_px: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                     list[int]]:
    """(component labels, stats, centroids, kept component ids largest first) of one class."""
    binary = (mask == class_id).astype(np.uint8)
    _n, lab, stats, cents = cv2.connectedComponentsWithStats(binary, connectivity=CONNECTIVITY,
                                                             ltype=cv2.CV_32S)
    pixels = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    order = [int(i) + 1 for i in np.argsort(-pixels[1:], kind="stable") if pixels[i + 1] >= max(min_px, 1)]
    return np.asarray(lab), np.asarray(stats), np.asarray(cents), order


def edge_counts(lab: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per component label: (vertical pixel edges, horizontal pixel edges) on its outline."""
    vert = np.zeros(n, np.int64)
    horiz = np.zeros(n, np.int64)
    d = lab[:, :-1] != lab[:, 1:]
    vert += np.bincount(lab[:, :-1][d], minlength=n)[:n] + np.bincount(lab[:, 1:][d], minlength=n)[:n]
    vert += np.bincount(lab[:, 0], minlength=n)[:n] + np.bincount(lab[:, -1], minlength=n)[:n]
    d = lab[:-1] != lab[1:]
    horiz += np.bincount(lab[:-1][d], minlength=n)[:n] + np.bincount(lab[1:][d], minlength=n)[:n]
    horiz += np.bincount(lab[0], minlength=n)[:n] + np.bincount(lab[-1], minlength=n)[:n]
    return vert, horiz


def region_rows(mask: np.ndarray, class_id: int, gsd: Gsd | None, place: Placement,
                min_px: int = 0) -> list[dict[str, Any]]:
    """One row per region, largest first: n, pixels, m2, perimeter (m and px), centroid, bbox."""
    lab, stats, cents, order = _labels(mask, class_id, min_px)
    if not order:
        return []
    vert, horiz = edge_counts(lab, len(stats))
    rows = []
    for n, i in enumerate(order, 1):
        cx, cy = float(cents[i, 0]) + 0.5, float(cents[i, 1]) + 0.5  # pixel centres, from the corner
        if place.transform is not None:
            a, b, c, d, e, f = place.transform
            cx, cy = a * cx + b * cy + c, d * cx + e * cy + f
        px = int(stats[i, cv2.CC_STAT_AREA])
        rows.append({
            "n": n, "pixels": px, "m2": None if gsd is None else px * gsd.m2_per_px,
            "perimeter_px": int(vert[i] + horiz[i]),
            "perimeter_m": None if gsd is None else float(vert[i] * gsd.y_m + horiz[i] * gsd.x_m),
            "centroid_x": cx, "centroid_y": cy, "centroid_in": place.centroid_unit(),
            "bbox": [int(v) for v in stats[i, :4]],
        })
    return rows


def region_map_uri(rgb: np.ndarray | None, mask: np.ndarray, class_id: int, color: tuple[int, int, int],
                   min_px: int = 0, numbered: int = MAX_ROWS) -> str:
    """A PNG map (data: URI) of the regions over the dimmed picture, the first `numbered` numbered."""
    h, w = mask.shape
    f = min(1.0, MAP_SIDE / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    if rgb is not None and rgb.shape[:2] == mask.shape:
        base = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32) * 0.55 + 40
    else:
        base = np.full((size[1], size[0], 3), 235.0, np.float32)
    lab, _stats, cents, order = _labels(mask, class_id, min_px)
    kept = np.isin(lab, order).astype(np.uint8)
    small = cv2.resize(kept, size, interpolation=cv2.INTER_NEAREST).astype(bool)
    base[small] = base[small] * 0.4 + np.asarray(color, np.float32) * 0.6
    out = np.clip(base, 0, 255).astype(np.uint8)
    contours, _ = cv2.findContours(small.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, (255, 255, 255), 1)
    for n, i in enumerate(order[:numbered], 1):
        x, y = int(cents[i, 0] * f), int(cents[i, 1] * f)
        for thick, ink in ((3, (0, 0, 0)), (1, (255, 255, 255))):
            cv2.putText(out, str(n), (x - 4, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.5, ink, thick, cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - encoding a valid uint8 array does not fail
        raise ValueError("cannot encode the region map")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def _num(x: Any, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def regions_table_html(rows: list[dict[str, Any]], place_crs: str | None) -> str:
    """The region table of one frame (the first MAX_ROWS rows; a note says how many more)."""
    unit = f"in {html.escape(place_crs)}" if place_crs else "in pixels (column, row)"
    out = ["<table><tr><th>#</th><th>area m²</th><th>perimeter m</th><th>centroid x</th>"
           "<th>centroid y</th><th>pixels</th></tr>"]
    digits = 2 if place_crs else 1
    for r in rows[:MAX_ROWS]:
        out.append(f"<tr><td>{r['n']}</td><td>{_num(r['m2'])}</td><td>{_num(r['perimeter_m'])}</td>"
                   f"<td>{_num(r['centroid_x'], digits)}</td><td>{_num(r['centroid_y'], digits)}</td>"
                   f"<td>{r['pixels']:,}</td></tr>")
    out.append("</table>")
    more = len(rows) - MAX_ROWS
    note = f"Centroids {unit}." + (f" {more} smaller region(s) not listed here (all are in the JSON report)."
                                   if more > 0 else "")
    out.append(f"<p class='note'>{note}</p>")
    return "".join(out)
