"""Every loss against a hand computation on four pixels (one of them ignored).

Two classes; the softmax probability of class 1 is p1 = [0.8, 0.3, 0.4, 0.9]
(logits are log-probabilities, so softmax returns them exactly); the target
is [1, 0, 1, ignore]. Over the three valid pixels, per class:

    class 1: g = [1, 0, 1], p = [0.8, 0.3, 0.4] -> I = 1.2, P = 1.5, G = 2, U = 2.3
    class 0: g = [0, 1, 0], p = [0.2, 0.7, 0.6] -> I = 0.7, P = 1.5, G = 1, U = 1.8
"""

from __future__ import annotations

import math

import pytest
import torch

from seggui.core.errors import BadInputError
from seggui.training.losses import build_loss, lovasz_grad, make_loss, parse_loss_spec

IGN = 255
P1 = [0.8, 0.3, 0.4, 0.9]


def _case() -> tuple[torch.Tensor, torch.Tensor]:
    p1 = torch.tensor(P1, dtype=torch.float64)
    logits = torch.stack([torch.log(1 - p1), torch.log(p1)]).reshape(1, 2, 1, 4).float()
    target = torch.tensor([[[1, 0, 1, IGN]]])
    return logits, target


def _loss(name: str, **params) -> float:
    logits, target = _case()
    return float(make_loss(name, params, IGN)(logits, target))


def test_cross_entropy_weighted_mean_skips_ignore() -> None:
    logits, target = _case()
    got = float(make_loss("ce", {}, IGN, torch.tensor([2.0, 1.0]))(logits, target))
    want = (-math.log(0.8) - 2 * math.log(0.7) - math.log(0.4)) / (1 + 2 + 1)
    assert got == pytest.approx(want, rel=1e-5)
    plain = (-math.log(0.8) - math.log(0.7) - math.log(0.4)) / 3
    assert _loss("ce") == pytest.approx(plain, rel=1e-5)


def test_dice() -> None:
    want = 1 - ((2 * 1.2 + 1) / (1.5 + 2 + 1) + (2 * 0.7 + 1) / (1.5 + 1 + 1)) / 2
    assert _loss("dice") == pytest.approx(want, rel=1e-5)


def test_jaccard() -> None:
    want = 1 - ((1.2 + 1) / (2.3 + 1) + (0.7 + 1) / (1.8 + 1)) / 2
    assert _loss("jaccard") == pytest.approx(want, rel=1e-5)
    assert _loss("iou", smooth=0.0) == pytest.approx(1 - (1.2 / 2.3 + 0.7 / 1.8) / 2, rel=1e-5)


def test_tversky() -> None:
    # class 1: FP = 0.3, FN = 0.8; class 0: FP = 0.8, FN = 0.3; alpha 0.3 on FP, beta 0.7 on FN
    c1 = (1.2 + 1) / (1.2 + 0.3 * 0.3 + 0.7 * 0.8 + 1)
    c0 = (0.7 + 1) / (0.7 + 0.3 * 0.8 + 0.7 * 0.3 + 1)
    assert _loss("tversky") == pytest.approx(1 - (c1 + c0) / 2, rel=1e-5)
    # a = b = 1/2 is Dice (equal without smoothing, which the two add differently)
    assert _loss("tversky", alpha=0.5, beta=0.5, smooth=0.0) == pytest.approx(_loss("dice", smooth=0.0))


def test_symmetric_difference() -> None:
    # (U - I) = 1.1 for both classes; V = 3 valid pixels, smooth 1
    assert _loss("symdiff") == pytest.approx((1.1 / 4 + 1.1 / 4) / 2, rel=1e-5)
    # hard masks: prediction [1, 1, 0] vs truth [1, 0, 1] disagree on 2 pixels per class
    hard = torch.tensor([[[[-50.0, -50.0, 50.0]], [[50.0, 50.0, -50.0]]]])
    got = float(make_loss("symdiff", {"smooth": 0.0}, IGN)(hard, torch.tensor([[[1, 0, 1]]])))
    assert got == pytest.approx(2 / 3, rel=1e-5)


def test_focal() -> None:
    pt = [0.8, 0.7, 0.4]
    want = sum(-((1 - p) ** 2) * math.log(p) for p in pt) / 3
    assert _loss("focal") == pytest.approx(want, rel=1e-5)
    assert _loss("focal", gamma=0.0) == pytest.approx(_loss("ce"), rel=1e-5)


def test_lovasz_softmax() -> None:
    # class 1: errors sorted [0.6 (g1), 0.3 (g0), 0.2 (g1)], Jaccard increments [1/2, 1/6, 1/3]
    # class 0: errors sorted [0.6 (g0), 0.3 (g1), 0.2 (g0)], Jaccard increments [1/2, 1/2, 0]
    c1 = 0.6 / 2 + 0.3 / 6 + 0.2 / 3
    c0 = 0.6 / 2 + 0.3 / 2
    assert _loss("lovasz") == pytest.approx((c1 + c0) / 2, rel=1e-5)
    g = torch.tensor([1.0, 0.0, 1.0])
    torch.testing.assert_close(lovasz_grad(g), torch.tensor([0.5, 1 / 6, 1 / 3]))


def test_lovasz_equals_jaccard_loss_on_hard_predictions() -> None:
    hard = torch.tensor([[[[-50.0, -50.0, 50.0]], [[50.0, 50.0, -50.0]]]])  # predicts [1, 1, 0]
    target = torch.tensor([[[1, 0, 1]]])
    got = float(make_loss("lovasz", {}, IGN)(hard, target))
    # class 1: IoU 1/3; class 0: IoU 0 -> mean of (1 - IoU)
    assert got == pytest.approx(((1 - 1 / 3) + 1) / 2, rel=1e-5)


def test_bce_for_two_class_models() -> None:
    want = -(math.log(0.8) + math.log(0.7) + math.log(0.4)) / 3
    assert _loss("bce") == pytest.approx(want, rel=1e-5)
    assert _loss("bce") == pytest.approx(_loss("ce"), rel=1e-5)  # 2-channel BCE is 2-class CE
    weighted = -(3 * math.log(0.8) + math.log(0.7) + 3 * math.log(0.4)) / 3
    assert _loss("bce", pos_weight=3.0) == pytest.approx(weighted, rel=1e-5)
    logits, target = _case()
    one_channel = (logits[:, 1:] - logits[:, :1])
    assert float(make_loss("bce", {}, IGN)(one_channel, target)) == pytest.approx(want, rel=1e-5)
    with pytest.raises(BadInputError, match="1 or 2 output classes"):
        make_loss("bce", {}, IGN)(torch.zeros(1, 3, 1, 4), target)


@pytest.mark.parametrize("name", ["ce", "dice", "jaccard", "tversky", "focal", "lovasz", "bce", "symdiff"])
def test_ignored_pixels_change_nothing(name: str) -> None:
    logits, target = _case()
    logits.requires_grad_(True)
    loss = make_loss(name, {}, IGN)(logits, target)
    loss.backward()
    assert torch.all(logits.grad[..., 3] == 0)
    moved = logits.detach().clone()
    moved[..., 3] = torch.tensor([[5.0], [-5.0]])
    assert float(make_loss(name, {}, IGN)(moved, target)) == pytest.approx(loss.item(), rel=1e-6)


def test_loss_specs() -> None:
    assert parse_loss_spec("ce+0.5*dice") == [("ce", 1.0, {}), ("dice", 0.5, {})]
    spec = {"focal": {"gamma": 1, "weight": 0.25}, "lovasz": 2}
    assert parse_loss_spec(spec) == [("focal", 0.25, {"gamma": 1}), ("lovasz", 2.0, {})]
    combo = build_loss("ce+0.5*dice", IGN)
    assert combo.describe() == "ce+0.5*dice"
    logits, target = _case()
    assert float(combo(logits, target)) == pytest.approx(_loss("ce") + 0.5 * _loss("dice"), rel=1e-5)
    for bad in ("ce+", "2*", "ce++dice"):
        with pytest.raises(BadInputError):
            parse_loss_spec(bad)
    with pytest.raises(BadInputError, match="unknown loss"):
        build_loss("hinge", IGN)
    with pytest.raises(BadInputError, match="bad settings"):
        build_loss({"dice": {"gamma": 2}}, IGN)
