"""What one request computes, without the web framework: uploads in, figures out.

Every upload is bytes held in memory: no file name or path from a request is
ever opened (a name only labels the upload in messages). Class tables come
as a shipped preset's name or inline JSON, class maps as inline JSON, for
the same reason. Each function raises `BadInputError` (HTTP 422) or
`TooLarge` (HTTP 413) with a message naming the field and the fault.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from seggui.core.area import area_per_class
from seggui.core.class_map import ClassMap, from_names, scoring_table, suggest
from seggui.core.classes import ClassTable, list_presets, load_classes
from seggui.core.confusion import ConfusionMatrix
from seggui.core.errors import BadInputError
from seggui.core.gsd import Gsd, read_geotiff_gsd
from seggui.core.images import decode_image
from seggui.core.masks import check_mask_size, decode_mask
from seggui.core.metrics import compute_metrics
from seggui.engine.card import ModelCard
from seggui.serve.limits import Limits


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the form field, the client's file name (a label only) and the bytes."""

    field: str
    filename: str | None
    data: bytes

    @property
    def label(self) -> str:
        """How messages name it: "image (site.png)"; the client's path is cut to its last part."""
        name = PurePath((self.filename or "").replace("\\", "/")).name
        return f"{self.field} ({name})" if name else self.field

    def checked(self, limits: Limits) -> bytes:
        """The bytes, once they are known not to be empty nor over the pixel limit."""
        if not self.data:
            raise BadInputError(self.label, "the upload is empty")
        limits.check_pixels(self.label, self.data)
        return self.data


def read_picture(upload: Upload, limits: Limits) -> np.ndarray:
    """An uploaded picture as RGB uint8 (H, W, 3)."""
    return decode_image(upload.label, upload.checked(limits))


def read_truth(upload: Upload, table: ClassTable, limits: Limits, shape: tuple[int, int] | None,
               ) -> np.ndarray:
    """An uploaded index (or colour) mask in `table`'s ids; `shape` (h, w): the picture it must fit."""
    mask = decode_mask(upload.label, upload.checked(limits), table)
    if shape is not None:
        check_mask_size(mask, shape, upload.label)
    return mask


def parse_gsd(text: str | None) -> Gsd | None:
    """The `gsd` field (metres per pixel), or None when it is not given."""
    if text is None or not str(text).strip():
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        raise BadInputError("gsd", f"{text!r} is not a number of metres per pixel") from None
    if not value > 0 or value == float("inf"):  # named like the other fields' errors
        raise BadInputError("gsd", f"{text!r} is not a positive number of metres per pixel")
    return Gsd.square(value, "flag")


def picture_gsd(upload: Upload) -> Gsd | None:
    """The GSD a picture carries in its own GeoTIFF tags (None for other formats)."""
    return read_geotiff_gsd(upload.label, upload.data)


def parse_classes(text: str, field: str = "classes") -> ClassTable:
    """A class table from a preset name (`seggui classes`) or inline JSON; never a file path."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInputError(field, f"not valid JSON ({exc.msg} at character {exc.pos})") from None
        return ClassTable.from_dict(data, field)
    if text in list_presets():
        return load_classes(text)
    raise BadInputError(field, f"unknown class table {text!r}: give a preset ({', '.join(list_presets())}) "
                        "or the table itself as JSON")


def parse_map(text: str | None, gt: ClassTable, model: ClassTable) -> ClassMap:
    """The class map: {"ground-truth class": "model class" or null} as JSON; unnamed classes go by name."""
    start = suggest(gt, model)
    if text is None or not text.strip():
        return start
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError("class_map", f"not valid JSON ({exc.msg} at character {exc.pos})") from None
    if isinstance(data, dict) and isinstance(data.get("map"), dict):
        data = data["map"]  # the form the window saves
    if not isinstance(data, dict):
        raise BadInputError("class_map", 'a class map is an object {"ground-truth class": "model class" '
                            "or null}")
    return from_names(gt, model, data, None, start)


def model_info(card: ModelCard, loaded: str | None = None) -> dict[str, Any]:
    """A card as /models lists it: name, version, classes, the backends it can run on."""
    table = card.classes
    backends = []
    if card.weights_path is not None and card.weights_path.is_file():
        backends.append("torch")
    if card.onnx_path is not None and card.onnx_path.is_file():
        backends.append("onnx")
    return {
        "name": card.name, "version": card.version, "ref": card.ref, "description": card.description,
        "architecture": card.architecture, "encoder": card.encoder,
        "classes": {"name": table.name, "ignore_index": table.ignore_index,
                    "classes": [{"id": c.id, "name": c.name, "color": list(c.color)} for c in table.classes]},
        "backends": backends, "loaded_on": loaded,
    }


def iou_report(labels: np.ndarray, truth: np.ndarray, table: ClassTable,
               cmap: ClassMap | None) -> dict[str, Any]:
    """Per-class IoU of a prediction against ground truth (in the model's classes, through `cmap`)."""
    if cmap is not None:
        truth = cmap.apply(truth, table)
        table = scoring_table(table) if cmap.needs_ignore else table
    cm = ConfusionMatrix.for_table(table).update(labels, truth, "truth")
    m = compute_metrics(cm, table).to_dict()
    keep = ("miou", "pixel_accuracy", "mean_dice", "per_class_iou", "per_class_dice", "gt_px", "pred_px",
            "tp_px", "total_px")
    out = {k: m[k] for k in keep}
    if cmap is not None:
        out["class_map"] = cmap.describe()
        out["class_map_problems"] = cmap.problems()
    return out


def area_report(mask: np.ndarray, table: ClassTable, gsd: Gsd | None) -> dict[str, Any]:
    """Per-class pixels, m² (None without a GSD) and percentages of an index mask."""
    return area_per_class(mask, table, gsd).to_dict()
