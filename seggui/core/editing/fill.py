"""Fills: flood fill (contiguous or global), polygon fill, and whole-mask replacements.

Each function returns the `Change` it would make and leaves the labels alone;
the editor applies it, records it for undo, and updates the live figures.

- Flood fill replaces the seed pixel's label: contiguous uses OpenCV's
  floodFill (4-connected by default, so a fill does not leak through a
  diagonal gap in a one-pixel boundary), global replaces that label
  everywhere. Under "protect other labels" a seed whose label is protected
  changes nothing: the fill only ever touches pixels of the seed's label.
- Polygon vertices snap to the pixel under each click (its centre), and the
  filled area includes the outline pixels, so the clicked pixels are always
  in: that is what a user clicking the corners of a car expects.
- Replacements (accept the prediction, clear, copy the previous frame) are
  edits like any other: undoable, and they move the live figures.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import cast

import cv2
import numpy as np

from seggui.core.editing.brush import allowed
from seggui.core.editing.change import Change, selection_change


def flood_change(labels: np.ndarray, x: float, y: float, value: int, contiguous: bool = True,
                 only_over: Collection[int] | None = None, connectivity: int = 4) -> Change | None:
    """Replace the label under (x, y) by `value`: its connected region, or everywhere when not contiguous."""
    h, w = labels.shape
    px, py = math.floor(x), math.floor(y)
    if not (0 <= px < w and 0 <= py < h):
        return None
    seed = labels[py, px]
    if seed == value or (only_over is not None and int(seed) not in set(only_over)):
        return None
    if not contiguous:
        # never None: the seed pixel itself changes
        return cast(Change, selection_change(labels, 0, 0, labels == seed, value)).tight()
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity}")
    # floodFill reads 8-bit or float images; uint16 ids are exact in float32
    image = labels if labels.dtype == np.uint8 else labels.astype(np.float32)
    region = np.zeros((h + 2, w + 2), np.uint8)
    flags = connectivity | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    _n, _img, region, (rx, ry, rw, rh) = cv2.floodFill(image, region, (px, py), 0, 0, 0, flags)
    selected = region[1 + ry:1 + ry + rh, 1 + rx:1 + rx + rw].astype(bool)
    return selection_change(labels, ry, rx, selected, value)


def polygon_change(labels: np.ndarray, points: Sequence[tuple[float, float]], value: int,
                   only_over: Collection[int] | None = None) -> Change | None:
    """Fill the polygon through the pixels under `points` (outline included); None if under 3 vertices."""
    h, w = labels.shape
    pts = np.array([(math.floor(px), math.floor(py)) for px, py in points], np.int64).reshape(-1, 2)
    if len({tuple(p) for p in pts.tolist()}) < 3:
        return None
    left, top = max(int(pts[:, 0].min()), 0), max(int(pts[:, 1].min()), 0)
    right, bottom = min(int(pts[:, 0].max()) + 1, w), min(int(pts[:, 1].max()) + 1, h)
    if left >= right or top >= bottom:
        return None
    inside = np.zeros((bottom - top, right - left), np.uint8)
    cv2.fillPoly(inside, [(pts - (left, top)).astype(np.int32)], 1, lineType=cv2.LINE_8)
    selected = inside.astype(bool)
    ok = allowed(labels[top:bottom, left:right], only_over)
    return selection_change(labels, top, left, selected if ok is None else selected & ok, value)


def replace_change(labels: np.ndarray, new_labels: np.ndarray,
                   only_over: Collection[int] | None = None) -> Change | None:
    """Make `labels` equal `new_labels` (where allowed): accept a prediction, clear, copy a frame."""
    if new_labels.shape != labels.shape:
        raise ValueError(f"the new mask is {new_labels.shape[1]}x{new_labels.shape[0]}, "
                         f"the picture {labels.shape[1]}x{labels.shape[0]}")
    ok = allowed(labels, only_over)
    selected = np.ones(labels.shape, bool) if ok is None else ok
    change = selection_change(labels, 0, 0, selected, new_labels)
    return None if change is None else change.tight()
