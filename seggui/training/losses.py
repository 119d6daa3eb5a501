"""Segmentation losses on logits (N, C, H, W) and integer targets (N, H, W).

Every loss skips pixels whose target is the ignore label. Notation, for class
c over all valid pixels i of the batch (soft losses use the softmax
probabilities p, and the one-hot target g):

    I_c = sum_i p_ic g_ic              soft intersection (true positives)
    P_c = sum_i p_ic,  G_c = sum_i g_ic
    U_c = sum_i (p_ic + g_ic - p_ic g_ic) = P_c + G_c - I_c     soft union

- ``ce``: cross-entropy, optionally with per-class weights (the mean is
  weighted: sum_i w_{y_i} (-log p_{i,y_i}) / sum_i w_{y_i}).
- ``dice``: 1 - mean_c (2 I_c + s) / (P_c + G_c + s).
- ``jaccard`` (``iou``): 1 - mean_c (I_c + s) / (U_c + s).
- ``tversky``: 1 - mean_c (I_c + s) / (I_c + a (P_c - I_c) + b (G_c - I_c) + s);
  a weighs false positives, b false negatives (a = b = 0.5 is Dice).
- ``focal``: mean_i -alpha_{y_i} (1 - p_{i,y_i})^gamma log p_{i,y_i}
  (alpha = the class weights, or 1).
- ``lovasz``: Lovasz-softmax (Berman et al. 2018), the convex surrogate of the
  Jaccard loss: per class, the pixel errors |g - p| sorted in decreasing
  order are dotted with the increments of the Jaccard loss of the growing
  set of wrong pixels; mean over the classes present in the target.
- ``bce``: binary cross-entropy for two-class models (positive class = id 1).
  With two output channels the logit is z = l_1 - l_0, so sigmoid(z) is the
  softmax probability of class 1 and the value equals two-class CE; with one
  channel z is that channel. ``pos_weight`` scales the positive terms.
- ``symdiff``: the soft symmetric-difference area, mean_c (U_c - I_c) / (V + s)
  with V the number of valid pixels. For hard masks U_c - I_c = |O_c Δ E_c|,
  the area on which prediction and truth of class c disagree (the parking
  challenge metric), so the loss is that area as a share of the image. Its
  gradient is (1 - 2 g_ic) / (V + s) per pixel: it pushes every pixel toward
  its class with the same force, whatever the class's size — what one wants
  once a model is already close and the score is an area error.

Soft losses average over `classes` (default: every channel except the ignore
label's). A class absent from the target still counts in Dice, Jaccard,
Tversky and symdiff, so predicting it anywhere is penalised; s (`smooth`,
default 1) keeps them finite then. The constructor `build_loss` reads specs
such as ``"ce"``, ``"ce+0.5*dice"`` or ``{"focal": {"gamma": 2}, "dice": 1.0}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seggui.core.errors import BadInputError


def _valid(target: Tensor, ignore: int | None) -> Tensor:
    return torch.ones_like(target, dtype=torch.bool) if ignore is None else target != ignore


def _onehot(target: Tensor, valid: Tensor, num_classes: int) -> Tensor:
    """(N, C, H, W) float one-hot of the target, zero at invalid pixels."""
    safe = torch.where(valid, target, torch.zeros_like(target)).clamp_(0, num_classes - 1)
    g = F.one_hot(safe, num_classes).permute(0, 3, 1, 2).to(torch.float32)
    return g * valid.unsqueeze(1)


def _weights(weight: Any) -> Tensor | None:
    return None if weight is None else torch.as_tensor(weight, dtype=torch.float32)


class _SoftRegionLoss(nn.Module):
    """Shared bookkeeping of the soft-count losses: probabilities, one-hot, per-class sums."""

    def __init__(self, ignore_index: int | None = None, smooth: float = 1.0,
                 classes: Sequence[int] | None = None) -> None:
        super().__init__()
        self.ignore_index, self.smooth = ignore_index, float(smooth)
        self.classes = None if classes is None else list(classes)

    def _class_ids(self, c: int, device: torch.device) -> Tensor:
        if self.classes is not None:
            ids = self.classes
        else:
            ids = [k for k in range(c) if k != self.ignore_index]
        return torch.tensor(ids, device=device, dtype=torch.long)

    def sums(self, logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """(I, P, G, V, ids): per-class soft counts for the chosen classes, valid pixel count, ids."""
        c = logits.shape[1]
        valid = _valid(target, self.ignore_index)
        p = torch.softmax(logits.float(), dim=1) * valid.unsqueeze(1)
        g = _onehot(target, valid, c)
        ids = self._class_ids(c, logits.device)
        dims = (0, 2, 3)
        inter = (p * g).sum(dims)[ids]
        return inter, p.sum(dims)[ids], g.sum(dims)[ids], valid.sum().to(torch.float32), ids


class DiceLoss(_SoftRegionLoss):
    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        i, p, g, _, _ = self.sums(logits, target)
        return 1.0 - ((2 * i + self.smooth) / (p + g + self.smooth)).mean()


class JaccardLoss(_SoftRegionLoss):
    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        i, p, g, _, _ = self.sums(logits, target)
        return 1.0 - ((i + self.smooth) / (p + g - i + self.smooth)).mean()


class TverskyLoss(_SoftRegionLoss):
    def __init__(self, ignore_index: int | None = None, smooth: float = 1.0, alpha: float = 0.3,
                 beta: float = 0.7, classes: Sequence[int] | None = None) -> None:
        super().__init__(ignore_index, smooth, classes)
        self.alpha, self.beta = float(alpha), float(beta)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        i, p, g, _, _ = self.sums(logits, target)
        den = i + self.alpha * (p - i) + self.beta * (g - i) + self.smooth
        return 1.0 - ((i + self.smooth) / den).mean()


class SymDiffLoss(_SoftRegionLoss):
    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        i, p, g, v, _ = self.sums(logits, target)
        union = p + g - i
        return ((union - i) / (v + self.smooth)).mean()


class CELoss(nn.Module):
    weight: Tensor | None  # a registered buffer

    def __init__(self, ignore_index: int | None = None, weight: Tensor | None = None) -> None:
        super().__init__()
        self.ignore_index = -100 if ignore_index is None else ignore_index
        self.register_buffer("weight", _weights(weight))

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(logits.float(), target, weight=self.weight, ignore_index=self.ignore_index)


class FocalLoss(nn.Module):
    weight: Tensor | None  # a registered buffer

    def __init__(
        self, ignore_index: int | None = None, gamma: float = 2.0, weight: Tensor | None = None
    ) -> None:
        super().__init__()
        self.ignore_index, self.gamma = ignore_index, float(gamma)
        self.register_buffer("weight", _weights(weight))

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        valid = _valid(target, self.ignore_index)
        if not valid.any():
            return logits.sum() * 0.0
        logp = F.log_softmax(logits.float(), dim=1)
        t = target[valid]
        logp_t = logp.permute(0, 2, 3, 1)[valid].gather(1, t.unsqueeze(1)).squeeze(1)
        term = -((1.0 - logp_t.exp()) ** self.gamma) * logp_t
        if self.weight is not None:
            term = term * self.weight[t]
        return term.mean()


class BCELoss(nn.Module):
    def __init__(self, ignore_index: int | None = None, pos_weight: float | None = None) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.pos_weight = None if pos_weight is None else float(pos_weight)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        c = logits.shape[1]
        if c == 1:
            z = logits[:, 0]
        elif c == 2:
            z = logits[:, 1] - logits[:, 0]
        else:
            raise BadInputError(None, f"bce loss needs a model with 1 or 2 output classes, this one has {c}")
        valid = _valid(target, self.ignore_index)
        if not valid.any():
            return logits.sum() * 0.0
        pw = None if self.pos_weight is None else torch.tensor(self.pos_weight, device=logits.device)
        return F.binary_cross_entropy_with_logits(
            z.float()[valid], target[valid].float(), pos_weight=pw
        )


def lovasz_grad(gt_sorted: Tensor) -> Tensor:
    """Increments of the Jaccard loss as the pixels, in error order, join the wrong set.

    With k pixels taken (the k largest errors) as wrong, the Jaccard loss is
    1 - |G minus taken| / |G union taken|; the k-th increment is its change on
    adding the k-th pixel. The increments sum to the loss of all wrong (1 if G
    is non-empty).
    """
    total = gt_sorted.sum()
    inter = total - gt_sorted.cumsum(0)
    union = total + (1.0 - gt_sorted).cumsum(0)
    jac = 1.0 - inter / union
    if gt_sorted.numel() > 1:
        jac = torch.cat([jac[:1], jac[1:] - jac[:-1]])
    return jac


class LovaszSoftmaxLoss(nn.Module):
    def __init__(self, ignore_index: int | None = None, classes: Sequence[int] | None = None) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.classes = None if classes is None else list(classes)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        c = logits.shape[1]
        valid = _valid(target, self.ignore_index)
        p = torch.softmax(logits.float(), dim=1).permute(0, 2, 3, 1)[valid]  # (V, C)
        t = target[valid]
        ids = self.classes if self.classes is not None else [k for k in range(c) if k != self.ignore_index]
        losses = []
        for k in ids:
            g = (t == k).to(torch.float32)
            if g.sum() == 0:  # only classes present in the target count
                continue
            err = (g - p[:, k]).abs()
            err_sorted, order = torch.sort(err, descending=True)
            losses.append(torch.dot(err_sorted, lovasz_grad(g[order])))
        if not losses:
            return logits.sum() * 0.0
        return torch.stack(losses).mean()


class CombinedLoss(nn.Module):
    """A weighted sum of losses; `terms` keeps (name, weight) for logs."""

    def __init__(self, parts: list[tuple[str, float, nn.Module]]) -> None:
        super().__init__()
        self.terms = [(n, w) for n, w, _ in parts]
        self.losses = nn.ModuleList([m for _, _, m in parts])

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        total = logits.new_zeros((), dtype=torch.float32)
        for (_, w), loss in zip(self.terms, self.losses, strict=True):
            total = total + w * loss(logits, target)
        return total

    def describe(self) -> str:
        return "+".join(n if w == 1 else f"{w:g}*{n}" for n, w in self.terms)


LOSSES = ("ce", "dice", "jaccard", "iou", "tversky", "focal", "lovasz", "bce", "symdiff")


def make_loss(name: str, params: dict[str, Any], ignore_index: int | None,
              class_weights: Tensor | None = None) -> nn.Module:
    """One loss by name; class weights go to the losses that take them (ce, focal)."""
    params = dict(params)
    try:
        if name == "ce":
            return CELoss(ignore_index, params.pop("weight", class_weights), **params)
        if name == "focal":
            return FocalLoss(ignore_index, weight=params.pop("weight", class_weights), **params)
        if name == "dice":
            return DiceLoss(ignore_index, **params)
        if name in ("jaccard", "iou"):
            return JaccardLoss(ignore_index, **params)
        if name == "tversky":
            return TverskyLoss(ignore_index, **params)
        if name == "symdiff":
            return SymDiffLoss(ignore_index, **params)
        if name == "lovasz":
            return LovaszSoftmaxLoss(ignore_index, **params)
        if name == "bce":
            return BCELoss(ignore_index, **params)
    except TypeError as exc:
        raise BadInputError(None, f"loss {name}: bad settings {params} ({exc})") from None
    raise BadInputError(None, f"unknown loss {name!r} (one of {', '.join(LOSSES)})")


_TERM = re.compile(r"^\s*(?:(\d+(?:\.\d*)?|\.\d+)\s*\*\s*)?([a-z_]+)\s*$")


def parse_loss_spec(spec: str | dict[str, Any]) -> list[tuple[str, float, dict[str, Any]]]:
    """Read ``"ce+0.5*dice"`` or ``{"ce": 1, "focal": {"gamma": 2, "weight": 0.5}}``.

    In the dict form a loss's value is its weight, or its settings with an
    optional ``weight`` key (default 1).
    """
    out: list[tuple[str, float, dict[str, Any]]] = []
    if isinstance(spec, str):
        for part in spec.split("+"):
            m = _TERM.match(part)
            if not m:
                raise BadInputError(None, f"cannot read loss term {part!r} in {spec!r} (e.g. ce+0.5*dice)")
            out.append((m.group(2), float(m.group(1) or 1.0), {}))
    elif isinstance(spec, dict):
        for name, val in spec.items():
            if isinstance(val, int | float):
                out.append((str(name), float(val), {}))
            elif isinstance(val, dict) or val is None:
                settings = dict(val or {})
                out.append((str(name), float(settings.pop("weight", 1.0)), settings))
            else:
                raise BadInputError(None, f"loss {name}: give a weight or a settings mapping, got {val!r}")
    else:
        raise BadInputError(None, f"a loss is a string such as 'ce+dice' or a mapping, got {spec!r}")
    if not out:
        raise BadInputError(None, "empty loss specification")
    return out


def build_loss(spec: str | dict[str, Any], ignore_index: int | None,
               class_weights: Tensor | None = None) -> CombinedLoss:
    """The loss module a spec describes (always a CombinedLoss, for uniform logging)."""
    parts = [(n, w, make_loss(n, p, ignore_index, class_weights)) for n, w, p in parse_loss_spec(spec)]
    return CombinedLoss(parts)
