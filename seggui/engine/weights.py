"""Load and save model weights without ever running untrusted code.

A `.pt` file made with `torch.save(model)` is a pickle, and unpickling runs
whatever code its author put in it. So seggui reads safetensors, or a plain
state dict through `torch.load(weights_only=True)`, which only rebuilds
tensors and containers; a pickled whole model is refused with a recipe to
convert it in code the user trusts.
"""

from __future__ import annotations

import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seggui.core.atomic import atomic_write_bytes
from seggui.core.errors import BadInputError
from seggui.engine.factory import build_from_card, dropped_prefixes, head_layer

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

    from seggui.engine.card import ModelCard

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin", ".ckpt")
_CONVERT = (
    "untrusted pickle can run arbitrary code, so seggui only loads tensors. To convert, load it "
    "yourself in code you trust (model = torch.load(path, weights_only=False)) and save the state "
    "dict: safetensors.torch.save_file(model.state_dict(), 'weights.safetensors')"
)


def _unwrap(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """The tensor mapping inside a state dict or a training checkpoint dict."""
    import torch

    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict", "model"):
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner and all(
                isinstance(v, torch.Tensor) for v in inner.values()
            ):
                obj = inner
                break
        tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            # DistributedDataParallel and torch.compile prefix every key; strip that.
            for prefix in ("module.", "_orig_mod."):
                if all(k.startswith(prefix) for k in tensors):
                    tensors = {k[len(prefix):]: v for k, v in tensors.items()}
            return tensors
    raise BadInputError(path, f"holds a {type(obj).__name__}, not a state dict of tensors; {_CONVERT}")


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors file or a .pt/.pth state dict (weights only)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "weights file not found")
    if path.suffix.lower() == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise BadInputError(path, f"not a readable safetensors file ({exc})") from None
    if path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise BadInputError(path, f"unknown weights type {path.suffix!r} (use {', '.join(WEIGHT_SUFFIXES)})")
    try:
        with warnings.catch_warnings():  # torch's notes on pickle protocols are not the user's business
            warnings.simplefilter("ignore")
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # Torch has worded this "Unsupported global: GLOBAL x.y" and "unsupported GLOBAL x.y whose
        # module x is blocked"; both name what the pickle would import and call.
        found = re.search(r"GLOBAL\s+([\w.]+)", str(exc))
        if found is None:  # not a pickle of objects: damaged, or not a torch file at all
            raise BadInputError(path, "not a readable torch weights file (damaged, or not made by "
                                "torch.save)") from None
        raise BadInputError(
            path, f"refused: this file is a pickle that would run code when loaded (it imports "
            f"{found.group(1)}), not a plain "
            f"state dict of tensors. {_CONVERT}"
        ) from None
    except Exception as exc:  # noqa: BLE001 - a damaged file makes torch raise anything (struct.error, KeyError...)
        raise BadInputError(path, f"not a readable torch weights file (damaged, or not made by torch.save: "
                                  f"{type(exc).__name__}: {str(exc)[:160]})") from None
    return _unwrap(obj, path)


def save_state_dict(model_or_state: nn.Module | Mapping[str, torch.Tensor], path: str | Path) -> Path:
    """Write weights as safetensors, atomically (a kill leaves the old file intact)."""
    from safetensors.torch import save

    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}  # type: ignore[union-attr]
    try:
        data = save(tensors)
    except RuntimeError:  # tensors sharing storage (tied weights): store independent copies
        data = save({k: v.clone() for k, v in tensors.items()})
    return atomic_write_bytes(path, data)


def apply_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor], where: Path | None,
                     card_name: str, num_classes: int) -> None:
    """Load `state` into `model`, explaining class-count and architecture mismatches.

    Tensors of encoder stages the network never runs (kept by weights saved before build_model
    dropped them) are passed over.
    """
    dropped = dropped_prefixes(model)
    if dropped:
        state = {k: v for k, v in state.items() if not k.startswith(dropped)}
    key, out_channels = head_layer(model)
    if key in state and state[key].ndim >= 1 and int(state[key].shape[0]) != num_classes:
        raise BadInputError(
            where, f"model card {card_name!r} declares {num_classes} classes but the weights produce "
            f"{int(state[key].shape[0])} (output channels of {key})"
        )
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of another shape (e.g. {k}: {tuple(state[k].shape)} vs "
                         f"{tuple(own[k].shape)})")
        raise BadInputError(
            where, f"weights do not fit the architecture of model card {card_name!r}: "
            f"{'; '.join(parts)} tensors — check architecture and encoder"
        )
    model.load_state_dict(state, strict=True)


def load_checkpoint_model(model: nn.Module, state: Mapping[str, torch.Tensor], path: Path) -> None:
    """A training checkpoint's weights into `model`; one with stages build_model drops is refused by name.

    Its optimiser state counts those stages' parameters, so it cannot be matched to the network now.
    """
    dropped = dropped_prefixes(model)
    if dropped and any(k.startswith(dropped) for k in state):
        raise BadInputError(path, "this checkpoint holds encoder stages the network never runs (written "
                                  "before seggui dropped them), so its optimiser state does not fit: start "
                                  "the run again, or fine-tune its card with --from")
    model.load_state_dict(state)


def load_model(card: ModelCard) -> nn.Module:
    """Build the card's network and load its weights; eval mode, on the CPU."""
    path = card.require_weights()
    model = build_from_card(card)
    apply_state_dict(model, load_state_dict(path), path, card.name, card.num_classes)
    return model.eval()
