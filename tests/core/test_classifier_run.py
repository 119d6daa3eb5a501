"""The pixel classifier run on other pictures, headless: what it writes, bad input, cancel."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.core.classes import load_classes
from seggui.core.editing.classifier_run import (
    FrameToRead,
    classify_job,
    load_scribbles,
    model_ref,
    save_scribbles,
    scribble_path,
    train,
)
from seggui.core.errors import BadInputError, Cancelled
from seggui.core.jobs import CancelToken

pytest.importorskip("sklearn")
UNL = 255


def picture(h: int = 60, w: int = 80, flip: bool = False) -> np.ndarray:
    """Left half green grass-like, right half grey road-like (swapped when `flip`), with some noise."""
    rng = np.random.default_rng(1)
    img = np.empty((h, w, 3), np.uint8)
    a, b = (40, 160, 50), (120, 120, 120)
    left, right = (b, a) if flip else (a, b)
    img[:, : w // 2], img[:, w // 2:] = left, right
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def scribbles(h: int = 60, w: int = 80) -> np.ndarray:
    s = np.full((h, w), UNL, np.uint8)
    s[20:40, 5:15] = 1
    s[20:40, 65:75] = 2
    return s


def test_job_labels_each_picture_with_confidence_and_reports_unreadable(tmp_path: Path) -> None:
    model = train(picture(), scribbles(), UNL)
    good = tmp_path / "b.png"
    cv2.imwrite(str(good), cv2.cvtColor(picture(flip=True), cv2.COLOR_RGB2BGR))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    got: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    job = classify_job(lambda: model, [FrameToRead("broken", bad), FrameToRead("b", good)],
                       lambda _i, fid, _img, pred: got.__setitem__(fid, (pred.labels, pred.confidence)),
                       np.uint8)
    progress = []
    try:
        while True:
            progress.append(next(job))
    except StopIteration as stop:
        done = stop.value
    assert done == 1 and list(got) == ["b"]
    errors = [p.error for p in progress if p.error]
    assert len(errors) == 1 and "broken" in errors[0]
    labels, conf = got["b"]
    assert (labels[:, :35] == 2).mean() > 0.95 and (labels[:, 45:] == 1).mean() > 0.95  # flipped picture
    assert conf.dtype == np.float32 and 0.5 <= conf.min() and conf.max() <= 1.0


def test_cancel_stops_between_pictures(tmp_path: Path) -> None:
    model = train(picture(), scribbles(), UNL)
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), picture())
    token = CancelToken()
    written: list[str] = []
    job = classify_job(lambda: model, [FrameToRead("a", path), FrameToRead("b", path)],
                       lambda _i, fid, _img, _p: written.append(fid), np.uint8, token)
    next(job)  # training
    next(job)  # a
    token.cancel()
    with pytest.raises(Cancelled):
        next(job)
    assert written == ["a"]


def test_scribbles_are_kept_as_a_png_and_a_damaged_file_is_named(tmp_path: Path) -> None:
    s = scribbles()
    path = save_scribbles(tmp_path, "drive/frame 1", s)
    assert path == scribble_path(tmp_path, "drive/frame 1") and path.parent.name == "pixel_classifier"
    assert np.array_equal(load_scribbles(path), s)
    path.write_bytes(b"junk")
    with pytest.raises(BadInputError, match="scribbles"):
        load_scribbles(path)


def test_one_class_of_scribbles_is_refused_in_plain_words() -> None:
    s = np.full((60, 80), UNL, np.uint8)
    s[10:20, 10:20] = 1
    with pytest.raises(ValueError, match="only class 1: paint at least two classes"):
        train(picture(), s, UNL)


def test_model_ref_names_the_classes() -> None:
    table = load_classes("camvid-11")
    assert model_ref((0, 3), table) == "pixel-classifier (Sky, Road)"
    assert model_ref((1, 2), None) == "pixel-classifier (1, 2)"
