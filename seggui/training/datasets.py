"""The torch side of the data: a map-style dataset, epoch-aware samplers, collation.

Batches carry pictures as uint8 (N, 3, H, W) and masks as integer ids
(N, H, W); normalisation to float happens on the training device, which moves
a quarter of the bytes through the loader queues and the host-to-GPU copy.

Repeatability: each sample's augmentation is seeded from (run seed, epoch,
index). `EpochSampler` tags every index it yields with the epoch
(``epoch * len + index``), so loader workers — persistent ones included —
know the epoch without any shared state, and two runs with the same seed see
the same pictures in the same order with the same augmentations, whatever the
number of workers or processes.

A pair that fails to read (truncated PNG, wrong size) is replaced by the next
good one and its error travels in the batch (``errors``), so a long run
reports the bad file and carries on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import albumentations as A
import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler, Sampler

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.training.base_set import base_per_epoch
from seggui.training.layouts import Sample
from seggui.training.readers import read_sample, train_ignore_index

_MAX_SKIP = 16  # how many following pairs to try before giving up on a batch slot


class SegDataset(Dataset):
    """Pairs of (picture, mask) read on demand and transformed together."""

    def __init__(
        self,
        samples: Sequence[Sample],
        table: ClassTable,
        transform: A.Compose | None = None,
        seed: int = 0,
        ignore: int | None = None,
    ) -> None:
        if not samples:
            raise BadInputError(None, "the dataset has no usable picture/mask pairs")
        self.samples = list(samples)
        self.table = table
        self.transform = transform
        self.seed = int(seed)
        self.ignore = train_ignore_index(table) if ignore is None else int(ignore)

    def __len__(self) -> int:
        return len(self.samples)

    def _load(self, index: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        image, mask = read_sample(self.samples[index], self.table, self.ignore)
        if self.transform is not None:
            # One seed per (run, epoch, sample): independent of worker count and order.
            self.transform.set_random_seed((self.seed * 1_000_003 + epoch) * 10_000_019 + index)
            out = self.transform(image=image, mask=mask)
            image, mask = out["image"], out["mask"]
        return image, mask

    def __getitem__(self, tagged: int) -> dict[str, Any]:
        n = len(self.samples)
        epoch, index = divmod(int(tagged), n)
        errors: list[str] = []
        for k in range(min(_MAX_SKIP, n)):
            i = (index + k) % n
            try:
                image, mask = self._load(i, epoch)
                break
            except BadInputError as exc:
                errors.append(str(exc))
        else:
            raise BadInputError(self.samples[index].image, f"{len(errors)} pairs in a row failed to read: "
                                + "; ".join(errors[:3]))
        image_t = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
        mask_t = torch.from_numpy(mask.astype(np.int32) if mask.dtype == np.uint16 else mask)
        return {"image": image_t, "mask": mask_t, "index": i, "errors": errors}


class PadCollate:
    """Collate that pads pictures (0) and masks (the ignore label) to the batch's largest size.

    A class rather than a closure so it pickles into loader workers on
    platforms that spawn them (macOS, Windows). Same-size batches (the usual
    case: training crops) come out exactly as stacked.
    """

    def __init__(self, ignore: int) -> None:
        self.ignore = int(ignore)

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        h = max(it["image"].shape[1] for it in items)
        w = max(it["image"].shape[2] for it in items)
        images = torch.zeros((len(items), 3, h, w), dtype=torch.uint8)
        masks = torch.full((len(items), h, w), self.ignore, dtype=items[0]["mask"].dtype)
        for j, it in enumerate(items):
            ih, iw = it["mask"].shape
            images[j, :, :ih, :iw] = it["image"]
            masks[j, :ih, :iw] = it["mask"]
        return {
            "image": images,
            "mask": masks,
            "index": torch.tensor([it["index"] for it in items]),
            "errors": [e for it in items for e in it["errors"]],
        }


def collate_padded(ignore: int) -> PadCollate:
    """The collate function for a run whose ignore label is `ignore`."""
    return PadCollate(ignore)


class EpochSampler(Sampler[int]):
    """Wrap a sampler so every index it yields carries the epoch (``epoch * n + index``).

    Training uses torch's `DistributedSampler` inside (also for one process):
    a permutation seeded by (seed, epoch), padded to a multiple of the number
    of processes so each runs the same number of steps, as DDP's gradient
    all-reduce requires. `set_epoch` reaches the inner sampler too.
    """

    def __init__(self, inner: Sampler[int], n: int) -> None:
        self.inner, self.n, self.epoch = inner, int(n), 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        if hasattr(self.inner, "set_epoch"):
            self.inner.set_epoch(self.epoch)

    def __iter__(self) -> Iterator[int]:
        base = self.epoch * self.n
        return iter([base + int(i) for i in self.inner])

    def __len__(self) -> int:
        return len(self.inner)  # type: ignore[arg-type]


class ShardSampler(Sampler[int]):
    """Indices ``rank, rank + world, ...`` in order, without padding.

    For validation: over all processes each picture is seen exactly once,
    so the summed confusion matrix counts every pixel once (DistributedSampler
    would repeat a few pictures to even out the shards).
    """

    def __init__(self, n: int, rank: int = 0, world: int = 1) -> None:
        self.n, self.rank, self.world = n, rank, world

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


def train_sampler(n: int, seed: int, rank: int = 0, world: int = 1) -> EpochSampler:
    """The shuffled, epoch-tagged, per-process training sampler."""
    inner: DistributedSampler[int] = DistributedSampler(
        range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed)  # type: ignore[arg-type]
    return EpochSampler(inner, n)


def val_sampler(n: int, rank: int = 0, world: int = 1) -> EpochSampler:
    """The in-order, unpadded, per-process validation sampler."""
    return EpochSampler(ShardSampler(n, rank, world), n)


class MixSampler(Sampler[int]):
    """Epochs of the run's own pairs mixed with base-set samples (see base_set.py for why).

    The dataset is ``SegDataset(own + base)``: indices ``0 .. own-1`` are the
    run's own pairs (a retrain's corrections), the rest the base set. An epoch
    is every own pair once plus `per_epoch` base samples, taken in turn from a
    seeded permutation of the base set (a new one each time it is used up, so
    no base sample repeats before all have been seen), shuffled together.
    Like DistributedSampler it pads the epoch to a multiple of the process
    count and gives each process every `world`-th index. The epoch depends on
    (seed, epoch) only, so resumed runs and any number of workers agree; the
    yielded indices carry the epoch as EpochSampler's do.
    """

    def __init__(self, own: int, base: int, per_epoch: int, seed: int = 0, rank: int = 0,
                 world: int = 1) -> None:
        if own < 1 or base < 1 or per_epoch < 1:
            raise BadInputError(None, f"a mixed epoch needs own pairs, base pairs and base draws "
                                f"(got {own}, {base}, {per_epoch})")
        self.own, self.base, self.per_epoch = int(own), int(base), int(per_epoch)
        self.seed, self.rank, self.world = int(seed), int(rank), int(world)
        self.n = self.own + self.base
        self.epoch = 0
        self._cycle, self._perm = -1, np.empty(0, np.int64)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _base_perm(self, cycle: int) -> np.ndarray:
        if cycle != self._cycle:  # one permutation of the base set in memory at a time
            self._perm = np.random.default_rng([self.seed, 1, cycle]).permutation(self.base)
            self._cycle = cycle
        return self._perm

    def epoch_indices(self, epoch: int) -> np.ndarray:
        """Dataset indices of one epoch for all processes together, shuffled (no tags, no padding)."""
        pos = np.arange(epoch * self.per_epoch, (epoch + 1) * self.per_epoch, dtype=np.int64)
        drawn = np.empty(self.per_epoch, np.int64)
        for cycle in np.unique(pos // self.base):
            sel = pos // self.base == cycle
            drawn[sel] = self._base_perm(int(cycle))[pos[sel] % self.base]
        idx = np.concatenate([np.arange(self.own, dtype=np.int64), self.own + drawn])
        return idx[np.random.default_rng([self.seed, 2, epoch]).permutation(len(idx))]

    def __iter__(self) -> Iterator[int]:
        idx = np.resize(self.epoch_indices(self.epoch), len(self) * self.world)  # pad by wrapping
        tag = self.epoch * self.n
        return iter([tag + int(i) for i in idx[self.rank::self.world]])

    def __len__(self) -> int:
        return math.ceil((self.own + self.per_epoch) / self.world)


def mix_sampler(own: int, base: int, share: float, seed: int, rank: int = 0, world: int = 1) -> MixSampler:
    """The training sampler of a run with a base set: `share` of each epoch from the base."""
    return MixSampler(own, base, base_per_epoch(own, share), seed, rank, world)
