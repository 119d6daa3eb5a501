"""Which presets a folder of ground-truth masks fits, judged by its ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seggui.core.masks import write_mask
from seggui.core.truth_tables import fitting_presets, mask_ids


def test_ids_rule_out_presets_that_cannot_hold_them(tmp_path: Path) -> None:
    mask = np.zeros((8, 8), np.uint8)
    mask[:4] = 11  # camvid-11's ignore id, and beyond the aerial tables' last class
    write_mask(tmp_path / "a.png", mask)
    assert mask_ids(tmp_path) == {0, 11}
    fits = fitting_presets({0, 11})
    assert "camvid-11" in fits and "aerial-parking-6" not in fits and "parking-2" not in fits
    assert fitting_presets({0, 1}) == fitting_presets(None)  # every preset holds 0 and 1


def test_colour_masks_say_nothing_of_ids(tmp_path: Path) -> None:
    import cv2

    colour = np.zeros((8, 8, 3), np.uint8)
    colour[..., 0] = 200
    cv2.imwrite(str(tmp_path / "c.png"), colour)
    assert mask_ids(tmp_path) is None
    assert fitting_presets(None) == fitting_presets(set()) != []
