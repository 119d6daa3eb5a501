"""build_model drops the encoder stages an encoder_depth under 5 never runs, and still reads old weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seggui.core.errors import BadInputError
from seggui.engine.card import InputSpec, ModelCard
from seggui.engine.factory import build_model, dropped_prefixes
from seggui.engine.weights import load_checkpoint_model, load_model, save_state_dict

PARAMS = {"encoder_depth": 3, "decoder_channels": [16, 8, 8]}


def _whole(arch: str, encoder: str, params: dict) -> torch.nn.Module:
    """The network as smp builds it, every stage kept (what cards saved before held)."""
    import segmentation_models_pytorch as smp

    return getattr(smp, arch)(encoder_name=encoder, encoder_weights=None, classes=2, **params).eval()


def test_depth_three_resnet_drops_layer3_and_layer4_and_computes_the_same(tmp_path: Path) -> None:
    torch.manual_seed(0)
    whole = _whole("Unet", "resnet18", PARAMS)
    model = build_model("Unet", "resnet18", 2, PARAMS)
    assert dropped_prefixes(model) == ("encoder.layer3.", "encoder.layer4.")
    n_whole, n_now = (sum(p.numel() for p in m.parameters()) for m in (whole, model))
    assert n_now < n_whole / 10  # resnet18's layer3 and layer4 are most of it

    # weights saved with every stage (cards written before) still load, and give the same logits
    save_state_dict(whole, tmp_path / "weights.safetensors")
    ModelCard(name="old", architecture="Unet", encoder="resnet18", arch_params=PARAMS, num_classes=2,
              classes_spec="parking-2", weights="weights.safetensors",
              input=InputSpec(stride=8)).save(tmp_path)
    loaded = load_model(ModelCard.load(tmp_path))
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        assert torch.equal(loaded(x), whole(x))
    assert not any(k.startswith("encoder.layer3") for k in loaded.state_dict())


@pytest.mark.parametrize(("arch", "encoder", "params"), [
    ("Unet", "mobilenet_v2", PARAMS),  # its stages are slices of one module: nothing to drop
    ("DeepLabV3Plus", "resnet18", {}),  # depth 5: every stage runs
])
def test_encoders_whose_stages_all_run_keep_them(arch: str, encoder: str, params: dict) -> None:
    torch.manual_seed(0)
    whole = _whole(arch, encoder, params)
    model = build_model(arch, encoder, 2, params)
    assert dropped_prefixes(model) == ()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in whole.parameters())
    assert all(p.grad is None for p in model.parameters())  # the probe's gradients are gone


def test_a_checkpoint_with_the_dropped_stages_is_refused_by_name(tmp_path: Path) -> None:
    model = build_model("Unet", "resnet18", 2, PARAMS)
    old = _whole("Unet", "resnet18", PARAMS).state_dict()
    with pytest.raises(BadInputError, match="last.pt.*encoder stages the network never runs"):
        load_checkpoint_model(model, old, tmp_path / "last.pt")
    load_checkpoint_model(model, model.state_dict(), tmp_path / "last.pt")  # a new one loads
