"""The training job: a generator that yields `Progress` and returns a `TrainResult`.

One epoch = train on this process's shard, validate (confusion matrix summed
over processes, figures from seggui.core.metrics), then decide — new best?
switch the loss stage? halve the rate? stop early? — and write, in this
order, atomically: the card (only on a new best: weights.safetensors, then
model.json), the checkpoint ``train/last.pt``, and ``train/metrics.jsonl``
(one JSON line per epoch, rewritten from the checkpoint's history so the two
never disagree). A cancel or a kill at any moment therefore leaves the card
of the best epoch so far and the checkpoint of the last completed one;
``resume: true`` continues from there.

An epoch is `passes` passes over the training pairs (1 by default; a retrain
on a handful of pictures makes one step a pass and would otherwise validate
after every step). With ``time_budget_s`` the run stops between two steps once
training has run that long, validates the epoch it cut short and ends with
status ``time-budget`` (see budget.py); epoch records carry ``elapsed_s``
(training seconds so far) and ``process_cpu_s`` (CPU seconds of this process).

Progress: first one ``data={"event": "setup", "card", "train_pairs", "val_pairs",
"steps", "device", "processes", "amp", "start_epoch", ...}``; then every
training step yields ``data={"event": "step", "epoch", "step", "steps"}``
(plus ``loss`` and ``lr`` every 10 steps, so a GPU is not stalled reading
the loss back each step); every epoch yields ``data={"event":
"epoch", ...}`` with the epoch record (train loss, val loss, mIoU, per-class
IoU, pixel accuracy, lr of the last step, images/s, stage, best). Files a loader could not
read come as Progress with `error` set; the run carries on without them.

Repeatability: the seed fixes the initial weights, the shuffling and every
augmentation (see datasets.py); on the CPU two runs of one config give
bit-identical weights. On CUDA set ``deterministic: true`` for the same.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seggui.core.atomic import atomic_write_json, atomic_write_text
from seggui.core.confusion import ConfusionMatrix
from seggui.core.errors import BadInputError, Cancelled
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.metrics import compute_metrics
from seggui.engine.card import ModelCard, resolve_model
from seggui.engine.threads import TrainingThreads
from seggui.engine.weights import load_checkpoint_model
from seggui.training import ddp
from seggui.training.budget import Budget, BudgetLR
from seggui.training.build import (
    encoder_of,
    find_split,
    input_spec,
    make_loaders,
    make_model,
    normalizer,
    resolve_table,
    set_encoder_frozen,
    train_mode,
)
from seggui.training.checkpoint import load_checkpoint, save_checkpoint, seed_everything
from seggui.training.class_weights import class_weights
from seggui.training.config import TrainConfig
from seggui.training.layouts import fingerprint
from seggui.training.readers import train_ignore_index
from seggui.training.schedule import Plateau, StagedLoss, make_lr_scheduler, make_optimizer
from seggui.training.versions import RUN_DIR, build_card, choose_out_dir, write_card

LOG_EVERY = 10


@dataclass
class TrainResult:
    """What a finished run leaves: its card folder, how it ended, and the history.

    `model` is the network as of the last epoch run (the card holds the best
    epoch's weights, which may be earlier).
    """

    card_dir: Path
    status: str
    best_miou: float | None
    best_epoch: int | None
    epochs_run: int
    history: list[dict[str, Any]]
    model: nn.Module


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def train_job(cfg: TrainConfig, cancel: CancelToken | None = None) -> Job[TrainResult]:
    """Run (or resume) one training run; see the module docstring."""
    info = ddp.setup(cfg.device)
    try:
        return (yield from _Run(cfg, cancel, info).run())
    finally:
        ddp.cleanup(info)


class _Run:
    """The state of one run; `run` is the generator behind `train_job`."""

    def __init__(self, cfg: TrainConfig, cancel: CancelToken | None, info: ddp.DistInfo) -> None:
        self.cfg, self.cancel, self.info = cfg, cancel, info
        self.device = info.device
        self.amp = self.device.type == "cuda" and cfg.amp in (True, "auto", "true", "on")

    # ------------------------------------------------------------------ set-up
    def _setup(self) -> list[str]:
        cfg, info = self.cfg, self.info
        seed_everything(cfg.seed, cfg.deterministic)
        self.parent: ModelCard | None = resolve_model(cfg.from_model) if cfg.from_model else None
        self.table = resolve_table(cfg, self.parent)
        self.ignore = train_ignore_index(self.table)
        self.out = choose_out_dir(cfg.out, self.parent, cfg.resume)
        self.run_dir = self.out / RUN_DIR
        split = find_split(cfg, self.table, self.parent.ref if self.parent else "this run")
        self.split = split
        notes = list(split.problems)
        weights = None
        self.class_weights: list[float] | None = None
        if cfg.class_weights != "none":
            w, probs = class_weights(split.train, self.table, cfg.class_weights, cfg.class_weight_clip)
            notes += probs
            self.class_weights = [float(v) for v in w]
            weights = torch.from_numpy(w)
        self.train_loader, self.val_loader = make_loaders(cfg, self.table, split, self.ignore, info)
        model, self.arch, self.encoder, self.arch_params, model_notes = make_model(
            cfg, self.parent, self.table)
        notes += model_notes
        self.model = model.to(self.device)
        # a budgeted run (not repeatable step for step anyway) in one process on the CPU: torch's threads
        # follow the load, epoch by epoch (engine/threads.py); other runs keep theirs, for identical weights
        fit = self.device.type == "cpu" and not info.enabled and cfg.time_budget_s
        self.threads = TrainingThreads() if fit else None
        self.spec = input_spec(cfg, self.parent)
        self.scale, self.shift = normalizer(self.spec, self.device)
        self.staged = StagedLoss(cfg.stages or [cfg.loss], self.ignore, weights, cfg.stage_patience,
                                 cfg.min_delta).to(self.device)
        self.optimizer = make_optimizer(cfg.optimizer, self.model.parameters(), cfg.lr, cfg.weight_decay)
        steps = len(self.train_loader) * cfg.passes
        self.steps = min(steps, cfg.steps_per_epoch) if cfg.steps_per_epoch else steps
        if self.steps < 1:
            raise BadInputError(None, f"{len(split.train)} training pairs make no batch of {cfg.batch}")
        self.sched = make_lr_scheduler(cfg.schedule, self.optimizer, cfg.epochs, self.steps, cfg.warmup,
                                       cfg.lr_patience)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.early = Plateau(cfg.early_stop, cfg.min_delta)
        self.budget, self.cut_short = Budget(cfg.time_budget_s, clock=cfg.budget_clock), False
        self.last_lr = cfg.lr
        self.best_epoch: int | None = None
        self.start_epoch, self.best_miou = 0, -math.inf
        self.best_metrics: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        if cfg.freeze_encoder_epochs and encoder_of(self.model) is None:
            notes.append(f"{self.arch} has no separate encoder; freeze_encoder_epochs ignored")
        if cfg.resume:
            self._load(load_checkpoint(self.run_dir / "last.pt"))
        self.version = cfg.version or (self.parent.version + 1 if self.parent else 1)
        self.name = cfg.name or (self.parent.name if self.parent else self.out.name)
        self.dataset = {
            "layout": cfg.data.layout, "root": cfg.data.root, "val": split.val_source,
            "train": fingerprint(split.train, Path(cfg.data.root)),
            "validation": fingerprint(split.val, Path(cfg.data.val_root or cfg.data.root)),
            "base": split.base_record,
        }
        return notes

    def _load(self, ck: dict[str, Any]) -> None:
        if ck.get("status") not in (None, "running"):
            raise BadInputError(self.run_dir / "last.pt", f"that run already ended ({ck['status']})")
        load_checkpoint_model(self.model, ck["model"], self.run_dir / "last.pt")
        self.optimizer.load_state_dict(ck["optimizer"])
        if self.sched is not None and ck.get("scheduler") is not None:
            self.sched.load_state_dict(ck["scheduler"])
        if ck.get("scaler"):
            self.scaler.load_state_dict(ck["scaler"])
        self.staged.load_state_dict(ck["staged"])
        self.early.load_state_dict(ck["early"])
        self.start_epoch = int(ck["epoch"])
        self.budget = Budget(self.cfg.time_budget_s, float(ck.get("train_s") or 0.0), self.cfg.budget_clock)
        self.best_miou = float(ck["best_miou"])
        self.best_epoch = ck.get("best_epoch")
        self.best_metrics = dict(ck.get("best_metrics") or {})
        self.history = list(ck["history"])

    # ------------------------------------------------------------------- epochs
    def _cancelled(self) -> bool:
        flag = self.cancel is not None and self.cancel.cancelled
        return ddp.any_true(flag, self.info) if self.info.enabled else flag

    def _out_of_time(self) -> bool:
        flag = self.budget.exhausted
        return ddp.any_true(flag, self.info) if self.info.enabled else flag

    def _batches(self, epoch: int) -> Any:
        """The epoch's batches: `passes` passes, each a sub-epoch of its own shuffle and augmentation.

        With one pass the sampler sees epoch numbers as before passes existed,
        so earlier runs' seeds give the same batches.
        """
        sampler = self.train_loader.sampler
        for k in range(self.cfg.passes):
            sampler.set_epoch(epoch * self.cfg.passes + k)  # type: ignore[attr-defined]
            yield from self.train_loader

    def _batch(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        x = batch["image"].to(self.device, non_blocking=True).float().mul_(self.scale).add_(self.shift)
        y = batch["mask"].to(self.device, non_blocking=True).long()
        return x, y

    def _train_epoch(self, epoch: int, net: nn.Module, frozen: bool) -> Job[tuple[float, float, float]]:
        """One epoch over the shard; returns (mean loss over processes, images/s, seconds)."""
        train_mode(self.model, frozen)
        self.n_threads = self.threads.fit() if self.threads is not None else None
        self.budget.start()
        loss_fn = self.staged.current
        total = torch.zeros((), device=self.device)
        images = 0
        t0 = time.perf_counter()
        done0 = epoch * self.steps
        ran = 0
        for step, batch in enumerate(self._batches(epoch)):
            if step >= self.steps:
                break
            if step > 0 and self._out_of_time():
                self.cut_short = True
                break
            ran = step + 1
            if self.threads is not None:
                self.threads.fit(force=False)
            if self._cancelled():
                raise Cancelled("training cancelled")
            x, y = self._batch(batch)
            with torch.autocast("cuda", dtype=torch.float16, enabled=self.amp):
                logits = net(x)
            loss = loss_fn(logits, y)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.last_lr = self.optimizer.param_groups[0]["lr"]  # the rate this step used
            if isinstance(self.sched, torch.optim.lr_scheduler.OneCycleLR):
                if self.sched.last_epoch < self.sched.total_steps:  # a resumed run may hold one step more
                    self.sched.step()
            elif isinstance(self.sched, BudgetLR):
                done = (done0 + step + 1) / (self.cfg.epochs * self.steps)
                self.sched.step(max(done, self.budget.fraction()))
            total += loss.detach()
            images += x.shape[0]
            data: dict[str, Any] = {"event": "step", "epoch": epoch + 1, "step": step + 1,
                                    "steps": self.steps}
            msg = f"epoch {epoch + 1}/{self.cfg.epochs}"
            if (step + 1) % LOG_EVERY == 0 or step + 1 == self.steps:
                data.update(loss=float(total) / (step + 1), lr=self.last_lr)
                msg += f" loss {data['loss']:.4f}"
            if self.budget.limit_s is not None:
                data["budget_left_s"] = round(self.budget.left_s or 0.0, 1)
            for err in batch["errors"]:
                yield Progress(done0 + step, self.cfg.epochs * self.steps, msg, error=err)
            yield Progress(done0 + step + 1, self.cfg.epochs * self.steps, msg, data=data)
        secs = time.perf_counter() - t0
        loss_sum, n_img, steps = ddp.sum_floats([float(total), images, ran], self.info)
        return loss_sum / max(steps, 1), n_img / max(secs, 1e-9), secs

    @torch.no_grad()
    def _validate(self) -> tuple[Any, float, float]:
        """(SegMetrics or None, mean val loss, seconds) over the whole validation set."""
        if self.val_loader is None:
            return None, math.nan, 0.0
        t0 = time.perf_counter()
        self.model.eval()
        cm = ConfusionMatrix(self.table.size, self.table.ignore_index)
        loss_fn = self.staged.current
        n: float  # a count, summed as a float across processes below
        loss_sum, n = 0.0, 0
        pred_dtype = torch.uint8 if self.table.size <= 256 else torch.int32
        for batch in self.val_loader:
            if self._cancelled():
                raise Cancelled("training cancelled")
            x, y = self._batch(batch)
            with torch.autocast("cuda", dtype=torch.float16, enabled=self.amp):
                logits = self.model(x)
            loss_sum += float(loss_fn(logits, y)) * x.shape[0]
            n += x.shape[0]
            pred = logits.argmax(1).to(pred_dtype).cpu().numpy()
            gt = batch["mask"].numpy()
            valid = gt != self.ignore
            cm.update(pred[valid], gt[valid])
        cm = ddp.merge_confusion(cm, self.info)
        loss_sum, n = ddp.sum_floats([loss_sum, n], self.info)
        return compute_metrics(cm, self.table), loss_sum / max(n, 1), time.perf_counter() - t0

    # --------------------------------------------------------------- writing
    def _card(self, status: str, epochs_run: int) -> ModelCard:
        training = {
            "config": self.cfg.to_dict(), "status": status, "epochs_run": epochs_run,
            "best_epoch": self.best_epoch, "loss": [m.describe() for m in self.staged.modules],  # type: ignore[operator]
            "class_weights": self.class_weights, "processes": self.info.world,
            "device": str(self.device), "amp": self.amp,
            "train_pairs": len(self.split.train), "val_pairs": len(self.split.val),
            "train_s": round(self.budget.spent_s, 1),
        }
        return build_card(
            name=self.name, version=self.version, description=self.cfg.description or
            f"{self.arch}/{self.encoder} trained by seggui on {self.cfg.data.layout} data",
            architecture=self.arch, encoder=self.encoder, arch_params=self.arch_params, table=self.table,
            input_spec=self.spec, parent=self.parent, training=training, metrics=self.best_metrics,
            dataset=self.dataset,
        )

    def _checkpoint(self, epoch: int, status: str) -> None:
        save_checkpoint(self.run_dir / "last.pt", {
            "status": status, "epoch": epoch, "model": ddp.unwrap(self.model).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.sched.state_dict() if self.sched is not None else None,
            "scaler": self.scaler.state_dict() if self.amp else None,
            "staged": self.staged.state_dict(), "early": self.early.state_dict(),
            "best_miou": self.best_miou, "best_epoch": self.best_epoch, "best_metrics": self.best_metrics,
            "history": self.history, "config": self.cfg.to_dict(), "train_s": self.budget.spent_s,
        })
        lines = "".join(_json_line(r) for r in self.history)
        atomic_write_text(self.run_dir / "metrics.jsonl", lines)

    def _set_status(self, status: str, epochs_run: int) -> None:
        """Record how the run ended in model.json (weights untouched)."""
        card_json = self.out / "model.json"
        if self.info.is_main and card_json.exists():
            card = self._card(status, epochs_run)
            atomic_write_json(card_json, card.to_dict())

    # ------------------------------------------------------------------- run
    def run(self) -> Job[TrainResult]:
        cfg, main = self.cfg, self.info.is_main
        for note in self._setup():
            if main:
                yield Progress(0, None, "checking data", error=note)
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.run_dir / "config.json", cfg.to_dict())
        total = cfg.epochs * self.steps
        yield Progress(self.start_epoch * self.steps, total, f"training into {self.out}", data={
            "event": "setup", "card": str(self.out), "train_pairs": len(self.split.train),
            "val_pairs": len(self.split.val), "validation": self.split.val_source, "steps": self.steps,
            "device": str(self.device), "processes": self.info.world, "amp": self.amp,
            "start_epoch": self.start_epoch, "classes": self.table.name, "base_pairs": len(self.split.base),
        })
        status = "running"
        net: nn.Module = None  # type: ignore[assignment]  # set on the first epoch (frozen_now is None)
        frozen_now = None
        unused = self.info.enabled and ddp.has_unused_parameters(self.model, self.device, 2 * cfg.stride)
        try:
            for epoch in range(self.start_epoch, cfg.epochs):
                frozen = epoch < cfg.freeze_encoder_epochs and encoder_of(self.model) is not None
                if frozen != frozen_now:
                    set_encoder_frozen(self.model, frozen)
                    net, frozen_now = ddp.wrap(self.model, self.info, unused), frozen
                loss, ips, train_s = yield from self._train_epoch(epoch, net, frozen)
                ddp.average_buffers(self.model, self.info)
                if not math.isfinite(loss):
                    raise BadInputError(None, f"training diverged in epoch {epoch + 1} (loss {loss}); "
                                        "lower the learning rate (the last checkpoint is intact)")
                metrics, val_loss, val_s = self._validate()
                record, stop = self._decide(epoch, loss, val_loss, metrics, ips, train_s, val_s, frozen)
                if stop:
                    status = "early-stopped"
                elif self.cut_short or (epoch + 1 < cfg.epochs and self._out_of_time()):
                    status, stop = "time-budget", True
                elif epoch + 1 == cfg.epochs:
                    status = "finished"
                if main:
                    if record["best"]:
                        state = ddp.unwrap(self.model).state_dict()
                        write_card(self.out, self._card("running", epoch + 1), state)
                    self._checkpoint(epoch + 1, status)
                yield Progress((epoch + 1) * self.steps, cfg.epochs * self.steps, _epoch_message(record),
                               data={"event": "epoch", **record})
                if stop:
                    break
        except Cancelled:
            self._set_status("cancelled", len(self.history))
            raise
        if main:
            self._set_status(status, len(self.history))
        ddp.barrier(self.info)
        return TrainResult(
            self.out, status, _num(self.best_miou), self.best_epoch, len(self.history), self.history,
            ddp.unwrap(self.model).eval(),
        )

    def _decide(self, epoch: int, loss: float, val_loss: float, metrics: Any, ips: float, train_s: float,
                val_s: float, frozen: bool) -> tuple[dict[str, Any], bool]:
        """Record the epoch and make its decisions: best, stage switch, lr plateau, early stop."""
        d = metrics.to_dict() if metrics is not None else {}
        miou = metrics.miou if metrics is not None else math.nan
        if metrics is None or self.cfg.select == "last":  # no validation (or none fit to choose by)
            best = True
        else:
            best = math.isfinite(miou) and miou > self.best_miou
        stage = self.staged.stage
        loss_name = self.staged.describe()
        switched = self.staged.step(miou if math.isfinite(miou) else -math.inf)
        stop = False
        if metrics is not None and self.early.patience > 0:
            self.early.step(miou)
            if switched:
                self.early.reset_wait()
            elif self.staged.last_stage and self.early.stalled:
                stop = True
        if isinstance(self.sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.sched.step(miou if math.isfinite(miou) else 0.0)
        record = {
            "epoch": epoch + 1, "stage": stage, "loss_name": loss_name, "train_loss": _num(loss),
            "val_loss": _num(val_loss), "miou": _num(miou), "per_class_iou": d.get("per_class_iou", {}),
            "pixel_accuracy": d.get("pixel_accuracy"), "lr": self.last_lr,
            "images_per_s": round(ips, 3), "train_s": round(train_s, 3), "val_s": round(val_s, 3),
            "encoder_frozen": frozen, "best": best, "switched_loss": switched, "early_stop": stop,
            "elapsed_s": round(self.budget.spent_s, 2), "process_cpu_s": round(time.process_time(), 2),
            "threads": self.n_threads,
        }
        if best:
            self.best_miou = miou if math.isfinite(miou) else self.best_miou
            self.best_epoch = epoch + 1
            self.best_metrics = {
                "split": "val", "source": self.split.val_source, "epoch": epoch + 1, "miou": _num(miou),
                "pixel_accuracy": d.get("pixel_accuracy"), "per_class_iou": d.get("per_class_iou", {}),
                "n_images": len(self.split.val),
            }
        self.history.append(record)
        return record, stop


def _json_line(record: dict[str, Any]) -> str:
    import json

    return json.dumps(record, ensure_ascii=False) + "\n"


def _epoch_message(r: dict[str, Any]) -> str:
    miou = "n/a" if r["miou"] is None else f"{r['miou']:.4f}"
    return f"epoch {r['epoch']}: loss {r['train_loss']:.4f} mIoU {miou}{' *' if r['best'] else ''}"
