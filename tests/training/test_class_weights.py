"""Class weights against hand-computed frequencies on two tiny masks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.images import write_image
from seggui.core.masks import write_mask
from seggui.training.class_weights import class_weights, count_classes, weights_from_counts
from seggui.training.layouts import find_samples

# 4 classes and ignore 255 outside them (as Cityscapes). Class 3 never occurs.
TABLE = ClassTable.from_dict({"name": "t4", "ignore_index": 255, "classes": [
    {"id": i, "name": f"c{i}", "color": [i * 40, 0, 0]} for i in range(4)]})


@pytest.fixture
def two_masks(tmp_path: Path) -> list:
    write_mask(tmp_path / "masks" / "m1.png", np.array([[0, 0, 0, 1]], np.uint8))
    write_mask(tmp_path / "masks" / "m2.png", np.array([[0, 2, 2, 255]], np.uint8))
    for name in ("m1", "m2"):
        write_image(tmp_path / "images" / f"{name}.png", np.zeros((1, 4, 3), np.uint8))
    return find_samples("folder", tmp_path).samples


def test_counts_leave_the_ignore_label_out(two_masks: list) -> None:
    counts, image_px, problems = count_classes(two_masks, TABLE)
    assert counts.tolist() == [4, 1, 2, 0]
    # class 0 appears in both masks (4 + 3 scored pixels); 1 only in m1 (4), 2 only in m2 (3)
    assert image_px.tolist() == [7, 4, 3, 0]
    assert problems == []


def test_median_frequency_by_hand(two_masks: list) -> None:
    w, _ = class_weights(two_masks, TABLE, "median")
    # f = [4/7, 1/4, 2/3], median 4/7, w = median / f; absent class 3 -> 0
    np.testing.assert_allclose(w, [1.0, 16 / 7, 6 / 7, 0.0], rtol=1e-6)


def test_inverse_frequency_by_hand(two_masks: list) -> None:
    w, _ = class_weights(two_masks, TABLE, "inverse")
    # f = [4/7, 1/7, 2/7]; 1/f = [7/4, 7, 7/2]; sum_c f_c / f_c = 3 -> divide by 3
    np.testing.assert_allclose(w, [7 / 12, 7 / 3, 7 / 6, 0.0], rtol=1e-6)


def test_enet_and_clip_and_none(two_masks: list) -> None:
    w, _ = class_weights(two_masks, TABLE, "enet")
    expected = [1 / math.log(1.02 + f) for f in (4 / 7, 1 / 7, 2 / 7)] + [0.0]
    np.testing.assert_allclose(w, expected, rtol=1e-6)
    clipped = weights_from_counts(np.array([4, 1, 2, 0]), np.array([7, 4, 3, 0]), "median", clip=2.0)
    assert clipped.max() == pytest.approx(2.0)
    assert weights_from_counts(np.array([4, 1, 2, 0]), None, "none").tolist() == [1, 1, 1, 1]
    with pytest.raises(BadInputError, match="unknown class-weight method"):
        weights_from_counts(np.array([1]), None, "sqrt")


def test_unreadable_mask_is_reported_not_fatal(two_masks: list) -> None:
    two_masks[1].mask.write_bytes(b"not a png")
    counts, _, problems = count_classes(two_masks, TABLE)
    assert counts.tolist() == [3, 1, 0, 0]
    assert len(problems) == 1 and "m2.png" in problems[0]
