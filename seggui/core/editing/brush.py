"""Round brush geometry: where a dab lands, which pixels a stroke segment covers.

Conventions (image coordinates as the canvas gives them: pixel (x, y) covers
[x, x+1) x [y, y+1), its centre at (x+0.5, y+0.5)):

- A brush of `size` d (its diameter in pixels) paints the pixels whose
  centres lie within d/2 of the dab centre. The centre snaps to a pixel
  centre for odd sizes and to a pixel corner for even ones, so every dab of
  one size has the same d x d footprint wherever it lands (size 1 is one
  pixel, size 2 a 2x2 block) and the outline cursor shows exactly it.
- A stroke segment from dab centre a to dab centre b paints every pixel whose
  centre lies within d/2 of the segment: the union of dabs at *every* point
  between them (a capsule). That is interpolation taken to its limit, so a
  fast mouse move, however long, leaves no gap, and it costs one pass over
  the segment's bounding box instead of one pass per interpolated dab.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from functools import lru_cache
from typing import cast

import numpy as np

from seggui.core.editing.change import Change, selection_change

MAX_SIZE = 2048
_EPS = 1e-9  # pixel centres exactly on the outline count as inside


def dab_centre(x: float, y: float, size: int) -> tuple[float, float]:
    """The snapped dab centre for a pointer at image position (x, y)."""
    if size % 2:
        return math.floor(x) + 0.5, math.floor(y) + 0.5
    return float(math.floor(x + 0.5)), float(math.floor(y + 0.5))


@lru_cache(maxsize=64)
def disk(size: int) -> np.ndarray:
    """The d x d footprint of one dab (read-only, cached per size)."""
    r = size / 2
    off = np.arange(size) + 0.5 - r
    out = off[:, None] ** 2 + off[None, :] ** 2 <= r * r + _EPS
    out.flags.writeable = False
    return out


def check_size(size: int) -> int:
    size = int(size)
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"brush size must lie in 1..{MAX_SIZE}, got {size}")
    return size


def segment_footprint(a: tuple[float, float], b: tuple[float, float], size: int,
                      shape: tuple[int, int]) -> tuple[int, int, np.ndarray] | None:
    """(top, left, mask) of the pixels covered between snapped centres a and b, clipped to `shape`."""
    size = check_size(size)
    r = size / 2
    h, w = shape
    left0 = round(min(a[0], b[0]) - r)
    top0 = round(min(a[1], b[1]) - r)
    right0 = round(max(a[0], b[0]) + r)
    bottom0 = round(max(a[1], b[1]) + r)
    left, top, right, bottom = max(left0, 0), max(top0, 0), min(right0, w), min(bottom0, h)
    if left >= right or top >= bottom:
        return None
    if a == b:  # one dab: the cached disk, cut to the picture
        foot = disk(size)[top - top0:bottom - top0, left - left0:right - left0]
        return top, left, foot
    xs = np.arange(left, right, dtype=np.float64) + 0.5 - a[0]
    ys = np.arange(top, bottom, dtype=np.float64) + 0.5 - a[1]
    dx, dy = b[0] - a[0], b[1] - a[1]
    # projection of each pixel centre onto the segment, clamped to its ends
    t = (ys[:, None] * dy + xs[None, :] * dx) * (1.0 / (dx * dx + dy * dy))
    np.clip(t, 0.0, 1.0, out=t)
    ex = xs[None, :] - t * dx
    ey = ys[:, None] - t * dy
    return top, left, ex * ex + ey * ey <= r * r + _EPS


def allowed(window: np.ndarray, only_over: Collection[int] | None) -> np.ndarray | None:
    """Which pixels of a window may change under "protect other labels" (None: all of them)."""
    if only_over is None:
        return None
    ids = list(only_over)
    if len(ids) == 1:
        return cast(np.ndarray, window == ids[0])
    return np.isin(window, ids)


def brush_change(labels: np.ndarray, a: tuple[float, float], b: tuple[float, float], size: int,
                 value: int, only_over: Collection[int] | None = None) -> Change | None:
    """The change a brush segment between snapped centres a and b makes (labels untouched).

    With `only_over`, only pixels currently holding one of those ids change:
    "paint only over unlabelled" or "only over class X" keeps other
    boundaries intact.
    """
    found = segment_footprint(a, b, size, labels.shape[:2])
    if found is None:
        return None
    top, left, foot = found
    ok = allowed(labels[top:top + foot.shape[0], left:left + foot.shape[1]], only_over)
    return selection_change(labels, top, left, foot if ok is None else foot & ok, value)
