"""Build a segmentation network by name, never downloading anything.

Cards name an architecture (any segmentation-models-pytorch class,
torchvision's FCN-ResNet50, or one of seggui's own networks in
`engine.nets`, such as FCN-8s on VGG16) and an encoder; weights come from the card's own
file, so pretrained downloads are always switched off (`encoder_weights=None`,
`weights=None`). Every model built here maps a float (N, 3, H, W) tensor to
logits (N, C, H, W), whatever its library returns, so the backends and the
ONNX export handle them all alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seggui.core.errors import BadInputError
from seggui.engine.nets import ALIASES, BUILDERS

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

    from seggui.engine.card import ModelCard

# seggui name -> smp class name. Lower-case lookup, so "unet" and "Unet" both work.
SMP_ARCHITECTURES: tuple[str, ...] = (
    "Unet", "UnetPlusPlus", "FPN", "PSPNet", "DeepLabV3", "DeepLabV3Plus", "Linknet", "MAnet", "PAN",
    "UPerNet", "Segformer", "DPT",
)
TORCHVISION_ARCHITECTURES: tuple[str, ...] = ("torchvision.fcn_resnet50",)
# smp's own "xception" cannot run dilated, which DeepLabV3(+) needs; timm's aligned Xceptions can.
_ENCODER_HINTS = {"xception": "for DeepLabV3/DeepLabV3Plus use timm's tu-xception65 (the DeepLabv3+ "
                  "paper's Xception-65) or tu-xception41"}


def architecture_names() -> list[str]:
    """Every architecture a card may name (this smp version's, torchvision's, seggui's own)."""
    import segmentation_models_pytorch as smp

    return ([a for a in SMP_ARCHITECTURES if hasattr(smp, a)] + list(TORCHVISION_ARCHITECTURES)
            + list(BUILDERS))


def encoder_names() -> list[str]:
    """The smp encoders by name (timm's ``tu-<name>`` encoders work too)."""
    import segmentation_models_pytorch as smp

    return list(smp.encoders.get_encoder_names())


def canonical_architecture(name: str) -> str:
    """The table spelling of an architecture name, or an error listing the choices."""
    table = {a.lower(): a for a in architecture_names()}
    table.update({a.split(".", 1)[1]: a for a in TORCHVISION_ARCHITECTURES})
    table.update(ALIASES)
    found = table.get(name.strip().lower())
    if found is None:
        raise BadInputError(
            None, f"unknown architecture {name!r}; choices: {', '.join(architecture_names())}"
        )
    return found


def _fcn_resnet50(num_classes: int, params: dict[str, Any]) -> nn.Module:
    import torch.nn.functional as F
    from torch import nn
    from torchvision.models.segmentation import fcn_resnet50

    base = fcn_resnet50(
        weights=None, weights_backbone=None, num_classes=num_classes, aux_loss=False, **params
    )

    class FCNLogits(nn.Module):
        """torchvision's FCN with forward returning the logits tensor, not a dict.

        It keeps torchvision's submodule names (backbone, classifier), so a
        state dict saved from a plain `fcn_resnet50` loads unchanged.
        """

        def __init__(self) -> None:
            super().__init__()
            self.backbone = base.backbone
            self.classifier = base.classifier

        def forward(self, x):  # type: ignore[no-untyped-def]
            size = x.shape[-2:]
            out = self.classifier(self.backbone(x)["out"])
            return F.interpolate(out, size=size, mode="bilinear", align_corners=False)

    return FCNLogits()


def build_model(
    architecture: str,
    encoder: str | None,
    num_classes: int,
    arch_params: dict[str, Any] | None = None,
) -> nn.Module:
    """A randomly initialised network in eval mode; load weights separately."""
    arch = canonical_architecture(architecture)
    params = dict(arch_params or {})
    if arch == "torchvision.fcn_resnet50":
        try:
            model = _fcn_resnet50(num_classes, params)
        except TypeError as exc:
            raise BadInputError(None, f"bad arch_params for {arch}: {exc}") from None
        return model.eval()
    if arch in BUILDERS:
        try:
            model = BUILDERS[arch](num_classes, encoder, params)
        except (TypeError, ValueError) as exc:
            raise BadInputError(None, f"cannot build {arch}: {exc}") from None
        return model.eval()

    import segmentation_models_pytorch as smp

    if not encoder:
        raise BadInputError(None, f"architecture {arch} needs an encoder (e.g. resnet18)")
    for banned in ("encoder_weights", "classes", "encoder_name", "in_channels"):
        params.pop(banned, None)
    try:
        model = getattr(smp, arch)(
            encoder_name=encoder, encoder_weights=None, in_channels=3, classes=num_classes, **params
        )
    except KeyError as exc:
        if "encoder" in str(exc).lower():
            shown = ", ".join(encoder_names()[:40])
            raise BadInputError(
                None, f"unknown encoder {encoder!r} for {arch}; smp encoders include: {shown}, ... "
                "(or a timm encoder as tu-<name>)"
            ) from None
        raise BadInputError(None, f"cannot build {arch} with encoder {encoder!r}: {exc}") from None
    except (TypeError, ValueError, AssertionError, RuntimeError) as exc:
        hint = _ENCODER_HINTS.get(encoder.lower(), "")
        raise BadInputError(None, f"cannot build {arch} with encoder {encoder!r}: {exc}"
                            + (f" ({hint})" if hint else "")) from None
    _drop_unused_encoder_stages(model.eval())
    return model


def _drop_unused_encoder_stages(model: nn.Module) -> None:
    """Swap the encoder stages that an `encoder_depth` under 5 never runs for empty modules.

    Why: smp builds the whole encoder whatever the depth, so PSPNet-ResNet34 (depth 3) carried the
    20 M parameters of layer3 and layer4 that never ran: 86 MB of weights and checkpoints for a 6 MB
    network, and a parameter count 14 times the one it computes with. What was dropped is kept on the
    model (see dropped_prefixes), so weights saved with those stages are still read. Which stages run is
    seen, not assumed: a stage is idle when a backward pass from one small picture's features leaves no
    gradient on any of its parameters (a hook on the stage would miss encoders that call the blocks
    inside it, as mobilenet_v2's does).
    """
    import torch
    from torch import nn

    encoder = getattr(model, "encoder", None)
    if encoder is None or int(getattr(encoder, "_depth", 5)) >= 5:
        return
    try:
        features = encoder(torch.zeros(1, 3, 64, 64))
        sum(f.float().sum() for f in features).backward()
        idle = [name for name, child in encoder.named_children() if next(child.parameters(), None) is not None
                and all(p.grad is None for p in child.parameters())]
    except Exception:  # an encoder that wants other input: keep it whole rather than guess  # noqa: BLE001
        idle = []
    encoder.zero_grad(set_to_none=True)
    if not idle:
        return
    for name in idle:
        setattr(encoder, name, nn.Identity())
    model.__dict__["seggui_dropped"] = tuple(f"encoder.{name}." for name in idle)  # a plain attribute


def dropped_prefixes(model: nn.Module) -> tuple[str, ...]:
    """State-dict prefixes of the encoder stages build_model dropped (weights saved with them still load)."""
    return tuple(getattr(model, "seggui_dropped", ()))


def build_from_card(card: ModelCard) -> nn.Module:
    """`build_model` with the card's architecture; errors name the card file."""
    try:
        return build_model(card.architecture, card.encoder, card.num_classes, card.arch_params)
    except BadInputError as exc:
        raise BadInputError(card.json_path, exc.problem) from None


def head_layer(model: nn.Module) -> tuple[str, int]:
    """The state-dict key of the last convolution's weight and its output channels.

    That convolution produces the logits, so its out channels are the class
    count a card must agree with.
    """
    from torch import nn

    last: tuple[str, int] | None = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            last = (f"{name}.weight", module.out_channels)
    if last is None:
        raise BadInputError(None, "the model has no convolution producing logits")
    return last
