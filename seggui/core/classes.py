"""Class tables: ids, names, RGB colours, the ignore index, optional label maps.

A class table is the contract between masks, models, metrics and reports. It is
a JSON file of the form::

    {"name": "camvid-11", "ignore_index": 11,
     "classes": [{"id": 0, "name": "Sky", "color": [128, 128, 128]}, ...],
     "label_map": {"7": 0, ...}}        # optional: source label -> class id

Presets live in `resources/classes/`; any user JSON of the same form loads too.
`label_map` lets masks written in another numbering load directly (Cityscapes
`*_labelIds.png` -> trainIds); source labels it does not list become the ignore
index.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.jsonfile import read_json
from seggui.paths import class_presets_dir

# Masks, per-class arrays, confusion matrices and model outputs are indexed by class id, so the
# largest id sizes them all (a confusion matrix is that squared): id 65535 would ask for 32 GiB.
# 1024 ids cover every public segmentation label set; the ignore index (never a row or a model
# output) may be any value a uint16 mask holds.
MAX_CLASS_ID = 1023
MAX_MASK_VALUE = 65535


@dataclass(frozen=True)
class ClassInfo:
    """One class: its id (the pixel value in index masks), name and colour."""

    id: int
    name: str
    color: tuple[int, int, int]


@dataclass(frozen=True)
class ClassTable:
    """An ordered set of classes with an optional ignore index.

    The ignore index may be one of the listed classes (CamVid's "Unlabelled"
    11) or a value outside them (Cityscapes' 255). Pixels of the ignore index
    in ground truth are never scored.
    """

    name: str
    classes: tuple[ClassInfo, ...]
    ignore_index: int | None = None
    label_map: dict[int, int] | None = None
    source: Path | None = None
    description: str = ""

    def __post_init__(self) -> None:
        where = self.source
        if not self.classes:
            raise BadInputError(where, "class table has no classes")
        seen_ids: dict[int, str] = {}
        seen_colors: dict[tuple[int, int, int], str] = {}
        for c in self.classes:
            if not 0 <= c.id <= MAX_CLASS_ID:
                raise BadInputError(
                    where, f"class {c.name!r} has id {c.id}, outside 0..{MAX_CLASS_ID} (masks, metrics "
                    "and models are sized by the largest id; number the classes from 0)")
            if c.id in seen_ids:
                raise BadInputError(
                    where, f"duplicate class id {c.id} ({seen_ids[c.id]!r} and {c.name!r})"
                )
            if c.color in seen_colors:
                raise BadInputError(
                    where,
                    f"duplicate colour {list(c.color)} ({seen_colors[c.color]!r} and {c.name!r})",
                )
            seen_ids[c.id] = c.name
            seen_colors[c.color] = c.name
        if self.ignore_index is not None and not 0 <= self.ignore_index <= MAX_MASK_VALUE:
            raise BadInputError(where, f"ignore_index {self.ignore_index} is outside 0..{MAX_MASK_VALUE} "
                                       "(what an index mask can hold)")
        for src, dst in (self.label_map or {}).items():
            if not 0 <= src <= MAX_MASK_VALUE:
                raise BadInputError(where, f"label_map label {src} is outside 0..{MAX_MASK_VALUE} "
                                           "(what a mask can hold)")
            if dst not in seen_ids and dst != self.ignore_index:
                raise BadInputError(where, f"label_map sends label {src} to id {dst}, which is neither "
                                           "a class of the table nor its ignore index")

    # ----------------------------------------------------------------- views
    @property
    def size(self) -> int:
        """Length of per-id arrays: the largest class id + 1 (ids may have gaps)."""
        return max(c.id for c in self.classes) + 1

    @property
    def ids(self) -> list[int]:
        return [c.id for c in self.classes]

    @property
    def scored_ids(self) -> list[int]:
        """Ids that metrics report on: every class but the ignore one."""
        return [c.id for c in self.classes if c.id != self.ignore_index]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.classes]

    @cached_property
    def by_id(self) -> dict[int, ClassInfo]:
        return {c.id: c for c in self.classes}

    def name_of(self, class_id: int) -> str:
        """The class name, or `id N` for an id the table does not list."""
        info = self.by_id.get(int(class_id))
        return info.name if info else f"id {class_id}"

    def find(self, name_or_id: str | int) -> ClassInfo:
        """Look a class up by id or by name (case-insensitive, also a prefix)."""
        if isinstance(name_or_id, int) or str(name_or_id).isdigit():
            info = self.by_id.get(int(name_or_id))
            if info is None:
                raise BadInputError(self.source, f"no class with id {name_or_id} in {self.name}")
            return info
        wanted = str(name_or_id).casefold()
        exact = [c for c in self.classes if c.name.casefold() == wanted]
        if exact:
            return exact[0]
        prefix = [c for c in self.classes if c.name.casefold().startswith(wanted)]
        if len(prefix) == 1:
            return prefix[0]
        raise BadInputError(
            self.source,
            f"no single class named {name_or_id!r} in {self.name} (classes: {', '.join(self.names)})",
        )

    @cached_property
    def palette(self) -> np.ndarray:
        """A (size, 3) uint8 RGB lookup table; ids the table lacks are black."""
        lut = np.zeros((self.size, 3), np.uint8)
        for c in self.classes:
            lut[c.id] = c.color
        return lut

    @cached_property
    def label_lut(self) -> np.ndarray | None:
        """A uint16 lookup from source labels to class ids, or None."""
        if not self.label_map:
            return None
        fill = self.ignore_index if self.ignore_index is not None else 0
        lut = np.full(max(max(self.label_map), 255) + 1, fill, np.uint16)
        for src, dst in self.label_map.items():
            lut[src] = dst
        return lut

    @property
    def mask_dtype(self) -> type:
        """uint8 while every id (and the ignore index) fits, else uint16."""
        top = max(self.size - 1, self.ignore_index or 0)
        return np.uint8 if top <= 255 else np.uint16

    # ------------------------------------------------------------- (de)serialise
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "ignore_index": self.ignore_index,
            "classes": [{"id": c.id, "name": c.name, "color": list(c.color)} for c in self.classes],
        }
        if self.label_map:
            out["label_map"] = {str(k): v for k, v in sorted(self.label_map.items())}
        return out

    @classmethod
    def from_dict(cls, data: Any, source: str | Path | None = None) -> ClassTable:
        """Build a table from parsed JSON, with messages that name `source`."""
        where = Path(source) if source is not None else None
        if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
            raise BadInputError(where, 'class table must be an object with a "classes" list')
        classes = []
        for i, entry in enumerate(data["classes"]):
            try:
                cid = int(entry["id"])
                name = str(entry["name"])
                color = tuple(int(v) for v in entry["color"])
            except (KeyError, TypeError, ValueError) as exc:
                raise BadInputError(
                    where, f"class entry {i} needs an integer id, a name and an RGB color ({exc})"
                ) from None
            if len(color) != 3 or not all(0 <= v <= 255 for v in color):
                raise BadInputError(where, f"class {name!r} colour {list(color)} is not RGB 0..255")
            classes.append(ClassInfo(cid, name, color))
        ignore = data.get("ignore_index")
        label_map = data.get("label_map")
        try:
            lm = {int(k): int(v) for k, v in label_map.items()} if label_map else None
        except (AttributeError, TypeError, ValueError):
            raise BadInputError(where, "label_map must map integer labels to class ids") from None
        name = str(data.get("name") or (where.stem if where else "classes"))
        desc = str(data.get("description") or "")
        return cls(name, tuple(classes), None if ignore is None else int(ignore), lm, where, desc)

    @classmethod
    def from_json(cls, path: str | Path) -> ClassTable:
        """Load a class table JSON file."""
        path = Path(path)
        return cls.from_dict(read_json(path, "class table"), path)


def list_presets() -> list[str]:
    """Names of the class-table presets shipped in `resources/classes/`."""
    return sorted(p.stem for p in class_presets_dir().glob("*.json"))


def load_classes(name_or_path: str | Path) -> ClassTable:
    """Load a preset by name (`camvid-11`) or a user JSON by path."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() == ".json" or path.exists():
        return ClassTable.from_json(path)
    preset = class_presets_dir() / f"{text}.json"
    if preset.exists():
        return ClassTable.from_json(preset)
    raise BadInputError(
        None,
        f"unknown class table {text!r}: not a file, and not a preset "
        f"({', '.join(list_presets())})",
    )
