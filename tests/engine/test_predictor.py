"""The Predictor: torch and ONNX Runtime agree; outputs, odd pictures, devices, batching."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.core.errors import BadInputError
from seggui.engine.devices import available_devices, ort_working_providers, torch_cuda_available
from seggui.engine.export import label_agreement
from seggui.engine.onnx_backend import OrtRunner
from seggui.engine.predictor import load_predictor


@pytest.fixture(scope="module")
def torch_pred(fitted_card):
    return load_predictor(fitted_card, backend="torch", device="cpu", threads=2)


@pytest.fixture(scope="module")
def onnx_pred(exported):
    return load_predictor(exported[1], backend="onnx", device="cpu", threads=2)


def test_describe_and_device(torch_pred, onnx_pred) -> None:
    assert (torch_pred.backend, torch_pred.device, torch_pred.describe()) == ("torch", "CPU", "torch · CPU")
    assert (onnx_pred.backend, onnx_pred.device) == ("onnx", "CPU")
    assert onnx_pred.describe() == "ONNX Runtime · CPU"
    assert torch_pred.threads == 2 and onnx_pred.threads == 2


def test_torch_and_onnx_agree_on_camvid(torch_pred, onnx_pred, val_images, val_full) -> None:
    pics = val_images + val_full
    a = [torch_pred.predict(p).labels for p in pics]
    b = [onnx_pred.predict(p).labels for p in pics]
    assert label_agreement(a, b) >= 0.999
    # the labels follow the picture: the fitted model uses several classes, not one
    assert len(np.unique(np.concatenate([x.ravel() for x in a]))) >= 3


def test_outputs_shapes_types_and_ranges(torch_pred, val_full) -> None:
    pic = val_full[0]
    plain = torch_pred.predict(pic)
    assert plain.entropy is None
    p = torch_pred.predict(pic, entropy=True)
    assert p.labels.shape == pic.shape[:2] and p.labels.dtype == np.uint8
    assert p.confidence.dtype == np.float32 and p.entropy.dtype == np.float32
    assert (p.confidence >= 1 / 12 - 1e-6).all() and (p.confidence <= 1 + 1e-6).all()
    assert (p.entropy >= 0).all() and (p.entropy <= math.log(12) + 1e-5).all()
    np.testing.assert_array_equal(plain.labels, p.labels)
    # the strip-wise softmax equals a direct one computed from the logits
    logits = torch_pred.logits(pic).astype(np.float64)
    prob = np.exp(logits - logits.max(0))
    prob /= prob.sum(0)
    np.testing.assert_array_equal(p.labels, logits.argmax(0))
    np.testing.assert_allclose(p.confidence, prob.max(0), atol=1e-5)
    np.testing.assert_allclose(p.entropy, -(prob * np.log(np.maximum(prob, 1e-300))).sum(0), atol=1e-4)
    none = torch_pred.predict(pic, confidence=False)
    assert none.confidence is None


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1), (5, 3, 4), (31, 33, 3), (2, 700, 3)])
def test_odd_sizes_and_channels(torch_pred, onnx_pred, shape) -> None:
    pic = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    for pred in (torch_pred, onnx_pred):
        p = pred.predict(pic)
        assert p.labels.shape == shape[:2] and p.confidence.shape == shape[:2]


def test_bad_pictures_refused(torch_pred) -> None:
    with pytest.raises(BadInputError, match="uint8"):
        torch_pred.predict(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(BadInputError, match="RGB"):
        torch_pred.predict(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(BadInputError, match="empty"):
        torch_pred.predict(np.zeros((0, 4, 3), np.uint8))


def test_batch_equals_single_and_pipeline_threads(onnx_pred, val_images, val_full) -> None:
    pics = [val_images[0], val_full[0], val_images[1], val_images[2], val_full[1]]  # mixed sizes
    singles = [onnx_pred.predict(p) for p in pics]
    onnx_pred.batch_size = 2
    try:
        batched = onnx_pred.predict_batch(pics)
        with ThreadPoolExecutor(2) as pool:  # prepare in workers, infer in this thread
            prepared = list(pool.map(onnx_pred.prepare, pics))
        piped = onnx_pred.infer(prepared)
    finally:
        onnx_pred.batch_size = 1
    for s, b, q in zip(singles, batched, piped, strict=True):
        np.testing.assert_array_equal(s.labels, b.labels)
        np.testing.assert_array_equal(s.labels, q.labels)
        np.testing.assert_allclose(s.confidence, b.confidence, atol=1e-5)


def test_resize_policies_return_labels_at_picture_size(fitted_card, torch_pred, val_full) -> None:
    from seggui.engine.card import InputSpec
    from seggui.engine.predictor import Predictor

    pic = val_full[0]
    full = torch_pred.predict(pic)
    base = fitted_card.input
    for resize, size in (("fixed", (96, 128)), ("max_side", 200), ("max_side", 1000)):
        spec = InputSpec(mean=base.mean, std=base.std, resize=resize, size=size, stride=8)
        p = Predictor(fitted_card.with_changes(input=spec), torch_pred.runner).predict(pic)
        assert p.labels.shape == pic.shape[:2] and p.confidence.shape == pic.shape[:2]
        if size == 1000:  # max_side never enlarges: same as no resize at all
            np.testing.assert_array_equal(p.labels, full.labels)
        else:  # reference: shrink with OpenCV, infer, resize the logits back with OpenCV, argmax
            hw = (96, 128) if resize == "fixed" else (150, 200)
            shrunk = cv2.resize(pic, hw[::-1], interpolation=cv2.INTER_AREA)
            logits = torch_pred.logits(shrunk).transpose(1, 2, 0)
            back = cv2.resize(logits, pic.shape[1::-1], interpolation=cv2.INTER_LINEAR)
            assert (p.labels == back.argmax(-1)).mean() > 0.999


def test_ort_probe_falls_back_to_cpu_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    ort_working_providers.cache_clear()
    providers = ort_working_providers()
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # ORT's provider errors never reach the user
    assert providers[-1] == "CPUExecutionProvider"
    if not torch_cuda_available():  # no GPU here: a listed CUDA/TensorRT provider must not count
        assert providers == ("CPUExecutionProvider",)
        assert available_devices() == {"torch": ["CPU"], "onnx": ["CPU"]}


@pytest.mark.skipif(torch_cuda_available(), reason="this machine has a GPU")
def test_asking_for_cuda_without_gpu_is_an_error(exported, fitted_card) -> None:
    with pytest.raises(BadInputError, match="CUDA was asked for"):
        load_predictor(fitted_card, backend="torch", device="cuda")
    with pytest.raises(BadInputError, match="ONNX Runtime cannot use it"):
        load_predictor(exported[1], backend="onnx", device="cuda")


def test_auto_backend(exported, fitted_card) -> None:
    if not torch_cuda_available():
        assert load_predictor(exported[1]).backend == "onnx"  # the card has an ONNX export
        assert load_predictor(fitted_card).backend == "torch"  # it has not
    int8 = load_predictor(exported[1], int8=True)
    assert int8.describe() == f"ONNX Runtime · {int8.device} · int8"


def _onnx_with_channels(path: Path, channels: int) -> Path:
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", channels, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", channels, "h", "w"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    save(model, str(path))
    return path


def test_onnx_not_three_channels_is_refused(tmp_path: Path) -> None:
    path = _onnx_with_channels(tmp_path / "gray.onnx", 1)
    with pytest.raises(BadInputError, match="1 channels; seggui feeds RGB") as err:
        OrtRunner(path, "cpu")
    assert err.value.path == path


def test_onnx_output_must_match_card(tmp_path: Path, fitted_card) -> None:
    """A 3-channel identity model 'predicts' 3 classes; the 12-class card refuses it at run time."""
    _onnx_with_channels(tmp_path / "m.onnx", 3)
    card = fitted_card.with_changes(folder=tmp_path, onnx="m.onnx", weights=None)
    pred = load_predictor(card, backend="onnx", device="cpu")
    with pytest.raises(BadInputError, match="declares 12 classes"):
        pred.predict(np.zeros((8, 8, 3), np.uint8))


def test_onnx_without_card_metadata(tmp_path: Path) -> None:
    path = _onnx_with_channels(tmp_path / "plain.onnx", 3)
    with pytest.raises(BadInputError, match="carries no seggui model card"):
        load_predictor(path)
    (tmp_path / "broken.onnx").write_bytes(b"not onnx")
    with pytest.raises(BadInputError, match="not a readable ONNX model"):
        load_predictor(tmp_path / "broken.onnx")


def test_missing_onnx_file_says_how_to_export(fitted_card) -> None:
    with pytest.raises(BadInputError, match="seggui export-onnx"):
        load_predictor(fitted_card, backend="onnx")
