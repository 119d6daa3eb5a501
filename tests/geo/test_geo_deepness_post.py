"""Deepness seg_thresh and seg_small_segment are applied as Deepness applies them, in every path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seggui.core.jobs import run_job
from seggui.core.synth.geotiff import write_geotiff
from seggui.engine.deepness import median_labels, postprocessing
from seggui.engine.ortho import predict_ortho
from seggui.engine.predictor import load_predictor


def _raw_outputs(model: Path, rgb: np.ndarray) -> np.ndarray:
    """The model's own outputs (C, H, W) for a picture, standardised as its metadata says."""
    import onnxruntime as ort

    x = (rgb.astype(np.float32) / 255.0 - 0.5) / 0.25
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": np.moveaxis(x, -1, 0)[None]})[0][0]


def _read(path: Path) -> np.ndarray:
    import rasterio

    with rasterio.open(path) as ds:
        return ds.read(1)


def test_seg_thresh_makes_weak_pixels_class_0(tmp_path: Path, scene) -> None:
    from geo_helpers import tiny_onnx

    model = tiny_onnx(tmp_path / "t.onnx", tiles_size=64, meta={"seg_thresh": 0.8, "seg_small_segment": 0})
    raw = _raw_outputs(model, scene.image)
    want = raw.argmax(axis=0).astype(np.uint8)
    weak = raw.max(axis=0) < 0.8
    want[weak] = 0
    assert 0.02 < (weak & (raw.argmax(axis=0) > 0)).mean() < 0.98  # the threshold really moves pixels
    made = write_geotiff(tmp_path / "s.tif", scene.image, scene.mask, 0.15)
    with load_predictor(model, "onnx", "cpu") as p:
        assert postprocessing(p.card) == (0.8, 1)
        whole = p.predict(scene.image, confidence=False, tile=False).labels
        tiled = p.predict(scene.image, confidence=False, tile=True).labels
        mask = _read(run_job(predict_ortho(p, made["path"], tmp_path / "m.tif", block=128)).mask)
    assert np.array_equal(whole, want)
    assert np.array_equal(tiled, want) and np.array_equal(mask, want)  # 1x1 model: tiles change nothing


def test_seg_small_segment_removes_specks_without_seams(tmp_path: Path, scene) -> None:
    from geo_helpers import tiny_onnx

    img = scene.image.copy()
    img[:, :] = (90, 90, 90)  # grey asphalt: parking everywhere
    img[50:52, 60:62] = (20, 200, 20)  # a 2x2 green speck: vegetation
    img[100:140, 100:150] = (20, 200, 20)  # a large green patch, kept
    img[125:133, 120:200] = (20, 200, 20)  # crossing the 128-px block border
    plain = tiny_onnx(tmp_path / "plain.onnx", tiles_size=64, meta={"seg_thresh": 0, "seg_small_segment": 0})
    filtered = tiny_onnx(tmp_path / "f.onnx", tiles_size=64, meta={"seg_thresh": 0, "seg_small_segment": 7})
    with load_predictor(plain, "onnx", "cpu") as p:
        assert postprocessing(p.card) == (None, 1)
        before = p.predict(img, confidence=False).labels
    assert (before[50:52, 60:62] == 2).all()
    made = write_geotiff(tmp_path / "g.tif", img, scene.mask, 0.15)
    with load_predictor(filtered, "onnx", "cpu") as p:
        assert postprocessing(p.card) == (None, 7)
        after = p.predict(img, confidence=False).labels
        mask = _read(run_job(predict_ortho(p, made["path"], tmp_path / "m.tif", block=128)).mask)
    assert (after[50:52, 60:62] == 1).all()  # the speck is gone, filled by its neighbours
    assert (after[105:135, 105:145] == 2).all()  # the patch stays
    assert np.array_equal(after, median_labels(before, 7))
    assert np.array_equal(mask, after)  # blocks filtered with their halo: no seam at row/column 128


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_median_keeps_only_classes_of_the_neighbourhood(dtype: type) -> None:
    labels = np.zeros((20, 20), dtype)
    labels[:, 10:] = 4
    labels[5, 5] = 9
    out = median_labels(labels, 7)
    assert out.dtype == dtype and set(np.unique(out)) == {0, 4} and out[5, 5] == 0
    assert median_labels(labels, 1) is labels
