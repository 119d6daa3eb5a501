"""Index and colour masks, overlays, and the errors for bad mask files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.core.classes import load_classes
from seggui.core.errors import BadInputError
from seggui.core.images import read_image, write_image
from seggui.core.masks import (
    color_to_index,
    index_to_color,
    overlay,
    read_mask,
    write_color_mask,
    write_mask,
)


def test_camvid_mask_round_trips_through_index_and_colour(camvid: Path, tmp_path: Path) -> None:
    table = load_classes("camvid-11")
    src = sorted((camvid / "valannot").glob("*.png"))[0]
    mask = read_mask(src, table)
    assert mask.shape == (360, 480) and mask.dtype == np.uint8
    assert mask.max() <= 11
    write_mask(tmp_path / "idx.png", mask)
    assert np.array_equal(read_mask(tmp_path / "idx.png", table), mask)
    write_color_mask(tmp_path / "col.png", mask, table)
    assert np.array_equal(read_mask(tmp_path / "col.png", table), mask)
    assert np.array_equal(color_to_index(index_to_color(mask, table), table), mask)


def test_uint16_masks_past_255(tmp_path: Path) -> None:
    mask = np.arange(600, dtype=np.uint16).reshape(20, 30)
    write_mask(tmp_path / "m.png", mask)
    back = read_mask(tmp_path / "m.png")
    assert back.dtype == np.uint16 and np.array_equal(back, mask)


def test_unknown_colour_names_file_colour_and_count(tmp_path: Path) -> None:
    table = load_classes("parking-2")
    rgb = np.zeros((10, 10, 3), np.uint8)
    rgb[:3, :4] = (12, 34, 56)
    write_image(tmp_path / "c.png", rgb)
    with pytest.raises(BadInputError) as err:
        read_mask(tmp_path / "c.png", table)
    msg = str(err.value)
    assert "c.png" in msg and "(12, 34, 56)" in msg and "12 pixels" in msg


def test_unknown_class_ids_are_named(tmp_path: Path) -> None:
    mask = np.zeros((8, 8), np.uint8)
    mask[0, :3] = 7
    write_mask(tmp_path / "m.png", mask)
    with pytest.raises(BadInputError) as err:
        read_mask(tmp_path / "m.png", load_classes("parking-2"))
    assert "m.png" in str(err.value) and "7 (3 px)" in str(err.value)


def test_ignore_index_outside_the_table_is_allowed(tmp_path: Path) -> None:
    table = load_classes("cityscapes-19")
    mask = np.full((4, 4), 255, np.uint8)
    mask[0, 0] = 18
    write_mask(tmp_path / "m.png", mask)
    back = read_mask(tmp_path / "m.png", table)  # trainIds as seggui writes them
    assert back[0, 0] == 18 and (back.ravel()[1:] == 255).all()


def test_label_ids_map_to_train_ids_on_request(tmp_path: Path) -> None:
    table = load_classes("cityscapes-19")
    label_ids = np.array([[7, 26, 33, 0, 9]], np.uint8)  # road, car, bicycle, unlabeled, parking
    write_mask(tmp_path / "x_labelIds.png", label_ids)
    back = read_mask(tmp_path / "x_labelIds.png", table, source_labels=True)
    assert back.tolist() == [[0, 13, 18, 255, 255]]


def test_missing_truncated_and_corrupt_files(tmp_path: Path, camvid: Path) -> None:
    with pytest.raises(BadInputError, match="file not found"):
        read_mask(tmp_path / "nope.png")
    src = sorted((camvid / "valannot").glob("*.png"))[0].read_bytes()
    (tmp_path / "trunc.png").write_bytes(src[: len(src) // 2])
    with pytest.raises(BadInputError, match="trunc.png: truncated PNG"):
        read_mask(tmp_path / "trunc.png")
    (tmp_path / "junk.png").write_bytes(b"this is not a picture at all")
    with pytest.raises(BadInputError, match="junk.png: not a readable image"):
        read_image(tmp_path / "junk.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(BadInputError, match="empty"):
        read_image(tmp_path / "empty.png")


def test_overlay_blends_only_visible_scored_classes() -> None:
    table = load_classes("camvid-11")
    img = np.full((4, 4, 3), 100, np.uint8)
    mask = np.array([[8, 8, 11, 3]] * 4, np.uint8)
    out = overlay(img, mask, table, alpha=0.5, hidden=[3])
    car = np.array(table.by_id[8].color)
    assert np.allclose(out[0, 0], (100 + car) / 2, atol=1)
    assert (out[:, 2] == 100).all()  # ignore index: picture only
    assert (out[:, 3] == 100).all()  # hidden class
    with pytest.raises(BadInputError, match="but the picture is"):
        overlay(img, mask[:2], table)


def test_read_image_is_rgb(tmp_path: Path) -> None:
    rgb = np.zeros((5, 6, 3), np.uint8)
    rgb[..., 0] = 255
    cv2.imwrite(str(tmp_path / "red.png"), rgb[..., ::-1])
    assert (read_image(tmp_path / "red.png")[..., 0] == 255).all()


def test_one_size_check_names_the_mask_file_and_both_sizes(tmp_path: Path) -> None:
    """check_mask_size is the one mask-versus-picture check (window, training, overlay)."""
    from seggui.core.masks import check_mask_size

    mask = np.zeros((10, 12), np.uint8)
    check_mask_size(mask, (10, 12, 3))  # an RGB picture's shape works as its size
    with pytest.raises(BadInputError, match=r"mask is 12x10 but picture 0001 is 13x10") as err:
        check_mask_size(mask, (10, 13), tmp_path / "0001.png", "0001")
    assert err.value.path == tmp_path / "0001.png"
    with pytest.raises(BadInputError, match=r"mask is 12x10 but the picture is 12x11"):
        overlay(np.zeros((11, 12, 3), np.uint8), mask, load_classes("aerial-parking-6"))
