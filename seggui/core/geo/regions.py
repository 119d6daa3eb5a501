"""Class regions of a mask traced strip by strip, merged across strip borders, in bounded memory.

A 20,000 px square mask is 400 MB as one array; traced whole, GDAL's
polygonize also holds its own copies. `trace_regions` takes the mask as
horizontal strips (full width, a few thousand rows: tens of MB), traces each
with GDAL's polygonize (rasterio.features.shapes, 4-connected, holes as
interior rings) in *pixel* coordinates (x = column, y = row, exact
integers, so pieces from two strips meet exactly on the border line), and
hands out at once every region that does not reach the border of its strip.
A region cut by a border is kept as pieces until no piece of it reaches the
next border; then its pieces are unioned (shapely) into the one polygon the
whole-mask trace gives (a ring around two strips becomes a polygon with a
hole, as it should).

Which pieces belong together is decided from the two pixel rows on either
side of each border, not from geometry: where a row pair has the same kept
class in the same column, the pixel above and the pixel below are
4-connected. Each run of such columns is one link, looked up by the pixel
centres in an STRtree of the pieces (a pixel centre lies inside exactly one
piece). So memory is one strip, the pieces of regions still open at the
current border, and the polygons handed out (which the caller writes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from seggui.core.geo import require

Strip = tuple[int, np.ndarray]  # (first row, labels of the strip's rows)


def array_strips(labels: np.ndarray, rows: int) -> Iterator[Strip]:
    """Strips of an in-memory mask (views, no copies)."""
    for r0 in range(0, labels.shape[0], rows):
        yield r0, labels[r0:r0 + rows]


class _Links:
    """Union-find over hashable keys."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, k: Any) -> Any:
        self.parent.setdefault(k, k)
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def union(self, a: Any, b: Any) -> None:
        self.parent[self.find(a)] = self.find(b)


def _runs(prev: np.ndarray, cur: np.ndarray, kept_prev: np.ndarray, kept_cur: np.ndarray) -> np.ndarray:
    """First column of each run where the row above and the row below share a kept class."""
    same = (prev == cur) & kept_prev & kept_cur
    cols = np.flatnonzero(same)
    if cols.size == 0:
        return cols
    new = np.ones(cols.size, bool)
    new[1:] = (np.diff(cols) != 1) | (cur[cols[1:]] != cur[cols[:-1]])
    return cols[new]


def _owners(pieces: list[Any], xs: np.ndarray, y: float) -> np.ndarray:
    """Index of the piece containing each point (x, y) (-1 where none)."""
    shapely = require("shapely")
    out = np.full(xs.size, -1, np.int64)
    if not pieces or xs.size == 0:
        return out
    tree = shapely.STRtree(pieces)
    points = shapely.points(xs + 0.5, np.full(xs.size, y))
    where, which = tree.query(points, predicate="intersects")
    out[where] = which
    return out


def trace_regions(strips: Iterable[Strip], height: int, ids: Iterable[int],
                  nodata: int | None = None) -> Iterator[tuple[int, Any]]:
    """(class id, polygon in pixel coordinates) of every 4-connected region of the classes `ids`.

    `strips` cover the mask's rows in order, top to bottom; `height` is the
    mask's. The same regions as a whole-mask trace, in another order.
    """
    features = require("rasterio.features")
    shapely = require("shapely")
    affine = require("affine")
    wanted = np.array(sorted(set(ids)), np.int64)
    open_groups: dict[int, tuple[int, list[Any]]] = {}  # gid -> (class, all pieces so far)
    frontier: list[tuple[int, Any]] = []  # (gid, piece) of the open groups touching the next border
    prev_row: np.ndarray | None = None
    prev_kept: np.ndarray | None = None
    next_gid = 0
    for r0, labels in strips:
        r1 = r0 + labels.shape[0]
        kept = np.isin(labels, wanted)
        if nodata is not None:
            kept &= labels != nodata
        src = labels if labels.dtype in (np.uint8, np.uint16, np.int16, np.int32) else labels.astype(np.int32)
        new: list[tuple[int, Any, bool]] = []  # (class, piece, reaches the bottom border)
        top: list[int] = []  # indexes into `new` of pieces reaching the top border
        if kept.any():
            shift = affine.Affine.translation(0, r0)
            shapes = features.shapes(src, mask=kept, connectivity=4, transform=shift)
            for geo, value in shapes:
                g = shapely.geometry.shape(geo)
                _x0, y0, _x1, y1 = g.bounds
                at_top, at_bottom = r0 > 0 and y0 == r0, r1 < height and y1 == r1
                if not (at_top or at_bottom):
                    yield int(value), g
                    continue
                if at_top:
                    top.append(len(new))
                new.append((int(value), g, at_bottom))
        links = _Links()
        if prev_row is not None and prev_kept is not None and frontier and top:
            cols = _runs(prev_row, labels[0], prev_kept, kept[0])
            above = _owners([p for _g, p in frontier], cols, r0 - 0.5)
            below = _owners([new[i][1] for i in top], cols, r0 + 0.5)
            for a, b in zip(above, below, strict=True):
                if a >= 0 and b >= 0:
                    links.union(("g", frontier[a][0]), ("n", top[b]))
        joined: dict[Any, tuple[list[int], list[int]]] = {}  # root -> (old gids, new piece indexes)
        for key in list(links.parent):
            part = joined.setdefault(links.find(key), ([], []))
            (part[0] if key[0] == "g" else part[1]).append(key[1])
        linked_new = {i for _gids, idx in joined.values() for i in idx}
        linked_old = {g for gids, _idx in joined.values() for g in gids}
        for gid in [g for g in open_groups if g not in linked_old]:  # no piece below: the region is whole
            cid, pieces = open_groups.pop(gid)
            yield from _whole(cid, pieces)
        frontier = []
        for gids, idx in joined.values():
            cid = new[idx[0]][0]
            pieces = [p for g in gids for p in open_groups.pop(g)[1]] + [new[i][1] for i in idx]
            edge = [new[i][1] for i in idx if new[i][2]]
            if edge:
                open_groups[next_gid] = (cid, pieces)
                frontier.extend((next_gid, p) for p in edge)
                next_gid += 1
            else:
                yield from _whole(cid, pieces)
        for i, (cid, g, at_bottom) in enumerate(new):
            if i in linked_new:
                continue
            if at_bottom:
                open_groups[next_gid] = (cid, [g])
                frontier.append((next_gid, g))
                next_gid += 1
            else:
                yield cid, g
        prev_row, prev_kept = labels[-1].copy(), kept[-1].copy()
    for cid, pieces in open_groups.values():
        yield from _whole(cid, pieces)


def _whole(cid: int, pieces: list[Any]) -> Iterator[tuple[int, Any]]:
    """The union of a region's pieces (one polygon; its parts if the union ever splits)."""
    shapely = require("shapely")
    if len(pieces) == 1:
        yield cid, pieces[0]
        return
    merged = shapely.union_all(pieces)
    merged = shapely.simplify(merged, 0.0)  # drop the vertices left on the strip borders
    for g in getattr(merged, "geoms", [merged]):
        yield cid, g
