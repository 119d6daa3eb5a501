"""Which compute devices really work here, asked without noise.

onnxruntime-gpu lists the CUDA and TensorRT providers whenever the wheel has
them, even on a machine without a GPU or without the CUDA libraries; asking
for them then prints pages of errors and silently runs on the CPU. So the
only trustworthy answer is a probe: create a tiny session with the provider
and read back `get_providers()`. The probe's own error output is swallowed
(ORT's logger at FATAL, stdout/stderr file descriptors pointed at /dev/null
for the few milliseconds it runs), so the user sees only the device chosen.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

ORT_GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
DEVICE_LABELS = {
    "TensorrtExecutionProvider": "TensorRT",
    "CUDAExecutionProvider": "CUDA:0",
    "CPUExecutionProvider": "CPU",
}


def default_threads() -> int:
    """CPU threads for inference: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def quiet_native_output() -> Iterator[None]:
    """Silence C++ and Python writes to stdout/stderr for the duration.

    Used around provider probes only: ORT's provider loader prints errors
    straight to the file descriptors, bypassing its logger settings.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved: list[tuple[int, int]] = []
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # pragma: no cover
        devnull = -1
    try:
        if devnull >= 0:
            for fd in (1, 2):
                with contextlib.suppress(OSError):
                    saved.append((fd, os.dup(fd)))
                    os.dup2(devnull, fd)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        if devnull >= 0:
            os.close(devnull)


def _tiny_onnx() -> bytes:
    from onnx import TensorProto, helper

    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph(
        [node], "probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


@lru_cache(maxsize=1)
def ort_working_providers() -> tuple[str, ...]:
    """ORT providers that really start a session here, best first; CPU is always last."""
    import numpy as np
    import onnxruntime as ort

    ort.set_default_logger_severity(3)
    listed = set(ort.get_available_providers())
    works: list[str] = []
    blob = _tiny_onnx()
    for provider in ORT_GPU_PROVIDERS:
        if provider not in listed:
            continue
        opts = ort.SessionOptions()
        opts.log_severity_level = 4
        try:
            ort.set_default_logger_severity(4)
            with quiet_native_output():
                sess = ort.InferenceSession(blob, opts, providers=[provider, "CPUExecutionProvider"])
                sess.run(None, {"x": np.zeros((1, 3, 8, 8), np.float32)})
            if provider in sess.get_providers():
                works.append(provider)
        except Exception:  # noqa: BLE001 - any failure means "not usable here"
            pass
        finally:
            ort.set_default_logger_severity(3)
    return (*works, "CPUExecutionProvider")


def no_nvidia_driver() -> bool:
    """True when this Linux machine plainly has no NVIDIA driver loaded (so no CUDA device at all).

    Importing torch only to hear "no CUDA" costs a CPU-only run about 300 MB of
    memory and a second or two; on Linux the driver's files tell it for free.
    Elsewhere (or with a driver) this says False and torch is asked.
    """
    if not sys.platform.startswith("linux"):
        return False
    return not Path("/proc/driver/nvidia").exists() and not any(Path("/dev").glob("nvidia[0-9]*"))


def torch_cuda_available() -> bool:
    """True when torch has a usable CUDA device."""
    if "torch" not in sys.modules and no_nvidia_driver():
        return False
    import torch

    try:
        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken driver reads as "no CUDA"
        return False


def available_devices() -> dict[str, list[str]]:
    """Per backend, the device labels that work here (the UI offers these)."""
    torch_devs = (["CUDA:0"] if torch_cuda_available() else []) + ["CPU"]
    return {"torch": torch_devs, "onnx": [DEVICE_LABELS[p] for p in ort_working_providers()]}
