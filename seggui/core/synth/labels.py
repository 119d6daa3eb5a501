"""The labelling rule of the synthetic scenes, and the parking-2 view of their masks.

The 6-class mask (the `aerial-parking-6` table) labels what is seen from above:
a car standing on a parking lot is `vehicle`, the lot's visible asphalt and its
painted stall lines are `parking`. The parking-area question, though, asks for
the lot's area, and a full lot is no smaller than an empty one. So the parking-2
view (`parking-2`: 0 background, 1 parking) counts as parking:

- every `parking` pixel (lot surface, stall markings, the lot's entrance), and
- every `vehicle` region that touches parking and does not touch road
  (the cars parked on a lot).

Cars on roads, on house driveways or on the sidewalk stay background in the
parking-2 view. Tree crowns hanging over a lot hide it and count as vegetation
(the generator keeps trees off lots, so this is rare). The generator places
road cars away from lots and lot cars inside their lot, so the rule recovers the
lot footprint exactly from the 6-class mask alone; `to_parking_2` needs no other
input and so works on any stored mask.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np

BACKGROUND, PARKING, ROAD, BUILDING, VEGETATION, VEHICLE = range(6)
TABLE_NAME = "aerial-parking-6"
PARKING_2_NAME = "parking-2"


def parked_vehicles(mask: np.ndarray) -> np.ndarray:
    """Boolean map of the vehicle pixels that belong to a parking lot.

    A vehicle region (8-connected) belongs to a lot when some pixel next to it
    is parking and none is road. Neighbours are checked shift by shift, so a
    pixel between two cars counts for both.
    """
    vehicle = (mask == VEHICLE).astype(np.uint8)
    n, labels = cv2.connectedComponents(vehicle, connectivity=8)
    if n <= 1:
        return np.zeros(mask.shape, bool)
    h, w = mask.shape
    touches_parking = np.zeros(n, bool)
    touches_road = np.zeros(n, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            here = mask[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
            there = labels[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
            touches_parking[there[here == PARKING]] = True
            touches_road[there[here == ROAD]] = True
    keep = touches_parking & ~touches_road
    keep[0] = False
    return cast(np.ndarray, keep[labels])


def to_parking_2(mask: np.ndarray) -> np.ndarray:
    """Collapse an aerial-parking-6 mask to parking-2 (1 = lot incl. parked cars)."""
    if mask.ndim != 2:
        raise ValueError(f"an index mask must be 2-D, got shape {mask.shape}")
    return cast(np.ndarray, ((mask == PARKING) | parked_vehicles(mask)).astype(np.uint8))


def parking_area_m2(mask: np.ndarray, gsd_m: float) -> float:
    """Parking area of an aerial-parking-6 mask in m²: parking-2 pixels × gsd².

    Computed as `pixels * (gsd * gsd)`, the same float operations as
    `seggui.core.gsd.Gsd.m2_per_px` times a pixel count, so reports built on the
    project's area code reproduce this figure to the last bit.
    """
    return float(int(to_parking_2(mask).sum()) * (gsd_m * gsd_m))
