"""Assisted correction without Qt: refine from clicks, its preview and undo, propagation by optical flow."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.core.classes import load_classes
from seggui.core.editing import Click, Editor, class_probability, refine, warp_labels

U, ROAD, CAR = 11, 3, 8
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def table():
    return load_classes("camvid-11")


def scene(h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A grey road with a red car (a 40x30 rectangle at x 60..100, y 40..70) and mild noise."""
    rng = np.random.default_rng(0)
    img = np.full((h, w, 3), 110, np.int16)
    img[40:70, 60:100] = (200, 30, 30)
    img += rng.integers(-8, 9, img.shape)
    truth = np.zeros((h, w), bool)
    truth[40:70, 60:100] = True
    return np.clip(img, 0, 255).astype(np.uint8), truth


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_a_positive_click_grows_a_too_small_region_to_the_object() -> None:
    img, truth = scene()
    base = np.zeros_like(truth)
    base[40:70, 70:100] = True  # the model missed the car's back quarter
    out = refine(img, base, [Click(64.5, 55.5, True)])
    full = base.copy()
    full[out.top:out.top + out.region.shape[0], out.left:out.left + out.region.shape[1]] = out.region
    assert iou(base, truth) < 0.8
    assert iou(full, truth) > 0.95


def test_a_negative_click_removes_a_wrong_blob_and_leaves_the_rest(table) -> None:
    img, truth = scene()
    labels = np.full(truth.shape, ROAD, np.uint8)
    labels[truth] = CAR
    labels[90:110, 10:40] = CAR  # a false car on the road
    editor = Editor(labels.copy(), table)
    editor.refine_preview(img, [Click(25.5, 100.5, False)], CAR, fallback=ROAD)
    assert (editor.labels[90:110, 10:40] == ROAD).all()
    assert (editor.labels[truth] == CAR).all()


def test_preview_commits_as_one_undo_step_and_esc_drops_it(table) -> None:
    img, truth = scene()
    labels = np.full(truth.shape, ROAD, np.uint8)
    labels[50:60, 75:85] = CAR
    start = labels.copy()
    editor = Editor(labels, table)
    editor.refine_preview(img, [Click(64.5, 45.5, True)], CAR, fallback=ROAD)
    editor.refine_preview(img, [Click(64.5, 45.5, True), Click(95.5, 66.5, True)], CAR, fallback=ROAD)
    assert editor.preview is not None and len(editor.history) == 0
    refined = editor.labels.copy()
    assert iou(refined == CAR, truth) > 0.9
    editor.commit_preview()
    assert len(editor.history) == 1 and editor.preview is None
    editor.undo()
    assert (editor.labels == start).all()
    editor.redo()
    assert (editor.labels == refined).all()
    editor.refine_preview(img, [Click(10.5, 10.5, True)], CAR, fallback=ROAD)
    editor.drop_preview()
    assert (editor.labels == refined).all() and len(editor.history) == 1


def test_protected_labels_stay_and_the_live_figures_follow(table) -> None:
    img, truth = scene()
    labels = np.full(truth.shape, U, np.uint8)
    labels[40:70, 60:80] = ROAD  # protected: "Over" is unlabelled only
    editor = Editor(labels.copy(), table, gt=np.where(truth, CAR, ROAD).astype(np.uint8))
    editor.refine_preview(img, [Click(90.5, 55.5, True)], CAR, fallback=U, only_over={U})
    assert (editor.labels[40:70, 60:80] == ROAD).all()
    assert (editor.labels[40:70, 80:100] == CAR).mean() > 0.9
    matrix = editor.matrix
    assert matrix is not None
    assert matrix.matrix[CAR, CAR] == int(((editor.labels == CAR) & truth).sum())


def test_colour_alone_with_a_box_and_no_prediction(table) -> None:
    img, truth = scene()
    editor = Editor(np.full(truth.shape, U, np.uint8), table)
    editor.refine_preview(img, [], CAR, box=(52, 32, 108, 78), fallback=U)
    assert iou(editor.labels == CAR, truth) > 0.85


def test_model_probability_keeps_a_confident_region_the_colour_alone_would_lose() -> None:
    img, truth = scene()
    img[40:70, 60:80] = 110  # half the car looks like the road
    base = truth.copy()
    pred = np.where(truth, CAR, ROAD).astype(np.uint8)
    conf = np.full(truth.shape, 250, np.uint8)
    prob = class_probability(pred, conf, CAR, 12)
    assert prob is not None and prob[55, 70] == pytest.approx(250 / 255)
    click = [Click(90.5, 55.5, True)]
    with_model = refine(img, base, click, prob)
    assert with_model.region[55 - with_model.top, 70 - with_model.left]


def test_bad_input_gets_a_plain_reason(table) -> None:
    img, truth = scene()
    editor = Editor(np.full(truth.shape, U, np.uint8), table)
    with pytest.raises(ValueError, match="outside the 160x120 picture"):
        editor.refine_preview(img, [Click(170, 5, True)], CAR)
    with pytest.raises(ValueError, match="no size"):
        editor.refine_preview(img, [], CAR, box=(10, 10, 10.5, 40))
    with pytest.raises(ValueError, match="prediction is 80x60"):
        editor.refine_preview(img, [Click(5, 5, True)], CAR, prob=np.zeros((60, 80), np.float32))
    assert editor.preview is None and (editor.labels == U).all()


def test_random_walker_variant_also_recovers_the_object() -> None:
    pytest.importorskip("skimage")
    img, truth = scene()
    base = np.zeros_like(truth)
    base[40:70, 70:100] = True
    out = refine(img, base, [Click(64.5, 55.5, True), Click(20.5, 20.5, False)], method="walker")
    full = base.copy()
    full[out.top:out.top + out.region.shape[0], out.left:out.left + out.region.shape[1]] = out.region
    assert iou(full, truth) > 0.95


def test_flow_moves_labels_with_the_picture() -> None:
    rng = np.random.default_rng(1)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (140, 200)).astype(np.uint8), (5, 5), 0)
    prev = np.dstack([texture] * 3)
    cur = np.roll(prev, 6, axis=1)  # the whole view slides 6 px right
    labels = np.full((140, 200), ROAD, np.uint8)
    labels[30:110, 40:160] = CAR
    warped = warp_labels(prev, cur, labels, U)
    expected = np.roll(labels, 6, axis=1)
    inner = (slice(10, 130), slice(20, 180))
    assert (warped[inner] == expected[inner]).mean() > 0.97
    assert (labels[inner] == expected[inner]).mean() < (warped[inner] == expected[inner]).mean() - 0.02


def test_flow_refuses_other_sizes_and_cuts() -> None:
    a = np.zeros((40, 60, 3), np.uint8)
    with pytest.raises(ValueError, match="60x40"):
        warp_labels(a, np.zeros((50, 60, 3), np.uint8), np.zeros((40, 60), np.uint8), U)
    bright = np.full((40, 60, 3), 240, np.uint8)
    with pytest.raises(ValueError, match="cut"):
        warp_labels(a, bright, np.zeros((40, 60), np.uint8), U)


def test_flow_beats_copy_on_camvid_frames_with_truth(table) -> None:
    from seggui.core.masks import read_mask

    val = DATA / "camvid" / "val"
    if not val.is_dir():
        pytest.skip(f"no CamVid data at {val}")
    a, b = "0016E5_07959.png", "0016E5_07961.png"  # two labelled frames 2 video frames apart
    ia, ib = (cv2.cvtColor(cv2.imread(str(val / n)), cv2.COLOR_BGR2RGB) for n in (a, b))
    ga, gb = (read_mask(DATA / "camvid" / "valannot" / n, table) for n in (a, b))
    warped = warp_labels(ia, ib, ga, U)
    assert ((warped == gb) & (gb != U)).sum() > ((ga == gb) & (gb != U)).sum()


def test_superpixel_stroke_paints_every_touched_segment_whole(table, tmp_path: Path) -> None:
    pytest.importorskip("skimage")
    from seggui.core.editing.superpixels import (
        Segments,
        cache_path,
        compute_superpixels,
        load_superpixels,
        save_superpixels,
    )

    img, truth = scene()
    segs = compute_superpixels(img, 12)
    assert 50 <= segs.ids.max() + 1 <= 400  # about 160*120/12**2 = 133 segments
    # the car's edge is a colour edge: no superpixel straddles it much
    inside = np.bincount(segs.ids[truth], minlength=segs.ids.max() + 1)
    total = np.bincount(segs.ids.ravel(), minlength=segs.ids.max() + 1)
    share = inside[inside > 0] / total[inside > 0]
    assert (share > 0.9).mean() > 0.8
    editor = Editor(np.full(truth.shape, U, np.uint8), table)
    editor.begin_stroke(3, CAR, segments=segs)
    editor.stroke_to(70.5, 55.5)
    editor.stroke_to(90.5, 55.5)
    editor.end_stroke()
    painted = editor.labels == CAR
    touched = np.unique(segs.ids[painted])
    assert painted.sum() == np.isin(segs.ids, touched).sum()  # whole segments only
    assert painted.sum() > 3 * 21  # far more than the 3-px brush's own footprint
    assert len(editor.history) == 1
    editor.undo()
    assert (editor.labels == U).all()
    # protect-labels: only unlabelled pixels change
    labels = np.full(truth.shape, U, np.uint8)
    labels[55:57, :] = ROAD
    editor = Editor(labels, table)
    editor.begin_stroke(3, CAR, only_over={U}, segments=segs)
    editor.stroke_to(80.5, 55.5)
    editor.end_stroke()
    assert (editor.labels[55:57] == ROAD).all()
    # the workspace cache round-trips, and a map of another size is refused
    path = cache_path(tmp_path, "drive/frame 1", 12)
    save_superpixels(path, segs)
    back = load_superpixels(path, truth.shape)
    assert back is not None and np.array_equal(back.ids, segs.ids)
    assert np.array_equal(back.boxes, segs.boxes)
    assert load_superpixels(path, (10, 10)) is None
    with pytest.raises(ValueError, match="superpixels are 160x120"):
        Editor(np.full((10, 10), U, np.uint8), table).begin_stroke(3, CAR, segments=segs)
    assert isinstance(Segments.of(np.zeros((2, 2), np.int32)).boxes, np.ndarray)


def test_pixel_classifier_fills_the_rest_from_two_classes_of_scribbles() -> None:
    pytest.importorskip("sklearn")
    from seggui.core.editing.pixel_classifier import classify_rest

    img, truth = scene()
    scribbles = np.full(truth.shape, U, np.uint8)
    scribbles[54:57, 70:90] = CAR
    scribbles[10:13, 20:140] = ROAD
    scribbles[100:103, 20:140] = ROAD
    out = classify_rest(img, scribbles, U)
    assert (out[scribbles != U] == scribbles[scribbles != U]).all()  # the strokes stay
    assert iou(out == CAR, truth) > 0.9
    with pytest.raises(ValueError, match="only class 8"):
        classify_rest(img, np.where(scribbles == CAR, CAR, U).astype(np.uint8), U)
    with pytest.raises(ValueError, match="scribbles of nothing"):
        classify_rest(img, np.full(truth.shape, U, np.uint8), U)


def test_pixel_classifier_on_houston_parking_after_scripted_scribbles() -> None:
    pytest.importorskip("sklearn")
    import sys

    from seggui.core.editing.pixel_classifier import classify_rest
    from seggui.core.masks import read_mask

    folder = DATA / "houston-uav"
    if not folder.is_dir():
        pytest.skip(f"no Houston data at {folder}")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from refine import scripted_scribbles

    table = load_classes(folder / "classes.json")
    image = cv2.cvtColor(cv2.imread(str(folder / "images" / "7677.jpg")), cv2.COLOR_BGR2RGB)
    gt = read_mask(folder / "masks" / "7677.png", table)
    image = cv2.resize(image, (400, 300), interpolation=cv2.INTER_AREA)
    gt = cv2.resize(gt, (400, 300), interpolation=cv2.INTER_NEAREST)
    counts = np.bincount(gt.ravel(), minlength=25)
    classes = [int(c) for c in np.argsort(counts)[::-1] if counts[c] > 0.01 * gt.size]
    scribbles = scripted_scribbles(gt, classes, 8)
    out = classify_rest(image, scribbles, 255)
    rest = scribbles == 255
    parking = 18
    assert iou((out == parking) & rest, (gt == parking) & rest) > 0.5


def test_large_pictures_get_superpixels_tile_by_tile_with_ids_unique_across_tiles() -> None:
    pytest.importorskip("skimage")
    from seggui.core.editing.superpixels import compute_superpixels

    rng = np.random.default_rng(0)
    img = cv2.resize(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8), (160, 120),
                     interpolation=cv2.INTER_NEAREST)  # blocks of colour: edges to follow
    whole = compute_superpixels(img, 12)
    tiled = compute_superpixels(img, 12, tile_above=100 * 100, tile=64)  # 160x120 > 100x100: 3x2 tiles
    assert tiled.shape == whole.shape == (120, 160)
    n = int(tiled.ids.max()) + 1
    assert np.array_equal(np.unique(tiled.ids), np.arange(n))  # dense ids, no gap
    assert 0.5 * whole.boxes.shape[0] < n < 1.5 * whole.boxes.shape[0]  # about as many segments
    for sid in range(n):  # every superpixel lies inside one tile
        y0, y1, x0, x1 = tiled.boxes[sid]
        assert y0 // 64 == (y1 - 1) // 64 and x0 // 64 == (x1 - 1) // 64, (sid, tiled.boxes[sid])
