"""ONNX export of a model card, checked against torch before it is trusted.

The export has dynamic batch, height and width, carries the card in its
metadata (see `onnx_meta`), and is only registered in the card once ONNX
Runtime's labels agree with torch's on at least 99.9% of the pixels of the
check pictures (real ones when given). The trace runs at a size different
from the check pictures, so an architecture whose export bakes in the trace
size (a shape read as a Python number) fails the check instead of shipping.

The job writes into `out_dir`: next to the card's own weights (which are
never touched) when that is the card's folder, or a new card folder holding a
copy of the weights, model.json and the ONNX file(s).
"""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.atomic import atomic_write_bytes
from seggui.core.classes import ClassTable
from seggui.core.confusion import ConfusionMatrix
from seggui.core.errors import BadInputError, SegguiError
from seggui.core.images import list_images, read_image
from seggui.core.jobs import Job, Progress
from seggui.core.masks import check_mask_size, read_mask
from seggui.core.metrics import compute_metrics
from seggui.engine.card import CARD_FILE, ModelCard
from seggui.engine.onnx_meta import card_metadata, set_metadata

MIN_AGREEMENT = 0.999
INT8_TARGET_AGREEMENT = 0.98
ONNX_NAME = "model.onnx"
INT8_NAME = "model.int8.onnx"


@dataclass
class ExportReport:
    """What an export wrote and measured; the CLI prints it, the card keeps it."""

    card_path: Path
    onnx_path: Path
    onnx_bytes: int
    agreement: float
    check_images: int
    check_source: str
    int8_path: Path | None = None
    int8_mode: str | None = None
    int8_bytes: int | None = None
    int8_agreement: float | None = None
    fp32_ms: float | None = None
    int8_ms: float | None = None
    fp32_miou: float | None = None
    int8_miou: float | None = None
    truth_pictures: int = 0
    truth_source: str | None = None
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "agreement_vs_torch": round(self.agreement, 6), "check_images": self.check_images,
            "check_source": self.check_source, "onnx_bytes": self.onnx_bytes,
        }
        if self.int8_path is not None:
            out["int8"] = {
                "mode": self.int8_mode, "bytes": self.int8_bytes,
                "agreement_vs_fp32": None if self.int8_agreement is None else round(self.int8_agreement, 6),
                "fp32_ms_per_image": self.fp32_ms, "int8_ms_per_image": self.int8_ms,
            }
            if self.int8_miou is not None and self.fp32_miou is not None:
                out["int8"]["miou_vs_truth"] = {
                    "fp32": round(self.fp32_miou, 6), "int8": round(self.int8_miou, 6),
                    "pictures": self.truth_pictures, "masks": self.truth_source,
                }
        return out


def export_onnx(model: Any, card: ModelCard, path: str | Path, opset: int = 17,
                trace_hw: tuple[int, int] | None = None, onnx_name: str | None = None) -> Path:
    """Trace `model` to ONNX at `path` (atomic) with dynamic axes and the card's metadata.

    `onnx_name` is the file name the embedded card records (default: the name of `path`).
    Adaptive average pools (PSPNet's) trace as matrix products that follow the input's size
    (see `onnx_pool`); torch's exporter has no dynamic-size form of them.
    """
    import onnx
    import torch

    from seggui.engine.onnx_pool import exportable_adaptive_pool

    path = Path(path)
    s = card.input.stride
    if trace_hw is None:
        trace_hw = tuple(card.input.size) if card.input.resize == "fixed" else (s * 7, s * 9)  # type: ignore[assignment, arg-type]
    th, tw = (-(-int(v) // s) * s for v in trace_hw)  # type: ignore[union-attr]
    x = torch.zeros((1, 3, th, tw), dtype=torch.float32)
    axes = {0: "batch", 2: "height", 3: "width"}
    kwargs: dict[str, Any] = dict(
        input_names=["image"], output_names=["logits"], dynamic_axes={"image": axes, "logits": axes},
        opset_version=opset, do_constant_folding=True,
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the tracing exporter: no onnxscript needed, dynamic_axes honoured
    model = model.eval().to("cpu")
    buf_path = path.with_name(f".{path.name}.export.tmp")
    try:
        with warnings.catch_warnings(), torch.no_grad(), exportable_adaptive_pool():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (x,), str(buf_path), **kwargs)
        proto = onnx.load(str(buf_path))
    except Exception as exc:  # noqa: BLE001 - exporters raise many types
        raise BadInputError(card.json_path, f"ONNX export of {card.architecture} failed: {str(exc)[:300]}") \
            from None
    finally:
        buf_path.unlink(missing_ok=True)
    name = onnx_name or path.name
    set_metadata(proto, card_metadata(card.with_changes(onnx=name), name))
    proto.doc_string = card.description or card.name
    proto.model_version = int(card.version)
    return atomic_write_bytes(path, proto.SerializeToString())


def label_agreement(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Share of pixels with the same label over all pictures."""
    same = sum(int((x == y).sum()) for x, y in zip(a, b, strict=True))
    total = sum(x.size for x in a)
    return same / total if total else 1.0


def synthetic_images(n: int = 2, hw: tuple[int, int] = (360, 480)) -> list[np.ndarray]:
    """Deterministic structured pictures (gradients, blocks, noise) for when no real ones are given."""
    rng = np.random.default_rng(0)
    h, w = hw
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for i in range(n):
        img = np.stack([xx / w * 255, yy / h * 255, (xx + yy) / (h + w) * 255], -1)
        img[h // 4: h // 2, (i + 1) * w // 8: (i + 3) * w // 8] = rng.integers(0, 256, 3)
        img += rng.normal(0, 12, img.shape)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


def _read_folder(folder: Path, count: int, skipped: list[str]) -> list[np.ndarray]:
    """Up to `count` pictures spread over a folder; unreadable ones are skipped and noted."""
    return [image for _, image in _read_pictures(folder, count, skipped)]


def _read_pictures(folder: Path, count: int, skipped: list[str]) -> list[tuple[Path, np.ndarray]]:
    """`_read_folder` with each picture's file, which its ground truth is found by."""
    files = list_images(folder)
    if not files:
        raise BadInputError(folder, "no images in this folder")
    if len(files) > count:
        files = [files[round(i * (len(files) - 1) / max(1, count - 1))] for i in range(count)]
    out = []
    for f in files:
        try:
            out.append((f, read_image(f)))
        except BadInputError as exc:
            skipped.append(str(exc))
    if not out:
        raise BadInputError(folder, "none of the images could be read")
    return out


def _truth_masks(pictures: Sequence[tuple[Path, np.ndarray]], truth_dir: Path, table: ClassTable,
                 skipped: list[str]) -> list[np.ndarray | None]:
    """Each check picture's ground truth (same file-name stem in `truth_dir`), None where it has none.

    Int8's quality is judged on these: agreement with fp32 alone cannot say whether
    the pixels that changed became right or wrong.
    """
    by_stem = {p.stem: p for p in list_images(truth_dir)}
    masks: list[np.ndarray | None] = []
    for path, image in pictures:
        mask_path = by_stem.get(path.stem)
        mask = None
        if mask_path is not None:
            try:
                mask = read_mask(mask_path, table)
                check_mask_size(mask, image.shape, mask_path, path.name)
            except BadInputError as exc:
                skipped.append(str(exc))
                mask = None
        masks.append(mask)
    if all(m is None for m in masks):
        raise BadInputError(truth_dir, f"none of the {len(pictures)} check pictures has a readable mask "
                            "with the same file-name stem in this folder")
    return masks


def _miou(labels: Sequence[np.ndarray], masks: Sequence[np.ndarray | None], table: ClassTable) -> float:
    """The dataset mIoU (one matrix over every picture with ground truth), as `seggui eval` gives it."""
    cm = ConfusionMatrix.for_table(table)
    for pred, gt in zip(labels, masks, strict=True):
        if gt is not None:
            cm.update(pred, gt)
    return float(compute_metrics(cm, table).miou)


def _time_per_image(predictor: Any, images: Sequence[np.ndarray]) -> tuple[list[np.ndarray], float]:
    predictor.predict(images[0], confidence=False)  # warm-up: first runs allocate
    t0 = time.perf_counter()
    labels = [predictor.predict(im, confidence=False).labels for im in images]
    return labels, (time.perf_counter() - t0) * 1000 / len(images)


def _target_card(card: ModelCard, out_dir: Path) -> ModelCard:
    """The card that will describe `out_dir`: the card itself, or a copy with its weights copied in."""
    same = card.folder is not None and card.folder.resolve() == out_dir.resolve()
    if same:
        return card
    existing = out_dir / CARD_FILE
    if existing.exists():
        other = ModelCard.load(existing)
        if (other.name, other.version) != (card.name, card.version):
            raise BadInputError(out_dir, f"already holds model {other.ref}; choose another --out folder")
    weights = card.require_weights()
    atomic_write_bytes(out_dir / weights.name, weights.read_bytes())
    classes = card.classes_spec
    if isinstance(classes, str) and classes.lower().endswith(".json") and card.folder is not None:
        classes = card.classes.to_dict()  # a relative class file would not travel; inline it
    return card.with_changes(folder=out_dir.resolve(), weights=weights.name, classes_spec=classes,
                             onnx=None, onnx_int8=None)


def export_job(
    card: ModelCard,
    out_dir: str | Path,
    *,
    opset: int = 17,
    int8: bool = False,
    calib_dir: str | Path | None = None,
    check_dir: str | Path | None = None,
    check_count: int = 8,
    calib_count: int = 16,
    threads: int | None = None,
    truth_dir: str | Path | None = None,
) -> Job[ExportReport]:
    """Export, check, optionally quantise, and register the ONNX file(s) in a card.

    `truth_dir` holds ground-truth masks of the check pictures (same stems): with
    `int8`, both precisions' mIoU against them is measured and kept in the card,
    which is what lets `--backend auto` choose int8 (see `ModelCard.int8_as_good`).
    """
    from seggui.engine.onnx_backend import OrtRunner
    from seggui.engine.predictor import Predictor
    from seggui.engine.torch_backend import TorchRunner
    from seggui.engine.weights import load_model

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    skipped: list[str] = []
    total = 5 if int8 else 3
    yield Progress(0, total, "loading the torch model")
    model = load_model(card)
    target = _target_card(card, out_dir)
    if truth_dir is not None and check_dir is None:
        raise BadInputError(Path(truth_dir),
                            "ground-truth masks need the check pictures they belong to (--check)")
    truth: list[np.ndarray | None] = []
    if check_dir is not None:
        pictures = _read_pictures(Path(check_dir), check_count, skipped)
        images = [image for _, image in pictures]
        source = f"{len(images)} pictures from {check_dir}"
        if truth_dir is not None:
            truth = _truth_masks(pictures, Path(truth_dir), card.classes, skipped)
    elif calib_dir is not None:
        images = _read_folder(Path(calib_dir), check_count, skipped)
        source = f"{len(images)} pictures from {calib_dir}"
    else:
        images = synthetic_images()
        source = "2 synthetic pictures (pass --check DIR for real ones)"
    for problem in skipped:
        yield Progress(0, total, "reading check pictures", error=problem)

    yield Progress(1, total, "exporting ONNX")
    onnx_path = out_dir / ONNX_NAME
    tmp_path = out_dir / f".{ONNX_NAME}.unchecked"
    export_onnx(model, target, tmp_path, opset, onnx_name=ONNX_NAME)

    yield Progress(2, total, "checking ONNX Runtime against torch")
    torch_pred = Predictor(target, TorchRunner(model, "cpu", threads))
    ort_pred = Predictor(target, OrtRunner(tmp_path, "cpu", threads))
    ref = [torch_pred.predict(im, confidence=False).labels for im in images]
    got, fp32_ms = _time_per_image(ort_pred, images)
    agreement = label_agreement(ref, got)
    if agreement < MIN_AGREEMENT:
        tmp_path.unlink(missing_ok=True)
        raise SegguiError(
            f"ONNX export of {card.ref} disagrees with torch: {agreement:.4%} of pixels agree "
            f"(< {MIN_AGREEMENT:.1%}) on {source}; the ONNX file was not kept"
        )
    tmp_path.replace(onnx_path)
    report = ExportReport(out_dir / CARD_FILE, onnx_path, onnx_path.stat().st_size, agreement,
                          len(images), source, skipped=skipped)
    if int8:
        yield Progress(3, total, "quantising to int8")
        calib = _read_folder(Path(calib_dir), calib_count, skipped) if calib_dir is not None else None
        int8_path = out_dir / INT8_NAME
        report.int8_mode = _quantize(onnx_path, int8_path, target, calib)
        yield Progress(4, total, "measuring int8 against fp32")
        ort_pred = Predictor(target, OrtRunner(onnx_path, "cpu", threads))
        fp32_labels, report.fp32_ms = _time_per_image(ort_pred, images)
        int8_pred = Predictor(target, OrtRunner(int8_path, "cpu", threads, "int8"))
        int8_labels, report.int8_ms = _time_per_image(int8_pred, images)
        report.int8_agreement = label_agreement(fp32_labels, int8_labels)
        report.int8_path, report.int8_bytes = int8_path, int8_path.stat().st_size
        if truth:
            report.fp32_miou = _miou(fp32_labels, truth, card.classes)
            report.int8_miou = _miou(int8_labels, truth, card.classes)
            report.truth_pictures = sum(m is not None for m in truth)
            report.truth_source = str(truth_dir)
    else:
        report.fp32_ms = fp32_ms
    provenance = dict(target.provenance)
    provenance["onnx_export"] = {"opset": opset, **report.to_dict()}
    final = target.with_changes(
        onnx=ONNX_NAME, onnx_int8=INT8_NAME if report.int8_path else target.onnx_int8, provenance=provenance
    )
    final.save(out_dir)
    yield Progress(total, total, "done")
    return report


def _quantize(onnx_path: Path, int8_path: Path, card: ModelCard, calib: list[np.ndarray] | None) -> str:
    from seggui.engine.quantize import quantize_int8

    return quantize_int8(onnx_path, int8_path, card.input, calib)
