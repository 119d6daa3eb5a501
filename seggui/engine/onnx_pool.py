"""Adaptive average pooling that the ONNX exporter can trace with a dynamic height and width.

Why: torch's TorchScript ONNX exporter turns ``adaptive_avg_pool2d`` into an
ONNX pooling op only for a 1x1 output (GlobalAveragePool) or when the input
size is known and a multiple of the output size. PSPNet pools its features
into 1, 2, 3 and 6 bins per side, so with a dynamic picture size (or a
32x40 feature map, which 3 and 6 do not divide) its export failed. Every
adaptive average pool is a linear map: bin i of a side of n covers the
indices floor(i*n/o) to ceil((i+1)*n/o) - 1, so pooling is ``Ph @ x @ Pw^T``
with averaging matrices built from the input's own size. Built from traced
sizes, the matrices follow any input size in ONNX Runtime, and the numbers
are PyTorch's (same bins, float rounding apart).

`exportable_adaptive_pool` is a torch function mode for the export only:
inside it, ``F.adaptive_avg_pool2d`` and ``F.interpolate(mode="area", size=...)``
(which pools the same way; smp's PSPNet uses it while exporting) with an
output other than 1x1 run as those matrix products. Outside it nothing
changes, and a 1x1 pool still exports as GlobalAveragePool.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode


def _averaging_matrix(n: Any, size: int, like: torch.Tensor) -> torch.Tensor:
    """(size, n): row i averages the indices of adaptive pooling's bin i over a side of n."""
    i = torch.arange(size, device=like.device)
    start = torch.div(i * n, size, rounding_mode="floor")
    end = torch.div((i + 1) * n + size - 1, size, rounding_mode="floor")
    idx = torch.arange(n, device=like.device)
    inside = ((idx[None, :] >= start[:, None]) & (idx[None, :] < end[:, None])).to(like.dtype)
    return inside / inside.sum(1, keepdim=True)


def matmul_adaptive_avg_pool2d(x: torch.Tensor, output_size: Any) -> torch.Tensor:
    """`F.adaptive_avg_pool2d` as two matrix products (a None side keeps the input's size)."""
    h, w = x.shape[-2], x.shape[-1]
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    oh = h if oh is None else int(oh)
    ow = w if ow is None else int(ow)
    return _averaging_matrix(h, oh, x) @ x @ _averaging_matrix(w, ow, x).transpose(0, 1)


def _pair(v: Any) -> tuple[Any, Any]:
    return (v, v) if not isinstance(v, list | tuple) else (v[0], v[1])


class exportable_adaptive_pool(TorchFunctionMode):  # noqa: N801 - used as a context manager
    """Inside: adaptive average pools other than 1x1 run as matrix products (see the module docstring)."""

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if func is F.adaptive_avg_pool2d:
            x, size = (list(args) + [kwargs.get("output_size")])[:2]
            if _pair(size) != (1, 1):
                return matmul_adaptive_avg_pool2d(x, size)
        elif func is F.interpolate and kwargs.get("mode", args[3] if len(args) > 3 else None) == "area":
            x, size = args[0], kwargs.get("size", args[1] if len(args) > 1 else None)
            if x.dim() == 4 and size is not None and _pair(size) != (1, 1):  # by scale: as torch does
                return matmul_adaptive_avg_pool2d(x, size)
        return func(*args, **kwargs)
