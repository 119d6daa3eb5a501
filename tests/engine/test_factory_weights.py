"""Building networks by name; loading weights safely; refusing what does not fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from engine_helpers import TINY_ARCH, TINY_ENCODER, TINY_PARAMS, make_card

from seggui.core.errors import BadInputError
from seggui.engine.factory import (
    architecture_names,
    build_model,
    canonical_architecture,
    head_layer,
)
from seggui.engine.weights import load_model, load_state_dict, save_state_dict

# Small encoders keep this quick; DPT takes only timm ViT encoders.
ENCODER_FOR = {"DPT": "tu-vit_tiny_patch16_224", "PAN": "resnet18", "FCN8s": "vgg11"}


def test_name_table() -> None:
    names = architecture_names()
    for expected in ("Unet", "UnetPlusPlus", "FPN", "PSPNet", "DeepLabV3", "DeepLabV3Plus", "Linknet",
                     "MAnet", "PAN", "UPerNet", "Segformer", "torchvision.fcn_resnet50"):
        assert expected in names
    assert canonical_architecture("unetplusplus") == "UnetPlusPlus"
    assert canonical_architecture("fcn_resnet50") == "torchvision.fcn_resnet50"
    with pytest.raises(BadInputError, match=r"unknown architecture 'Unet3'; choices: Unet, UnetPlusPlus"):
        canonical_architecture("Unet3")


def test_unknown_encoder_lists_choices() -> None:
    with pytest.raises(BadInputError, match=r"unknown encoder 'resnet9' .* resnet18, resnet34"):
        build_model("FPN", "resnet9", 3)


@pytest.mark.parametrize("arch", [a for a in architecture_names() if a != "DPT"])
def test_every_architecture_maps_pictures_to_logits(arch: str) -> None:
    """Each builds with nothing downloaded and returns (N, C, H, W) logits as a plain tensor."""
    torch.manual_seed(0)
    model = build_model(arch, ENCODER_FOR.get(arch, "resnet18"), 5)
    size = 64 if arch != "PAN" else 128  # PAN's pyramid pools down 32x more than the output stride
    with torch.inference_mode():
        out = model(torch.randn(1, 3, size, size))
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (1, 5, size, size)
    key, channels = head_layer(model)
    assert channels == 5 and key in model.state_dict()


def test_fcn_loads_a_plain_torchvision_state_dict() -> None:
    from torchvision.models.segmentation import fcn_resnet50

    plain = fcn_resnet50(weights=None, weights_backbone=None, num_classes=4, aux_loss=False)
    ours = build_model("torchvision.fcn_resnet50", None, 4)
    ours.load_state_dict(plain.state_dict(), strict=True)


def _tiny() -> torch.nn.Module:
    torch.manual_seed(1)
    return build_model(TINY_ARCH, TINY_ENCODER, 12, TINY_PARAMS)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_safetensors_and_pt_round_trip(tmp_path: Path) -> None:
    model = _tiny()
    save_state_dict(model, tmp_path / "w.safetensors")
    assert _same(load_state_dict(tmp_path / "w.safetensors"), model.state_dict())
    torch.save(model.state_dict(), tmp_path / "w.pt")
    assert _same(load_state_dict(tmp_path / "w.pt"), model.state_dict())
    # training checkpoints and DDP-prefixed keys unwrap to the same tensors
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}, "epoch": 3},
               tmp_path / "ckpt.pth")
    assert _same(load_state_dict(tmp_path / "ckpt.pth"), model.state_dict())


def test_card_with_pt_weights_loads(tmp_path: Path) -> None:
    card = make_card(tmp_path / "c", _tiny(), weights_name="weights.pt")
    model = load_model(card)
    assert _same(model.state_dict(), _tiny().state_dict())


def test_pickled_whole_model_is_refused(tmp_path: Path) -> None:
    torch.save(_tiny(), tmp_path / "whole.pt")  # a pickle of the module object, not a state dict
    with pytest.raises(BadInputError) as err:
        load_state_dict(tmp_path / "whole.pt")
    text = str(err.value)
    assert err.value.path == tmp_path / "whole.pt"
    assert "pickle" in text and "arbitrary code" in text
    assert "state_dict()" in text and "safetensors" in text  # says how to convert


def test_non_tensor_pickle_is_refused(tmp_path: Path) -> None:
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(BadInputError, match="not a state dict of tensors"):
        load_state_dict(tmp_path / "list.pt")


def test_corrupt_weights(tmp_path: Path) -> None:
    (tmp_path / "w.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(BadInputError, match="safetensors"):
        load_state_dict(tmp_path / "w.safetensors")
    (tmp_path / "w.pt").write_bytes(b"garbage")
    with pytest.raises(BadInputError, match="not a readable torch weights file"):
        load_state_dict(tmp_path / "w.pt")


def test_class_count_mismatch_names_both_numbers(tmp_path: Path) -> None:
    torch.manual_seed(0)
    five = build_model(TINY_ARCH, TINY_ENCODER, 5, TINY_PARAMS)
    card = make_card(tmp_path / "c", _tiny())
    save_state_dict(five, card.weights_path)  # the card still says 12 classes
    with pytest.raises(BadInputError, match=r"declares 12 classes but the weights produce 5"):
        load_model(card)


def test_architecture_mismatch_is_explained(tmp_path: Path) -> None:
    card = make_card(tmp_path / "c", _tiny())
    other = build_model("FPN", "resnet18", 12)
    save_state_dict(other, card.weights_path)
    with pytest.raises(BadInputError, match="do not fit the architecture"):
        load_model(card)


def test_missing_weights(tmp_path: Path) -> None:
    card = make_card(tmp_path / "c", _tiny())
    card.weights_path.unlink()
    with pytest.raises(BadInputError, match="weights file of model card 'tiny'"):
        load_model(card)


def test_loaded_model_runs(tmp_path: Path) -> None:
    card = make_card(tmp_path / "c", _tiny())
    with torch.inference_mode():
        out = load_model(card)(torch.zeros(1, 3, 32, 40))
    assert out.shape == (1, 12, 32, 40) and np.isfinite(out.numpy()).all()
