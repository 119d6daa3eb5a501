"""The ONNX export a training run makes after it ends (config export_onnx): cancel, failure, success."""

from __future__ import annotations

from pathlib import Path

import pytest

from seggui.core.errors import Cancelled
from seggui.core.jobs import CancelToken, run_job
from seggui.engine.card import InputSpec, ModelCard
from seggui.training.export_after import export_after_training

PARAMS = {"encoder_depth": 3, "decoder_channels": [16, 8, 8]}


def _card(folder: Path) -> Path:
    import torch

    from seggui.engine.factory import build_model
    from seggui.engine.weights import save_state_dict

    torch.manual_seed(0)
    folder.mkdir(parents=True)
    save_state_dict(build_model("Unet", "mobilenet_v2", 2, PARAMS), folder / "weights.safetensors")
    ModelCard(name="tiny", architecture="Unet", encoder="mobilenet_v2", arch_params=PARAMS, num_classes=2,
              classes_spec="parking-2", weights="weights.safetensors", input=InputSpec(stride=8)).save(folder)
    return folder


@pytest.mark.slow
def test_export_registers_a_checked_onnx_file(tmp_path: Path) -> None:
    card = _card(tmp_path / "tiny")
    assert run_job(export_after_training(card)) is None
    new = ModelCard.load(card)
    assert new.onnx_path is not None and new.onnx_path.is_file()
    assert new.provenance["onnx_export"]["agreement_vs_torch"] > 0.999


def test_a_cancel_stops_it_and_is_no_failure(tmp_path: Path) -> None:
    card, token = _card(tmp_path / "tiny"), CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run_job(export_after_training(card, token))
    assert ModelCard.load(card).onnx is None


def test_a_failed_export_is_said_not_raised(tmp_path: Path) -> None:
    card = _card(tmp_path / "tiny")
    (card / "weights.safetensors").unlink()
    said = run_job(export_after_training(card))
    assert said is not None and "runs on torch" in said and "weights" in said
