"""Which class-table presets a folder of ground-truth masks can be drawn in, judged by the ids it holds.

Why: a folder with masks and no `classes.json` makes the window ask for the table; offering the first
preset in alphabetical order invited reading CamVid masks as aerial classes with one press of OK. The
ids of a few masks rule out the presets they do not fit (colour masks, which need a palette, rule out
none), so the dialog starts on one that fits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seggui.core.classes import ClassTable, list_presets, load_classes
from seggui.core.errors import BadInputError
from seggui.core.images import list_images
from seggui.core.masks import read_mask

SAMPLE_MASKS = 5


def mask_ids(folder: Path, limit: int = SAMPLE_MASKS) -> set[int] | None:
    """The ids in the first `limit` index masks of `folder` (or in one mask file); None when none could
    be read as ids."""
    found: set[int] = set()
    read = 0
    for path in (list_images(folder)[:limit] if folder.is_dir() else [folder]):
        try:
            mask = read_mask(path)
        except BadInputError:  # a colour mask (needs a palette) or a broken file: says nothing of ids
            continue
        found.update(int(v) for v in np.unique(mask))
        read += 1
    return found if read else None


def fitting_presets(ids: set[int] | None) -> list[str]:
    """The presets whose class ids (the ignore id included) hold every id seen; all of them for None."""
    names = list_presets()
    if ids is None:
        return names
    tables = {n: load_classes(n) for n in names}
    return [n for n, t in tables.items() if fits(ids, t)]


def table_file_beside(path: Path) -> Path | None:
    """`classes.json` in the folder of a mask (or a folder of masks) or in its parent, where datasets
    keep it (houston-uav/classes.json beside masks/); None when there is none."""
    folder = path if path.is_dir() else path.parent
    for cand in (folder / "classes.json", folder.parent / "classes.json"):
        if cand.is_file():
            return cand
    return None


def fits(ids: set[int] | None, table: ClassTable) -> bool:
    """Whether every id seen is one of `table`'s (its ignore id included); unknown ids (None) fit."""
    return ids is None or ids <= {*table.ids, table.ignore_index}
