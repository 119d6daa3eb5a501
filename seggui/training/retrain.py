"""Retrain on corrections: fine-tune the workspace's model on the frames the analyst fixed.

The loop of issue 9, without any window: `plan_retrain` picks the frames
(corrected or reviewed ones to learn from; validation frames with ground truth
first, else a held-out share of the corrections), optionally a base dataset
to mix into every epoch against forgetting (seggui.training.base_set; checked
against the model's classes here, so a mismatch is refused before anything
starts), snapshots them and writes a training config; `RetrainProcess` runs
``python -m seggui.training.run`` in a separate process, so a crash or an
out-of-memory in training cannot take the caller (the GUI) down and all GPU
memory returns when it exits (seggui.training.retrain_process). Comparing the old and new model, promoting and
rolling back live in `seggui.training.retrain_versions`.

Why a snapshot: the analyst keeps correcting while the model trains. The run
reads a frozen copy of the masks (``<card>/data/train`` and ``data/val``, tiny
workspaces whose frames point at the original pictures), so the data cannot
change under a running epoch and the new card records exactly what it saw.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seggui.core.atomic import atomic_write_json
from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken, Job
from seggui.core.masks import write_mask
from seggui.core.workspace import FrameRecord, FrameStatus, Workspace
from seggui.engine.card import ModelCard, resolve_model
from seggui.training.base_set import PROBE_MASKS, BaseSet, describe, load_base, resolve_layout
from seggui.training.config import BaseConfig, DataConfig, TrainConfig
from seggui.training.layouts import Sample, holdout_split
from seggui.training.retrain_budget import BUDGET_MIN_STEPS, BUDGET_SIDE, DEFAULT_BUDGET_S, budget_settings
from seggui.training.retrain_process import (  # re-exported: callers import them from here
    RetrainProcess,
    RetrainResult,
    TrainingFailed,
)
from seggui.training.retrain_split import id_counts, keep_classes_taught
from seggui.training.retrain_versions import WEAK_CLASS_PX
from seggui.training.versions import claim_version_dir, discard_unfinished

__all__ = ["RetrainPlan", "RetrainProcess", "RetrainResult", "TrainingFailed", "plan_retrain", "retrain_job"]

DRIVE_BLOCK = 10  # a drive is split into train/validation in runs of this many frames
DEFAULT_LR = 1e-3  # see plan_retrain: 1e-4 did not move a model across a real change of domain
MIN_STEPS = 40  # optimiser steps a retrain makes at least when its epochs are left to it
MIN_EPOCHS = 5
# Corrections are mostly a class the model missed, a small share of the pixels: without weights a
# retrain on Houston 7677 + 6411 learnt no parking even on 7677 itself (IoU 0.01 and 0.00, two seeds);
# median-frequency weights fit it (0.56, 0.53) and lifted the benchmark's validation figure
# (0.94-0.97 over three seeds, against 0.87-0.96 without), with smoother epoch curves.
RETRAIN_CLASS_WEIGHTS = "median"

NOTHING_TO_LEARN = "no corrected frames: correct some masks (brush) or mark frames reviewed, then retrain"
CONFIG_FILE = "retrain.json"  # inside the new card folder, beside data/
LARGE_SIDE = 512  # pictures larger than this train on random crops of this size


@dataclass
class RetrainPlan:
    """What a retrain will do: which frames, where the new card goes, and the run's config."""

    parent: ModelCard
    out: Path
    train_ids: list[str]
    val_ids: list[str]
    val_source: str  # "ground truth", "held out" or "none"
    config: TrainConfig
    config_path: Path
    problems: list[str] = field(default_factory=list)
    base: dict[str, Any] | None = None  # the base set mixed in (see BaseSet.record), or None

    def summary(self) -> str:
        """One line saying what the run learns from and validates on."""
        mixed = f" + the {describe(self.base)}" if self.base else ""
        return (f"retraining {self.parent.ref} on {len(self.train_ids)} corrected frames{mixed}, validating "
                f"on {len(self.val_ids)} ({self.val_source}) -> {self.out}")


def current_card(ws: Workspace) -> ModelCard:
    """The workspace's model card, or a refusal saying how to pick one."""
    if not ws.model:
        raise BadInputError(ws.root, "the workspace has no model; pick one (seggui infer --model) first")
    return resolve_model(ws.model)


def learnable_frames(ws: Workspace) -> tuple[list[str], list[str]]:
    """(picture frames with a corrected mask, problems) among corrected and reviewed frames.

    Video frames are reported and left out (training reads pictures from files).
    """
    ids, problems = [], []
    for fid in ws.frames_with_status(FrameStatus.CORRECTED, FrameStatus.REVIEWED):
        image = ws.image_path(fid)
        if image is None:
            problems.append(f"frame {fid!r} is a video frame; export it as a picture to train on it")
        elif not image.is_file():
            problems.append(f"{image}: picture of frame {fid!r} not found")
        elif not ws.mask_path(fid, "corrected").is_file():
            problems.append(f"{ws.mask_path(fid, 'corrected')}: corrected mask of frame {fid!r} not found")
        else:
            ids.append(fid)
    return ids, problems


def ground_truth_frames(ws: Workspace) -> list[str]:
    """Picture frames whose ground-truth mask exists (the fairest validation set)."""
    return [fid for fid, rec in ws.frames.items()
            if rec.has_gt and rec.image and ws.mask_path(fid, "ground_truth").is_file()
            and (ws.image_path(fid) or Path()).is_file()]


def split_frames(ws: Workspace, val_fraction: float = 0.2) -> tuple[list[str], list[str], str, list[str]]:
    """(train ids, validation ids, where validation comes from, problems); refuses an empty set.

    Every corrected or reviewed frame is trained on. Validation frames are
    the ground-truth frames that were not trained on and do not lie within
    DRIVE_BLOCK frames of a training frame of their drive (a neighbouring
    frame is a near copy and would flatter the figures); those left out are
    counted in the problems, and when every candidate is such a neighbour
    they validate all the same, with a warning that the figures are
    optimistic. With no ground truth left, a held-out share of the
    corrections validates instead, by a stable hash so re-runs compare alike,
    whole runs of DRIVE_BLOCK frames of a drive on one side, and never taking
    from training the only frames that show a class (`keep_classes_taught`).
    """
    learn, problems = learnable_frames(ws)
    if not learn:
        raise BadInputError(ws.root, NOTHING_TO_LEARN + (f" ({problems[0]})" if problems else ""))
    taught = set(learn)
    candidates = [fid for fid in ground_truth_frames(ws) if fid not in taught]
    if candidates:
        near = near_training(ws, learn)
        val = [fid for fid in candidates if not near(fid)]
        if not val:
            val = candidates
            problems.append(f"every ground-truth frame not trained on ({len(val)}) sits within {DRIVE_BLOCK} "
                            "frames of a training frame of its drive: the validation figures are optimistic")
        elif len(val) < len(candidates):
            problems.append(f"{len(candidates) - len(val)} ground-truth frames sit next to training frames "
                            f"of their drive (within {DRIVE_BLOCK} frames) and are left out of validation")
        return learn, val, "ground truth", problems
    samples = [Sample(Path(fid), Path(fid)) for fid in learn]
    tr, va = (holdout_split(samples, val_fraction, lambda s: drive_block(ws, s.image.name))
              if len(learn) > 1 else (samples, []))
    train, val, moved = keep_classes_taught(ws, [s.image.name for s in tr], [s.image.name for s in va])
    problems += moved
    if len(learn) > 1 and not val:
        problems.append("no correction could be held out to validate on without taking away a class from "
                        "training: the new version cannot be compared (ground truth of a picture it does "
                        "not train on, Ctrl+G, or more corrected pictures would let it)")
    return train, val, "held out" if val else "none", problems


def near_training(ws: Workspace, train: list[str]) -> Callable[[str], bool]:
    """A test: does a frame lie within DRIVE_BLOCK frames of a training frame of its drive?"""
    import bisect

    by_drive: dict[str, list[int]] = {}
    for t in train:
        rec = ws.frames[t]
        if rec.drive is not None:
            by_drive.setdefault(rec.drive, []).append(rec.index or 0)
    for v in by_drive.values():
        v.sort()

    def near(frame_id: str) -> bool:
        rec = ws.frames[frame_id]
        idx = by_drive.get(rec.drive or "", [])
        here = rec.index or 0
        i = bisect.bisect_left(idx, here - DRIVE_BLOCK + 1)
        return i < len(idx) and idx[i] < here + DRIVE_BLOCK

    return near


def drive_block(ws: Workspace, frame_id: str) -> str:
    """The split group of a frame: its drive and run of DRIVE_BLOCK frames, or the picture itself."""
    rec = ws.frames[frame_id]
    return f"{rec.drive}#{(rec.index or 0) // DRIVE_BLOCK}" if rec.drive else frame_id


def mask_facts(folder: Path, ids: list[str]) -> tuple[list[tuple[int, int]], Counter[int]]:
    """(height, width) of each of a snapshot's masks and its pixels per class id, from one read of each."""
    view, sizes, total = Workspace.open(folder), [], Counter[int]()
    for fid in ids:
        mask = view.read_mask(fid, "corrected")
        if mask is not None:
            sizes.append((int(mask.shape[0]), int(mask.shape[1])))
            total.update(id_counts(mask))
    return sizes, total


def untested_classes(train_px: Counter[int], val_px: Counter[int], table: ClassTable) -> list[str]:
    """Names of the classes the training masks hold and the validation masks hold too little of.

    Too little is under WEAK_CLASS_PX pixels, where the comparison calls a class's figure weak: a few
    specks left in a lot-free picture's correction measure nothing (seen in the window walkthrough).
    """
    gone = {c for c in train_px if val_px[c] < WEAK_CLASS_PX} - {table.ignore_index}
    return [table.name_of(c) for c in sorted(gone)]


def _snapshot(ws: Workspace, folder: Path, ids: list[str], kind: str) -> Path:
    """A tiny workspace in `folder` whose frames point at the pictures, masks copied as corrections."""
    view = Workspace(folder, ws.classes)
    folder.mkdir(parents=True, exist_ok=True)
    for fid in ids:
        image = ws.image_path(fid)
        assert image is not None
        view.frames[fid] = FrameRecord(fid, image=str(image.resolve()), status=FrameStatus.CORRECTED)
        dest = view.mask_path(fid, "corrected")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if kind == "ground_truth" and ws.class_map is not None:  # in the model's classes, as it trains
            mask = ws.read_mask(fid, kind)
            assert mask is not None
            write_mask(dest, mask)
        else:
            shutil.copyfile(ws.mask_path(fid, kind), dest)
    view.save()
    return folder


def _next_out(ws: Workspace, parent: ModelCard) -> tuple[Path, int]:
    """``models/<name>-vN`` and N, above the parent's version and every folder there, claimed atomically.

    The folder is created here (exclusively), so two retrains started a second
    apart get two versions, never one number for two cards.
    """
    return claim_version_dir(ws.models_dir, parent.name, parent.version + 1)


def _crop_for(sizes: list[tuple[int, int]], base: BaseSet | None = None,
              table: ClassTable | None = None, side: int = LARGE_SIDE) -> list[int] | None:
    """Random crops for large pictures (memory), whole pictures for small ones.

    `sizes` are those of the training masks. With a base set its first
    picture counts too (a dataset's pictures usually share one size;
    Cityscapes' 2048x1024 must be cropped).
    """
    from seggui.training.readers import read_sample_mask

    sizes = list(sizes)
    for sample in base.samples[:PROBE_MASKS] if base is not None else []:
        try:
            sizes.append(read_sample_mask(sample, table).shape[:2])  # type: ignore[arg-type]
            break
        except BadInputError:  # reported by the base set's probe; the readers skip it in training
            continue
    return [side, side] if any(max(h, w) > side for h, w in sizes) else None


def _base_set(parent: ModelCard, root: str | Path, layout: str | None, share: float,
              masks: str | None = None) -> BaseSet:
    """Scan and check the base dataset against the model's classes; its config records count and print.

    `masks` names the mask folder of a `folder` layout when it is not masks/
    (`seggui synth` output keeps parking-2 masks in parking2/).
    """
    from seggui.training.base_set import base_per_epoch

    base_per_epoch(1, share)  # a share outside (0, 1) is refused before the folder is scanned
    folder = Path(root).expanduser().resolve()
    cfg = BaseConfig(layout=resolve_layout(layout, folder), root=str(folder), share=float(share),
                     masks=masks or BaseConfig.masks)
    found = load_base(cfg, parent.classes, parent.ref)
    cfg.pairs, cfg.fingerprint = len(found.samples), found.fingerprint
    return found


def auto_epochs(samples_per_epoch: int, batch: int, min_steps: int = MIN_STEPS) -> int:
    """Epochs that give at least `min_steps` optimiser steps, and never fewer than MIN_EPOCHS."""
    steps = max(1, samples_per_epoch // batch if samples_per_epoch >= 2 * batch else 1)
    return max(MIN_EPOCHS, -(-min_steps // steps))


def plan_retrain(
    ws: Workspace,
    *,
    epochs: int | None = None,
    lr: float = DEFAULT_LR,
    batch: int = 4,
    val_fraction: float = 0.2,
    device: str = "auto",
    overrides: dict[str, Any] | None = None,
    base: str | Path | None = None,
    base_layout: str | None = None,
    base_share: float = 0.5,
    base_masks: str | None = None,
    time_budget_s: float | None = DEFAULT_BUDGET_S,
) -> RetrainPlan:
    """Choose frames, snapshot them and write the config of a fine-tune of the current model.

    Defaults suit a non-expert: light augmentation, median-frequency class weights, lr
    DEFAULT_LR and, with `epochs` None, enough epochs for MIN_STEPS optimiser
    steps (at least MIN_EPOCHS). A handful of corrections makes one step per
    epoch: measured on the real Houston pictures (tests/benchmarks/
    retrain_houston.py), 5 epochs or even 40 at lr 1e-4 left the generated-scene
    model's parking IoU at 0.00, while 40 steps at 1e-3 reached 0.82 (0.71
    with another seed). The comparison before Promote guards against a run
    that made things worse. `overrides` takes any other TrainConfig setting
    (the "advanced" dialog).

    `time_budget_s` (default DEFAULT_BUDGET_S; None or 0: no limit) stops
    the training after that many seconds and sets the schedule that makes
    the most of them (seggui.training.retrain_budget): with `epochs` None the
    MIN_STEPS passes are grouped into epochs of a few passes, so validation
    costs at most about a quarter of the training; explicit `epochs` are
    epochs of one pass each, cut short by the budget. Budgeted runs train on
    BUDGET_SIDE crops (a quarter of the cost of LARGE_SIDE ones per step).

    `base` names a dataset folder (`base_layout`: one of the trainer's
    layouts, or None/"auto" to tell from the folder) to mix into every epoch
    so that it makes up `base_share` of the samples; the corrections are each
    seen once per epoch as without it (see seggui.training.base_set). Its
    classes must be the model's: a mismatch is refused here, naming the
    dataset, before any folder is written. It never validates.
    """
    parent = current_card(ws)
    train, val, source, problems = split_frames(ws, val_fraction)
    found = _base_set(parent, base, base_layout, base_share, base_masks) if base else None
    record = found.record(len(train)) if found is not None else None
    if found is not None:
        problems += found.problems
    out, version = _next_out(ws, parent)
    data_dir = out / "data"
    _snapshot(ws, data_dir / "train", train, "corrected")
    if val:
        _snapshot(ws, data_dir / "val", val, "ground_truth" if source == "ground truth" else "corrected")
    per_epoch = len(train) + (record["per_epoch"] if record else 0)
    batch = max(1, min(batch, per_epoch))
    auto = epochs is None
    if epochs is None:  # passes over the corrections, as without a base set (its samples come on top)
        epochs = auto_epochs(len(train), max(1, min(batch, len(train))),
                             BUDGET_MIN_STEPS if time_budget_s else MIN_STEPS)
    sizes, train_classes = mask_facts(data_dir / "train", train)
    val_sizes, val_classes = mask_facts(data_dir / "val", val) if val else ([], Counter[int]())
    crop = _crop_for(sizes, found, parent.classes, BUDGET_SIDE if time_budget_s else LARGE_SIDE)
    train_px = sum(crop[0] * crop[1] if crop else h * w for h, w in sizes) * per_epoch // max(1, len(train))
    val_px = sum(h * w for h, w in val_sizes)
    timing = budget_settings(time_budget_s, epochs, train_px if auto else 0, val_px)
    description = f"{parent.ref} fine-tuned on {len(train)} corrected frames of {ws.root.name}"
    if found is not None:
        description += f", mixed with {found.config.share:.0%} of {Path(found.config.root).name}"
    settings: dict[str, Any] = {
        "name": parent.name, "description": description,
        "data": DataConfig(layout="workspace", root=str(data_dir / "train"), val_split=None,
                           val_root=str(data_dir / "val") if val else None, val_fraction=0.0).__dict__,
        "out": str(out), "version": version, "from_model": str(parent.folder), "epochs": epochs, "lr": lr,
        # the network is the parent's (seggui.training.build.make_model); say so in retrain.json too
        "architecture": parent.architecture, "arch_params": dict(parent.arch_params or {}),
        "stride": parent.input.stride,
        **({"encoder": parent.encoder} if parent.encoder else {}),
        "batch": batch, "augment": "basic", "class_weights": RETRAIN_CLASS_WEIGHTS,
        "crop": crop, "device": device, "workers": 0,
        "base": found.config.__dict__ if found is not None else None, **timing,
        "export_onnx": parent.onnx_path is not None and parent.onnx_path.is_file(),
        "export_int8": bool(val) and parent.int8_as_good,  # scored on the validation frames, as the parent
    }
    missing = untested_classes(train_classes, val_classes, parent.classes) if val else []
    if missing:  # choosing the epoch on such frames would choose the one that forgets these classes
        settings["select"] = "last"
        problems.append(f"the validation frames hold no {', '.join(missing)}, which the corrections teach: "
                        "the last epoch is kept, not the one they score best, and the comparison cannot "
                        "measure it (ground truth of a picture that shows it, not trained on, would)")
    settings.update(overrides or {})
    cfg = TrainConfig.from_dict(settings, out / CONFIG_FILE)
    path = atomic_write_json(out / CONFIG_FILE, cfg.to_dict())
    return RetrainPlan(parent, out, train, val, source, cfg, Path(path), problems, record)


def retrain_job(plan: RetrainPlan, token: CancelToken | None = None,
                env: dict[str, str] | None = None) -> Job[RetrainResult]:
    """Run a planned retrain in its own process (see RetrainProcess.job); a failed run leaves no folder."""
    with discard_unfinished(plan.out):
        return (yield from RetrainProcess(plan.config_path, env=env).job(token))
