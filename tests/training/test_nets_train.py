"""seggui's own networks train through the real loop and come out as cards the engine loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seggui.core.jobs import run_job
from seggui.engine.card import ModelCard
from seggui.engine.weights import load_model
from seggui.training.build import encoder_of
from seggui.training.config import TrainConfig
from seggui.training.loop import train_job


@pytest.mark.slow
def test_fcn8s_trains_one_epoch_with_a_frozen_encoder(toy_config: dict, tmp_path: Path) -> None:
    cfg = {**toy_config, "architecture": "FCN8s", "encoder": "vgg11_bn", "out": str(tmp_path / "fcn"),
           "arch_params": {"fc_channels": 16}, "freeze_encoder_epochs": 1}
    result = run_job(train_job(TrainConfig.from_dict(cfg)))
    assert result.status == "finished" and result.epochs_run == 1
    card = ModelCard.load(tmp_path / "fcn")
    assert (card.architecture, card.encoder, card.arch_params) == ("FCN8s", "vgg11_bn", {"fc_channels": 16})
    model = load_model(card)
    assert encoder_of(model) is model.encoder  # freezing and fine-tuning find the VGG blocks
    with torch.inference_mode():
        assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 3, 64, 64)
