"""Tiled inference: the plan, the blend, equality with whole-picture inference, bounded memory.

What "equal" can honestly mean: a tile's logits differ from the whole
picture's only within the network's receptive field of the tile's inner
edges (there it sees padding, not neighbours). The blend gives those pixels
no weight for `margin` pixels. So for a network whose receptive field fits
in the margin, tiled logits equal whole-picture logits to float rounding
(tested on a small-receptive-field net that down-samples by 4, which also
needs the stride-aligned tile starts). A deep net's receptive field is far
wider than any margin; for it the tested promise is argmax agreement on
>= 99.9% of the pixels.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
from engine_helpers import make_card
from torch import nn

from seggui.engine.card import InputSpec
from seggui.engine.postprocess import Summariser
from seggui.engine.predictor import Predictor
from seggui.engine.preprocess import padded_size, prepare
from seggui.engine.tiling import TilePlan, axis_starts, axis_window, run_tiled
from seggui.engine.torch_backend import TorchRunner
from seggui.engine.weights import load_model


@pytest.mark.parametrize("n", [1, 7, 64, 65, 100, 191, 192, 193, 500, 1000, 4097])
@pytest.mark.parametrize(("tile", "overlap", "stride"), [(64, 16, 8), (96, 48, 32), (128, 0, 32)])
def test_plan_covers_aligned_and_overlapping(n: int, tile: int, overlap: int, stride: int) -> None:
    starts = axis_starts(n, tile, overlap, stride)
    assert starts[0] == 0 and all(s % stride == 0 for s in starts)
    assert starts == sorted(set(starts))
    assert min(starts[-1] + tile, padded_size(n, stride)) >= n  # the last tile reaches the edge
    assert starts[-1] + tile <= max(padded_size(n, stride), tile)  # and is padded like a whole pass
    for a, b in zip(starts, starts[1:], strict=False):
        assert a + tile - b >= overlap  # neighbours overlap at least as asked


def test_window_zero_at_inner_edges_one_at_picture_edges() -> None:
    w = axis_window(0, 64, 200, margin=8, ramp=16)
    assert w[0] == 1 and (w[-8:] == 0).all() and (w[-9] > 0)
    w = axis_window(64, 128, 200, margin=8, ramp=16)
    assert (w[:8] == 0).all() and (w[-8:] == 0).all() and w[32] == 1
    # every pixel of a picture gets positive total weight
    plan = TilePlan.for_picture(1, 300, InputSpec(stride=8, tile_size=64, tile_overlap=32))
    total = np.zeros(300)
    for x in plan.xs:
        end = min(x + plan.tile, 300)
        total[x:end] += axis_window(x, end, 300, plan.margin, plan.ramp)
    assert (total > 0).all()


class SmallField(nn.Module):
    """A fully convolutional net that down-samples by 4; receptive field radius about 9 pixels."""

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Conv2d(8, classes, 1)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = torch.relu(self.a(x))
        y = nn.functional.avg_pool2d(y, 2)
        y = torch.relu(self.b(y))
        y = nn.functional.avg_pool2d(y, 2)
        return self.head(nn.functional.interpolate(y, scale_factor=4, mode="nearest"))


def _small_field_predictor(fitted_card, tile: int, overlap: int) -> Predictor:
    torch.manual_seed(0)
    classes = [{"id": i, "name": f"c{i}", "color": [i * 40, 0, 0]} for i in range(5)]
    table = {"name": "five", "classes": classes}
    card = fitted_card.with_changes(num_classes=5, classes_spec=table,
                                    input=InputSpec(stride=4, tile_size=tile, tile_overlap=overlap))
    return Predictor(card, TorchRunner(SmallField(), "cpu"))


def test_tiled_equals_whole_for_small_receptive_field(fitted_card, val_full) -> None:
    pic = val_full[0][:301, :437]  # sizes that are not multiples of anything
    pred = _small_field_predictor(fitted_card, tile=96, overlap=48)  # margin 12 >= receptive field
    assert TilePlan.for_picture(301, 437, pred.card.input).n_tiles >= 20
    whole, tiled = pred.logits(pic, tile=False), pred.logits(pic, tile=True)
    np.testing.assert_allclose(tiled, whole, atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(pred.predict(pic, tile=True).labels, pred.predict(pic, tile=False).labels)
    # the margin is what makes it exact: with a margin below the receptive field it is not
    narrow = _small_field_predictor(fitted_card, tile=96, overlap=8)
    assert np.abs(narrow.logits(pic, tile=True) - whole).max() > 1e-3


def test_tiled_agrees_with_whole_for_deep_net(fitted_card, val_full) -> None:
    runner = TorchRunner(load_model(fitted_card), "cpu")
    spec = fitted_card.input
    card = fitted_card.with_changes(input=InputSpec(mean=spec.mean, std=spec.std, stride=8, tile_size=192,
                                                    tile_overlap=96))
    pred = Predictor(card, runner)
    same = total = 0
    for pic in val_full:
        a, b = pred.predict(pic, tile=False).labels, pred.predict(pic, tile=True).labels
        same, total = same + int((a == b).sum()), total + a.size
    assert same / total >= 0.999


class Fake:
    """A cheap backend: logits are channel means scaled by class index (no network)."""

    backend, device, precision, threads = "fake", "CPU", "fp32", None

    def __init__(self, classes: int) -> None:
        self.classes = classes

    def run(self, batch: np.ndarray) -> np.ndarray:
        base = batch.mean(1, keepdims=True)
        return base * np.arange(1, self.classes + 1, dtype=np.float32)[None, :, None, None]

    def close(self) -> None:
        pass


def test_strips_arrive_in_order_and_memory_is_bounded() -> None:
    h, w, classes = 6000, 300, 12
    spec = InputSpec(stride=32, tile_size=256, tile_overlap=64)
    pic = np.random.default_rng(0).integers(0, 256, (h, w, 3), np.uint8)
    seen: list[tuple[int, int]] = []
    out = Summariser((h, w), np.uint8, True, False)

    def emit(y0: int, strip: np.ndarray) -> None:
        seen.append((y0, strip.shape[1]))
        out.add(y0, strip)

    fake = Fake(classes)
    tracemalloc.start()
    run_tiled(pic, spec, classes, fake.run, emit)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows = [y for y0, n in seen for y in range(y0, y0 + n)]
    assert rows == list(range(h))  # every row exactly once, top to bottom
    plan = TilePlan.for_picture(h, w, spec)
    full = classes * h * w * 4
    assert peak < 2 * plan.peak_bytes(classes) and peak < full / 5
    # the fake's logits are linear in the picture, so blending is exact: compare with whole-picture
    whole = Summariser((h, w), np.uint8, True, False)
    prep = prepare(pic, spec, tile=False)
    whole.add(0, fake.run(prep.tensor[None])[0, :, :h, :w])
    np.testing.assert_array_equal(out.labels, whole.labels)
    np.testing.assert_allclose(out.confidence, whole.confidence, atol=1e-5)


def test_huge_picture_is_planned_not_materialised() -> None:
    """20000x20000: preparing allocates nothing, and tiling memory does not grow with height."""
    spec = InputSpec()  # tile 1024, overlap 128, stride 32
    tracemalloc.start()
    pic = np.zeros((20000, 20000, 3), np.uint8)  # calloc'd: pages are not touched
    prep = prepare(pic, spec)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert prep.tensor is None and prep.work is pic  # handed to the tiler untouched
    assert peak - pic.nbytes < 1_000_000
    tall = TilePlan.for_picture(20000, 20000, spec)
    short = TilePlan.for_picture(2000, 20000, spec)
    assert tall.peak_bytes(12) == short.peak_bytes(12)  # bounded by the band, not the height
    assert tall.peak_bytes(12) < 12 * 20000 * 20000 * 4 / 15
    assert tall.n_tiles == len(tall.ys) ** 2 and len(tall.ys) == 23


def test_one_pixel_picture_through_the_tiler(tmp_path) -> None:  # noqa: ANN001
    pred = Predictor(make_card(tmp_path / "c"), Fake(12))
    for tile in (True, False, None):
        p = pred.predict(np.full((1, 1, 3), 200, np.uint8), tile=tile)
        assert p.labels.shape == (1, 1) and p.confidence.shape == (1, 1)


@pytest.mark.parametrize(("shape", "out_hw"), [((12, 240, 320), (360, 480)), ((3, 17, 29), (100, 61)),
                                               ((2, 100, 80), (37, 45))])
def test_resampled_logits_whole_by_opencv_equal_the_numpy_strips(shape, out_hw, monkeypatch) -> None:  # noqa: ANN001
    """Small outputs are resampled whole by OpenCV (fast); huge ones by bounded strips: the same figures."""
    from seggui.engine import postprocess as pp

    logits = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    fast = pp.Summariser(out_hw, np.uint8, True, True)
    pp.summarise_resized(logits, fast, out_hw)
    monkeypatch.setattr(pp, "WHOLE_BYTES", 0)  # as for an output too large to hold whole
    strips = pp.Summariser(out_hw, np.uint8, True, True)
    pp.summarise_resized(logits, strips, out_hw)
    assert fast.labels.shape == out_hw and (fast.labels == strips.labels).mean() > 0.9999
    assert np.abs(fast.confidence - strips.confidence).max() < 1e-5
    assert np.abs(fast.entropy - strips.entropy).max() < 1e-5
