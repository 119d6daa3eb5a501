"""Editing tools on small arrays, with the exact pixels each must change."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from seggui.core.classes import load_classes
from seggui.core.editing import (
    Editor,
    brush_change,
    dab_centre,
    disk,
    flood_change,
    polygon_change,
    segment_footprint,
    starting_labels,
    unlabelled_value,
)

U = 11  # CamVid "Unlabelled", the ignore index


@pytest.fixture
def table():
    return load_classes("camvid-11")


def blank(h: int = 10, w: int = 12) -> np.ndarray:
    return np.full((h, w), U, np.uint8)


def painted(editor: Editor, value: int) -> np.ndarray:
    return (editor.labels == value).astype(np.uint8)


def test_dab_sizes_and_snapping(table) -> None:
    e = Editor(blank(), table)
    e.dab(3.7, 2.2, 1, 1)
    assert np.argwhere(e.labels == 1).tolist() == [[2, 3]]  # the pixel under the pointer

    e = Editor(blank(), table)
    e.dab(3.7, 2.2, 2, 1)  # even size: centred on the nearest pixel corner (4, 2)
    assert sorted(map(tuple, np.argwhere(e.labels == 1).tolist())) == [(1, 3), (1, 4), (2, 3), (2, 4)]

    e = Editor(blank(), table)
    e.dab(5.9, 5.1, 5, 1)  # odd size: centred on pixel (5, 5)
    expected = np.zeros((10, 12), np.uint8)
    expected[3:8, 3:8] = [[0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0]]
    assert np.array_equal(painted(e, 1), expected)
    assert np.array_equal(disk(5), expected[3:8, 3:8].astype(bool))


def test_dab_at_the_edge_is_clipped(table) -> None:
    e = Editor(blank(), table)
    e.dab(0.2, 0.9, 5, 4)
    expected = np.zeros((10, 12), np.uint8)
    expected[0:3, 0:3] = [[1, 1, 1], [1, 1, 1], [1, 1, 0]]
    assert np.array_equal(painted(e, 4), expected)
    assert e.dab(-10, -10, 5, 4) is None  # wholly outside: nothing


def test_horizontal_stroke_and_eraser(table) -> None:
    e = Editor(blank(), table)
    e.begin_stroke(3, 2)
    e.stroke_to(2.5, 4.5)
    e.stroke_to(8.5, 4.5)
    change = e.end_stroke()
    expected = np.zeros((10, 12), np.uint8)
    expected[3:6, 1:10] = 1  # a capsule of radius 1.5: 3 rows, one column beyond each end
    assert np.array_equal(painted(e, 2), expected)
    assert change is not None and change.rect == (1, 3, 9, 3) and change.count == 27

    e.begin_stroke(1, U)  # the eraser paints "unlabelled"
    e.stroke_to(4.5, 3.5)
    e.stroke_to(4.5, 5.5)
    e.end_stroke()
    expected[3:6, 4] = 0
    assert np.array_equal(painted(e, 2), expected)
    assert (e.labels[3:6, 4] == U).all()


def brute_force_capsule(shape, a, b, r) -> np.ndarray:
    """Pixels whose centre lies within r of segment ab, one pixel at a time (independent of the code)."""
    out = np.zeros(shape, bool)
    (ax, ay), (bx, by) = a, b
    for y in range(shape[0]):
        for x in range(shape[1]):
            px, py = x + 0.5, y + 0.5
            ux, uy = bx - ax, by - ay
            t = max(0.0, min(1.0, ((px - ax) * ux + (py - ay) * uy) / (ux * ux + uy * uy)))
            out[y, x] = math.hypot(px - (ax + t * ux), py - (ay + t * uy)) <= r + 1e-9
    return out


@pytest.mark.parametrize("size", [1, 4, 9])
def test_fast_diagonal_move_leaves_no_gap(table, size: int) -> None:
    shape = (64, 100)
    e = Editor(np.full(shape, U, np.uint8), table)
    e.begin_stroke(size, 3)
    e.stroke_to(2.3, 3.6)
    e.stroke_to(97.8, 60.1)  # one mouse event across the whole picture
    e.end_stroke()
    a, b = dab_centre(2.3, 3.6, size), dab_centre(97.8, 60.1, size)
    assert np.array_equal(e.labels == 3, brute_force_capsule(shape, a, b, size / 2))
    # dabs only where the mouse events were would leave the middle empty
    assert e.labels[32, 50] == 3 or e.labels[31, 50] == 3
    lab_count, _ = cv2.connectedComponents((e.labels == 3).view(np.uint8), connectivity=8)
    assert lab_count == 2  # background + one connected stroke
    if size == 1:
        cols = (e.labels == 3).any(axis=0)
        assert cols[2:98].all()  # a 1-pixel stroke still touches every column it crosses


def test_segment_footprint_of_one_point_is_the_disk() -> None:
    for size in (1, 2, 3, 6, 7):
        c = dab_centre(20.3, 20.8, size)
        top, left, foot = segment_footprint(c, c, size, (50, 50))
        near = segment_footprint(c, (c[0] + 1e-7, c[1]), size, (50, 50))
        assert foot.shape == (size, size) and np.array_equal(foot, disk(size))
        assert near is not None and np.array_equal(near[2][:, :size], foot)


def test_protect_other_labels(table) -> None:
    base = blank()
    base[:, 6:] = 1  # a building on the right half
    e = Editor(base.copy(), table)
    e.begin_stroke(5, 3, only_over={U})  # paint only over unlabelled
    e.stroke_to(2.5, 4.5)
    e.stroke_to(9.5, 4.5)
    e.end_stroke()
    assert (e.labels[:, 6:] == 1).all()  # the building held
    assert (e.labels[2:7, 1:6] == 3).all()
    e.begin_stroke(3, 8, only_over={1})  # paint only over the building
    e.stroke_to(0.5, 1.5)
    e.stroke_to(11.5, 1.5)
    e.end_stroke()
    assert (e.labels[0:3, 6:] == 8).all() and (e.labels[0:3, :6] != 8).all()
    assert flood_change(e.labels, 0.5, 9.5, 5, only_over={1}) is None  # seed unlabelled: protected


def test_flood_fill_contiguous_global_and_connectivity(table) -> None:
    base = blank(8, 8)
    base[1:6, 1] = base[1:6, 5] = base[1, 1:6] = base[5, 1:6] = 4  # a closed ring
    base[7, 7] = 0  # a sky pixel outside the ring: a fill of unlabelled leaves it alone
    e = Editor(base.copy(), table)
    e.fill(3.5, 3.5, 2)  # inside the ring
    expected = base.copy()
    expected[2:5, 2:5] = 2
    assert np.array_equal(e.labels, expected)
    e.fill(0.5, 0.5, 6)  # outside the ring: everything unlabelled outside, not the inside
    outside = base == U
    outside[2:5, 2:5] = False
    assert (e.labels[outside] == 6).all() and (e.labels[2:5, 2:5] == 2).all() and e.labels[7, 7] == 0

    diag = blank(4, 4)
    diag[[0, 1, 2, 3], [3, 2, 1, 0]] = 1  # an anti-diagonal line of building pixels
    e = Editor(diag.copy(), table)
    e.fill(0.5, 0.5, 2)  # 4-connected: does not cross the diagonal
    assert (e.labels[0, :3] == 2).all() and e.labels[3, 3] == U
    e = Editor(diag.copy(), table)
    e.fill(0.5, 0.5, 2, connectivity=8)  # 8-connected leaks through the diagonal gaps
    assert e.labels[3, 3] == 2

    two = blank(5, 9)
    two[:, 4] = 1  # a wall splits the unlabelled area in two
    e = Editor(two.copy(), table)
    e.fill(0.5, 0.5, 3, contiguous=False)  # global: both sides
    assert (e.labels[:, [0, 1, 2, 3, 5, 6, 7, 8]] == 3).all() and (e.labels[:, 4] == 1).all()
    assert e.fill(0.5, 0.5, 3) is None  # already that label: no change


def test_fill_on_uint16_labels() -> None:
    from seggui.core.classes import ClassInfo, ClassTable

    big = ClassTable("big", tuple(ClassInfo(i, f"c{i}", (i % 256, i // 256, 7)) for i in range(300)))
    labels = np.zeros((6, 6), np.uint16)
    labels[:, 3] = 299
    e = Editor(labels, big)
    e.fill(0.5, 0.5, 280)
    assert e.labels.dtype == np.uint16
    assert (e.labels[:, :3] == 280).all() and (e.labels[:, 3] == 299).all() and (e.labels[:, 4:] == 0).all()


def test_polygon_fill(table) -> None:
    e = Editor(blank(), table)
    change = e.polygon([(1.2, 1.9), (7.5, 1.1), (1.9, 7.4)], 5)  # snaps to pixels (1,1), (7,1), (1,7)
    ys, xs = np.mgrid[0:10, 0:12]
    expected = (xs >= 1) & (ys >= 1) & (xs + ys <= 8)  # outline included
    assert np.array_equal(e.labels == 5, expected)
    assert change is not None and change.rect == (1, 1, 7, 7)

    e = Editor(blank(), table)
    e.polygon([(2.5, 1.5), (6.5, 1.5), (6.5, 4.5), (2.5, 4.5)], 5)
    expected = np.zeros((10, 12), bool)
    expected[1:5, 2:7] = True
    assert np.array_equal(e.labels == 5, expected)
    e.polygon([(-5, -5), (3, -5), (3, 3), (-5, 3)], 6)  # partly off the picture: clipped
    assert (e.labels[0:4, 0:4] == 6).all() and (e.labels == 6).sum() == 16
    assert polygon_change(e.labels, [(1, 1), (5, 5)], 2) is None  # two vertices: no area
    assert polygon_change(e.labels, [(1, 1), (1.5, 1.5), (5, 5)], 2) is None  # two distinct pixels


def test_picker_and_starting_labels(table) -> None:
    base = blank()
    base[2, 3] = 8
    e = Editor(base, table)
    assert e.pick(3.9, 2.1) == 8 and e.pick(0, 0) == U and e.pick(12, 0) is None and e.pick(-0.5, 1) is None
    pred = np.zeros((10, 12), np.uint8)
    corr = np.ones((10, 12), np.uint8)
    assert (starting_labels((10, 12), table, corr, pred) == 1).all()
    got = starting_labels((10, 12), table, None, pred)
    assert (got == 0).all() and got is not pred
    assert (starting_labels((10, 12), table, None, pred, from_prediction=False) == U).all()
    with pytest.raises(ValueError, match="mask is 12x10, picture 13x10"):
        starting_labels((10, 13), table, None, pred)
    assert unlabelled_value(load_classes("parking-2")) == 0  # "background"
    assert unlabelled_value(load_classes("bdd100k-drivable-3")) == 2
    assert unlabelled_value(load_classes("cityscapes-19")) == 255


def test_replace_accepts_a_prediction_and_respects_protection(table) -> None:
    e = Editor(blank(), table)
    e.dab(2.5, 2.5, 3, 1)
    pred = np.full((10, 12), 3, np.uint8)
    change = e.replace(pred, only_over={U})  # keep what was painted, take the prediction elsewhere
    assert change is not None and change.count == 120 - 9
    assert (e.labels[1:4, 1:4] == 1).all() and (e.labels == 3).sum() == 111
    assert e.replace(pred, only_over={U}) is None
    with pytest.raises(ValueError, match="the new mask is 3x3"):
        e.replace(np.zeros((3, 3), np.uint8))


def test_cancel_stroke_restores_pixels(table) -> None:
    e = Editor(blank(), table)
    before = e.labels.copy()
    e.begin_stroke(3, 2)
    e.stroke_to(1.5, 1.5)
    e.stroke_to(8.5, 6.5)
    assert (e.labels == 2).any()
    e.cancel_stroke()
    assert np.array_equal(e.labels, before) and not e.history.can_undo


def test_brush_change_leaves_labels_alone(table) -> None:
    labels = blank()
    change = brush_change(labels, (4.5, 4.5), (4.5, 4.5), 3, 2)
    assert (labels == U).all() and change is not None and change.count == 9
    assert brush_change(labels, (4.5, 4.5), (4.5, 4.5), 3, U) is None  # nothing would change
    with pytest.raises(ValueError, match="brush size"):
        brush_change(labels, (4.5, 4.5), (4.5, 4.5), 0, 2)
