"""Tiny synthetic datasets for the training tests (a few 64x64 pictures, 3 classes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seggui.core.images import write_image
from seggui.core.masks import write_mask

TOY_TABLE = {
    "name": "toy-3",
    "ignore_index": None,
    "classes": [
        {"id": 0, "name": "background", "color": [0, 0, 0]},
        {"id": 1, "name": "red box", "color": [255, 0, 0]},
        {"id": 2, "name": "blue box", "color": [0, 0, 255]},
    ],
}

# A tiny network: Unet on a 3-stage resnet18 encoder with a thin decoder.
TINY_MODEL = {"architecture": "Unet", "encoder": "resnet18",
              "arch_params": {"encoder_depth": 3, "decoder_channels": [16, 8, 8]}}


def toy_pair(rng: np.random.Generator, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A noisy grey picture with a red and a blue box; the mask says which pixel is which."""
    img = rng.integers(90, 150, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), np.uint8)
    for cls, colour in ((1, (220, 40, 40)), (2, (40, 40, 220))):
        h, w = rng.integers(size // 5, size // 2, 2)
        y, x = rng.integers(0, size - h), rng.integers(0, size - w)
        img[y:y + h, x:x + w] = colour
        mask[y:y + h, x:x + w] = cls
    return img, mask


def make_pairs(root: Path, n: int, seed: int, size: int = 64) -> Path:
    """root/images/*.png + root/masks/*.png, `n` pairs."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        img, mask = toy_pair(rng, size)
        write_image(root / "images" / f"f{i:03d}.png", img)
        write_mask(root / "masks" / f"f{i:03d}.png", mask)
    return root


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny tensors on a shared 2-core machine: one intra-op thread is several times faster
    (no OpenMP threads spinning against other processes). Restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def toy_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("table") / "toy-3.json"
    path.write_text(json.dumps(TOY_TABLE), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(train root, val root) in the folder layout: 8 training and 2 validation pairs."""
    base = tmp_path_factory.mktemp("toy")
    return make_pairs(base / "train", 8, seed=1), make_pairs(base / "val", 2, seed=2)


@pytest.fixture
def toy_config(toy_data: tuple[Path, Path], toy_table: Path, tmp_path: Path) -> dict:
    """A one-epoch run on the toy data into tmp_path/out; tests adjust it."""
    train, val = toy_data
    return {
        "data": {"layout": "folder", "root": str(train), "val_root": str(val)},
        "classes": str(toy_table), "out": str(tmp_path / "out"),
        **TINY_MODEL, "epochs": 1, "batch": 2, "lr": 0.01, "augment": "basic", "crop": [32, 32],
        "seed": 7, "device": "cpu",
    }
