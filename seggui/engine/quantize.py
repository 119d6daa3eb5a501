"""int8 ONNX through onnxruntime.quantization: static with calibration frames, or dynamic.

Static quantisation (QDQ, per-channel int8 weights, uint8 activations whose
ranges come from real calibration frames) is what makes convolutional nets
fast on the CPU: ORT fuses it into integer convolutions. Dynamic
quantisation needs no frames but only rewrites convolutions into
ConvInteger, which ORT runs barely faster than float; it is offered for when
no frames are at hand, and the export report says what it gained.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from seggui.core.atomic import atomic_write_bytes
from seggui.core.errors import BadInputError
from seggui.engine.card import InputSpec
from seggui.engine.preprocess import as_rgb_uint8, normalise, padded_size, resize_to, work_size


@contextlib.contextmanager
def _quiet_logging() -> Iterator[None]:
    """The quantiser logs a warning per odd tensor on the root logger; keep the terminal readable."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def calibration_tensor(image: np.ndarray, spec: InputSpec) -> np.ndarray:
    """A (1, 3, H, W) float32 input as inference would build it; big pictures give a centre tile."""
    image = as_rgb_uint8(image)
    work = resize_to(image, work_size(image.shape[0], image.shape[1], spec))
    if spec.tile_size and max(work.shape[:2]) > spec.tile_size:
        t = spec.tile_size
        y0, x0 = max(0, (work.shape[0] - t) // 2), max(0, (work.shape[1] - t) // 2)
        work = work[y0:y0 + t, x0:x0 + t]
    hp, wp = padded_size(work.shape[0], spec.stride), padded_size(work.shape[1], spec.stride)
    return normalise(work, spec, (hp, wp))[None]


def quantize_int8(
    onnx_path: str | Path,
    out_path: str | Path,
    spec: InputSpec,
    calib_images: Sequence[np.ndarray] | None = None,
) -> str:
    """Write an int8 copy of `onnx_path` to `out_path`; returns "static" or "dynamic".

    With calibration pictures the model is statically quantised (QDQ);
    without, dynamically. Metadata of the source model is kept.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from seggui.engine.onnx_meta import set_metadata

    onnx_path, out_path = Path(onnx_path), Path(out_path)
    source = onnx.load(str(onnx_path))
    input_name = source.graph.input[0].name
    meta = {p.key: p.value for p in source.metadata_props}
    del source

    class Frames(CalibrationDataReader):
        def __init__(self, images: Sequence[np.ndarray]) -> None:
            self._it = (calibration_tensor(im, spec) for im in images)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self._it, None)
            return None if x is None else {input_name: x}

    with tempfile.TemporaryDirectory(dir=out_path.parent) as tmp, _quiet_logging():
        pre = Path(tmp) / "pre.onnx"
        raw = Path(tmp) / "int8.onnx"
        try:
            quant_pre_process(str(onnx_path), str(pre), skip_symbolic_shape=True)
        except Exception:  # noqa: BLE001 - pre-processing is an optimisation; quantise the original
            pre = onnx_path
        try:
            if calib_images:
                quantize_static(
                    str(pre), str(raw), Frames(calib_images), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibration_providers=["CPUExecutionProvider"],
                )
                mode = "static"
            else:
                quantize_dynamic(str(pre), str(raw), weight_type=QuantType.QUInt8)
                mode = "dynamic"
        except Exception as exc:  # noqa: BLE001 - the quantiser raises assorted types
            raise BadInputError(onnx_path, f"int8 quantisation failed ({str(exc)[:200]})") from None
        model = onnx.load(str(raw))
        meta["seggui.precision"] = f"int8-{mode}"
        set_metadata(model, meta)
        atomic_write_bytes(out_path, model.SerializeToString())
    return mode
