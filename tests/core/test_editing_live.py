"""Live figures follow every edit exactly: the same as a full recount on real CamVid masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seggui.core.area import count_classes
from seggui.core.classes import load_classes
from seggui.core.confusion import ConfusionMatrix
from seggui.core.editing import Editor, LabelMap
from seggui.core.masks import read_mask
from seggui.core.metrics import compute_metrics


def test_live_matrix_and_areas_equal_a_full_recount(camvid: Path) -> None:
    table = load_classes(camvid / "classes.json")
    names = sorted(p.name for p in (camvid / "valannot").glob("*.png"))[:2]
    gt = read_mask(camvid / "valannot" / names[0], table)
    start = read_mask(camvid / "valannot" / names[1], table)  # a neighbouring frame as the "prediction"
    e = Editor(start.copy(), table, gt)
    rng = np.random.default_rng(11)
    h, w = gt.shape
    for i in range(120):
        op = i % 6
        v = int(rng.integers(0, 12))
        if op < 3:
            e.begin_stroke(int(rng.integers(1, 30)), v, None if op else {11})
            for _ in range(4):
                e.stroke_to(rng.uniform(0, w), rng.uniform(0, h))
            if op == 2 and i % 4 == 0:
                e.cancel_stroke()
            else:
                e.end_stroke()
        elif op == 3:
            e.fill(rng.uniform(0, w), rng.uniform(0, h), v, contiguous=bool(i % 2))
        elif op == 4:
            e.undo()
        else:
            e.redo() if i % 4 else e.polygon([(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(5)], v)
    full = ConfusionMatrix.for_table(table).update(e.labels, gt)
    assert e.matrix == full
    assert np.array_equal(e.live.counter.counts[:table.size], count_classes(e.labels, table.size))
    live_iou = compute_metrics(e.matrix, table).iou
    assert np.array_equal(np.nan_to_num(live_iou, nan=-1), np.nan_to_num(compute_metrics(full, table).iou,
                                                                          nan=-1))
    assert not np.array_equal(e.labels, start)


def test_new_ground_truth_recounts_and_no_ground_truth_means_no_matrix() -> None:
    table = load_classes("camvid-11")
    labels = np.zeros((8, 8), np.uint8)
    e = Editor(labels, table)
    assert e.matrix is None
    e.dab(2.5, 2.5, 3, 4)
    assert e.live.counter.pixels(4) == 9
    gt = np.full((8, 8), 4, np.uint8)
    e.set_ground_truth(gt)
    assert e.matrix is not None and int(e.matrix.matrix[4, 4]) == 9
    e.undo()
    assert int(e.matrix.matrix[4, 4]) == 0 and int(e.matrix.matrix[4, 0]) == 64


def test_label_map_dirty_rectangle() -> None:
    table = load_classes("camvid-11")
    e = Editor(np.zeros((50, 60), np.uint8), table)
    assert e.map.take_dirty() is None
    e.dab(10.5, 10.5, 5, 3)
    e.dab(30.5, 20.5, 3, 3)
    assert e.map.take_dirty() == (8, 8, 24, 14)  # x, y, width, height of both dabs
    assert e.map.take_dirty() is None
    assert e.version == 2
    assert isinstance(e.map, LabelMap) and e.map.shape == (50, 60)
