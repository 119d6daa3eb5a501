"""Error-view and label layers: exact pixels on small arrays, and agreement with a confusion count."""

from __future__ import annotations

import numpy as np
import pytest

from seggui.core.classes import load_classes
from seggui.core.errors import BadInputError
from seggui.core.errorview import FN_COLOR, FP_COLOR, TP_ALPHA, class_errors, error_rgba, label_rgba

PRED = np.array([[1, 1, 0, 2],
                 [1, 0, 0, 1],
                 [2, 2, 1, 1]], np.uint8)
GT = np.array([[1, 0, 0, 2],
               [1, 1, 9, 9],
               [2, 1, 1, 0]], np.uint8)


def test_class_errors_exact_pixels_and_ignore() -> None:
    err = class_errors(PRED, GT, 1, ignore_index=9)
    assert list(zip(*err.tp.nonzero(), strict=True)) == [(0, 0), (1, 0), (2, 2)]
    # (0,1): pred 1, gt 0 -> FP; (1,3): pred 1 but gt ignored -> nothing; (2,3): FP
    assert list(zip(*err.fp.nonzero(), strict=True)) == [(0, 1), (2, 3)]
    # (1,1): gt 1 pred 0 -> FN; (2,1): gt 1 pred 2 -> FN
    assert list(zip(*err.fn.nonzero(), strict=True)) == [(1, 1), (2, 1)]
    assert err.counts == (3, 2, 2)
    no_ignore = class_errors(PRED, GT, 1)
    assert no_ignore.fp[1, 3] and no_ignore.counts == (3, 3, 2)


def test_counts_match_a_confusion_matrix_on_random_masks() -> None:
    rng = np.random.default_rng(3)
    pred = rng.integers(0, 5, (40, 50)).astype(np.uint8)
    gt = rng.integers(0, 6, (40, 50)).astype(np.uint8)  # 5 = ignore
    valid = gt != 5
    cm = np.bincount(gt[valid].astype(int) * 5 + pred[valid], minlength=25).reshape(5, 5)
    for c in range(5):
        tp, fp, fn = class_errors(pred, gt, c, ignore_index=5).counts
        assert tp == cm[c, c]
        assert fp == cm[:, c].sum() - cm[c, c]
        assert fn == cm[c, :].sum() - cm[c, c]


def test_error_rgba_colours_only_the_error_pixels() -> None:
    rgba = error_rgba(PRED, GT, 1, ignore_index=9)
    assert rgba.shape == (3, 4, 4) and rgba.dtype == np.uint8
    assert tuple(rgba[0, 1]) == (*FP_COLOR, 255)
    assert tuple(rgba[1, 1]) == (*FN_COLOR, 255)
    assert rgba[0, 0, 3] == TP_ALPHA
    assert rgba[1, 3, 3] == 0 and rgba[0, 2, 3] == 0  # ignored, and true negative
    assert (error_rgba(PRED, GT, 1, 9, show_tp=False)[0, 0] == 0).all()


def test_size_mismatch_is_a_clear_error() -> None:
    with pytest.raises(BadInputError, match="differ in size"):
        class_errors(PRED, GT[:, :3], 1)


def test_label_rgba_hides_ignore_and_hidden_classes() -> None:
    table = load_classes("camvid-11")
    mask = np.array([[0, 3, 11], [8, 8, 3]], np.uint8)
    rgba = label_rgba(mask, table, hidden=[8])
    assert tuple(rgba[0, 1]) == (*table.by_id[3].color, 255)
    assert rgba[0, 2, 3] == 0  # ignore index
    assert (rgba[1, :2, 3] == 0).all()  # hidden class
    assert rgba[1, 2, 3] == 255


def test_view_rgba_is_the_one_view_to_layer_mapping_for_frames_and_patches() -> None:
    """The view panel (whole frame) and the editor (a stroke's rectangle) paint the same pixels."""
    from seggui.core.errorview import view_rgba

    table = load_classes("camvid-11")
    rng = np.random.default_rng(3)
    cur = rng.integers(0, 12, (20, 30)).astype(np.uint8)
    truth = rng.integers(0, 12, (20, 30)).astype(np.uint8)
    hidden = {2}
    assert np.array_equal(view_rgba("prediction", cur, truth, table, hidden), label_rgba(cur, table, hidden))
    assert np.array_equal(view_rgba("ground_truth", cur, truth, table, hidden),
                          label_rgba(truth, table, hidden))
    assert np.array_equal(view_rgba("errors", cur, truth, table, hidden, 4),
                          error_rgba(cur, truth, 4, table.ignore_index))
    # nothing to show: no mask, no class chosen, or a view without a mask layer
    assert view_rgba("prediction", None, truth, table) is None
    assert view_rgba("ground_truth", cur, None, table) is None
    assert view_rgba("errors", cur, truth, table) is None
    assert view_rgba("errors", cur, None, table, class_id=4) is None
    assert view_rgba("picture", cur, truth, table, class_id=4) is None
    # a patch's layer is the whole layer's window, for every view
    y, x, h, w = 5, 7, 6, 9
    for view in ("prediction", "ground_truth", "errors"):
        whole = view_rgba(view, cur, truth, table, hidden, 4)
        patch = view_rgba(view, cur[y:y + h, x:x + w], truth[y:y + h, x:x + w], table, hidden, 4)
        assert whole is not None and patch is not None
        assert np.array_equal(patch, whole[y:y + h, x:x + w])
