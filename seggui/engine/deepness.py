"""QGIS Deepness segmentation models: an ONNX file with Deepness metadata opens as a model card.

Deepness (the QGIS plugin) stores its settings in the ONNX `metadata_props`,
each value JSON-encoded: ``model_type`` ("Segmentor"), ``class_names``
({id: name}), ``resolution`` (cm/px the model was trained at),
``tiles_size`` (px), ``tiles_overlap`` (%), ``standardization_mean`` /
``standardization_std`` (on pixel values scaled to 0..1), ``seg_thresh`` and
``seg_small_segment``. `deepness_card` maps them onto a seggui card without
touching the file: the tile size and overlap drive the tiler, the
standardisation becomes the card's normalisation, and the resolution is
kept as ``extra["resolution_cm"]`` so orthomosaic inference resamples the
picture to it (`seggui.engine.ortho`). The threshold and small-segment
settings are kept in ``extra["deepness"]`` and applied to every prediction
of the card as Deepness applies them (its map_processor_segmentation):

- ``seg_thresh``: a pixel whose best class output is below it becomes class
  0 (Deepness zeroes every output under the threshold, then takes the
  arg-max, so a pixel with no output left is class 0). The outputs compared
  are the model's own, before seggui's softmax (Deepness models end in a
  softmax or sigmoid, so they are probabilities).
- ``seg_small_segment``: a median filter of the class map, of side
  ``(n // 2) * 2 + 1`` pixels (Deepness's "postprocessing_dilate_erode_size"),
  which removes specks and thin slivers narrower than about half the side;
  0 or 1 leaves the map as it is. Orthomosaic blocks are filtered with their
  halo, so the filter sees across block borders (no seams).
"""

from __future__ import annotations

import colorsys
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from seggui.core.errors import BadInputError
from seggui.engine.card import InputSpec, ModelCard

DEEPNESS_KEYS = ("model_type", "class_names", "resolution", "tiles_size", "tiles_overlap",
                 "standardization_mean", "standardization_std", "seg_thresh", "seg_small_segment")
STRIDE = 32


def is_deepness(meta: dict[str, str]) -> bool:
    return "model_type" in meta or "class_names" in meta


def _value(meta: dict[str, str], key: str, path: Path) -> Any:
    raw = meta.get(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        try:  # some exporters store plain strings
            return json.loads(f'"{raw}"') if not raw.startswith(("{", "[")) else None
        except json.JSONDecodeError:
            raise BadInputError(path, f"Deepness metadata {key!r} is not valid JSON: {raw[:80]!r}") from None


def _colour(i: int, n: int) -> list[int]:
    if i == 0:
        return [0, 0, 0]
    r, g, b = colorsys.hsv_to_rgb((i - 1) / max(1, n - 1), 0.75, 0.95)
    return [int(r * 255), int(g * 255), int(b * 255)]


def deepness_card(path: Path, meta: dict[str, str]) -> ModelCard:
    """The seggui card described by an ONNX file's Deepness metadata."""
    kind = _value(meta, "model_type", path)
    if kind is not None and str(kind) != "Segmentor":
        raise BadInputError(path, f"Deepness model_type is {kind!r}; seggui runs segmentation models "
                                  "(model_type \"Segmentor\") only")
    names = _value(meta, "class_names", path)
    if not isinstance(names, dict) or not names:
        raise BadInputError(path, 'Deepness metadata "class_names" must be an object {"0": "name", ...}')
    try:
        classes = sorted((int(k), str(v)) for k, v in names.items())
    except ValueError:
        raise BadInputError(path, f'Deepness "class_names" keys must be class ids, got {list(names)}') \
            from None
    if [i for i, _ in classes] != list(range(len(classes))):
        raise BadInputError(path, f"Deepness class ids must run 0..{len(classes) - 1}, got "
                                  f"{[i for i, _ in classes]}")
    table = {"name": f"{path.stem}-classes", "ignore_index": None,
             "classes": [{"id": i, "name": n, "color": _colour(i, len(classes))} for i, n in classes]}
    tile = _value(meta, "tiles_size", path)
    overlap_pct = _value(meta, "tiles_overlap", path) or 0
    mean = _value(meta, "standardization_mean", path) or [0.0, 0.0, 0.0]
    std = _value(meta, "standardization_std", path) or [1.0, 1.0, 1.0]
    try:
        tile_px = None if tile in (None, 0) else int(tile)
        stride = STRIDE if tile_px is None or tile_px % STRIDE == 0 else 1
        overlap = int(round((tile_px or 0) * float(overlap_pct) / 100.0))
        spec = InputSpec(mean=tuple(float(v) for v in mean)[:3],  # type: ignore[arg-type]
                         std=tuple(float(v) for v in std)[:3],  # type: ignore[arg-type]
                         max_pixel_value=255.0, stride=stride, tile_size=tile_px,
                         tile_overlap=min(overlap, (tile_px or 1) - 1))
        resolution = _value(meta, "resolution", path)
        resolution_cm = float(resolution) if resolution not in (None, "") else None
    except BadInputError as exc:
        raise BadInputError(path, f"Deepness metadata: {exc.problem}") from None
    except (TypeError, ValueError) as exc:
        raise BadInputError(path, f"Deepness metadata has a bad number ({exc})") from None
    if resolution_cm is not None and not resolution_cm > 0:
        raise BadInputError(path, f"Deepness resolution must be positive cm/px, got {resolution}")
    extra: dict[str, Any] = {"deepness": {k: _value(meta, k, path) for k in DEEPNESS_KEYS if k in meta}}
    if resolution_cm:
        extra["resolution_cm"] = resolution_cm
    return ModelCard(name=path.stem, architecture="onnx", num_classes=len(classes), classes_spec=table,
                     description=f"Deepness model {path.name}", input=spec, weights=None,
                     onnx=path.name, extra=extra, folder=path.parent)


def postprocessing(card: ModelCard) -> tuple[float | None, int]:
    """(score floor, median side) the card's Deepness metadata asks for; (None, 1) for other cards."""
    meta = card.extra.get("deepness") if isinstance(card.extra, dict) else None
    if not isinstance(meta, dict):
        return None, 1
    thresh = meta.get("seg_thresh")
    floor = float(thresh) if isinstance(thresh, (int, float)) and thresh > 0 else None
    small = meta.get("seg_small_segment")
    side = (int(small) // 2) * 2 + 1 if isinstance(small, (int, float)) and small > 0 else 1
    return floor, side


def below_floor_to_background(labels: np.ndarray, best: np.ndarray, floor: float | None) -> None:
    """Class 0 where the best class's output `best` is under `floor` (in place)."""
    if floor is not None:
        labels[best < floor] = 0


def median_labels(labels: np.ndarray, side: int) -> np.ndarray:
    """The class map median-filtered over `side` x `side` pixels (Deepness's small-segment removal).

    The median of an odd number of class ids is one of them, so no class
    appears that was not in the neighbourhood. OpenCV filters uint8 maps at
    any side; uint16 maps (over 255 classes) at 3 or 5 only, so larger
    sides are taken down to 5 for them.
    """
    if side <= 1 or labels.size == 0:
        return labels
    if labels.dtype != np.uint8:
        side = min(side, 5)
        return np.asarray(cv2.medianBlur(labels.astype(np.uint16), side)).astype(labels.dtype)
    return np.asarray(cv2.medianBlur(np.ascontiguousarray(labels), side))
