"""seggui's own networks (FCN-8s on VGG) and the seeds' DeepLabv3+ on Xception, through the factory.

Small variants (VGG11 blocks, 32-channel fc layers) keep the tests quick; the
architecture is the same code whatever the widths. The FCN-8s that is
exported gets its head fitted on cached CamVid encoder features first, so its
labels follow the picture and the torch / ONNX / int8 comparisons mean
something (a random network's near-ties would make them pass or fail by chance).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from engine_helpers import small

from seggui.core.errors import BadInputError
from seggui.core.images import list_images, read_image
from seggui.core.masks import read_mask
from seggui.engine.card import InputSpec, ModelCard
from seggui.engine.factory import architecture_names, build_model, canonical_architecture, head_layer
from seggui.engine.nets.fcn8s import FCN8s, bilinear_kernel
from seggui.engine.weights import load_model, load_state_dict, save_state_dict

SMALL_FCN = {"fc_channels": 32}


def test_fcn8s_is_named_and_canonical() -> None:
    assert "FCN8s" in architecture_names()
    for spelling in ("FCN8s", "fcn8s", "fcn-8s", "FCN_8s"):
        assert canonical_architecture(spelling) == "FCN8s"


def test_fcn8s_vgg16_is_the_paper_network() -> None:
    """VGG16's 13 convolutions, fc6/fc7 as 1x1 convs of 4096, three score layers, x2 x2 x8 upsampling."""
    model = build_model("FCN8s", None, 12)
    convs = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 13 and convs[-1].out_channels == 512
    assert model.fc6[0].kernel_size == (1, 1) and model.fc6[0].out_channels == 4096
    assert model.fc7[0].kernel_size == (1, 1) and model.fc7[0].out_channels == 4096
    assert [model.score_pool3.in_channels, model.score_pool4.in_channels] == [256, 512]
    assert [m.stride for m in (model.up2, model.up4, model.up8)] == [(2, 2), (2, 2), (8, 8)]
    # 14.7 M in the VGG16 convolutions + 2.1 M fc6 + 16.8 M fc7 + the score layers and upsamplers
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(33.7e6, rel=0.01)
    assert head_layer(model) == ("score_pool3.weight", 12)
    seven = build_model("FCN8s", "vgg16", 12, {"fc6_kernel": 7})
    assert seven.fc6[0].kernel_size == (7, 7)


@pytest.mark.parametrize("params", [SMALL_FCN, {**SMALL_FCN, "upsample": "bilinear"}])
@pytest.mark.parametrize("hw", [(32, 32), (64, 96), (96, 128)])
def test_fcn8s_logits_at_the_input_size(params: dict, hw: tuple[int, int]) -> None:
    model = build_model("FCN8s", "vgg11", 5, params)
    with torch.inference_mode():
        out = model(torch.randn(2, 3, *hw))
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (2, 5, *hw)


def test_fcn8s_refuses_what_does_not_fit() -> None:
    model = build_model("FCN8s", "vgg11", 3, SMALL_FCN)
    with pytest.raises(ValueError, match="divisible by 32"):
        model(torch.zeros(1, 3, 48, 64))
    with pytest.raises(BadInputError, match=r"FCN8s takes a VGG encoder .*--encoder vgg16.*'resnet18'"):
        build_model("FCN8s", "resnet18", 3)
    with pytest.raises(BadInputError, match="unexpected keyword argument 'depth'"):
        build_model("FCN8s", "vgg16", 3, {"depth": 4})
    with pytest.raises(BadInputError, match="fc6_kernel must be odd"):
        build_model("FCN8s", "vgg16", 3, {"fc6_kernel": 2})


def test_upsamplers_start_as_bilinear_interpolation() -> None:
    """A transposed conv with the bilinear kernel keeps a flat picture flat (away from the border)."""
    w = bilinear_kernel(2, 16)
    assert w[0, 1].abs().sum() == 0 and w[0, 0].max() <= 1
    up = FCN8s(2, "vgg11", fc_channels=8).up8
    out = up(torch.ones(1, 2, 4, 4)).detach()
    assert out.shape == (1, 2, 32, 32)
    assert torch.allclose(out[:, :, 8:24, 8:24], torch.ones(1, 2, 16, 16))


def test_torchvision_vgg_features_load_into_the_encoder() -> None:
    """A torchvision VGG16-BN state dict the user has (never downloaded here) fits `encoder.features`."""
    from torchvision.models import vgg16_bn

    plain = vgg16_bn(weights=None).state_dict()
    feats = {k.removeprefix("features."): v for k, v in plain.items() if k.startswith("features.")}
    model = build_model("FCN8s", "vgg16_bn", 4, SMALL_FCN)
    model.encoder.features.load_state_dict(feats, strict=True)


def test_fcn8s_train_step_reaches_every_layer() -> None:
    torch.manual_seed(0)
    model = build_model("FCN8s", "vgg11_bn", 3, {**SMALL_FCN, "dropout": 0.0}).train()
    x, y = torch.randn(2, 3, 64, 64), torch.randint(0, 3, (2, 64, 64))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert model.encoder.features[0].weight.grad.abs().sum() > 0
    assert model.up8.weight.grad.abs().sum() > 0
    opt.step()
    with torch.no_grad():  # the same batch (batch-norm statistics alike): one small step goes downhill
        assert torch.nn.functional.cross_entropy(model(x), y) < loss


def _camvid_batch(camvid: Path, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    files = list_images(camvid / "train")[::15][:count]
    mean = np.array([0.485, 0.456, 0.406], np.float32) * 255
    std = np.array([0.229, 0.224, 0.225], np.float32) * 255
    x = np.stack([(small(read_image(f)) - mean) / std for f in files]).transpose(0, 3, 1, 2)
    y = np.stack([small(read_mask(camvid / "trainannot" / f.name), nearest=True) for f in files])
    return torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(y.astype(np.int64))


def _fitted_fcn8s(camvid: Path, steps: int = 60) -> torch.nn.Module:
    """Small FCN-8s whose head (fc6 onwards) is fitted on cached CamVid encoder features at 96x128."""
    torch.manual_seed(0)
    model = build_model("FCN8s", "vgg11", 12, SMALL_FCN)
    x, y = _camvid_batch(camvid, 16)
    with torch.no_grad():
        pool3, pool4, pool5 = model.encoder(x)
    head = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    opt = torch.optim.Adam(head, lr=0.01)
    model.train()
    for _ in range(steps):
        score = model.score_fr(model.fc7(model.fc6(pool5)))
        score = model.up2(score) + model.score_pool4(pool4)
        score = model.up4(score) + model.score_pool3(pool3)
        loss = torch.nn.functional.cross_entropy(model.up8(score), y, ignore_index=11)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.fixture(scope="module")
def fcn_card(tmp_path_factory: pytest.TempPathFactory, camvid: Path) -> ModelCard:
    folder = tmp_path_factory.mktemp("fcn8s") / "card"
    save_state_dict(_fitted_fcn8s(camvid), folder / "weights.safetensors")
    ModelCard(name="fcn8s-tiny", architecture="fcn-8s", encoder="vgg11", arch_params=dict(SMALL_FCN),
              num_classes=12, classes_spec="camvid-11",
              input=InputSpec(resize="fixed", size=(96, 128), stride=32)).save(folder)
    return ModelCard.load(folder)


def test_card_round_trip(tmp_path: Path, val_images: list[np.ndarray]) -> None:
    """A card naming the network (by an alias) loads its weights strictly and predicts at picture size."""
    from seggui.engine.predictor import load_predictor

    torch.manual_seed(3)
    params = {**SMALL_FCN, "upsample": "bilinear"}
    save_state_dict(build_model("FCN8s", "vgg11", 12, params), tmp_path / "weights.safetensors")
    ModelCard(name="fcn8s-rt", architecture="fcn-8s", encoder="vgg11", arch_params=params, num_classes=12,
              classes_spec="camvid-11", input=InputSpec(resize="fixed", size=(64, 96), stride=32)
              ).save(tmp_path)
    card = ModelCard.load(tmp_path)
    assert (card.architecture, card.encoder, card.arch_params) == ("fcn-8s", "vgg11", params)
    model = load_model(card)
    saved = load_state_dict(card.require_weights())
    assert saved.keys() == model.state_dict().keys()
    assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items())
    pred = load_predictor(card, backend="torch", device="cpu", threads=1)
    assert all(pred.predict(im).labels.shape == im.shape[:2] for im in val_images)
    wrong = ModelCard.load(tmp_path).with_changes(encoder="vgg16")
    with pytest.raises(BadInputError, match="do not fit the architecture"):
        load_model(wrong)


@pytest.mark.slow
def test_fcn8s_exports_to_onnx_and_int8(fcn_card: ModelCard, camvid: Path, tmp_path: Path,
                                        val_images: list[np.ndarray]) -> None:
    from seggui.core.jobs import run_job
    from seggui.engine.export import export_job, label_agreement
    from seggui.engine.predictor import load_predictor

    report = run_job(export_job(fcn_card, tmp_path / "out", int8=True, check_dir=camvid / "val",
                                check_count=3, calib_dir=camvid / "train", calib_count=4, threads=1))
    card = ModelCard.load(tmp_path / "out")
    assert report.agreement >= 0.999 and card.onnx_path.is_file() and card.onnx_int8_path.is_file()
    assert report.int8_mode == "static" and report.int8_bytes < report.onnx_bytes / 2
    torch_pred = load_predictor(card, backend="torch", device="cpu", threads=1)
    onnx_pred = load_predictor(card, backend="onnx", device="cpu", threads=1)
    int8_pred = load_predictor(card, int8=True, device="cpu", threads=1)
    assert onnx_pred.backend == "onnx" and int8_pred.precision == "int8"
    assert len(np.unique(torch_pred.predict(val_images[0]).labels)) >= 3  # fitted: not one flat class
    ref = torch_pred.logits(val_images[0])
    assert np.abs(onnx_pred.logits(val_images[0]) - ref).max() < 1e-3 * max(1.0, np.abs(ref).max())
    t = [torch_pred.predict(im).labels for im in val_images]
    o = [onnx_pred.predict(im).labels for im in val_images]
    q = [int8_pred.predict(im).labels for im in val_images]
    assert label_agreement(t, o) >= 0.999
    assert label_agreement(o, q) > 0.9  # quantised, not broken


@pytest.mark.slow
def test_deeplabv3plus_xception_builds_trains_and_exports(tmp_path: Path) -> None:
    """Seed 000's network: smp's own "xception" cannot run dilated; timm's aligned Xception can."""
    import onnxruntime as ort

    from seggui.engine.export import export_onnx

    with pytest.raises(BadInputError, match="tu-xception65"):
        build_model("DeepLabV3Plus", "xception", 3)
    torch.manual_seed(0)
    model = build_model("DeepLabV3Plus", "tu-xception41", 4).train()
    x, y = torch.randn(2, 3, 64, 64), torch.randint(0, 4, (2, 64, 64))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    first = next(model.encoder.parameters())  # the stem's first convolution: gradients reach the input
    assert torch.isfinite(loss) and first.grad is not None and first.grad.abs().sum() > 0
    model.eval()
    card = ModelCard(name="dlv3p-xception", architecture="DeepLabV3Plus", encoder="tu-xception41",
                     num_classes=4, classes_spec={"name": "four", "classes": [
                         {"id": i, "name": f"c{i}", "color": [i * 60] * 3} for i in range(4)]},
                     input=InputSpec(stride=32))
    path = export_onnx(model, card, tmp_path / "model.onnx", trace_hw=(64, 96))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probe = torch.randn(1, 3, 96, 128)
    with torch.inference_mode():
        ref = model(probe).numpy()
    got = session.run(None, {"image": probe.numpy()})[0]
    assert got.shape == ref.shape == (1, 4, 96, 128)
    assert np.abs(got - ref).max() < 1e-3 * max(1.0, np.abs(ref).max())
