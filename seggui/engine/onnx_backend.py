"""The ONNX Runtime backend: the best provider that really works, else the CPU.

Providers come from the probe in `devices` (a listed provider is not a
working one), so a session is only ever asked for a GPU provider that was
seen to start. The session itself is then checked with `get_providers()`:
the device reported to the caller is the one ORT actually uses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seggui.core.errors import BadInputError
from seggui.engine.devices import DEVICE_LABELS, ort_working_providers, quiet_native_output
from seggui.engine.threads import inference_threads, ort_spinning
from seggui.paths import user_data_dir

_DEVICE_PROVIDERS = {
    "auto": ("TensorrtExecutionProvider", "CUDAExecutionProvider"),
    "cuda": ("CUDAExecutionProvider",),
    "tensorrt": ("TensorrtExecutionProvider",),
    "cpu": (),
}


def session_options(threads: int | None, spinning: bool | None = None):  # type: ignore[no-untyped-def]
    """Options shared by inference and benchmark sessions: full graph optimisation, quiet log.

    Idle intra-op workers sleep rather than spin unless `spinning` (default:
    SEGGUI_ORT_SPIN) says otherwise: on a busy machine a spinning worker takes
    the core from the thread doing the work (measured in engine.threads).
    """
    import onnxruntime as ort

    ort.set_default_logger_severity(3)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if threads:
        opts.intra_op_num_threads = threads
    spin = ort_spinning() if spinning is None else spinning
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return opts


def check_image_input(session, path: Path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The input name and element type, refusing models that do not take (N, 3, H, W) pictures."""
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise BadInputError(path, f"ONNX model has {len(inputs)} inputs; seggui feeds one picture tensor")
    shape = inputs[0].shape
    if len(shape) != 4:
        raise BadInputError(path, f"ONNX model input has shape {shape}; expected (batch, 3, height, width)")
    if isinstance(shape[1], int) and shape[1] != 3:
        raise BadInputError(
            path, f"ONNX model input has {shape[1]} channels; seggui feeds RGB pictures (3 channels)"
        )
    if inputs[0].type not in ("tensor(float)", "tensor(float16)"):
        raise BadInputError(path, f"ONNX model input type {inputs[0].type} is not float")
    return inputs[0].name, inputs[0].type


class OrtRunner:
    """Runs an ONNX segmentation model on float32 (N, 3, H, W) batches."""

    backend = "onnx"

    def __init__(self, path: str | Path, device: str = "auto", threads: int | None = None,
                 precision: str = "fp32", spinning: bool | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        want = device.lower().split(":")[0]
        if want not in _DEVICE_PROVIDERS:
            raise BadInputError(None, f"unknown device {device!r} (use auto, cpu, cuda or tensorrt)")
        working = ort_working_providers()
        chosen = [p for p in _DEVICE_PROVIDERS[want] if p in working]
        if want in ("cuda", "tensorrt") and not chosen:
            raise BadInputError(
                None, f"{DEVICE_LABELS[_DEVICE_PROVIDERS[want][0]]} was asked for but ONNX Runtime cannot "
                "use it here (no GPU, or its libraries are missing); use --device cpu or auto"
            )
        providers: list = []
        for p in chosen:
            if p == "TensorrtExecutionProvider":
                cache = user_data_dir() / "trt-cache"
                cache.mkdir(parents=True, exist_ok=True)
                providers.append((p, {"trt_engine_cache_enable": True, "trt_fp16_enable": True,
                                      "trt_engine_cache_path": str(cache)}))
            else:
                providers.append(p)
        providers.append("CPUExecutionProvider")
        # every allowed core unless set: ORT's pool shares work with the caller, so it does not
        # collapse on a busy machine once its workers sleep instead of spinning (see engine.threads)
        self.threads = None if chosen else inference_threads(threads, adapt=False)
        options = session_options(self.threads, spinning)
        try:
            if chosen:
                with quiet_native_output():
                    self.session = ort.InferenceSession(str(self.path), options, providers=providers)
            else:
                self.session = ort.InferenceSession(str(self.path), options, providers=providers)
        except Exception as exc:  # noqa: BLE001 - ORT raises its own untyped errors
            if not self.path.is_file():
                raise BadInputError(self.path, "ONNX file not found") from None
            raise BadInputError(
                self.path, f"ONNX Runtime cannot load this model ({str(exc)[:200]})"
            ) from None
        self.input_name, in_type = check_image_input(self.session, self.path)
        self.half_input = in_type == "tensor(float16)"
        self.output_name = self.session.get_outputs()[0].name
        got = self.session.get_providers()[0]
        self.device = DEVICE_LABELS.get(got, got)
        self.precision = precision

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Logits (N, C, H, W) float32 for a normalised (N, 3, H, W) float32 batch."""
        x = np.ascontiguousarray(batch, np.float16 if self.half_input else np.float32)
        out = self.session.run([self.output_name], {self.input_name: x})[0]
        return out if out.dtype == np.float32 else out.astype(np.float32)

    def close(self) -> None:
        self.session = None
