"""A base dataset mixed into retraining, so a fine-tune on a few corrections does not forget.

Fine-tuning on ten corrected pictures pulls the whole network towards those
ten: after a few epochs it has over-fitted them and lost much of what it knew
about everything else (catastrophic forgetting). Replaying samples of a
broader labelled set — the data the model was trained on, or any set with
the same classes — in every epoch anchors it.

How an epoch is made (see `MixSampler` in datasets.py for the indices):
every one of the run's own pairs (the corrections) once, plus
`base_per_epoch` base samples, so that the base set makes up `share` of the
epoch. Keeping "one epoch = one pass over the corrections" means the number
of gradient steps on the analyst's data, and so the meaning of the epochs
and learning-rate defaults, is the same with or without a base set; the run
costs 1 / (1 - share) times as much (twice at the default 0.5). The base
samples of successive epochs continue through a seeded permutation of the
whole base set, so five epochs show five different slices of it rather than
the same few pictures again; only indices are drawn, pixels are read on
demand by the loader, so a base set of any size costs no memory up front.

Nothing here imports torch: the retrain plan (run in the window's thread)
uses it to refuse a mismatched base set before any process starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import BadInputError
from seggui.training.config import LAYOUT_CLASSES, BaseConfig
from seggui.training.layouts import LAYOUTS, Sample, find_samples, fingerprint
from seggui.training.readers import read_sample_mask

PROBE_MASKS = 3  # masks decoded at planning time to catch ids the class table does not know
AUTO = "auto"


@dataclass
class BaseSet:
    """A scanned base dataset: its config, usable pairs, files left out and fingerprint."""

    config: BaseConfig
    samples: list[Sample]
    problems: list[str]
    fingerprint: dict[str, Any]

    def record(self, own_pairs: int) -> dict[str, Any]:
        """What a plan and a card keep about the base set (JSON-ready)."""
        k = base_per_epoch(own_pairs, self.config.share)
        return {"root": self.config.root, "layout": self.config.layout, "share": self.config.share,
                "pairs": len(self.samples), "per_epoch": k, "drawn_share": k / (own_pairs + k),
                "fingerprint": self.fingerprint}


def base_per_epoch(own_pairs: int, share: float) -> int:
    """Base samples per epoch so that they make up `share` of it (at least one)."""
    if not 0 < share < 1:
        raise BadInputError(None, f"base share must lie strictly between 0 and 1, got {share}")
    return max(1, round(own_pairs * share / (1.0 - share)))


def guess_layout(root: str | Path) -> str:
    """The layout of a dataset folder from the sub-folders it holds; refuses when it cannot tell."""
    r = Path(root)
    if not r.is_dir():
        raise BadInputError(r, "base dataset folder not found")
    if (r / "seggui.json").is_file():
        return "workspace"
    if (r / "leftImg8bit").is_dir() and (r / "gtFine").is_dir():
        return "cityscapes"
    if any((r / p).is_dir() for p in ("images/100k", "labels/drivable", "drivable_maps")):
        return "bdd100k"
    if (r / "training" / "image_2").is_dir() or (r / "image_2").is_dir():
        return "kitti"
    if (r / "train").is_dir() and (r / "trainannot").is_dir():
        return "camvid"
    if (r / "images").is_dir() and (r / "masks").is_dir():
        return "folder"
    raise BadInputError(r, f"cannot tell the layout of this dataset; name it ({', '.join(LAYOUTS)})")


def declared_table(layout: str, root: str | Path) -> ClassTable | None:
    """The class table a dataset says it uses: the workspace's, its classes.json, or the layout's."""
    root = Path(root)
    if layout == "workspace":
        from seggui.core.workspace import Workspace

        return Workspace.open(root).classes
    if (root / "classes.json").is_file():
        return load_classes(root / "classes.json")
    preset = LAYOUT_CLASSES.get(layout)
    return load_classes(preset) if preset else None


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids[:6]) + (", ..." if len(ids) > 6 else "")


def table_mismatch(theirs: ClassTable, ours: ClassTable) -> str | None:
    """How two class tables differ in what masks mean (ids, names, ignore), or None when they agree.

    Colours and table names do not matter (CamVid's own classes.json is
    "camvid11", seggui's preset "camvid-11"); names compare without case,
    spaces or punctuation.
    """
    a = {c.id: c.name for c in theirs.classes if c.id != theirs.ignore_index}
    b = {c.id: c.name for c in ours.classes if c.id != ours.ignore_index}
    diffs = [f"id {i} is {a[i]!r} there and {b[i]!r} here" for i in sorted(set(a) & set(b))
             if _norm(a[i]) != _norm(b[i])][:3]
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a:
        diffs.append(f"ids {_ids(only_a)} only in the base set")
    if only_b:
        diffs.append(f"ids {_ids(only_b)} only in the model")
    if theirs.ignore_index != ours.ignore_index:
        diffs.append(f"ignore index {theirs.ignore_index} there, {ours.ignore_index} here")
    return "; ".join(diffs) or None


def resolve_layout(layout: str | None, root: str | Path) -> str:
    """`layout` as given, or guessed from the folder when None or "auto"."""
    if layout in (None, "", AUTO):
        return guess_layout(root)
    if layout not in LAYOUTS:
        raise BadInputError(None, f"unknown base dataset layout {layout!r} (one of {', '.join(LAYOUTS)})")
    return str(layout)


def load_base(base: BaseConfig, table: ClassTable, model: str) -> BaseSet:
    """Scan a base dataset and check it against the run's class table; refuse what cannot train.

    Refuses (naming the dataset) a folder without usable pairs, a declared
    class table that differs from `table` (the model's, called `model` in the
    message), and masks that do not decode with `table` (ids it does not
    know; the readers' own message) when every probed mask fails. Masks that
    fail among good ones are left to the training readers, which report and
    skip them, as for any folder.
    """
    root = Path(base.root)
    where = f"base dataset {root} ({base.layout})"
    found = find_samples(base.layout, root, base.split, base.images, base.masks)
    if not found.samples:
        raise BadInputError(root, f"{where}: no usable picture/mask pairs"
                            + (f" ({found.problems[0]})" if found.problems else ""))
    theirs = declared_table(base.layout, root)
    if theirs is not None:
        diff = table_mismatch(theirs, table)
        if diff:
            raise BadInputError(root, f"{where} uses the classes of {theirs.name}, which do not match "
                                f"{table.name} of {model}: {diff}")
    failed: list[str] = []
    probe = found.samples[:PROBE_MASKS]
    for sample in probe:
        try:
            read_sample_mask(sample, table)
        except BadInputError as exc:
            failed.append(str(exc))
    if failed and len(failed) == len(probe):
        raise BadInputError(root, f"{where}: its masks do not fit {table.name} of {model}: {failed[0]}")
    problems = [f"{where}: {p}" for p in found.problems + failed]
    return BaseSet(base, found.samples, problems, fingerprint(found.samples, root))


def describe(record: dict[str, Any]) -> str:
    """One line for a plan or a comparison: which base set, how much of each epoch."""
    return (f"base set {record['root']} ({record['layout']}, {record['pairs']} pairs; "
            f"{record['per_epoch']} samples per epoch, {record['drawn_share']:.0%} of each epoch)")
