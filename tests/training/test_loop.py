"""The training loop on tiny data: repeatability, cancel and resume, versions, freezing, stopping."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from seggui.core.errors import BadInputError, Cancelled
from seggui.core.jobs import CancelToken, Progress
from seggui.engine.card import ModelCard
from seggui.engine.weights import load_model, load_state_dict
from seggui.training.checkpoint import load_checkpoint
from seggui.training.config import TrainConfig
from seggui.training.loop import TrainResult, train_job


def _run(cfg: dict[str, Any], cancel: CancelToken | None = None,
         on: Callable[[Progress], None] | None = None) -> tuple[TrainResult, list[Progress]]:
    seen: list[Progress] = []
    job = train_job(TrainConfig.from_dict(cfg), cancel)
    while True:
        try:
            p = next(job)
        except StopIteration as stop:
            return stop.value, seen
        seen.append(p)
        if on is not None:
            on(p)


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _digest(folder: Path) -> dict[str, str]:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.slow
def test_same_seed_gives_identical_weights_and_full_records(toy_config: dict, tmp_path: Path) -> None:
    first, progress = _run({**toy_config, "out": str(tmp_path / "a")})
    # a loader worker process reads and augments instead: the same batches, so the same weights
    second, _ = _run({**toy_config, "out": str(tmp_path / "b"), "workers": 1})
    wa = load_state_dict(tmp_path / "a" / "weights.safetensors")
    wb = load_state_dict(tmp_path / "b" / "weights.safetensors")
    assert _same(wa, wb)
    assert first.status == "finished" and first.epochs_run == 1 and first.best_epoch == 1

    epochs = [p.data for p in progress if p.data.get("event") == "epoch"]
    lines = [json.loads(s) for s in (tmp_path / "a" / "train" / "metrics.jsonl").read_text().splitlines()]
    assert len(epochs) == len(lines) == 1
    rec = lines[0]
    for key in ("train_loss", "val_loss", "miou", "per_class_iou", "lr", "images_per_s", "pixel_accuracy"):
        assert rec[key] is not None, key
    assert set(rec["per_class_iou"]) == {"background", "red box", "blue box"}
    assert {k: v for k, v in epochs[0].items() if k != "event"} == rec
    steps = [p for p in progress if p.data.get("event") == "step"]
    assert steps and steps[-1].done == steps[-1].total == 4  # 8 pairs / batch 2

    card = ModelCard.load(tmp_path / "a")
    assert card.version == 1 and card.parent is None
    assert card.num_classes == 3 and card.classes.name == "toy-3"
    assert card.training["status"] == "finished" and card.training["config"]["seed"] == 7
    assert card.metrics["miou"] == pytest.approx(rec["miou"])
    assert card.provenance["dataset"]["train"]["pairs"] == 8
    assert len(card.provenance["dataset"]["train"]["sha256"]) == 64
    model = load_model(card)  # the engine loads what training wrote
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 3, 64, 64)


@pytest.mark.slow
def test_cancel_keeps_last_good_checkpoint_and_resume_matches(toy_config: dict, tmp_path: Path) -> None:
    cfg = {**toy_config, "epochs": 2, "augment": "none", "steps_per_epoch": 2}
    whole, _ = _run({**cfg, "out": str(tmp_path / "whole")})

    token = CancelToken()
    stopped = tmp_path / "stopped"

    def cancel_after_first_epoch(p: Progress) -> None:
        if p.data.get("event") == "epoch":
            token.cancel()

    with pytest.raises(Cancelled):
        _run({**cfg, "out": str(stopped)}, token, cancel_after_first_epoch)
    ck = load_checkpoint(stopped / "train" / "last.pt")
    assert ck["epoch"] == 1 and ck["status"] == "running"
    assert ModelCard.load(stopped).training["status"] == "cancelled"
    assert len((stopped / "train" / "metrics.jsonl").read_text().splitlines()) == 1

    with pytest.raises(BadInputError, match="already holds"):  # never overwrite without --resume
        _run({**cfg, "out": str(stopped)})
    resumed, progress = _run({**cfg, "out": str(stopped), "resume": True})
    assert resumed.status == "finished" and resumed.epochs_run == 2
    assert [p.data["epoch"] for p in progress if p.data.get("event") == "epoch"] == [2]
    end_whole = load_checkpoint(tmp_path / "whole" / "train" / "last.pt")["model"]
    end_resumed = load_checkpoint(stopped / "train" / "last.pt")["model"]
    assert _same(end_whole, end_resumed)  # interrupted + resumed == uninterrupted, bit for bit
    with pytest.raises(BadInputError, match="already ended"):
        _run({**cfg, "out": str(stopped), "resume": True})


def test_fine_tune_writes_a_new_version_with_frozen_encoder(toy_config: dict, tmp_path: Path) -> None:
    parent_dir = tmp_path / "models" / "toy"
    _run({**toy_config, "out": str(parent_dir), "name": "toy"})
    before = _digest(parent_dir)
    with pytest.raises(BadInputError, match="never overwrites"):
        _run({**toy_config, "from_model": str(parent_dir), "out": str(parent_dir)})

    cfg = {**toy_config, "from_model": str(parent_dir), "freeze_encoder_epochs": 1, "augment": "none",
           "classes": None}
    cfg.pop("out")
    result, _ = _run(cfg)
    assert result.card_dir == parent_dir.parent / "toy-v2"
    child = ModelCard.load(result.card_dir)
    assert (child.name, child.version, child.parent) == ("toy", 2, "toy@1")
    assert child.classes.name == "toy-3"  # inherited from the parent card
    assert _digest(parent_dir) == before  # the parent is untouched

    parent_w = load_state_dict(parent_dir / "weights.safetensors")
    child_w = load_state_dict(result.card_dir / "weights.safetensors")
    enc = [k for k in parent_w if k.startswith("encoder.")]
    dec = [k for k in parent_w if k.startswith("decoder.") and k.endswith(".weight")]
    assert enc and all(torch.equal(parent_w[k], child_w[k]) for k in enc)  # incl. BatchNorm statistics
    assert any(not torch.equal(parent_w[k], child_w[k]) for k in dec)


def test_new_class_set_reuses_all_but_the_head(toy_config: dict, toy_table: Path, tmp_path: Path) -> None:
    parent_dir = tmp_path / "p"
    _run({**toy_config, "out": str(parent_dir), "steps_per_epoch": 1})
    five = json.loads(toy_table.read_text())
    five["name"] = "toy-5"
    five["classes"] += [{"id": 3, "name": "green", "color": [0, 255, 0]},
                        {"id": 4, "name": "white", "color": [255, 255, 255]}]
    cfg = {**toy_config, "from_model": str(parent_dir), "classes": five, "out": str(tmp_path / "c"),
           "steps_per_epoch": 1, "freeze_encoder_epochs": 1}
    result, progress = _run(cfg)
    assert any("3 classes, this run 5" in (p.error or "") for p in progress)
    child = ModelCard.load(result.card_dir)
    assert child.num_classes == 5 and child.parent == "p@1"
    parent_w = load_state_dict(parent_dir / "weights.safetensors")
    child_w = load_state_dict(result.card_dir / "weights.safetensors")
    head = [k for k in child_w if k.startswith("segmentation_head.")]
    assert head and all(child_w[k].shape[0] == 5 for k in head)
    assert all(torch.equal(parent_w[k], child_w[k]) for k in parent_w if k.startswith("encoder."))


def test_staged_loss_then_early_stop(toy_config: dict, tmp_path: Path) -> None:
    # min_delta 1.0: no epoch after the first can count as an improvement, so the
    # schedule is fixed: epoch 2 stalls stage 0 -> stage 1, epoch 3 stalls the last stage -> stop
    cfg = {**toy_config, "epochs": 6, "stages": ["ce", "dice"], "stage_patience": 1, "early_stop": 1,
           "min_delta": 1.0, "class_weights": "median", "steps_per_epoch": 1, "schedule": "plateau"}
    result, progress = _run(cfg)
    assert result.status == "early-stopped" and result.epochs_run == 3
    recs = result.history
    assert [r["stage"] for r in recs] == [0, 0, 1]
    assert [r["loss_name"] for r in recs] == ["ce", "ce", "dice"]
    assert [r["switched_loss"] for r in recs] == [False, True, False]
    assert recs[-1]["early_stop"] is True
    card = ModelCard.load(result.card_dir)
    assert card.training["status"] == "early-stopped"
    assert card.training["loss"] == ["ce", "dice"]
    assert len(card.training["class_weights"]) == 3


def test_bad_pair_is_reported_and_training_goes_on(toy_config: dict, tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(toy_config["data"]["root"], root)
    (root / "images" / "f001.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (root / "masks" / "extra.png").write_bytes((root / "masks" / "f000.png").read_bytes())
    cfg = {**toy_config, "data": {**toy_config["data"], "root": str(root)}}
    result, progress = _run(cfg)
    errors = [p.error for p in progress if p.error]
    assert any("extra.png: no picture" in e for e in errors)
    assert any("f001.png" in e for e in errors)
    assert result.status == "finished"


def test_config_errors_name_the_problem(toy_config: dict) -> None:
    with pytest.raises(BadInputError, match="unknown training settings: epocs"):
        TrainConfig.from_dict({**toy_config, "epocs": 3})
    with pytest.raises(BadInputError, match="unknown data settings: rot"):
        TrainConfig.from_dict({**toy_config, "data": {"rot": "x"}})
    with pytest.raises(BadInputError, match="epochs must be a positive integer"):
        TrainConfig.from_dict({**toy_config, "epochs": 0})
    with pytest.raises(BadInputError, match="give an output folder"):
        _run({**toy_config, "out": None})


def test_workspace_corrections_train_with_the_workspace_classes(toy_config: dict, toy_table: Path,
                                                                tmp_path: Path) -> None:
    from seggui.core.classes import load_classes
    from seggui.core.masks import read_mask
    from seggui.core.workspace import Workspace

    src = Path(toy_config["data"]["root"])
    ws = Workspace.create(tmp_path / "ws", load_classes(toy_table))
    ws.add_images(sorted((src / "images").glob("*.png")))
    for fid in sorted(ws.frames)[:6]:  # six corrected frames; the other two were never touched
        ws.write_mask(fid, "corrected", read_mask(src / "masks" / f"{fid}.png"))
    cfg = {**toy_config, "data": {"layout": "workspace", "root": str(ws.root), "val_fraction": 0.3},
           "classes": None, "out": str(ws.models_dir / "toy-ws"), "steps_per_epoch": 1}
    result, progress = _run(cfg)
    setup = next(p.data for p in progress if p.data.get("event") == "setup")
    assert setup["train_pairs"] + setup["val_pairs"] == 6 and setup["val_pairs"] >= 1
    card = ModelCard.load(result.card_dir)
    assert card.classes.name == "toy-3" and card.provenance["dataset"]["layout"] == "workspace"
