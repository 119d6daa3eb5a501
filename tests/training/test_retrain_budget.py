"""The time budget of a run and the budgeted retrain: the clock stops the run, passes group epochs,
the schedule follows the budget, the card says what was done, resume and cancel still work."""

from __future__ import annotations

import json
import os
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from seggui.core.errors import BadInputError, Cancelled
from seggui.core.images import write_image
from seggui.core.jobs import CancelToken, Progress, run_job
from seggui.core.workspace import FrameStatus, Workspace
from seggui.engine.card import ModelCard
from seggui.engine.weights import load_state_dict
from seggui.training import budget as budget_mod
from seggui.training.budget import FLOOR, Budget, BudgetLR, budget_factor
from seggui.training.checkpoint import load_checkpoint
from seggui.training.config import TrainConfig
from seggui.training.retrain import plan_retrain, retrain_job
from seggui.training.retrain_budget import (
    BUDGET_MIN_STEPS,
    DEFAULT_BUDGET_S,
    MAX_PASSES,
    VAL_SHARE,
    budget_settings,
    passes_for,
)
from seggui.training.retrain_versions import compare_models
from tests.training.test_loop import _run
from tests.training.test_retrain import CHILD_ENV, tiny_card


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The budget's clock advances 10 s each time it is read: runs stop by the budget on any machine."""
    now = [0.0]

    def tick() -> float:
        now[0] += 10.0
        return now[0]

    monkeypatch.setattr(budget_mod, "time", types.SimpleNamespace(perf_counter=tick, process_time=tick))
    return now


def test_budget_counts_only_after_start_and_carries_what_was_spent(fake_clock: list[float]) -> None:
    b = Budget(60.0, spent_s=15.0)
    assert b.spent_s == 15.0 and not b.exhausted  # not started: the clock is not read
    b.start()
    # each reading moves the clock 10 s on: spent 15 + 10, then + 20, + 30, + 40, + 50
    assert b.spent_s == 25.0 and b.left_s == 25.0 and b.fraction() == pytest.approx(45 / 60)
    assert not b.exhausted and b.exhausted
    free = Budget(None)
    free.start()
    assert free.left_s is None and not free.exhausted and free.fraction() == 0.0


def test_cpu_budget_counts_this_process_cpu_seconds_not_the_wall_clock() -> None:
    cpu, wall = Budget(100.0, clock="cpu"), Budget(100.0)
    cpu.start(), wall.start()
    time.sleep(0.3)  # the wall clock moves, this process's CPU time hardly does
    assert wall.spent_s >= 0.3 and cpu.spent_s < 0.15
    with pytest.raises(ValueError, match="wall, cpu"):
        Budget(1.0, clock="gpu")
    with pytest.raises(BadInputError, match="budget_clock"):
        TrainConfig.from_dict({"budget_clock": "gpu"})


def test_budget_schedule_warms_up_then_decays_to_the_floor() -> None:
    assert budget_factor(0.0, 0.1) == pytest.approx(FLOOR)
    assert budget_factor(0.1, 0.1) == pytest.approx(1.0)
    assert budget_factor(0.55, 0.1) == pytest.approx((1 + FLOOR) / 2)
    assert budget_factor(1.0, 0.1) == pytest.approx(FLOOR) == budget_factor(3.0, 0.1)
    values = [budget_factor(p / 20, 0.1) for p in range(2, 21)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))  # never rises after warm-up
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    sched = BudgetLR(opt, 0.1)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2 * FLOOR)
    sched.step(0.1)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2)
    again = BudgetLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=9.0), 0.5)
    again.load_state_dict(sched.state_dict())
    assert again.peaks == [0.2] and again.warmup == 0.1


def test_passes_keep_validation_a_small_share_of_training() -> None:
    assert passes_for(0, 100) == 1 and passes_for(100, 0) == 1
    assert passes_for(3 * 512 * 512, 667 * 750) == 1  # Houston: three 512 crops a pass, one validation half
    assert passes_for(3 * 256 * 256, 667 * 750) == 4  # ... three 256 crops: validate every 4 steps
    many = passes_for(4 * 96 * 128, 20 * 96 * 128)  # 4 corrections, 20 validation frames
    assert many > 1 and 20 / (3 * 4 * many) <= VAL_SHARE < 20 / (3 * 4 * (many - 1))
    assert passes_for(1, 10**9) == MAX_PASSES
    assert budget_settings(None, 40, 10, 10) == {} and budget_settings(0, 40, 10, 10) == {}
    s = budget_settings(40, 40, 4 * 96 * 128, 20 * 96 * 128)
    assert s["schedule"] == "budget" and s["time_budget_s"] == 40.0 and s["passes"] == many
    assert s["epochs"] * many >= 40  # the planned passes, regrouped
    with pytest.raises(BadInputError, match="time_budget_s"):
        TrainConfig.from_dict({"time_budget_s": -1})
    with pytest.raises(BadInputError, match="passes"):
        TrainConfig.from_dict({"passes": 0})


@pytest.mark.slow
def test_passes_group_the_same_batches_into_fewer_validations(toy_config: dict, tmp_path: Path) -> None:
    cfg = {**toy_config, "schedule": "constant", "augment": "basic"}
    one, p1 = _run({**cfg, "epochs": 2, "out": str(tmp_path / "one")})
    two, p2 = _run({**cfg, "epochs": 1, "passes": 2, "out": str(tmp_path / "two")})
    assert one.epochs_run == 2 and two.epochs_run == 1
    assert [p.data["steps"] for p in p2 if p.data.get("event") == "setup"] == [8]  # 2 x (8 pairs / batch 2)
    a = load_checkpoint(tmp_path / "one" / "train" / "last.pt")["model"]
    b = load_checkpoint(tmp_path / "two" / "train" / "last.pt")["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # pass k = sub-epoch k


@pytest.mark.slow
def test_budget_stops_the_run_validates_the_cut_epoch_and_the_card_says_so(
        toy_config: dict, tmp_path: Path, fake_clock: list[float]) -> None:
    out = tmp_path / "out"
    result, progress = _run({**toy_config, "epochs": 50, "steps_per_epoch": 3, "schedule": "budget",
                             "warmup": 0.1, "time_budget_s": 200, "out": str(out)})
    assert result.status == "time-budget" and 1 <= result.epochs_run < 50
    last = result.history[-1]
    assert last["miou"] is not None and last["elapsed_s"] >= 200 and last["process_cpu_s"] > 0
    steps = [p.data for p in progress if p.data.get("event") == "step"]
    assert all("budget_left_s" in s for s in steps) and steps[-1]["budget_left_s"] == 0.0
    card = ModelCard.load(out)
    assert card.training["status"] == "time-budget" and card.training["train_s"] >= 200
    assert card.training["config"]["time_budget_s"] == 200
    assert card.training["epochs_run"] == result.epochs_run and card.training["best_epoch"] is not None
    lrs = [r["lr"] for r in result.history]
    assert max(lrs) <= toy_config["lr"] + 1e-12


@pytest.mark.slow
def test_budgeted_run_cancelled_then_resumed_spends_only_what_is_left(
        toy_config: dict, tmp_path: Path, fake_clock: list[float]) -> None:
    cfg = {**toy_config, "epochs": 50, "steps_per_epoch": 2, "schedule": "budget", "time_budget_s": 400,
           "out": str(tmp_path / "run")}
    token = CancelToken()

    def cancel_after_first_epoch(p: Progress) -> None:
        if p.data.get("event") == "epoch":
            token.cancel()

    with pytest.raises(Cancelled):
        _run(cfg, token, cancel_after_first_epoch)
    ck = load_checkpoint(tmp_path / "run" / "train" / "last.pt")
    assert ck["epoch"] == 1 and 0 < ck["train_s"] < 400
    assert ModelCard.load(tmp_path / "run").training["status"] == "cancelled"
    resumed, progress = _run({**cfg, "resume": True})
    assert resumed.status == "time-budget"
    epochs = [p.data for p in progress if p.data.get("event") == "epoch"]
    assert epochs[0]["epoch"] == 2 and epochs[0]["elapsed_s"] > ck["train_s"]
    assert resumed.history[-1]["elapsed_s"] >= 400


# ------------------------------------------------------------------ retrain: the child process

def _box_workspace(root: Path, card: Path, n_train: int = 4, n_val: int = 2) -> Workspace:
    """Grey 64x96 pictures with a yellow box (parking-2: the box is parking); corrections and truth."""
    rng = np.random.default_rng(5)
    ws = Workspace.create(root, "parking-2", model=str(card))
    for i in range(n_train + n_val):
        img = rng.integers(80, 140, (64, 96, 3), dtype=np.uint8)
        mask = np.zeros((64, 96), np.uint8)
        h, w = rng.integers(16, 40, 2)
        y, x = rng.integers(0, 64 - h), rng.integers(0, 96 - w)
        img[y:y + h, x:x + w] = (230, 200, 30)
        mask[y:y + h, x:x + w] = 1
        fid = ws.add_image(write_image(root / "pictures" / f"p{i}.png", img)).id
        if i < n_train:
            ws.write_mask(fid, "corrected", mask, save=False)
        else:
            ws.write_mask(fid, "ground_truth", mask, save=False)
    ws.save()
    return ws


@pytest.mark.slow
def test_default_retrain_has_a_budget_trains_and_improves(tmp_path: Path) -> None:
    card = tiny_card(tmp_path / "cards" / "tiny-park", "tiny-park", "parking-2", 2)
    ws = _box_workspace(tmp_path / "ws", card)
    assert len(ws.frames_with_status(FrameStatus.CORRECTED)) == 4
    plan = plan_retrain(ws, device="cpu")
    saved = json.loads(plan.config_path.read_text())
    assert saved["time_budget_s"] == DEFAULT_BUDGET_S and saved["schedule"] == "budget"
    assert saved["passes"] >= 1 and saved["epochs"] * saved["passes"] >= BUDGET_MIN_STEPS
    result = run_job(retrain_job(plan, env=CHILD_ENV))
    assert result.status in ("finished", "time-budget")
    cmp = run_job(compare_models(ws, plan.parent, result.card_dir, plan.val_ids, "torch", "cpu"))
    assert cmp.new_miou > cmp.old_miou  # a random-init card learns the yellow boxes
    new = ModelCard.load(result.card_dir)
    assert new.training["config"]["time_budget_s"] == DEFAULT_BUDGET_S and new.training["train_s"] > 0
    assert all("elapsed_s" in e and "process_cpu_s" in e for e in result.epochs)
    cores = len(os.sched_getaffinity(0))
    assert all(isinstance(e["threads"], int) and 1 <= e["threads"] <= cores for e in result.epochs)
    assert load_state_dict(result.card_dir / "weights.safetensors")


@pytest.mark.slow
def test_retrain_budget_stops_the_child_and_no_budget_means_the_old_schedule(tmp_path: Path) -> None:
    card = tiny_card(tmp_path / "cards" / "tiny-park", "tiny-park", "parking-2", 2)
    ws = _box_workspace(tmp_path / "ws", card)
    plan = plan_retrain(ws, epochs=2000, device="cpu", time_budget_s=2.0)
    assert plan.config.passes == 1 and plan.config.epochs == 2000  # explicit epochs: one pass each
    result = run_job(retrain_job(plan, env=CHILD_ENV))
    assert result.status == "time-budget" and result.epochs_run < 2000
    assert ModelCard.load(result.card_dir).training["status"] == "time-budget"
    free = plan_retrain(ws, device="cpu", time_budget_s=None)
    assert free.config.time_budget_s is None and free.config.schedule == "onecycle"
    assert free.config.passes == 1 and free.config.epochs == 40


def test_select_last_keeps_the_last_epoch_whatever_validation_says(toy_config: dict, tmp_path: Path) -> None:
    result, _ = _run({**toy_config, "epochs": 3, "lr": 0.5, "select": "last", "out": str(tmp_path / "last")})
    assert result.epochs_run == 3 and result.best_epoch == 3
    with pytest.raises(BadInputError, match="select"):
        TrainConfig.from_dict({**toy_config, "select": "median"})


@pytest.mark.parametrize("truth_has_parking", [False, True])
def test_retrain_whose_validation_lacks_a_taught_class_keeps_the_last_epoch(
        tmp_path: Path, truth_has_parking: bool) -> None:
    """Two corrected pictures (parking in one), a ground-truth picture: without parking it cannot choose."""
    card = tiny_card(tmp_path / "cards" / "tiny-park", "tiny-park", "parking-2", 2)
    ws = Workspace.create(tmp_path / "ws", "parking-2", model=str(card))
    for i, (kind, park) in enumerate((("corrected", True), ("corrected", False),
                                      ("ground_truth", truth_has_parking))):
        mask = np.zeros((64, 96), np.uint8)
        mask[5:60, 10:90] = 1 if park else 0  # 4,400 px: enough to measure
        if kind == "ground_truth" and not park:
            mask[0:3, 0:3] = 1  # specks measure nothing (under the comparison's 1,000 px)
        img = np.full((64, 96, 3), 120, np.uint8)
        fid = ws.add_image(write_image(tmp_path / "ws" / "pictures" / f"p{i}.png", img)).id
        ws.write_mask(fid, kind, mask, save=False)
    ws.save()
    plan = plan_retrain(ws, device="cpu")
    assert plan.val_ids == ["p2"]
    told = [p for p in plan.problems if "hold no parking" in p]
    assert plan.config.select == ("best" if truth_has_parking else "last")
    assert len(told) == (not truth_has_parking)
