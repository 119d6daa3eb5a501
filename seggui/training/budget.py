"""A wall-clock budget for a training run, and the learning rate that fits in it.

Why: a retrain on a handful of corrections is something the analyst waits
for. A fixed number of epochs takes 3 minutes on one machine and 20 s on
another; a budget (``time_budget_s``) says instead how long the analyst is
willing to wait, and the run makes the most of that time. The run stops
between two steps once the budget is spent, validates the epoch it was in
(so those steps count), and keeps the card of the best epoch, as always.

`Budget` measures training time only (steps and validation), not set-up;
a resumed run continues with what was left, from its checkpoint. Its clock
is the wall clock by default (what the analyst waits for), or with
``budget_clock: cpu`` the process's own CPU seconds (all its threads): on a
machine shared with other jobs that gives every run of a comparison the same
work, whatever the load (data-loader worker processes are not counted, so
such runs use ``workers: 0``).

`BudgetLR` (``schedule: budget``) is a cosine schedule over the run's
progress, the larger of the share of the budget spent and the share of the
planned steps done: the rate warms up over the first `warmup` of it, then
decays to `FLOOR` of the peak by the end, whichever limit comes first. A
onecycle schedule cannot serve a budgeted run: its length is fixed in steps,
so a run cut short by the clock would stop in its warm-up, at a low rate.
A budgeted run is not step-for-step repeatable (how far it gets depends on
the machine's load); the epoch records say how long each took.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

FLOOR = 0.05  # the budget schedule ends at this share of the peak rate
CLOCKS = ("wall", "cpu")  # budget_clock values: time.perf_counter, time.process_time


class Budget:
    """Seconds of training spent against an optional limit (None: no limit, only measured)."""

    def __init__(self, limit_s: float | None, spent_s: float = 0.0, clock: str = "wall") -> None:
        if clock not in CLOCKS:
            raise ValueError(f"budget clock must be one of {', '.join(CLOCKS)}, not {clock!r}")
        self.limit_s = float(limit_s) if limit_s else None
        self.spent_before = float(spent_s)  # by earlier sessions of a resumed run
        self.clock = clock
        self.t0: float | None = None

    def _now(self) -> float:
        return time.process_time() if self.clock == "cpu" else time.perf_counter()

    def start(self) -> None:
        """Start the clock (when the first step begins, after the set-up)."""
        if self.t0 is None:
            self.t0 = self._now()

    @property
    def spent_s(self) -> float:
        now = self._now() - self.t0 if self.t0 is not None else 0.0
        return self.spent_before + now

    @property
    def left_s(self) -> float | None:
        return None if self.limit_s is None else max(0.0, self.limit_s - self.spent_s)

    @property
    def exhausted(self) -> bool:
        return self.limit_s is not None and self.spent_s >= self.limit_s

    def fraction(self) -> float:
        """Share of the budget spent, 0..1 (0 without a limit)."""
        return 0.0 if self.limit_s is None else min(1.0, self.spent_s / self.limit_s)


def budget_factor(progress: float, warmup: float) -> float:
    """The rate as a share of the peak at `progress` (0..1): linear warm-up, then cosine to FLOOR."""
    p = min(1.0, max(0.0, progress))
    if warmup > 0 and p < warmup:
        return FLOOR + (1.0 - FLOOR) * p / warmup
    rest = (p - warmup) / max(1e-9, 1.0 - warmup)
    return FLOOR + (1.0 - FLOOR) * 0.5 * (1.0 + math.cos(math.pi * rest))


class BudgetLR:
    """Sets each parameter group's rate from the run's progress (see the module docstring)."""

    def __init__(self, optimizer: torch.optim.Optimizer, warmup: float) -> None:
        self.optimizer = optimizer
        self.warmup = float(warmup)
        self.peaks = [float(g["lr"]) for g in optimizer.param_groups]
        self.step(0.0)

    def step(self, progress: float) -> None:
        f = budget_factor(progress, self.warmup)
        for group, peak in zip(self.optimizer.param_groups, self.peaks, strict=True):
            group["lr"] = peak * f

    def state_dict(self) -> dict[str, Any]:
        return {"peaks": self.peaks, "warmup": self.warmup}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.peaks = [float(v) for v in state["peaks"]]
        self.warmup = float(state["warmup"])
