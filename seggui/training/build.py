"""Assemble a run from its config: class table, data, loaders and the network.

Each function is one decision the loop would otherwise bury: which class
table applies (config, parent card, workspace or layout default), which pairs
train and which validate, how the loaders are shaped for one process of a
possibly distributed run, and how a fine-tune's network inherits its
parent's weights — including onto a new class set, where only the final
layer starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler

from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import BadInputError
from seggui.core.media.sequences import block_keys
from seggui.engine.card import InputSpec, ModelCard
from seggui.engine.factory import build_model
from seggui.engine.weights import apply_state_dict, load_state_dict
from seggui.training.augment import build_transforms
from seggui.training.base_set import load_base
from seggui.training.config import TrainConfig
from seggui.training.datasets import SegDataset, collate_padded, mix_sampler, train_sampler, val_sampler
from seggui.training.ddp import DistInfo
from seggui.training.layouts import Sample, find_samples, holdout_split


def resolve_table(cfg: TrainConfig, parent: ModelCard | None) -> ClassTable:
    """The run's class table: the config's, else the parent card's, the workspace's or the layout's."""
    spec = cfg.classes
    if spec is None and parent is not None:
        return parent.classes
    if spec is None and cfg.data.layout == "workspace":
        from seggui.core.workspace import Workspace

        return Workspace.open(cfg.data.root).classes
    spec = cfg.default_classes()
    if spec is None:
        raise BadInputError(None, "name the class table of the masks (--classes NAME_OR_JSON)")
    if isinstance(spec, dict):
        return ClassTable.from_dict(spec)
    return load_classes(spec)


@dataclass
class Split:
    """The pairs of a run and the files left out; `base` is mixed into training, never validates."""

    train: list[Sample]
    val: list[Sample]
    problems: list[str]
    val_source: str
    base: list[Sample] = field(default_factory=list)
    base_record: dict[str, Any] | None = None


def _split_by_drive(cfg: TrainConfig, train: list[Sample], problems: list[str]
                    ) -> tuple[list[Sample], list[Sample], str]:
    """(train, val, source) with `data.val_drives` validating: every split's pairs pooled, by drive."""
    d = cfg.data
    pool = list(train)
    if d.val_split and d.layout in ("camvid", "cityscapes", "bdd100k") and d.val_split != d.train_split:
        try:
            vf = find_samples(d.layout, d.root, d.val_split, d.images, d.masks)
            pool += vf.samples
            problems += vf.problems
        except BadInputError as exc:
            problems.append(str(exc))
    drives = [x.lower() for x in d.val_drives or []]

    def held(s: Sample) -> bool:
        return any(Path(s.image).name.lower().startswith(x) for x in drives)

    val = [s for s in pool if held(s)]
    named = ", ".join(d.val_drives or [])
    if not val:
        raise BadInputError(Path(d.root), f"no picture of the validation drives {named} found "
                            "(names are matched as file name prefixes)")
    return [s for s in pool if not held(s)], val, f"held-out drive {named}"


def find_split(cfg: TrainConfig, table: ClassTable | None = None, model: str = "this run") -> Split:
    """Training and validation pairs per the data config (see DataConfig), and the base set.

    The base set (cfg.base) is checked against `table` (the run's classes,
    those of `model`): see base_set.load_base.
    """
    d = cfg.data
    found = find_samples(d.layout, d.root, d.train_split, d.images, d.masks)
    problems = list(found.problems)
    train = found.samples
    val: list[Sample] = []
    source = ""
    if d.val_drives:
        train, val, source = _split_by_drive(cfg, train, problems)
    elif d.val_root:
        vf = find_samples(d.layout, d.val_root, d.val_split or d.train_split, d.images, d.masks)
        val, source = vf.samples, f"{d.val_root}"
        problems += vf.problems
    elif d.val_split and d.layout in ("camvid", "cityscapes", "bdd100k") and d.val_split != d.train_split:
        try:
            vf = find_samples(d.layout, d.root, d.val_split, d.images, d.masks)
            val, source = vf.samples, f"split {d.val_split}"
            problems += vf.problems
        except BadInputError as exc:  # no such split folder: fall back to a held-out share
            problems.append(f"{exc} (holding out {d.val_fraction:.0%} of the training pairs instead)")
    if not val and d.val_fraction > 0:
        keys = block_keys([s.image for s in train])  # a drive's neighbouring frames stay together
        train, val = holdout_split(train, d.val_fraction, lambda s: keys[s.image])
        source = f"{d.val_fraction:.0%} held out of the training pairs (sequence frames in runs of 10)"
    if d.max_train is not None:
        train = train[: d.max_train]
    if d.max_val is not None:
        val = val[: d.max_val]
    if not train:
        raise BadInputError(Path(d.root), "no usable training pairs found" + (
            f" ({problems[0]})" if problems else ""))
    split = Split(train, val, problems, source or "none")
    if cfg.base is not None:
        if table is None:
            raise BadInputError(None, "a base dataset needs the run's class table to be checked against")
        base = load_base(cfg.base, table, model)
        split.base, split.base_record = base.samples, base.record(len(train))
        split.problems += base.problems
        planned = cfg.base.fingerprint
        if planned and planned.get("sha256") != base.fingerprint["sha256"]:
            split.problems.append(f"base dataset {cfg.base.root} changed since the retrain was planned "
                                  f"({planned.get('pairs')} pairs then, {len(base.samples)} now)")
    return split


def _init_worker(_: int) -> None:
    """Loader workers: one OpenCV thread each, so N workers use N cores, not N x cores."""
    cv2.setNumThreads(1)


def worker_context() -> str:
    """How loader workers start: never a plain fork.

    A forked child inherits OpenCV's thread pool in whatever state the parent
    left it, and deadlocks on its first parallel call (seen on Linux:
    `cv2.setNumThreads` waiting forever on a condition variable copied from
    the parent). "forkserver" forks from a clean helper process instead and
    is cheap; "spawn" is the fallback where it is missing (Windows, macOS's
    default). Workers are persistent, so the start-up is paid once a run.
    """
    import multiprocessing as mp

    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def make_loaders(
    cfg: TrainConfig, table: ClassTable, split: Split, ignore: int, info: DistInfo
) -> tuple[DataLoader, DataLoader | None]:
    """(train loader, val loader or None) for this process's shard."""
    train_tf = build_transforms(cfg.augment, ignore, True, cfg.crop, cfg.resize, cfg.stride)
    val_tf = build_transforms(None, ignore, False, None, cfg.resize, cfg.stride)
    common: dict[str, Any] = {
        "num_workers": cfg.workers,
        "collate_fn": collate_padded(ignore),
        "pin_memory": info.device.type == "cuda",
        "worker_init_fn": _init_worker if cfg.workers else None,
        "persistent_workers": cfg.workers > 0,
    }
    if cfg.workers:
        common["prefetch_factor"] = 4
        common["multiprocessing_context"] = worker_context()
    train_ds = SegDataset(split.train + split.base, table, train_tf, cfg.seed, ignore)
    sampler: Sampler[int]
    if split.base and cfg.base is not None:
        sampler = mix_sampler(len(split.train), len(split.base), cfg.base.share, cfg.seed, info.rank,
                              info.world)
    else:
        sampler = train_sampler(len(train_ds), cfg.seed, info.rank, info.world)
    drop = len(sampler) >= cfg.batch * 2  # a last batch of one breaks BatchNorm; keep tiny sets whole
    train_loader = DataLoader(train_ds, batch_size=cfg.batch, sampler=sampler, drop_last=drop, **common)
    val_loader = None
    if split.val:
        val_ds = SegDataset(split.val, table, val_tf, cfg.seed, ignore)
        val_loader = DataLoader(val_ds, batch_size=cfg.batch, sampler=val_sampler(len(val_ds), info.rank,
                                                                                   info.world), **common)
    return train_loader, val_loader


def input_spec(cfg: TrainConfig, parent: ModelCard | None) -> InputSpec:
    """How the new model expects its pictures: the parent's normalisation, else the config's."""
    base = parent.input if parent is not None else InputSpec(
        mean=tuple(cfg.mean), std=tuple(cfg.std), stride=cfg.stride  # type: ignore[arg-type]
    )
    if cfg.resize is None:
        return base
    size = (cfg.resize, cfg.resize) if isinstance(cfg.resize, int) else tuple(cfg.resize)
    return InputSpec(mean=base.mean, std=base.std, max_pixel_value=base.max_pixel_value, resize="fixed",
                     size=size, stride=base.stride, pad=base.pad, tile_size=base.tile_size,  # type: ignore
                     tile_overlap=base.tile_overlap)


def make_model(
    cfg: TrainConfig, parent: ModelCard | None, table: ClassTable
) -> tuple[nn.Module, str, str | None, dict[str, Any], list[str]]:
    """(network, architecture, encoder, arch_params, notes); a fine-tune starts from its parent.

    A parent with another class count lends every tensor whose shape fits;
    the layers that produce the logits start from scratch (said in the notes).
    """
    if parent is None:
        model = build_model(cfg.architecture, cfg.encoder, table.size, cfg.arch_params)
        return model, cfg.architecture, cfg.encoder, dict(cfg.arch_params), []
    model = build_model(parent.architecture, parent.encoder, table.size, parent.arch_params)
    path = parent.require_weights()
    state = load_state_dict(path)
    notes: list[str] = []
    if table.size == parent.num_classes:
        apply_state_dict(model, state, path, parent.name, parent.num_classes)
    else:
        own = model.state_dict()
        fits = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
        fresh = sorted(k for k in own if k not in fits)
        model.load_state_dict(fits, strict=False)
        more = "..." if len(fresh) > 3 else ""
        notes.append(f"{parent.ref} has {parent.num_classes} classes, this run {table.size}: "
                     f"{len(fresh)} tensors start fresh ({', '.join(fresh[:3])}{more})")
    return model, parent.architecture, parent.encoder, dict(parent.arch_params), notes


def encoder_of(model: nn.Module) -> nn.Module | None:
    """The pretrained-style feature extractor: smp's `encoder`, torchvision's `backbone`."""
    for name in ("encoder", "backbone"):
        part = getattr(model, name, None)
        if isinstance(part, nn.Module):
            return part
    return None


def set_encoder_frozen(model: nn.Module, frozen: bool) -> bool:
    """Freeze (or free) the encoder's weights; returns False when the model has no encoder.

    A frozen encoder also keeps its BatchNorm statistics: they run in eval mode
    (see `train_mode`), otherwise small fine-tuning batches would drift them.
    """
    enc = encoder_of(model)
    if enc is None:
        return False
    for p in enc.parameters():
        p.requires_grad_(not frozen)
    return True


def train_mode(model: nn.Module, encoder_frozen: bool) -> None:
    """model.train(), with a frozen encoder left in eval mode."""
    model.train()
    enc = encoder_of(model)
    if encoder_frozen and enc is not None:
        enc.eval()


def normalizer(spec: InputSpec, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) so that x_float = uint8 * scale + shift applies the card's normalisation."""
    mean = torch.tensor(spec.mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, dtype=torch.float32, device=device).view(1, 3, 1, 1)
    scale = 1.0 / (std * spec.max_pixel_value)
    return scale, -mean / std
