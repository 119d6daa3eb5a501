"""Helpers of the GIS tests: a tiny Deepness-style ONNX model and synthetic GeoTIFF scenes.

The model is one 1x1 convolution (colour -> 3 class logits: background,
parking for grey asphalt, vegetation for green), built with onnx.helper: its
labels follow the picture, and with a receptive field of one pixel a tiled
prediction must equal the whole-picture one exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CLASS_NAMES = {"0": "background", "1": "parking", "2": "vegetation"}


def tiny_onnx(path: Path, *, resolution_cm: float | None = None, tiles_size: int = 128,
              overlap_pct: float = 25, meta: dict[str, object] | None = None) -> Path:
    """Write a 1x1-conv segmentation ONNX model with Deepness metadata."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    # inputs are standardised with mean 0.5, std 0.25: x in about -2..2
    w = np.array([[0.0, 0.0, 0.0],      # background: constant logit (bias)
                  [-1.0, -1.0, -1.0],   # parking: dark
                  [-2.0, 3.0, -2.0]],   # vegetation: green above red and blue
                 np.float32).reshape(3, 3, 1, 1)
    b = np.array([0.0, -0.6, 0.0], np.float32)
    node = helper.make_node("Conv", ["input", "w", "b"], ["logits"], kernel_shape=[1, 1])
    graph = helper.make_graph(
        [node], "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    entries: dict[str, object] = {
        "model_type": "Segmentor", "class_names": CLASS_NAMES, "tiles_size": tiles_size,
        "tiles_overlap": overlap_pct, "standardization_mean": [0.5, 0.5, 0.5],
        "standardization_std": [0.25, 0.25, 0.25], "seg_thresh": 0.5, "seg_small_segment": 0,
    }
    if resolution_cm is not None:
        entries["resolution"] = resolution_cm
    entries.update(meta or {})
    for key, value in entries.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, json.dumps(value)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
