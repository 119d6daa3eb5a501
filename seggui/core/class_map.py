"""Class maps: ground truth in one class table, predictions in another.

An analyst's ground truth rarely uses the model's classes: the Houston UAV
masks have 25 classes, the parking model two. A `ClassMap` says which model
class each ground-truth class counts as (many to one: "Parking Area -
Commercial" is parking, "Vehicle", "Grass" ... are background), or that it is
not scored at all (None: the pixels become the model table's ignore value).
Everything that compares or measures ground truth (metrics, the error view,
areas, reports, drive plots, retraining's validation) reads it through the
map, in the model's classes, so one figure means one thing everywhere.

The map is kept by class *names* on disk (ids of two tables are easy to mix
up; names are what the analyst sees) and as a lookup table in memory.
`suggest` proposes one by name, tolerant of case, punctuation, plurals and
filler words ("Parking Area - Commercial" -> "parking").
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.jsonfile import read_json

FILLER = frozenset({"area", "areas", "the", "class", "zone", "zones", "region", "regions", "of", "and",
                    "a", "an", "surface", "surfaces", "type"})
CATCH_ALL = ("background", "other", "others", "rest", "bg", "clutter", "void", "misc")


def words(name: str) -> frozenset[str]:
    """The meaningful words of a class name: lower case, no punctuation, no filler, no plural s."""
    out = set()
    for w in re.split(r"[^0-9a-z]+", name.casefold()):
        if not w or w in FILLER:
            continue
        out.add(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return frozenset(out)


def ignore_value(table: ClassTable) -> int:
    """The id that means "not scored" in masks of `table`: its ignore index, else one past its ids."""
    if table.ignore_index is not None:
        return table.ignore_index
    return 255 if table.size <= 255 else 65535


def scoring_table(table: ClassTable) -> ClassTable:
    """`table` with an ignore index, so ground-truth pixels mapped to "not scored" are left out."""
    if table.ignore_index is not None:
        return table
    return dataclasses.replace(table, ignore_index=ignore_value(table))


@dataclass(frozen=True)
class ClassMap:
    """Ground-truth class id -> model class id (None: not scored), between two tables."""

    gt: ClassTable
    model: ClassTable
    pairs: Mapping[int, int | None]

    def __post_init__(self) -> None:
        for g, m in self.pairs.items():
            if g not in self.gt.by_id:
                raise BadInputError(self.gt.source, f"class map names ground-truth id {g}, "
                                    f"which {self.gt.name} does not have")
            if m is not None and m not in self.model.by_id:
                raise BadInputError(self.model.source, f"class map names model id {m}, "
                                    f"which {self.model.name} does not have")

    # ------------------------------------------------------------ applying
    @property
    def needs_ignore(self) -> bool:
        """Whether some ground-truth pixels are not scored (so the model table needs an ignore id)."""
        return self.gt.ignore_index is not None or any(self.target(c.id) is None for c in self.gt.classes)

    def target(self, gt_id: int) -> int | None:
        """The model class a ground-truth class counts as (None: not scored)."""
        if gt_id == self.gt.ignore_index:
            return None
        return self.pairs.get(gt_id)

    def lut(self, table: ClassTable | None = None) -> np.ndarray:
        """Ground-truth ids -> ids of `table` (default the model's; not scored -> its ignore value)."""
        table = table or self.model
        fill = ignore_value(table)
        lut = np.full(max(self.gt.size, 256 if self.gt.mask_dtype == np.uint8 else 65536), fill,
                      np.uint16 if fill > 255 else np.uint8)
        for c in self.gt.classes:
            t = self.target(c.id)
            lut[c.id] = fill if t is None else t
        return lut

    def apply(self, gt_mask: np.ndarray, table: ClassTable | None = None) -> np.ndarray:
        """A ground-truth mask (ids of `gt`) in the model's classes (see `lut`)."""
        return cast(np.ndarray, self.lut(table)[gt_mask])

    # -------------------------------------------------------------- telling
    def unmapped_model_classes(self) -> list[str]:
        """Model classes no ground-truth class maps to: their IoU cannot be measured."""
        hit = {t for t in (self.target(c.id) for c in self.gt.classes) if t is not None}
        return [c.name for c in self.model.classes if c.id not in hit and c.id != self.model.ignore_index]

    def problems(self) -> list[str]:
        """What the analyst should know about this map, in words (empty when nothing is odd)."""
        out = [f"model class {name!r} has no ground-truth class mapped to it: its IoU is not measured"
               for name in self.unmapped_model_classes()]
        if all(self.target(c.id) is None for c in self.gt.classes):
            out.insert(0, "no ground-truth class is mapped: nothing can be scored")
        return out

    def describe(self) -> str:
        """One line: the mapped ground-truth classes grouped by model class."""
        groups: dict[str, list[str]] = {}
        for c in self.gt.classes:
            t = self.target(c.id)
            groups.setdefault("not scored" if t is None else self.model.name_of(t), []).append(c.name)
        return "; ".join(f"{k} <- {', '.join(v)}" for k, v in groups.items())

    def is_identity(self) -> bool:
        """Whether the map changes nothing (same ids and names on both sides)."""
        return all(self.target(c.id) == c.id and self.model.by_id.get(c.id, None) is not None
                   and self.model.name_of(c.id) == c.name for c in self.gt.classes
                   if c.id != self.gt.ignore_index)

    # ------------------------------------------------------- (de)serialise
    def to_dict(self) -> dict[str, Any]:
        """On disk: the ground-truth table and the map by names (None: not scored)."""
        return {"ground_truth_classes": self.gt.to_dict(),
                "map": {c.name: (None if (t := self.target(c.id)) is None else self.model.name_of(t))
                        for c in self.gt.classes}}

    @classmethod
    def from_dict(cls, data: Any, model: ClassTable, source: str | Path | None = None) -> ClassMap:
        """Read `to_dict`'s form back against the model table, naming `source` on error."""
        where = Path(source) if source is not None else None
        if not isinstance(data, dict) or not isinstance(data.get("map"), dict):
            raise BadInputError(where, 'class map must be an object with "ground_truth_classes" and "map"')
        gt = ClassTable.from_dict(data.get("ground_truth_classes"), source)
        return from_names(gt, model, data["map"], where)


def _lookup(table: ClassTable, name: Any, what: str, where: Path | None) -> int:
    text = str(name).strip()
    exact = [c.id for c in table.classes if c.name.casefold() == text.casefold()]
    if exact:
        return exact[0]
    if text.isdigit() and int(text) in table.by_id:
        return int(text)
    raise BadInputError(where, f"class map names {what} class {text!r}, which {table.name} does not have "
                        f"(its classes: {', '.join(table.names)})")


def from_names(gt: ClassTable, model: ClassTable, names: Mapping[str, Any],
               where: Path | None = None, start: ClassMap | None = None) -> ClassMap:
    """A map from {ground-truth name: model name or None}; classes it does not name keep `start`'s target.

    Names are matched exactly (case aside) or by id; a name neither table has
    is refused, naming it and listing the table's classes.
    """
    pairs: dict[int, int | None] = dict(start.pairs) if start is not None else {}
    for g, m in names.items():
        gid = _lookup(gt, g, "ground-truth", where)
        pairs[gid] = None if m is None or str(m).strip() in ("", "-", "ignore", "none") else _lookup(
            model, m, "model", where)
    return ClassMap(gt, model, pairs)


def suggest(gt: ClassTable, model: ClassTable) -> ClassMap:
    """A map by name: each ground-truth class to the model class whose words it shares best.

    A model class matches when its words are all among the ground-truth
    class's words, or the other way round ("Parking Area - Commercial" and
    "parking"; "Cars" and "car"); the best overlap wins. A class that matches
    none goes to the model's catch-all class (background, other, ...) when
    it has one, else is not scored. The ground truth's ignore class is never
    scored.
    """
    model_words = [(c.id, words(c.name)) for c in model.classes if c.id != model.ignore_index]
    catch_all = next((c.id for c in model.classes if words(c.name) & set(CATCH_ALL)), None)
    pairs: dict[int, int | None] = {}
    for c in gt.classes:
        if c.id == gt.ignore_index:
            pairs[c.id] = None
            continue
        mine = words(c.name)
        best, score = None, 0.0
        for mid, theirs in model_words:
            if not mine or not theirs or not (theirs <= mine or mine <= theirs):
                continue
            jaccard = len(mine & theirs) / len(mine | theirs)
            if jaccard > score:
                best, score = mid, jaccard
        pairs[c.id] = best if best is not None else catch_all
    return ClassMap(gt, model, pairs)


def parse_map_arg(values: Iterable[str], gt: ClassTable, model: ClassTable) -> ClassMap:
    """The CLI's `--map`: a JSON file ({"GT NAME": "MODEL NAME" or null}) or "GT NAME=MODEL NAME" pairs.

    Ground-truth classes the arguments do not name keep the suggestion by
    name (`suggest`); "GT NAME=" leaves one unscored.
    """
    start = suggest(gt, model)
    names: dict[str, Any] = {}
    for value in values:
        path = Path(value)
        if "=" not in value and path.suffix.lower() == ".json":
            data = read_json(path, "class map")
            if isinstance(data, dict) and "map" in data:
                data = data["map"]
            if not isinstance(data, dict):
                raise BadInputError(path, 'a class map file is an object {"ground-truth class": '
                                    '"model class" or null}')
            return from_names(gt, model, data, path, start)
        if "=" not in value:
            raise BadInputError(None, f"--map {value!r}: write \"GROUND TRUTH CLASS=MODEL CLASS\" or give "
                                "a .json file")
        g, _, m = value.partition("=")
        names[g.strip()] = m.strip() or None
    return from_names(gt, model, names, None, start)
