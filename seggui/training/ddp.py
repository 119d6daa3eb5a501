"""Several processes, one run: PyTorch DistributedDataParallel under `torchrun`.

`seggui train` needs no special flag: started by ``torchrun --nproc_per_node N``
it finds RANK / WORLD_SIZE / LOCAL_RANK in the environment, joins the group
(NCCL on GPUs, gloo on the CPU), trains on its shard of every epoch, and
averages gradients with the others. Alone, it is an ordinary process and
every function here is a cheap no-op.

Every decision that ends or changes the run (validation figures, early stop,
a loss-stage switch, cancel) is made from values all-reduced over the group,
so the processes never disagree and none waits forever for the others. Only
rank 0 writes files and reports progress.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from seggui.core.confusion import ConfusionMatrix
from seggui.core.errors import BadInputError


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the run and the device it trains on."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_rank() -> int:
    """RANK from the environment (0 outside torchrun); cheap, for callers that must not import torch."""
    return int(os.environ.get("RANK", "0"))


def pick_device(pref: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> this process's GPU when CUDA works, else the CPU; or the device named."""
    if pref in ("auto", "", None):
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    dev = torch.device(pref)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise BadInputError(None, f"device {pref!r} asked for, but CUDA is not available here")
        if dev.index is None:
            dev = torch.device("cuda", local_rank % torch.cuda.device_count())
    return dev


def setup(device_pref: str = "auto") -> DistInfo:
    """Join the process group when started by torchrun; pick the device either way."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_pref, local)
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, init_method="env://", rank=rank, world_size=world)
    return DistInfo(rank, world, local, device)


def cleanup(info: DistInfo) -> None:
    """Leave the process group (lets torchrun see a clean exit)."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def has_unused_parameters(model: nn.Module, device: torch.device, size: int = 64) -> bool:
    """True when some trainable parameter gets no gradient (e.g. the deep stages of an
    encoder truncated by ``encoder_depth``), which DDP must be told about.

    Probed once with a small input in eval mode, so BatchNorm statistics stay
    as they are; the probe's gradients are cleared.
    """
    was_training = model.training
    model.eval()
    try:
        model(torch.zeros(1, 3, size, size, device=device)).float().sum().backward()
        unused = any(p.requires_grad and p.grad is None for p in model.parameters())
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return unused


def wrap(model: nn.Module, info: DistInfo, find_unused: bool = False) -> nn.Module:
    """DDP around the model in a group; the model itself otherwise.

    Called again after the encoder is unfrozen: DDP fixes its set of
    gradient-carrying parameters when it is built. `find_unused` (see
    `has_unused_parameters`) costs a graph walk per step, so it is only
    switched on for models that need it.
    """
    if not info.enabled:
        return model
    ids = [info.device.index] if info.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused)


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside a DDP wrapper."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def average_buffers(model: nn.Module, info: DistInfo) -> None:
    """Average floating buffers (BatchNorm running statistics) over the processes.

    DDP keeps parameters identical but each process updates BatchNorm
    statistics from its own batches; averaging them after every epoch makes
    validation, the saved card and every process's model the same network.
    """
    if not info.enabled:
        return
    for buf in model.buffers():
        if buf.is_floating_point():
            dist.all_reduce(buf, op=dist.ReduceOp.SUM)
            buf.div_(info.world)


def sum_floats(values: list[float], info: DistInfo) -> list[float]:
    """Element-wise sum over all processes (loss totals, pixel counts)."""
    if not info.enabled:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=info.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return [float(v) for v in t.tolist()]


def any_true(flag: bool, info: DistInfo) -> bool:
    """True on every process when it is true on any (a cancel seen by one stops all)."""
    if not info.enabled:
        return flag
    return sum_floats([1.0 if flag else 0.0], info)[0] > 0


def merge_confusion(cm: ConfusionMatrix, info: DistInfo) -> ConfusionMatrix:
    """The confusion matrix summed over all processes (each validated its own shard)."""
    if not info.enabled:
        return cm
    parts: list[ConfusionMatrix | None] = [None] * info.world
    dist.all_gather_object(parts, cm)
    total = ConfusionMatrix(cm.num_ids, cm.ignore_index)
    for part in parts:
        total.merge(part)  # type: ignore[arg-type]
    return total


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()
