"""What changes over a run: the learning rate, the loss stage, and when to stop.

- `make_lr_scheduler`: ``onecycle`` (cosine, 30% warm-up by default, stepped
  every batch), ``plateau`` (halve the rate when validation mIoU has not
  improved for `patience` epochs, stepped every epoch), ``budget`` (cosine over a
  time budget or the planned steps, whichever ends first: seggui.training.budget)
  or ``constant``.
- `Plateau`: "has the metric stopped improving?" — the one rule behind early
  stopping, loss-stage switching and nothing else, so they cannot disagree.
- `StagedLoss`: a list of loss specs (e.g. bce -> iou -> symdiff, the schedule
  that won a parking-area segmentation challenge). Training starts on the
  first; when validation stalls for `patience` epochs the next one takes
  over. Early stopping only fires in the last stage: a stage switch is the
  cure for a plateau, not a reason to quit.

All three keep their state in plain dicts (`state_dict`) so a resumed run
continues exactly where it stopped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from seggui.core.errors import BadInputError
from seggui.training.budget import BudgetLR
from seggui.training.losses import build_loss

LR_SCHEDULES = ("onecycle", "plateau", "budget", "constant")


@dataclass
class Plateau:
    """Tracks the best value of a metric to maximise and the epochs since it improved.

    An improvement must beat the best by more than `min_delta`. `stalled` is
    true once `patience` epochs in a row brought none.
    """

    patience: int
    min_delta: float = 0.0
    best: float = -math.inf
    bad_epochs: int = 0

    def step(self, value: float) -> bool:
        """Record an epoch's value; True when it is a new best."""
        if not math.isnan(value) and value > self.best + self.min_delta:
            self.best = float(value)
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def stalled(self) -> bool:
        return self.patience > 0 and self.bad_epochs >= self.patience

    def reset_wait(self) -> None:
        """Start counting patience afresh (keeps the best value)."""
        self.bad_epochs = 0

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.bad_epochs = float(state["best"]), int(state["bad_epochs"])


class StagedLoss:
    """Losses used in turn, switching when validation stalls (see the module docstring)."""

    def __init__(
        self,
        stages: list[str | dict[str, Any]],
        ignore_index: int | None,
        class_weights: torch.Tensor | None = None,
        patience: int = 3,
        min_delta: float = 0.0,
    ) -> None:
        if not stages:
            raise BadInputError(None, "a staged loss needs at least one stage")
        self.specs = list(stages)
        self.modules: list[nn.Module] = [build_loss(s, ignore_index, class_weights) for s in self.specs]
        self.stage = 0
        self.wait = Plateau(patience, min_delta)

    @property
    def current(self) -> nn.Module:
        return self.modules[self.stage]

    @property
    def last_stage(self) -> bool:
        return self.stage == len(self.modules) - 1

    def describe(self) -> str:
        return self.current.describe()  # type: ignore[operator]

    def step(self, metric: float) -> bool:
        """Feed an epoch's validation metric; True when the loss switched to the next stage.

        The best value carries over a switch: the new stage must beat what the
        old one reached, but gets its full patience to do so.
        """
        self.wait.step(metric)
        if self.wait.stalled and not self.last_stage:
            self.stage += 1
            self.wait.reset_wait()
            return True
        return False

    def to(self, device: torch.device) -> StagedLoss:
        for m in self.modules:
            m.to(device)
        return self

    def state_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "wait": self.wait.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stage = int(state["stage"])
        self.wait.load_state_dict(state["wait"])


def make_lr_scheduler(
    kind: str,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    steps_per_epoch: int,
    warmup: float = 0.3,
    patience: int = 3,
) -> torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau | BudgetLR | None:
    """The learning-rate schedule; None for ``constant``.

    OneCycle's peak is the optimizer's configured rate; it starts at peak/25
    and ends near zero. ``budget`` is stepped by the loop with the run's
    progress (BudgetLR.step), `warmup` being the share of it spent warming up.
    """
    if kind == "constant":
        return None
    if kind == "budget":
        return BudgetLR(optimizer, warmup)
    if kind == "onecycle":
        peaks = [g["lr"] for g in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=peaks, total_steps=max(1, epochs * steps_per_epoch), pct_start=warmup,
            anneal_strategy="cos",
        )
    if kind == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=0.5, patience=patience
        )
    raise BadInputError(None, f"unknown learning-rate schedule {kind!r} (one of {', '.join(LR_SCHEDULES)})")


def make_optimizer(name: str, params: Any, lr: float, weight_decay: float = 1e-4,
                   momentum: float = 0.9) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD (with Nesterov momentum)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)
    raise BadInputError(None, f"unknown optimizer {name!r} (one of adam, adamw, sgd)")
