"""Index masks: single-channel PNGs whose pixel value is the class id.

uint8 while the class table fits, uint16 past 255 classes. Colour masks
convert to and from index masks through a class table's palette; a colour the
palette lacks is an error naming the file, the colour and its pixel count.
Overlays (alpha blends of the palette over the picture) serve previews and
reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import cast

import cv2
import numpy as np

from seggui.core.atomic import atomic_write_bytes
from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.images import decode, encode_png, read_encoded


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return cast(np.ndarray, (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2])


def color_to_index(rgb: np.ndarray, table: ClassTable, path: str | Path | None = None) -> np.ndarray:
    """Map an RGB colour mask to class ids through the table's palette."""
    codes = _pack(rgb[..., :3])
    table_codes = np.array([_pack(np.array(c.color)) for c in table.classes], np.uint32)
    order = np.argsort(table_codes)
    sorted_codes = table_codes[order]
    pos = np.searchsorted(sorted_codes, codes).clip(0, len(sorted_codes) - 1)
    found = sorted_codes[pos] == codes
    if not found.all():
        bad, counts = np.unique(codes[~found], return_counts=True)
        worst = np.argsort(-counts)[:3]
        parts = [
            f"RGB ({int(bad[i]) >> 16}, {(int(bad[i]) >> 8) & 255}, {int(bad[i]) & 255}) "
            f"on {int(counts[i])} pixels"
            for i in worst
        ]
        more = f" and {len(bad) - len(worst)} more colours" if len(bad) > len(worst) else ""
        raise BadInputError(
            path, f"colour not in the {table.name} palette: {'; '.join(parts)}{more}"
        )
    ids = np.array([c.id for c in table.classes])[order]
    return cast(np.ndarray, ids[pos].astype(table.mask_dtype))


def index_to_color(mask: np.ndarray, table: ClassTable) -> np.ndarray:
    """Render an index mask in the table's colours as RGB uint8."""
    lut = table.palette
    return lut[np.minimum(mask, len(lut) - 1)] if mask.size else np.zeros((*mask.shape, 3), np.uint8)


def check_ids(mask: np.ndarray, table: ClassTable, path: str | Path | None = None) -> None:
    """Raise if the mask holds ids the table does not know (ignore is allowed)."""
    known = np.zeros(max(int(mask.max(initial=0)), table.size - 1) + 1, bool)
    known[table.ids] = True
    if table.ignore_index is not None and table.ignore_index < len(known):
        known[table.ignore_index] = True
    counts = np.bincount(mask.ravel(), minlength=len(known))
    unknown = np.flatnonzero((counts > 0) & ~known)
    if unknown.size:
        shown = ", ".join(f"{int(i)} ({int(counts[i])} px)" for i in unknown[:5])
        raise BadInputError(path, f"class ids not in the {table.name} table: {shown}")


def read_mask(
    path: str | Path, table: ClassTable | None = None, source_labels: bool = False
) -> np.ndarray:
    """Read an index mask (or a colour mask, when a table gives the palette).

    A single-channel PNG is taken as ids (through the table's label map, if
    it has one). A 3-channel file whose channels are equal is a grey index
    mask saved as RGB; otherwise it is a colour mask. With a table, unknown
    ids are an error.
    """
    path = Path(path)
    return decode_mask(path, read_encoded(path), table, source_labels)


def decode_mask(path: str | Path, data: bytes, table: ClassTable | None = None,
                source_labels: bool = False) -> np.ndarray:
    """`read_mask` for bytes already in memory (an upload); `path` only names them in errors."""
    path = Path(path)
    arr = decode(path, data, cv2.IMREAD_UNCHANGED)
    if arr.ndim == 3:
        if arr.shape[2] == 4:
            arr = arr[..., :3]
        if (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all():
            arr = arr[..., 0]
        else:
            if table is None:
                raise BadInputError(path, "colour mask needs a class table to map colours to ids")
            return color_to_index(cv2.cvtColor(arr, cv2.COLOR_BGR2RGB), table, path)
    if arr.dtype not in (np.uint8, np.uint16):
        raise BadInputError(path, f"mask pixel type {arr.dtype} is not uint8 or uint16")
    if table is not None:
        lut = table.label_lut if source_labels else None
        if lut is not None:
            arr = lut[np.minimum(arr, len(lut) - 1)]
        check_ids(arr, table, path)
        arr = arr.astype(table.mask_dtype, copy=False)
    return np.ascontiguousarray(arr)


def write_mask(path: str | Path, mask: np.ndarray) -> Path:
    """Write an index mask PNG atomically (uint8, or uint16 past 255)."""
    path = Path(path)
    if mask.ndim != 2:
        raise BadInputError(path, f"an index mask must be 2-D, got shape {mask.shape}")
    if mask.dtype not in (np.uint8, np.uint16):
        top = int(mask.max(initial=0))
        if mask.size and (mask.min() < 0 or top > 65535):
            raise BadInputError(path, "mask values must lie in 0..65535")
        mask = mask.astype(np.uint8 if top <= 255 else np.uint16)
    return atomic_write_bytes(path, encode_png(mask, path))


def write_color_mask(path: str | Path, mask: np.ndarray, table: ClassTable) -> Path:
    """Write a colour rendering of an index mask atomically."""
    return atomic_write_bytes(path, encode_png(index_to_color(mask, table), path))


def check_mask_size(mask: np.ndarray, size: tuple[int, ...], path: str | Path | None = None,
                    picture: str | None = None) -> None:
    """Refuse a mask whose size is not its picture's (`size`: the picture's (h, w), `image.shape[:2]`).

    The one check of mask against picture, so every reader (the window, training,
    reports) says it the same way: BadInputError naming the mask file and both sizes.
    """
    h, w = int(size[0]), int(size[1])
    if tuple(mask.shape) != (h, w):
        name = f"picture {picture}" if picture else "the picture"
        got = f"{mask.shape[1]}x{mask.shape[0]}" if mask.ndim >= 2 else f"of shape {mask.shape}"
        raise BadInputError(path, f"mask is {got} but {name} is {w}x{h}")


def overlay(
    image: np.ndarray,
    mask: np.ndarray,
    table: ClassTable,
    alpha: float = 0.5,
    hidden: Iterable[int] = (),
) -> np.ndarray:
    """Alpha-blend the class colours over an RGB picture.

    Pixels of the ignore index and of `hidden` classes show the picture alone.
    """
    check_mask_size(mask, image.shape[:2])
    colors = index_to_color(mask, table)
    blend = np.ones(max(table.size, int(mask.max(initial=0)) + 1), bool)
    for cid in hidden:
        if 0 <= cid < len(blend):
            blend[cid] = False
    if table.ignore_index is not None and table.ignore_index < len(blend):
        blend[table.ignore_index] = False
    where = blend[mask]
    mixed = cv2.addWeighted(image, 1.0 - alpha, colors, alpha, 0.0)
    out = image.copy()
    out[where] = mixed[where]
    return out
