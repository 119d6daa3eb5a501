"""What makes a run's masks what they are: the model's weights and the options that change them.

Two cards can share a name and version (two fine-tunes from one parent
before version claims were atomic, a card copied and retrained), so the
weights are identified by their SHA-256. The options that change the
masks are the precision (fp32 or int8), the card's input preparation and
its class table; batch size, threads and device do not (fp32 torch and ONNX
agree to rounding), so a run may resume on another machine. Recorded in an
output folder by seggui.core.run_record.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from seggui.engine.card import ModelCard
from seggui.engine.predictor import Predictor

_CHUNK = 1 << 20
_digests: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256: hash each file once


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, remembered per (path, size, mtime) for the life of the process."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _digests:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        _digests[key] = h.hexdigest()
    return _digests[key]


def weights_file(card: ModelCard, precision: str = "fp32") -> Path | None:
    """The file the masks come from: the weights, else (an ONNX-only card, or int8) its ONNX export."""
    if precision == "int8" and card.onnx_int8_path is not None and card.onnx_int8_path.is_file():
        return card.onnx_int8_path
    for path in (card.weights_path, card.onnx_path):
        if path is not None and path.is_file():
            return path
    return None


def run_identity(predictor: Predictor) -> dict[str, Any]:
    """{"model": name, version, ref, weights hash; "options": what changes the masks} of a predictor."""
    card = predictor.card
    weights = weights_file(card, predictor.precision)
    return json.loads(json.dumps({  # JSON's own types, comparable with a record read back from disk
        "model": {"name": card.name, "version": card.version, "ref": card.ref,
                  "weights_sha256": file_sha256(weights) if weights is not None else None},
        "options": {"precision": predictor.precision, "input": card.input.to_dict(),
                    "classes": card.classes.to_dict()},
    }))
