"""Model-card metadata inside an ONNX file, so the file describes itself.

`seggui export-onnx` writes the card into the ONNX `metadata_props`:
``seggui.card`` holds the whole card as JSON (class table resolved, so no
preset file is needed to read it), and ``seggui.classes`` / ``seggui.input``
repeat the class table and the normalisation for other tools. An .onnx file
alone then runs in seggui: `card_from_onnx` rebuilds the card from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seggui.core.errors import BadInputError
from seggui.engine.card import ModelCard

if TYPE_CHECKING:  # pragma: no cover
    import onnx

META_CARD = "seggui.card"
META_CLASSES = "seggui.classes"
META_INPUT = "seggui.input"


def card_metadata(card: ModelCard, onnx_name: str) -> dict[str, str]:
    """The metadata entries describing `card`, for an ONNX file named `onnx_name`."""
    data = card.to_dict()
    data["classes"] = card.classes.to_dict()
    data["weights"] = None
    data["onnx"] = onnx_name
    data.pop("onnx_int8", None)
    return {
        META_CARD: json.dumps(data, ensure_ascii=False),
        META_CLASSES: json.dumps(card.classes.to_dict(), ensure_ascii=False),
        META_INPUT: json.dumps(card.input.to_dict()),
    }


def set_metadata(model: onnx.ModelProto, entries: dict[str, str]) -> None:
    """Replace (or add) metadata entries on an in-memory ONNX model."""
    keep = [p for p in model.metadata_props if p.key not in entries]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    for key, value in entries.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value


def read_metadata(path: str | Path) -> dict[str, str]:
    """All metadata_props of an ONNX file (weights are parsed too; the file must be readable)."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "ONNX file not found")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises several unrelated types
        raise BadInputError(path, f"not a readable ONNX model ({str(exc)[:160]})") from None
    return {p.key: p.value for p in model.metadata_props}


def card_from_onnx(path: str | Path) -> ModelCard:
    """The card embedded in an ONNX file by `seggui export-onnx`."""
    path = Path(path).resolve()
    meta = read_metadata(path)
    if META_CARD not in meta:
        from seggui.engine.deepness import deepness_card, is_deepness

        if is_deepness(meta):  # a QGIS Deepness model: its own metadata describes it
            return deepness_card(path, meta)
        raise BadInputError(
            path, "this ONNX file carries no seggui model card; write a model.json beside it "
            '(see seggui.engine.card) with "onnx": "' + path.name + '"'
        )
    try:
        data: Any = json.loads(meta[META_CARD])
    except json.JSONDecodeError as exc:
        raise BadInputError(path, f"the embedded model card is not valid JSON ({exc})") from None
    data["onnx"] = path.name
    data["weights"] = None
    return ModelCard.from_dict(data, path.parent)
