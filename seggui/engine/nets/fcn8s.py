"""FCN-8s (Long, Shelhamer and Darrell, 2015) on a VGG encoder, as seed 004 builds it.

The VGG convolution blocks keep torchvision's layout (`encoder.features.N`),
so the `features.*` tensors of a torchvision VGG state dict the user already
has load into `encoder.features.*` unchanged; nothing is ever downloaded.
The dense layers fc6 and fc7 become convolutions (1x1 by default, as the
seed does; `fc6_kernel: 7` gives the paper's 7x7), a 1x1 score layer maps
them to classes at 1/32, and the prediction is refined twice with 1x1 score
layers on pool4 (1/16) and pool3 (1/8) before the last x8 upsampling.

With `same` padding everywhere (no 100-pixel pad and crop as in the Caffe
original) every size lines up exactly when the input is a multiple of 32,
which the card's stride (32) guarantees. The upsamplers are learnable
transposed convolutions initialised to bilinear interpolation, or fixed
bilinear resizes (`upsample: "bilinear"`); both export to ONNX with dynamic
height and width.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# Channels per conv layer, "M" a 2x2 max pool: torchvision's VGG configurations.
VGG_LAYERS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}
ENCODERS: tuple[str, ...] = tuple(n for v in VGG_LAYERS for n in (v, f"{v}_bn"))
DEFAULT_ENCODER = "vgg16"
STRIDE = 32


def bilinear_kernel(channels: int, kernel: int) -> torch.Tensor:
    """Weights (C, C, k, k) that make a transposed conv a per-channel bilinear upsampling."""
    factor = (kernel + 1) // 2
    centre = factor - 1 if kernel % 2 == 1 else factor - 0.5
    og = torch.arange(kernel, dtype=torch.float32)
    filt = 1 - (og - centre).abs() / factor
    weight = torch.zeros(channels, channels, kernel, kernel)
    weight[range(channels), range(channels)] = filt[:, None] * filt[None, :]
    return weight


class VGGEncoder(nn.Module):
    """VGG's convolution blocks; returns pool3, pool4 and pool5 (strides 8, 16, 32)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        base = name.removesuffix("_bn")
        batch_norm = name.endswith("_bn")
        layers: list[nn.Module] = []
        pools: list[int] = []
        in_ch = 3
        for v in VGG_LAYERS[base]:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                pools.append(len(layers))
                continue
            layers.append(nn.Conv2d(in_ch, int(v), 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(v)))
            layers.append(nn.ReLU(inplace=True))
            in_ch = int(v)
        self.features = nn.Sequential(*layers)
        self._cuts = (pools[2], pools[3], pools[4])  # ends of blocks 3, 4 and 5
        self.out_channels = (256, 512, 512)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        outs = []
        start = 0
        for cut in self._cuts:
            for layer in self.features[start:cut]:
                x = layer(x)
            outs.append(x)
            start = cut
        return outs[0], outs[1], outs[2]


class FCN8s(nn.Module):
    """FCN-8s: (N, 3, H, W) with H, W multiples of 32 -> logits (N, C, H, W)."""

    def __init__(self, num_classes: int, encoder: str = DEFAULT_ENCODER, fc_channels: int = 4096,
                 fc6_kernel: int = 1, dropout: float = 0.5, upsample: str = "transposed") -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"FCN8s takes a VGG encoder ({', '.join(ENCODERS)}; e.g. --encoder vgg16), "
                             f"not {encoder!r}")
        if fc6_kernel < 1 or fc6_kernel % 2 == 0:
            raise ValueError(f"fc6_kernel must be odd and positive (1, 3 or 7), not {fc6_kernel}")
        if upsample not in ("transposed", "bilinear"):
            raise ValueError(f"upsample must be 'transposed' or 'bilinear', not {upsample!r}")
        if fc_channels < 1 or not 0.0 <= dropout < 1.0:
            raise ValueError(f"bad fc_channels {fc_channels} or dropout {dropout}")
        self.encoder = VGGEncoder(encoder)
        c3, c4, c5 = self.encoder.out_channels
        self.fc6 = nn.Sequential(nn.Conv2d(c5, fc_channels, fc6_kernel, padding=fc6_kernel // 2),
                                 nn.ReLU(inplace=True), nn.Dropout2d(dropout))
        self.fc7 = nn.Sequential(nn.Conv2d(fc_channels, fc_channels, 1),
                                 nn.ReLU(inplace=True), nn.Dropout2d(dropout))
        self.score_fr = nn.Conv2d(fc_channels, num_classes, 1)
        self.score_pool4 = nn.Conv2d(c4, num_classes, 1)
        self.score_pool3 = nn.Conv2d(c3, num_classes, 1)
        self.learned_upsampling = upsample == "transposed"
        if self.learned_upsampling:
            self.up2 = nn.ConvTranspose2d(num_classes, num_classes, 4, stride=2, padding=1, bias=False)
            self.up4 = nn.ConvTranspose2d(num_classes, num_classes, 4, stride=2, padding=1, bias=False)
            self.up8 = nn.ConvTranspose2d(num_classes, num_classes, 16, stride=8, padding=4, bias=False)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.ConvTranspose2d):
                with torch.no_grad():
                    m.weight.copy_(bilinear_kernel(m.in_channels, m.kernel_size[0]))
        for score in (self.score_fr, self.score_pool4, self.score_pool3):
            nn.init.normal_(score.weight, 0.0, 0.01)

    def _up(self, x: torch.Tensor, name: str, factor: int) -> torch.Tensor:
        if self.learned_upsampling:
            return getattr(self, name)(x)
        return F.interpolate(x, scale_factor=float(factor), mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_tracing() and (x.shape[-2] % STRIDE or x.shape[-1] % STRIDE):
            raise ValueError(f"FCN8s needs height and width divisible by {STRIDE}, got {tuple(x.shape[-2:])}")
        pool3, pool4, pool5 = self.encoder(x)
        score = self.score_fr(self.fc7(self.fc6(pool5)))
        score = self._up(score, "up2", 2) + self.score_pool4(pool4)
        score = self._up(score, "up4", 2) + self.score_pool3(pool3)
        return self._up(score, "up8", 8)


def build_fcn8s(num_classes: int, encoder: str | None, params: dict[str, Any]) -> nn.Module:
    """The factory's entry: `arch_params` may set fc_channels, fc6_kernel, dropout, upsample."""
    return FCN8s(num_classes, encoder or DEFAULT_ENCODER, **params)
