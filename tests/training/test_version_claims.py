"""Issue 16, finding 2: two retrains started a second apart get two versions, never one number twice.

The version folder is claimed by an exclusive mkdir (`claim_version_dir`),
and the number claimed is the one written into the new card (the training
config carries it), so `--list` shows both and `--rollback` tells them apart.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from seggui.core.images import write_image
from seggui.core.workspace import Workspace
from seggui.engine.card import InputSpec, ModelCard
from seggui.training.config import TrainConfig
from seggui.training.loop import train_job
from seggui.training.retrain import CONFIG_FILE, plan_retrain
from seggui.training.versions import claim_version_dir


def test_concurrent_claims_get_distinct_numbers(tmp_path: Path) -> None:
    base = tmp_path / "models"
    (base / "demo-v3").mkdir(parents=True)  # taken before: claims start above it
    n = 6
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        claims = list(pool.map(claim_version_dir, [base] * n, ["demo"] * n, [3] * n))
    numbers = [num for _folder, num in claims]
    assert sorted(numbers) == list(range(4, 4 + n))
    assert all(folder == base / f"demo-v{num}" and folder.is_dir() for folder, num in claims)


def _workspace_with_corrections(root: Path) -> Workspace:
    card_dir = root.parent / "cards" / "demo"
    ModelCard(name="demo", architecture="Unet", encoder="resnet18", num_classes=12,
              classes_spec="camvid-11", weights="weights.safetensors", version=2,
              input=InputSpec(stride=8, tile_size=None)).save(card_dir)
    ws = Workspace.create(root, "camvid-11", model=str(card_dir))
    for i in range(3):
        pic = write_image(root / "images" / f"f{i}.png", np.zeros((16, 16, 3), np.uint8))
        ws.add_image(pic)
        ws.write_mask(f"f{i}", "corrected", np.full((16, 16), i, np.uint8))
    return ws


def test_two_planned_retrains_carry_two_versions(tmp_path: Path) -> None:
    ws = _workspace_with_corrections(tmp_path / "ws")
    first = plan_retrain(ws, epochs=1, device="cpu")
    second = plan_retrain(Workspace.open(ws.root), epochs=1, device="cpu")
    assert (first.out.name, second.out.name) == ("demo-v3", "demo-v4")
    versions = [json.loads((p.out / CONFIG_FILE).read_text())["version"] for p in (first, second)]
    assert versions == [3, 4]
    assert (first.config.version, second.config.version) == (3, 4)


def test_the_card_takes_the_claimed_version(toy_config: dict, tmp_path: Path) -> None:
    job = train_job(TrainConfig.from_dict({**toy_config, "name": "toy", "version": 7}))
    while True:
        try:
            next(job)
        except StopIteration as stop:
            result = stop.value
            break
    assert ModelCard.load(result.card_dir).version == 7


def test_two_promotes_from_stale_copies_list_both_versions(tmp_path: Path) -> None:
    """Two retrains each hold the workspace from before the other promoted; both versions stay listed."""
    from seggui.training.retrain_versions import list_versions, promote, rollback

    ws = _workspace_with_corrections(tmp_path / "ws")
    first, second = Workspace.open(ws.root), Workspace.open(ws.root)
    cards = []
    for n in (3, 4):
        folder, _ = claim_version_dir(ws.models_dir, "demo", n)
        (folder / "weights.safetensors").write_bytes(b"not read here")
        ModelCard(name="demo", architecture="Unet", encoder="resnet18", num_classes=12,
                  classes_spec="camvid-11", weights="weights.safetensors", version=n, parent="demo@2",
                  input=InputSpec(stride=8, tile_size=None)).save(folder)
        cards.append(folder)
    promote(first, cards[0])
    promote(second, cards[1])  # its copy has never seen v3
    listed = list_versions(Workspace.open(ws.root))
    assert {v["ref"] for v in listed} == {"demo@2", "demo@3", "demo@4"}
    for label in ("demo-v3", "demo-v4"):
        entry = rollback(Workspace.open(ws.root), label)
        assert entry["label"] == label
        assert Workspace.open(ws.root).model == str((ws.models_dir / label).resolve())
