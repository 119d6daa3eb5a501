"""Networks seggui defines itself, for architectures no library ships in the form the seeds use.

Each entry maps a card's architecture name to a builder
`(num_classes, encoder, arch_params) -> nn.Module` returning logits
(N, C, H, W), like every other model of the factory. A builder raises
ValueError (or TypeError for an unknown parameter) on a bad encoder or
`arch_params`; the factory turns that into a message naming the card.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


def _fcn8s(num_classes: int, encoder: str | None, params: dict[str, Any]) -> nn.Module:
    from seggui.engine.nets.fcn8s import build_fcn8s

    return build_fcn8s(num_classes, encoder, params)


BUILDERS: dict[str, Callable[[int, str | None, dict[str, Any]], nn.Module]] = {"FCN8s": _fcn8s}
ALIASES: dict[str, str] = {"fcn-8s": "FCN8s", "fcn_8s": "FCN8s", "fcn8s-vgg16": "FCN8s"}
