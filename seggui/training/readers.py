"""Decode one training pair into arrays: an RGB picture and an index mask.

Kept free of torch so class-weight counting (which reads masks only) and the
data-loader workers share exactly one decoding path: a mask that trains is a
mask that was counted.

Pixels that must not be scored or trained on carry `ignore` — the class
table's ignore index, or `train_ignore_index(table)` when the table has none
(KITTI's area outside the valid region).
"""

from __future__ import annotations

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.images import read_image
from seggui.core.masks import check_mask_size, read_mask
from seggui.training.layouts import MASK_KITTI, MASK_LABELS, Sample


def train_ignore_index(table: ClassTable) -> int:
    """The label that losses and metrics skip during training.

    The table's own ignore index when it has one; otherwise a value past every
    class id (255, or 65535 for tables of more than 255 ids) so that layouts
    with "don't care" pixels still have somewhere to put them.
    """
    if table.ignore_index is not None:
        return table.ignore_index
    return 255 if table.size <= 255 else 65535


def _kitti_mask(sample: Sample, table: ClassTable, ignore: int) -> np.ndarray:
    """KITTI road colours -> ids: blue channel set = road, red channel unset = invalid.

    The same rule as the KITTI devkit (magenta road, red not road, black
    outside the evaluated area), tolerant of the few off-palette edge pixels
    some masks carry, which an exact palette lookup would refuse.
    """
    rgb = read_image(sample.mask)
    road = table.find("road").id
    not_road = table.find("not road").id
    out = np.where(rgb[..., 2] > 0, road, not_road).astype(np.uint8 if ignore <= 255 else np.uint16)
    out[rgb[..., 0] == 0] = ignore
    return out


def read_sample_mask(sample: Sample, table: ClassTable, ignore: int | None = None) -> np.ndarray:
    """The sample's mask as class ids (uint8, or uint16 past 255), decoded per its kind."""
    ignore = train_ignore_index(table) if ignore is None else ignore
    if sample.mask_kind == MASK_KITTI:
        return _kitti_mask(sample, table, ignore)
    return read_mask(sample.mask, table, source_labels=sample.mask_kind == MASK_LABELS)


def read_sample(
    sample: Sample, table: ClassTable, ignore: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 picture, index mask) of one pair; sizes must agree."""
    image = read_image(sample.image)
    mask = read_sample_mask(sample, table, ignore)
    check_mask_size(mask, image.shape[:2], sample.mask, sample.image.name)
    return image, mask
