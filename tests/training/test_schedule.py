"""Plateau detection, the staged loss switching, and the learning-rate schedules."""

from __future__ import annotations

import math

import pytest
import torch

from seggui.core.errors import BadInputError
from seggui.training.schedule import Plateau, StagedLoss, make_lr_scheduler, make_optimizer


def test_plateau_counts_epochs_without_improvement() -> None:
    p = Plateau(patience=2, min_delta=0.01)
    assert p.step(0.5) is True
    assert p.step(0.505) is False  # within min_delta: not an improvement
    assert not p.stalled
    assert p.step(math.nan) is False
    assert p.stalled
    assert p.step(0.6) is True and not p.stalled and p.best == 0.6
    state = p.state_dict()
    q = Plateau(patience=2)
    q.load_state_dict(state)
    assert (q.best, q.bad_epochs) == (0.6, 0)
    assert not Plateau(patience=0, bad_epochs=99).stalled  # patience 0: never stalls


def test_staged_loss_switches_bce_iou_symdiff_on_plateau() -> None:
    staged = StagedLoss(["bce", "iou", "symdiff"], ignore_index=255, patience=2)
    seen = []
    for miou in [0.50, 0.60, 0.60, 0.59, 0.65, 0.64, 0.64, 0.70, 0.60, 0.60, 0.60]:
        switched = staged.step(miou)
        seen.append((staged.describe(), switched))
    names = [n for n, _ in seen]
    # bce until two epochs bring nothing (epochs 3, 4), iou from then; 0.65 beats 0.60 under iou,
    # two flat epochs later symdiff takes over; it is the last stage, so it stays
    assert names == ["bce", "bce", "bce", "iou", "iou", "iou", "symdiff", "symdiff", "symdiff", "symdiff",
                     "symdiff"]
    assert [i + 1 for i, (_, sw) in enumerate(seen) if sw] == [4, 7]
    assert staged.last_stage and staged.wait.best == 0.70
    # the state survives a resume
    other = StagedLoss(["bce", "iou", "symdiff"], ignore_index=255, patience=2)
    other.load_state_dict(staged.state_dict())
    assert other.describe() == "symdiff" and other.wait.best == 0.70


def test_staged_loss_modules_compute() -> None:
    staged = StagedLoss(["ce+dice", {"focal": {"gamma": 1}}], ignore_index=255)
    logits, target = torch.zeros(1, 2, 2, 2), torch.tensor([[[0, 1], [1, 255]]])
    assert float(staged.current(logits, target)) > 0
    with pytest.raises(BadInputError):
        StagedLoss([], ignore_index=255)


def _opt(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)


def test_onecycle_warms_up_for_30_percent_then_anneals() -> None:
    opt = _opt(0.1)
    sched = make_lr_scheduler("onecycle", opt, epochs=2, steps_per_epoch=10, warmup=0.3)
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.1 / 25)
    peak = max(range(20), key=lambda i: lrs[i])
    # the rate climbs over the first 30% of the 20 steps (steps 0..5) and peaks on step 5
    assert peak == 5 and lrs[peak] == pytest.approx(0.1, rel=1e-3)
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1], strict=True))
    assert all(a >= b for a, b in zip(lrs[peak:-1], lrs[peak + 1:], strict=True))
    assert lrs[-1] < 0.01


def test_plateau_schedule_halves_the_rate() -> None:
    opt = _opt(0.1)
    sched = make_lr_scheduler("plateau", opt, epochs=10, steps_per_epoch=5, patience=1)
    for miou in (0.5, 0.5, 0.5):
        sched.step(miou)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)
    assert make_lr_scheduler("constant", opt, 1, 1) is None
    with pytest.raises(BadInputError, match="unknown learning-rate schedule"):
        make_lr_scheduler("cyclic", opt, 1, 1)


def test_optimizers() -> None:
    params = [torch.nn.Parameter(torch.zeros(2))]
    assert isinstance(make_optimizer("adam", params, 1e-3), torch.optim.Adam)
    assert isinstance(make_optimizer("adamw", params, 1e-3), torch.optim.AdamW)
    sgd = make_optimizer("sgd", params, 1e-2)
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["nesterov"]
    with pytest.raises(BadInputError, match="unknown optimizer"):
        make_optimizer("lion", params, 1e-3)
