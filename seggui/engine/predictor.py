"""The Predictor: pictures in, labels + confidence out, whatever the backend.

Pre- and post-processing are shared numpy code (`preprocess`, `postprocess`),
so the torch and ONNX Runtime backends differ only in the one call that maps
a normalised batch to logits; their labels can be compared pixel for pixel.

For drives, a pipeline splits the work across threads: `prepare()` is pure
numpy and thread-safe (decode + prepare the next frames in workers) while
`infer()` runs the backend on a batch of prepared frames in one thread.
`predict_batch()` is both steps in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from seggui.core.errors import BadInputError
from seggui.engine.card import ModelCard, resolve_model
from seggui.engine.deepness import median_labels, postprocessing
from seggui.engine.postprocess import Prediction, Summariser, summarise_resized
from seggui.engine.preprocess import PreparedImage, prepare
from seggui.engine.tiling import run_tiled

BACKEND_LABELS = {"torch": "torch", "onnx": "ONNX Runtime"}

__all__ = ["Prediction", "Predictor", "Runner", "load_predictor"]


class Runner(Protocol):
    """A backend: normalised float32 (N, 3, H, W) -> float32 logits (N, C, H, W)."""

    backend: str
    device: str
    precision: str
    threads: int | None

    def run(self, batch: np.ndarray) -> np.ndarray: ...

    def close(self) -> None: ...


class Predictor:
    """Runs one model card on pictures; not thread-safe for `infer` (one caller at a time)."""

    def __init__(self, card: ModelCard, runner: Runner, batch_size: int = 1) -> None:
        self.card = card
        self.runner = runner
        self.batch_size = max(1, int(batch_size))
        self.label_dtype = card.classes.mask_dtype
        self.score_floor, self.median_side = postprocessing(card)  # Deepness seg_thresh, seg_small_segment

    # ------------------------------------------------------------ reporting
    @property
    def backend(self) -> str:
        """"torch" or "onnx"."""
        return self.runner.backend

    @property
    def device(self) -> str:
        """The device really in use: "CPU", "CUDA:0" or "TensorRT"."""
        return self.runner.device

    @property
    def threads(self) -> int | None:
        return self.runner.threads

    @property
    def precision(self) -> str:
        return self.runner.precision

    def describe(self) -> str:
        """One line for the status bar: "torch · CPU", "ONNX Runtime · CUDA:0 · int8"."""
        text = f"{BACKEND_LABELS.get(self.backend, self.backend)} · {self.device}"
        return text if self.precision == "fp32" else f"{text} · {self.precision}"

    # ------------------------------------------------------------ inference
    def prepare(self, image: np.ndarray, tile: bool | None = None) -> PreparedImage:
        """Check, resize and normalise one picture (thread-safe; see module docstring)."""
        return prepare(image, self.card.input, tile)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        logits = self.runner.run(batch)
        if logits.ndim != 4 or logits.shape[1] != self.card.num_classes:
            raise BadInputError(
                self.card.json_path,
                f"model {self.card.name!r} produced output of shape {logits.shape}; the card declares "
                f"{self.card.num_classes} classes (N, C, H, W expected)",
            )
        return logits

    def _summarise(self, prep: PreparedImage, logits: np.ndarray, confidence: bool,
                   entropy: bool) -> Prediction:
        out = Summariser(prep.orig_hw, self.label_dtype, confidence, entropy, self.score_floor)
        summarise_resized(logits, out, prep.orig_hw)
        return self._finish(out.result())

    def _finish(self, pred: Prediction) -> Prediction:
        """The card's small-segment filter (Deepness seg_small_segment), when it has one."""
        if self.median_side > 1:
            pred.labels = median_labels(pred.labels, self.median_side)
        return pred

    def _tiled_logits(self, prep: PreparedImage) -> np.ndarray:
        wh, ww = prep.work_hw
        full = np.empty((self.card.num_classes, wh, ww), np.float32)

        def keep(y0: int, strip: np.ndarray) -> None:
            full[:, y0:y0 + strip.shape[1]] = strip

        run_tiled(prep.work, self.card.input, self.card.num_classes, self._run, keep,  # type: ignore[arg-type]
                  self.batch_size)
        return full

    def _infer_tiled(self, prep: PreparedImage, confidence: bool, entropy: bool) -> Prediction:
        if prep.work_hw != prep.orig_hw:  # resized: logits at the work size are bounded by the card
            return self._summarise(prep, self._tiled_logits(prep), confidence, entropy)
        out = Summariser(prep.orig_hw, self.label_dtype, confidence, entropy, self.score_floor)
        run_tiled(prep.work, self.card.input, self.card.num_classes, self._run, out.add,  # type: ignore[arg-type]
                  self.batch_size)
        return self._finish(out.result())

    def infer(self, prepared: Sequence[PreparedImage], confidence: bool = True,
              entropy: bool = False) -> list[Prediction]:
        """Predictions for prepared pictures, batching those of equal padded size."""
        results: list[Prediction | None] = [None] * len(prepared)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, prep in enumerate(prepared):
            if prep.tensor is None:
                results[i] = self._infer_tiled(prep, confidence, entropy)
            else:
                groups.setdefault(prep.tensor.shape, []).append(i)
        for idx in groups.values():
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start:start + self.batch_size]
                batch = np.stack([prepared[i].tensor for i in chunk])  # type: ignore[misc]
                logits = self._run(batch)
                for k, i in enumerate(chunk):
                    wh, ww = prepared[i].work_hw
                    results[i] = self._summarise(prepared[i], logits[k, :, :wh, :ww], confidence, entropy)
        return results  # type: ignore[return-value]

    def predict(self, image: np.ndarray, confidence: bool = True, entropy: bool = False,
                tile: bool | None = None) -> Prediction:
        """Labels (and confidence, entropy if asked) for one RGB uint8 picture at its own size.

        `tile`: None tiles pictures larger than the card's tile size, False
        never tiles, True always does.
        """
        return self.infer([self.prepare(image, tile)], confidence, entropy)[0]

    def predict_batch(self, images: Sequence[np.ndarray], confidence: bool = True,
                      entropy: bool = False) -> list[Prediction]:
        """`predict` for several pictures; equal-sized ones share backend calls of `batch_size`."""
        return self.infer([self.prepare(im) for im in images], confidence, entropy)

    def logits(self, image: np.ndarray, tile: bool | None = None) -> np.ndarray:
        """Float32 (C, h, w) logits at the network's working size (after the resize policy).

        For checks and research; pictures are tiled as in `predict`, but the
        whole logit block is held in memory.
        """
        prep = self.prepare(image, tile)
        if prep.tensor is None:
            return self._tiled_logits(prep)
        wh, ww = prep.work_hw
        return np.ascontiguousarray(self._run(prep.tensor[None])[0, :, :wh, :ww])

    def close(self) -> None:
        """Release the backend (GPU memory, ORT session)."""
        self.runner.close()

    def __enter__(self) -> Predictor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_predictor(
    card_or_path: ModelCard | str | Path,
    backend: str = "auto",
    device: str = "auto",
    threads: int | None = None,
    *,
    int8: bool = False,
    batch_size: int | None = None,
) -> Predictor:
    """A ready Predictor for a card (or a card folder, model.json, .onnx file, model name).

    backend "auto": torch when torch has a GPU (fp16), else ONNX Runtime when
    the card has an ONNX export (faster on the CPU), else torch; on ONNX Runtime
    the int8 file when the card measured it as accurate as fp32
    (`ModelCard.int8_as_good`). `int8` picks the card's int8 ONNX. `threads`
    sets CPU threads (default: all cores this process may use). `batch_size`
    defaults to 4 on a GPU, 1 on the CPU (where batching gains nothing and costs latency).
    """
    if batch_size is not None and batch_size < 1:
        raise BadInputError(None, f"the batch size must be at least 1, not {batch_size}")
    card = card_or_path if isinstance(card_or_path, ModelCard) else resolve_model(card_or_path)
    want = backend.lower()
    if want not in ("auto", "torch", "onnx"):
        raise BadInputError(None, f"unknown backend {backend!r} (use auto, torch or onnx)")
    if want == "auto":
        from seggui.engine.devices import torch_cuda_available

        has_onnx = (card.onnx_int8_path if int8 else card.onnx_path) is not None
        has_weights = card.weights_path is not None and card.weights_path.is_file()
        if not has_weights and not int8 and not (card.onnx_path is not None and card.onnx_path.is_file()):
            card.require_weights()  # the weights are missing (and there is no ONNX file to fall back on)
        if int8 or not has_weights:
            want = "onnx"
        elif device.lower() != "cpu" and torch_cuda_available():
            want = "torch"
        else:
            want = "onnx" if has_onnx and card.onnx_path.is_file() else "torch"  # type: ignore[union-attr]
        if want == "onnx" and not int8 and card.int8_as_good and _runs_on_cpu(device):
            int8 = card.onnx_int8_path.is_file()  # type: ignore[union-attr]  # as accurate, 2-3x faster on a CPU
    runner: Runner
    if want == "torch":
        if int8:
            raise BadInputError(None, "int8 runs on the onnx backend only")
        from seggui.engine.torch_backend import TorchRunner
        from seggui.engine.weights import load_model

        runner = TorchRunner(load_model(card), device, threads)
    else:
        from seggui.engine.onnx_backend import OrtRunner

        runner = OrtRunner(card.require_onnx(int8), device, threads, "int8" if int8 else "fp32")
    if batch_size is None:
        batch_size = 1 if runner.device == "CPU" else 4
    return Predictor(card, runner, batch_size)


def _runs_on_cpu(device: str) -> bool:
    """Whether ONNX Runtime will run on the CPU for `device` (int8 files are for the CPU)."""
    from seggui.engine.devices import ort_working_providers

    want = device.lower().split(":")[0]
    return want == "cpu" or (want == "auto" and ort_working_providers() == ("CPUExecutionProvider",))
