"""The run's checkpoint: everything needed to continue, written so a kill cannot tear it.

``<card>/train/last.pt`` holds the network, optimizer, learning-rate
schedule, gradient scaler, loss stage, early-stopping state, best score and
the per-epoch history, as of the end of the last completed epoch. It is
written to a temporary file and renamed over the old one, so cancelling or
killing a run at any moment leaves the previous good checkpoint. It contains
only tensors, numbers, strings, lists and dicts, and is read back with
``torch.load(weights_only=True)``: loading it never runs code.

`seed_everything` is the other half of continuing exactly: the seed fixes
the initial weights, the shuffles and every augmentation.
"""

from __future__ import annotations

import io
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seggui.core.atomic import atomic_write_bytes
from seggui.core.errors import BadInputError

CHECKPOINT_FORMAT = "seggui-checkpoint/1"


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    """Write the checkpoint atomically (temporary file, fsync, rename)."""
    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **state}, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint (tensors and plain containers only)."""
    if not path.is_file():
        raise BadInputError(path, "checkpoint not found")
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise BadInputError(path, f"not a readable checkpoint ({str(exc).splitlines()[0][:160]})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise BadInputError(path, f"not a {CHECKPOINT_FORMAT} file")
    return state


def seed_everything(seed: int, deterministic: bool) -> None:
    """Seed python, numpy and torch; optionally insist on deterministic kernels (CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        import os

        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    elif torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True
