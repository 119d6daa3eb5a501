"""Confusion matrix and metrics: hand-checked figures, properties, real CamVid vs smp."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seggui.core.classes import ClassInfo, ClassTable, load_classes
from seggui.core.confusion import ConfusionMatrix, joint_histogram
from seggui.core.errors import BadInputError
from seggui.core.masks import read_mask
from seggui.core.metrics import ImageIoUs, compute_metrics


def _table(ids: list[int], ignore: int | None) -> ClassTable:
    classes = tuple(ClassInfo(i, f"c{i}", (i, 255 - i % 256, (7 * i) % 256)) for i in ids)
    return ClassTable("t", classes, ignore)


def _reference(pred: np.ndarray, gt: np.ndarray, n: int, ignore: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-by-pixel matrix and predicted-outside-ignore counts, the slow obvious way."""
    m = np.zeros((n, n), np.int64)
    outside = np.zeros(n, np.int64)
    for g, p in zip(gt.ravel().tolist(), pred.ravel().tolist(), strict=True):
        if g == ignore:
            continue
        if p < n:
            m[g, p] += 1
        else:
            outside[g] += 1
    return m, outside


# ------------------------------------------------------------------ hand-checked
def test_figures_of_a_small_example_match_hand_computation() -> None:
    table = _table([0, 1, 2, 3], ignore=3)
    gt = np.array([[0, 0, 1, 1], [2, 2, 3, 3]], np.uint8)
    pred = np.array([[0, 1, 1, 1], [2, 3, 0, 2]], np.uint8)
    cm = ConfusionMatrix.for_table(table).update(pred, gt)
    # gt 3 is ignored: pixels (1,2), (1,3) drop out. pred 3 at (1,1) is a miss of class 2.
    expected = np.zeros((4, 4), int)
    expected[0, 0] = 1
    expected[0, 1] = 1
    expected[1, 1] = 2
    expected[2, 2] = 1
    expected[2, 3] = 1
    assert cm.matrix.tolist() == expected.tolist()
    assert cm.total == 6
    m = compute_metrics(cm, table)
    assert m.ids == [0, 1, 2]
    np.testing.assert_allclose(m.iou, [1 / 2, 2 / 3, 1 / 2])
    np.testing.assert_allclose(m.dice, [2 / 3, 4 / 5, 2 / 3])
    np.testing.assert_allclose(m.precision, [1, 2 / 3, 1])
    np.testing.assert_allclose(m.recall, [1 / 2, 1, 1 / 2])
    np.testing.assert_allclose(m.pixel_share, [2 / 6, 2 / 6, 2 / 6])
    assert m.symdiff_px.tolist() == [1, 1, 1]
    assert m.pred_ignore_px.tolist() == [0, 0, 1]
    assert m.pixel_accuracy == pytest.approx(4 / 6)
    assert m.miou == pytest.approx((1 / 2 + 2 / 3 + 1 / 2) / 3)
    assert m.class_avg_accuracy == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    assert m.fw_iou == pytest.approx((1 / 2 + 2 / 3 + 1 / 2) / 3)


def test_absent_class_is_nan_none_in_json_and_left_out_of_means() -> None:
    table = _table([0, 1, 2], ignore=None)
    gt = np.array([[0, 0, 1]], np.uint8)
    pred = np.array([[0, 1, 1]], np.uint8)
    m = compute_metrics(ConfusionMatrix.for_table(table).update(pred, gt), table)
    assert math.isnan(m.iou[2]) and math.isnan(m.dice[2]) and math.isnan(m.precision[2])
    assert m.miou == pytest.approx((1 / 2 + 1 / 2) / 2)
    d = m.to_dict()
    assert d["per_class_iou"] == {"c0": 0.5, "c1": 0.5, "c2": None}
    assert d["per_class_precision"]["c2"] is None
    assert d["symdiff_px"]["c2"] == 0
    assert d["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 0]]
    for key in ("miou", "pixel_accuracy", "per_class_dice", "per_class_recall", "pixel_share",
                "mean_per_image_iou"):
        assert key in d


def test_class_never_predicted_has_nan_precision_and_zero_recall() -> None:
    table = _table([0, 1], ignore=None)
    gt = np.array([[0, 1]], np.uint8)
    pred = np.array([[0, 0]], np.uint8)
    m = compute_metrics(ConfusionMatrix.for_table(table).update(pred, gt), table)
    assert math.isnan(m.precision[1]) and m.recall[1] == 0 and m.iou[1] == 0


def test_ignore_outside_the_table_gets_its_own_column_and_matrix_stays_square() -> None:
    table = load_classes("cityscapes-19")
    gt = np.array([[0, 0, 255, 13]], np.uint8)
    pred = np.array([[255, 0, 13, 255]], np.uint8)
    cm = ConfusionMatrix.for_table(table).update(pred, gt)
    assert cm.matrix.shape == (19, 19)
    assert cm.total == 3  # gt 255 not scored
    assert cm.pred_ignore[0] == 1 and cm.pred_ignore[13] == 1
    m = compute_metrics(cm, table)
    d = m.to_dict()
    assert d["per_class_iou"]["road"] == 0.5  # tp 1, fn 1 (predicted 255)
    assert d["per_class_recall"]["car"] == 0.0
    assert d["pred_ignore_px"]["car"] == 1
    assert m.pixel_accuracy == pytest.approx(1 / 3)
    assert len(d["confusion_matrix"]) == 19 and all(len(r) == 19 for r in d["confusion_matrix"])


def test_ids_outside_the_table_name_the_file() -> None:
    cm = ConfusionMatrix(4, ignore_index=None)
    with pytest.raises(BadInputError, match=r"pred\.png.*prediction.*7 \(1 px\)"):
        cm.update(np.array([[0, 7]], np.uint8), np.array([[0, 1]], np.uint8), Path("pred.png"))
    with pytest.raises(BadInputError, match=r"gt\.png.*ground truth.*200"):
        cm.update(np.array([[0, 1]], np.uint16), np.array([[0, 200]], np.uint16), Path("gt.png"))
    assert cm.total == 0  # nothing half-counted


def test_size_mismatch_names_both_sizes_and_the_file() -> None:
    cm = ConfusionMatrix(3)
    with pytest.raises(BadInputError, match=r"a\.png.*prediction is 4x2 but ground truth is 5x3"):
        cm.update(np.zeros((2, 4), np.uint8), np.zeros((3, 5), np.uint8), "a.png")


def test_metrics_refuse_a_matrix_of_another_table() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        compute_metrics(ConfusionMatrix(5, 4), _table([0, 1, 2], None))


def test_merge_equals_one_update_over_both_images_and_checks_shape() -> None:
    rng = np.random.default_rng(3)
    a_gt, a_p, b_gt, b_p = (rng.integers(0, 6, (20, 30), dtype=np.uint8) for _ in range(4))
    merged = ConfusionMatrix(6, 5).update(a_p, a_gt).merge(ConfusionMatrix(6, 5).update(b_p, b_gt))
    both = ConfusionMatrix(6, 5).update(np.vstack([a_p, b_p]), np.vstack([a_gt, b_gt]))
    assert merged == both
    with pytest.raises(ValueError, match="cannot merge"):
        merged.merge(ConfusionMatrix(6, None))


def test_histogram_is_exact_past_float32_integer_range() -> None:
    # float32 cannot count past 2**24 one by one: the OpenCV path must count in blocks.
    codes = np.zeros((4097, 4096), np.uint8)  # 2**24 + 4096 pixels
    codes[-1, -2:] = 3
    assert joint_histogram(codes, 4).tolist() == [(1 << 24) + 4094, 0, 0, 2]
    flat = np.zeros((1 << 24) + 5, np.uint16)  # one long row: the bincount path
    flat[0] = 1
    assert joint_histogram(flat, 2).tolist() == [(1 << 24) + 4, 1]


# ------------------------------------------------------------------ properties
_configs = st.sampled_from([(5, None), (5, 4), (5, 255), (20, 19), (300, None), (40, 1000)])


@settings(max_examples=60, deadline=None)
@given(cfg=_configs, seed=st.integers(0, 2**31 - 1), h=st.integers(1, 12), w=st.integers(1, 12))
def test_update_matches_pixel_by_pixel_reference(cfg: tuple[int, int | None], seed: int, h: int,
                                                 w: int) -> None:
    n, ignore = cfg
    rng = np.random.default_rng(seed)
    values = list(range(n)) + ([ignore] * 3 if ignore is not None else [])
    dtype = np.uint8 if max(values) <= 255 else np.uint16
    gt = rng.choice(values, (h, w)).astype(dtype)
    pred = rng.choice(values, (h, w)).astype(dtype)
    cm = ConfusionMatrix(n, ignore).update(pred, gt)
    ref, outside = _reference(pred, gt, n, ignore)
    assert np.array_equal(cm.matrix, ref)
    inside_col = ref[:, ignore] if ignore is not None and ignore < n else 0
    assert np.array_equal(cm.pred_ignore, outside + inside_col)
    joint = (gt.astype(np.int64) * 7 + pred % 7).ravel()
    bins = int(joint.max()) + 1 + seed % 3
    for dt in (np.uint8, np.uint16):
        if joint.max() <= np.iinfo(dt).max:
            assert np.array_equal(joint_histogram(joint.astype(dt), bins), np.bincount(joint, minlength=bins))


@settings(max_examples=60, deadline=None)
@given(cfg=_configs, seed=st.integers(0, 2**31 - 1), n_edits=st.integers(1, 6))
def test_incremental_edits_equal_full_recompute(cfg: tuple[int, int | None], seed: int, n_edits: int) -> None:
    n, ignore = cfg
    rng = np.random.default_rng(seed)
    values = list(range(n)) + ([ignore] if ignore is not None else [])
    dtype = np.uint8 if max(values) <= 255 else np.uint16
    gt = rng.choice(values, (16, 16)).astype(dtype)
    pred = rng.choice(values, (16, 16)).astype(dtype)
    cm = ConfusionMatrix(n, ignore).update(pred, gt)
    for _ in range(n_edits):
        # A "stroke": a random rectangle (maybe only partly changing), or scattered pixels.
        if rng.random() < 0.5:
            y, x = rng.integers(0, 16, 2)
            region = np.zeros_like(pred, bool)
            region[y : y + rng.integers(1, 8), x : x + rng.integers(1, 8)] = True
        else:
            region = rng.random(pred.shape) < 0.2
        label = rng.choice(values)
        new_pred = pred.copy()
        new_pred[region & (rng.random(pred.shape) < 0.8)] = label
        changed = np.flatnonzero(new_pred != pred)
        cm.apply_edit(gt.ravel()[changed], pred.ravel()[changed], new_pred.ravel()[changed])
        pred = new_pred
    assert cm == ConfusionMatrix(n, ignore).update(pred, gt)


def test_apply_edit_with_wrong_old_labels_raises_and_changes_nothing() -> None:
    gt = np.array([[0, 1]], np.uint8)
    pred = np.array([[0, 1]], np.uint8)
    cm = ConfusionMatrix(3).update(pred, gt)
    before = cm.copy()
    with pytest.raises(ValueError, match="never counted"):
        cm.apply_edit(np.array([0, 1]), np.array([0, 2]), np.array([1, 1]))
    assert cm == before
    with pytest.raises(ValueError, match="differ in length"):
        cm.apply_edit(np.array([0]), np.array([0, 1]), np.array([1]))


# ------------------------------------------------------------------ real data vs smp
def _camvid_pairs(camvid: Path, count: int = 6) -> tuple[ClassTable, np.ndarray, dict[str, np.ndarray]]:
    table = load_classes(camvid / "classes.json")
    paths = sorted((camvid / "valannot").glob("*.png"))[::17][:count]
    gts = np.stack([read_mask(p, table) for p in paths])
    shifted = np.roll(gts, (9, -13), axis=(1, 2))
    # A 7x7 max filter on ids: each region erodes under higher-id neighbours, and
    # "Unlabelled" (11, the top id) grows over its borders, so some pixels are predicted ignore.
    eroded = np.stack([cv2.dilate(g, np.ones((7, 7), np.uint8)) for g in gts])
    return table, gts, {"shifted": shifted, "eroded": eroded}


def test_camvid_ground_truth_against_itself_scores_one(camvid: Path) -> None:
    table, gts, _ = _camvid_pairs(camvid)
    cm = ConfusionMatrix.for_table(table)
    for g in gts:
        cm.update(g, g)
    m = compute_metrics(cm, table)
    present = m.gt_px > 0
    assert present.sum() >= 8
    assert np.all(m.iou[present] == 1.0) and np.all(np.isnan(m.iou[~present]))
    assert m.miou == 1.0 and m.pixel_accuracy == 1.0 and m.symdiff_px.sum() == 0
    assert cm.total == int((gts != table.ignore_index).sum())


@pytest.mark.parametrize("variant", ["shifted", "eroded"])
def test_camvid_figures_match_segmentation_models_pytorch(camvid: Path, variant: str) -> None:
    torch = pytest.importorskip("torch")
    smp_metrics = pytest.importorskip("segmentation_models_pytorch.metrics")
    table, gts, preds = _camvid_pairs(camvid)
    pred = preds[variant]
    n_scored = len(table.scored_ids)  # CamVid: ids 0..10 scored, 11 ignored
    assert table.scored_ids == list(range(n_scored))

    total = ConfusionMatrix.for_table(table)
    per_image = ImageIoUs(table.scored_ids)
    for p, g in zip(pred, gts, strict=True):
        one = ConfusionMatrix.for_table(table).update(p, g)
        per_image.add(one)
        total.merge(one)
    ours = compute_metrics(total, table, per_image)

    tp, fp, fn, tn = smp_metrics.get_stats(
        torch.from_numpy(pred.astype(np.int64)), torch.from_numpy(gts.astype(np.int64)),
        mode="multiclass", num_classes=n_scored, ignore_index=table.ignore_index,
    )
    nan = float("nan")
    # smp "macro" = sum stats over images, score per class, average classes; we keep the
    # per-class scores (reduction none on the summed stats) so absent classes stay NaN like ours.
    sums = (tp.sum(0), fp.sum(0), fn.sum(0), tn.sum(0))
    assert ours.tp.tolist() == sums[0].tolist()  # the counts agree exactly ...
    assert (ours.pred_px - ours.tp).tolist() == sums[1].tolist()
    assert (ours.gt_px - ours.tp).tolist() == sums[2].tolist()
    for ours_vals, fn_name in ((ours.iou, "iou_score"), (ours.dice, "f1_score"),
                               (ours.precision, "precision"), (ours.recall, "recall")):
        theirs = getattr(smp_metrics, fn_name)(*sums, reduction="none", zero_division=nan).numpy()
        # ... and the ratios to smp's float32 precision
        np.testing.assert_allclose(ours_vals, theirs, rtol=1e-6, equal_nan=True, err_msg=fn_name)
    assert ours.miou == pytest.approx(float(np.nanmean(
        smp_metrics.iou_score(*sums, reduction="none", zero_division=nan).numpy())), rel=1e-6)
    assert 0.2 < ours.miou < 0.99  # a real, imperfect overlap
    # smp "macro-imagewise" without its zero-division fill: per image, per class, NaN-aware means.
    per_img = smp_metrics.iou_score(tp, fp, fn, tn, reduction="none", zero_division=nan).numpy()
    expected = np.nanmean(np.array([np.nanmean(r) for r in per_img]))
    assert ours.mean_per_image_iou == pytest.approx(float(expected), rel=1e-6)
    np.testing.assert_allclose(per_image.per_class(), np.nanmean(per_img, axis=0), rtol=1e-6, equal_nan=True)
    # Predicted "Unlabelled" (11) counts as a miss: smp agrees since 11 is outside its classes.
    assert ours.pred_ignore_px.sum() > 0
    accuracy = (tp.sum(0).sum() / (tp.sum(0) + fn.sum(0)).sum()).item()
    assert ours.pixel_accuracy == pytest.approx(accuracy, rel=1e-6)
