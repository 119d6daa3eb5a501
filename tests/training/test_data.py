"""Augmentation, the torch dataset, samplers and collation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from seggui.core.classes import load_classes
from seggui.core.errors import BadInputError
from seggui.training.augment import PRESETS, augment_steps, build_transforms
from seggui.training.datasets import PadCollate, SegDataset, train_sampler, val_sampler
from seggui.training.layouts import find_samples


def _pair(h: int = 48, w: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    mask = rng.integers(0, 3, (h, w), dtype=np.uint8)
    return img, mask


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_keep_mask_labels_and_crop(preset: str) -> None:
    img, mask = _pair()
    tf = build_transforms(preset, ignore=255, train=True, crop=[32, 32])
    for seed in range(5):
        tf.set_random_seed(seed)
        out = tf(image=img, mask=mask)
        assert out["image"].shape == (32, 32, 3) and out["mask"].shape == (32, 32)
        # nearest-neighbour only: no blended, invented labels
        assert set(np.unique(out["mask"]).tolist()) <= {0, 1, 2, 255}


def test_geometric_steps_fill_uncovered_area_with_ignore() -> None:
    img = np.full((64, 64, 3), 128, np.uint8)
    mask = np.ones((64, 64), np.uint8)
    tf = build_transforms([{"affine": {"rotate": [45, 45], "scale": [1, 1], "translate_percent": [0, 0],
                                        "p": 1}}], ignore=255, train=True)
    out = tf(image=img, mask=mask)["mask"]
    assert out[0, 0] == 255 and out[32, 32] == 1
    assert 0 not in np.unique(out)  # albumentations' default fill would have invented class 0


def test_validation_pads_to_the_stride_with_ignore() -> None:
    img, mask = _pair(50, 70)
    out = build_transforms("driving", ignore=255, train=False)(image=img, mask=mask)
    assert out["image"].shape == (64, 96, 3)
    np.testing.assert_array_equal(out["image"][:50, :70], img)  # validation never augments
    np.testing.assert_array_equal(out["mask"][:50, :70], mask)
    assert (out["mask"][50:] == 255).all() and (out["mask"][:, 70:] == 255).all()


def test_resize_applies_to_train_and_val() -> None:
    img, mask = _pair(60, 80)
    for train in (True, False):
        out = build_transforms("none", 255, train, resize=[32, 64])(image=img, mask=mask)
        assert out["mask"].shape == (32, 64)


def test_any_albumentations_class_and_bad_names() -> None:
    steps = augment_steps([{"RandomGamma": {"p": 1.0}}, "flip", {"noise": {"p": 1.0}}], ignore=255)
    assert [type(s).__name__ for s in steps] == ["RandomGamma", "HorizontalFlip", "GaussNoise"]
    with pytest.raises(BadInputError, match="unknown augmentation 'Sparkle'"):
        augment_steps(["Sparkle"], 255)
    with pytest.raises(BadInputError, match="unknown augmentation preset"):
        augment_steps("wild", 255)
    with pytest.raises(BadInputError, match="bad settings"):
        augment_steps([{"flip": {"probability": 2}}], 255)
    with pytest.raises(BadInputError, match="multiple of the stride"):
        build_transforms("none", 255, True, crop=[50, 64])


def test_dataset_is_seeded_per_epoch_and_index(toy_data: tuple[Path, Path], toy_table: Path) -> None:
    table = load_classes(toy_table)
    samples = find_samples("folder", toy_data[0]).samples
    tf = build_transforms("driving", 255, True, crop=[32, 32])
    ds = SegDataset(samples, table, tf, seed=3)
    a, b = ds[5], ds[5]
    assert a["image"].dtype == torch.uint8 and a["image"].shape == (3, 32, 32)
    assert a["mask"].shape == (32, 32)
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
    other_epoch = ds[len(ds) + 5]  # the same picture, one epoch later
    assert other_epoch["index"] == 5
    assert not torch.equal(a["image"], other_epoch["image"])


def test_unreadable_pair_is_replaced_and_reported(tmp_path: Path, toy_data: tuple[Path, Path],
                                                  toy_table: Path) -> None:
    import shutil

    root = tmp_path / "d"
    shutil.copytree(toy_data[0], root)
    bad = root / "images" / "f002.png"
    bad.write_bytes(bad.read_bytes()[:100])  # truncated PNG
    ds = SegDataset(find_samples("folder", root).samples, load_classes(toy_table))
    item = ds[2]
    assert item["index"] == 3
    assert len(item["errors"]) == 1 and "f002.png" in item["errors"][0] and "truncated" in item["errors"][0]


def test_pad_collate_pads_masks_with_ignore() -> None:
    items = [
        {"image": torch.ones(3, 4, 6, dtype=torch.uint8), "mask": torch.zeros(4, 6, dtype=torch.uint8),
         "index": 0, "errors": []},
        {"image": torch.ones(3, 8, 5, dtype=torch.uint8), "mask": torch.ones(8, 5, dtype=torch.uint8),
         "index": 1, "errors": ["x: bad"]},
    ]
    batch = PadCollate(255)(items)
    assert batch["image"].shape == (2, 3, 8, 6) and batch["mask"].shape == (2, 8, 6)
    assert (batch["mask"][0, 4:] == 255).all() and (batch["mask"][1, :, 5] == 255).all()
    assert (batch["image"][0, :, 4:] == 0).all() and batch["errors"] == ["x: bad"]


def test_samplers_shard_and_tag_epochs() -> None:
    n = 7
    shards = [train_sampler(n, seed=1, rank=r, world=2) for r in range(2)]
    for s in shards:
        s.set_epoch(3)
    got = [list(s) for s in shards]
    assert len(got[0]) == len(got[1]) == 4  # padded so both ranks take the same number of steps
    assert all(3 * n <= i < 4 * n for g in got for i in g)
    assert {i - 3 * n for g in got for i in g} == set(range(n))
    again = train_sampler(n, seed=1, rank=0, world=2)
    again.set_epoch(3)
    assert list(again) == got[0]
    again.set_epoch(4)
    assert [i - 4 * n for i in again] != [i - 3 * n for i in got[0]]
    vals = [list(val_sampler(n, r, 2)) for r in range(2)]
    assert sorted(vals[0] + vals[1]) == list(range(n))  # each validation picture exactly once
