"""The superpixel brush: strokes paint whole superpixels, so a stroke snaps to the picture's edges.

A picture is cut into superpixels (scikit-image's SLIC: compact segments of
about `size` x `size` pixels that follow colour edges) once per picture and
segment size, on a worker thread (tile by tile above 4 Mpx), and cached in the workspace
(superpixels/ID_SIZE.png, 16-bit; a few hundred KB) so coming back costs a
read. A stroke segment covers pixels as the round brush does
(`segment_footprint`); every superpixel it touches is painted whole, under
the same protect-labels rule. `Segments` keeps each superpixel's bounding
box so a dab costs O(the superpixels touched), not O(picture).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from seggui.core.atomic import atomic_write_bytes
from seggui.core.editing.brush import allowed, segment_footprint
from seggui.core.editing.change import Change, selection_change

SUPERPIXEL_DIR = "superpixels"
SIZES = (12, 24, 48, 96)  # the segment sizes offered (pixels across)
MAX_SEGMENTS = 65535  # one 16-bit PNG
TILE_ABOVE = 4_000_000  # pictures with more pixels are cut tile by tile
TILE_SIDE = 1024
TILE_MARGIN = 0.9  # ask each tile for this share of its segments, so the sum stays under MAX_SEGMENTS


@dataclass(frozen=True, eq=False)
class Segments:
    """A superpixel map (int32 ids 0..n-1) and each id's box: rows y0, y1, columns x0, x1 (end excluded)."""

    ids: np.ndarray
    boxes: np.ndarray

    @classmethod
    def of(cls, ids: np.ndarray) -> Segments:
        ids = np.ascontiguousarray(ids, np.int32)
        n = int(ids.max()) + 1 if ids.size else 0
        h, w = ids.shape
        ys = np.repeat(np.arange(h), w)
        xs = np.tile(np.arange(w), h)
        flat = ids.ravel()
        boxes = np.empty((n, 4), np.int64)
        boxes[:, 0], boxes[:, 2] = h, w
        boxes[:, 1], boxes[:, 3] = 0, 0
        np.minimum.at(boxes[:, 0], flat, ys)
        np.maximum.at(boxes[:, 1], flat, ys + 1)
        np.minimum.at(boxes[:, 2], flat, xs)
        np.maximum.at(boxes[:, 3], flat, xs + 1)
        return cls(ids, boxes)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.ids.shape[0]), int(self.ids.shape[1])


def compute_superpixels(image: np.ndarray, size: int, tile_above: int = TILE_ABOVE,
                        tile: int = TILE_SIDE) -> Segments:
    """SLIC superpixels of about size x size pixels (needs scikit-image: the `assist` extra).

    A picture of more than `tile_above` pixels is cut tile by tile (`tile`
    pixels square; ids made unique across tiles), so SLIC's working arrays
    (several float64 copies of the picture) stay the size of a tile: see the
    README for the time and memory against the whole-picture path.
    """
    try:
        from skimage.segmentation import slic
    except ImportError as exc:  # pragma: no cover - the extra is in the test set
        raise RuntimeError("the superpixel brush needs scikit-image: pip install 'seggui[assist]'") from exc
    h, w = image.shape[:2]
    n = int(min(MAX_SEGMENTS - 1, max(1, h * w // max(1, size) ** 2)))
    rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    rgb = rgb[..., :3]
    if h * w <= tile_above:
        return Segments.of(slic(rgb, n_segments=n, compactness=10.0, start_label=0, channel_axis=-1))
    ids = np.empty((h, w), np.int32)
    share = TILE_MARGIN * n / (h * w)  # segments per pixel; SLIC may return a few more than asked
    first = 0
    for y in range(0, h, tile):
        for x in range(0, w, tile):
            part = rgb[y:y + tile, x:x + tile]
            k = max(1, round(part.shape[0] * part.shape[1] * share))
            labels = slic(part, n_segments=k, compactness=10.0, start_label=0, channel_axis=-1)
            _u, dense = np.unique(labels, return_inverse=True)  # 0..m-1 without gaps
            ids[y:y + part.shape[0], x:x + part.shape[1]] = dense.reshape(labels.shape) + first
            first += int(dense.max()) + 1
    return Segments.of(ids)


def cache_path(root: Path, frame_id: str, size: int) -> Path:
    """Where a frame's superpixels of one size are cached in a workspace."""
    safe = frame_id.replace("/", "__").replace("\\", "__")
    return Path(root) / SUPERPIXEL_DIR / f"{safe}_{int(size)}.png"


def load_superpixels(path: Path, shape: tuple[int, int]) -> Segments | None:
    """The cached superpixels, or None when missing, damaged or of another picture size."""
    ids = cv2.imread(str(path), cv2.IMREAD_UNCHANGED) if path.exists() else None
    if ids is None or ids.ndim != 2 or ids.shape != shape:
        return None
    return Segments.of(ids)


def save_superpixels(path: Path, segs: Segments) -> None:
    """Cache the superpixels (16-bit PNG, written atomically); OSError when the folder cannot be written."""
    if segs.ids.size and int(segs.ids.max()) >= MAX_SEGMENTS:
        raise OSError(f"{int(segs.ids.max()) + 1} superpixels do not fit a 16-bit file ({path})")
    ok, data = cv2.imencode(".png", segs.ids.astype(np.uint16))
    if not ok:
        raise OSError(f"could not encode the superpixels for {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data.tobytes())


def superpixel_change(labels: np.ndarray, segs: Segments, a: tuple[float, float], b: tuple[float, float],
                      size: int, value: int, only_over: Collection[int] | None = None) -> Change | None:
    """The change a superpixel-brush segment from a to b makes: every superpixel it touches, whole."""
    if segs.shape != labels.shape[:2]:
        raise ValueError(f"the superpixels are {segs.shape[1]}x{segs.shape[0]}, "
                         f"the mask {labels.shape[1]}x{labels.shape[0]}")
    found = segment_footprint(a, b, size, labels.shape[:2])
    if found is None:
        return None
    top, left, foot = found
    touched = np.unique(segs.ids[top:top + foot.shape[0], left:left + foot.shape[1]][foot])
    if touched.size == 0:
        return None
    box = segs.boxes[touched]
    y0, y1, x0, x1 = int(box[:, 0].min()), int(box[:, 1].max()), int(box[:, 2].min()), int(box[:, 3].max())
    sel = np.isin(segs.ids[y0:y1, x0:x1], touched)
    ok = allowed(labels[y0:y1, x0:x1], only_over)
    return selection_change(labels, y0, x0, sel if ok is None else sel & ok, value)
