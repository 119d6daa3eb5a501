"""Areas per class and per connected region of an index mask, in pixels and m².

Choices, and why:

- Per-class counts are one `np.bincount` over the mask, so an 8000x6000 mask
  costs one pass whatever the number of classes.
- Percentages are shares of the *counted* pixels: those of listed classes
  other than the ignore index. Ignore-index pixels (and ids the table does not
  list) are reported apart, in pixels and m², so "parking is 14.5%" means 14.5%
  of what was labelled, and the scored classes add up to 100%.
- Regions are 8-connected (pixels touching at a corner join): a brush stroke or
  a parking row drawn diagonally stays one region instead of breaking into
  single-pixel steps. A minimum region size (pixels and/or m²) leaves out
  specks; how many were left out is reported, never hidden.
- With no GSD the m² figures are None ("unknown"): pixel counts are still
  right, and guessing a GSD would make wrong numbers look authoritative.
- `AreaCounter` keeps per-class counts that a brush updates from the changed
  pixels only (O(stroke), not O(image)).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.gsd import Gsd, find_gsd, same_stem_files
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.masks import read_mask

CONNECTIVITY = 8
# regions smaller than this are specks, not counted: one default for the window, reports and the CLI
DEFAULT_MIN_REGION_PX = 20
MIN_REGION_KEY = "min_region_px"  # the workspace setting that overrides it


def min_region_px(settings: dict[str, Any]) -> int:
    """The workspace's minimum region size (its setting, else DEFAULT_MIN_REGION_PX)."""
    value = settings.get(MIN_REGION_KEY, DEFAULT_MIN_REGION_PX)
    return int(value) if isinstance(value, int | float) and value >= 0 else DEFAULT_MIN_REGION_PX


@dataclass(frozen=True)
class ClassArea:
    """One class's share of a mask: pixels, m² (None without a GSD), % of counted pixels."""

    id: int
    name: str
    pixels: int
    m2: float | None
    percent: float
    regions: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "pixels": self.pixels, "m2": self.m2,
                "percent": self.percent, "regions": self.regions}


@dataclass(frozen=True)
class AreaReport:
    """Per-class areas of one mask, plus the pixels that no class percentage counts."""

    classes: tuple[ClassArea, ...]
    height: int
    width: int
    counted_px: int
    ignored_px: int
    unlisted_px: int
    gsd: Gsd | None

    @property
    def total_px(self) -> int:
        return self.height * self.width

    def get(self, class_id: int) -> ClassArea:
        """The entry of one class id (KeyError if the table does not list it)."""
        for c in self.classes:
            if c.id == class_id:
                return c
        raise KeyError(class_id)

    def m2(self, pixels: int) -> float | None:
        return None if self.gsd is None else pixels * self.gsd.m2_per_px

    def to_dict(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height, "counted_px": self.counted_px,
                "ignored_px": self.ignored_px, "ignored_m2": self.m2(self.ignored_px),
                "unlisted_px": self.unlisted_px, "gsd": self.gsd.to_dict() if self.gsd else None,
                "classes": [c.to_dict() for c in self.classes]}


def count_classes(mask: np.ndarray, minlength: int = 0) -> np.ndarray:
    """Pixels per id (int64), one bincount over the mask."""
    return np.bincount(np.asarray(mask).ravel(), minlength=minlength).astype(np.int64, copy=False)


def area_from_counts(counts: np.ndarray, table: ClassTable, shape: tuple[int, int],
                     gsd: Gsd | None = None, regions: Mapping[int, int] | None = None) -> AreaReport:
    """Build the per-class report from per-id pixel counts (full or incremental)."""
    counts = np.asarray(counts, np.int64)
    padded = np.zeros(max(len(counts), table.size, (table.ignore_index or 0) + 1), np.int64)
    padded[:len(counts)] = counts
    ids = table.scored_ids
    ignored = int(padded[table.ignore_index]) if table.ignore_index is not None else 0
    counted = int(padded[ids].sum())
    unlisted = int(padded.sum()) - counted - ignored
    per_px = gsd.m2_per_px if gsd is not None else None
    classes = tuple(
        ClassArea(cid, table.name_of(cid), int(padded[cid]),
                  None if per_px is None else float(padded[cid]) * per_px,
                  100.0 * float(padded[cid]) / counted if counted else 0.0,
                  None if regions is None else int(regions.get(cid, 0)))
        for cid in ids)
    return AreaReport(classes, int(shape[0]), int(shape[1]), counted, ignored, unlisted, gsd)


def area_per_class(mask: np.ndarray, table: ClassTable, gsd: Gsd | None = None,
                   regions: Mapping[int, int] | None = None) -> AreaReport:
    """Pixels, m² and % for every class of `table` in an index mask."""
    return area_from_counts(count_classes(mask, table.size), table, mask.shape[:2], gsd, regions)


# ----------------------------------------------------------------- regions
@dataclass(frozen=True)
class Region:
    """One 8-connected region: area, bounding box (x, y, w, h) and centroid (x, y) in pixels."""

    pixels: int
    m2: float | None
    bbox: tuple[int, int, int, int]
    centroid: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"pixels": self.pixels, "m2": self.m2, "bbox": list(self.bbox),
                "centroid": list(self.centroid)}


@dataclass(frozen=True)
class RegionReport:
    """The regions of one class, largest first, and the small ones left out."""

    class_id: int
    class_name: str
    regions: tuple[Region, ...]
    left_out: int
    left_out_px: int
    min_px: int
    min_m2: float | None
    connectivity: int = CONNECTIVITY

    @property
    def count(self) -> int:
        return len(self.regions)

    def to_dict(self) -> dict[str, Any]:
        return {"class_id": self.class_id, "class": self.class_name, "connectivity": self.connectivity,
                "min_px": self.min_px, "min_m2": self.min_m2, "count": self.count,
                "left_out": self.left_out, "left_out_px": self.left_out_px,
                "regions": [r.to_dict() for r in self.regions]}


def _keep(pixels: np.ndarray, gsd: Gsd | None, min_px: int, min_m2: float | None) -> np.ndarray:
    """Which region sizes pass the minimum; m² needs a GSD."""
    keep = pixels >= max(int(min_px), 1)
    if min_m2 is not None:
        if gsd is None:
            raise BadInputError(None, "a minimum region in m² needs a ground sampling distance")
        keep &= pixels * gsd.m2_per_px >= float(min_m2) * (1 - 1e-12)
    return keep


def _components(mask: np.ndarray, class_id: int) -> tuple[np.ndarray, np.ndarray]:
    binary = (mask == class_id).view(np.uint8)
    _, _, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=CONNECTIVITY,
                                                              ltype=cv2.CV_32S)
    return stats[1:], centroids[1:]  # row 0 is the background


def find_regions(mask: np.ndarray, class_id: int, gsd: Gsd | None = None, *, min_px: int = 0,
                 min_m2: float | None = None, table: ClassTable | None = None) -> RegionReport:
    """The 8-connected regions of one class, largest first, filtered by a minimum size."""
    stats, centroids = _components(mask, class_id)
    pixels = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    keep = _keep(pixels, gsd, min_px, min_m2)
    order = [i for i in np.argsort(-pixels, kind="stable") if keep[i]]
    regions = tuple(
        Region(int(pixels[i]), None if gsd is None else float(pixels[i]) * gsd.m2_per_px,
               cast(tuple[int, int, int, int], tuple(int(v) for v in stats[i, :4])),
               (float(centroids[i, 0]), float(centroids[i, 1])))
        for i in order)
    name = table.name_of(class_id) if table is not None else f"id {class_id}"
    return RegionReport(int(class_id), name, regions, int((~keep).sum()), int(pixels[~keep].sum()),
                        int(min_px), min_m2)


def count_regions(mask: np.ndarray, class_ids: Iterable[int], gsd: Gsd | None = None, *,
                  min_px: int = 0, min_m2: float | None = None,
                  counts: np.ndarray | None = None) -> dict[int, int]:
    """Number of regions passing the minimum, for each class id (0 where absent).

    `counts` (from `count_classes`) lets a caller that has them skip absent
    classes without a second pass over the mask.
    """
    present = count_classes(mask) if counts is None else counts
    out: dict[int, int] = {}
    for cid in class_ids:
        if cid >= len(present) or present[cid] == 0:
            out[int(cid)] = 0
            continue
        stats, _ = _components(mask, cid)
        out[int(cid)] = int(_keep(stats[:, cv2.CC_STAT_AREA].astype(np.int64), gsd, min_px, min_m2).sum())
    return out


# ------------------------------------------------------------ incremental
class AreaCounter:
    """Per-class pixel counts kept up to date by edits, at the cost of the edit.

    The brush hands over the labels of the pixels it touched before and after
    a stroke (any same-shape arrays, e.g. the stroke's bounding box); only
    those pixels are counted, so live area figures cost O(stroke).
    """

    def __init__(self, counts: np.ndarray, shape: tuple[int, int]) -> None:
        self._counts = np.array(counts, np.int64)
        self.shape = (int(shape[0]), int(shape[1]))
        if self._counts.ndim != 1 or (self._counts < 0).any():
            raise ValueError("counts must be a 1-D array of non-negative pixel counts")

    @classmethod
    def from_mask(cls, mask: np.ndarray, size: int = 0) -> AreaCounter:
        """Count a whole mask once; `size` pads the count array (a table's size)."""
        return cls(count_classes(mask, size), mask.shape[:2])

    @property
    def counts(self) -> np.ndarray:
        """Pixels per id (a read-only view)."""
        view = self._counts.view()
        view.flags.writeable = False
        return view

    def pixels(self, class_id: int) -> int:
        return int(self._counts[class_id]) if 0 <= class_id < len(self._counts) else 0

    def apply_edit(self, old_labels: np.ndarray, new_labels: np.ndarray) -> None:
        """Move the changed pixels' counts from their old ids to their new ones."""
        old = np.asarray(old_labels)
        new = np.asarray(new_labels)
        if old.shape != new.shape:
            raise ValueError(f"old labels {old.shape} and new labels {new.shape} differ in shape")
        changed = old != new
        if not changed.any():
            return
        removed = np.bincount(old[changed], minlength=len(self._counts))
        added = np.bincount(new[changed], minlength=len(self._counts))
        size = max(len(removed), len(added))
        updated = np.zeros(size, np.int64)
        updated[:len(self._counts)] = self._counts
        updated[:len(removed)] -= removed
        updated[:len(added)] += added
        if (updated < 0).any():
            raise ValueError("edit removes pixels of a class the counter does not hold (stale old labels)")
        self._counts = updated

    def report(self, table: ClassTable, gsd: Gsd | None = None) -> AreaReport:
        return area_from_counts(self._counts, table, self.shape, gsd)


# ---------------------------------------------------------- folder job
@dataclass(frozen=True)
class MaskArea:
    """The measurements of one mask file."""

    path: Path
    area: AreaReport
    focus: RegionReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), **self.area.to_dict(),
                "focus": self.focus.to_dict() if self.focus else None}


@dataclass
class AreaRun:
    """A folder run: measured masks, the files that failed (path, reason), and totals."""

    table: ClassTable
    items: list[MaskArea] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def totals(self) -> tuple[ClassArea, ...]:
        """Per-class sums over the measured masks; m² is None unless every mask had a GSD."""
        if not self.items:
            return ()
        known = all(m.area.gsd is not None for m in self.items)
        counted = sum(m.area.counted_px for m in self.items)
        out = []
        for i, cid in enumerate(self.table.scored_ids):
            rows = [m.area.classes[i] for m in self.items]
            px = sum(r.pixels for r in rows)
            regions = None if any(r.regions is None for r in rows) else sum(r.regions or 0 for r in rows)
            out.append(ClassArea(cid, self.table.name_of(cid), px,
                                 sum(r.m2 or 0.0 for r in rows) if known else None,
                                 100.0 * px / counted if counted else 0.0, regions))
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {"classes": self.table.name, "masks": [m.to_dict() for m in self.items],
                "failed": [{"path": str(p), "error": e} for p, e in self.failed],
                "totals": [c.to_dict() for c in self.totals()]}


def pictures_for(mask: Path, image: Path | None = None, image_dirs: Sequence[Path] = ()) -> list[Path]:
    """Pictures whose georeferencing may serve `mask`: `image`, then same-stem files in `image_dirs`."""
    found = [image] if image is not None else []
    return found + [p for d in image_dirs for p in same_stem_files(d, mask.stem)]


def measure_mask(path: Path, table: ClassTable, *, gsd: Gsd | None = None, pictures: Sequence[Path] = (),
                 focus: int | None = None, min_px: int = 0, min_m2: float | None = None,
                 regions: bool = True) -> MaskArea:
    """Read one mask, find its GSD (unless given) and measure it."""
    mask = read_mask(path, table)
    if gsd is None:
        gsd = find_gsd(path, pictures, mask.shape[:2])
    if min_m2 is not None and gsd is None:
        raise BadInputError(path, "no GSD (no --gsd, world file or GeoTIFF tags): a minimum region "
                                  "in m² cannot apply")
    counts = count_classes(mask, table.size)
    found_regions = count_regions(mask, table.scored_ids, gsd, min_px=min_px, min_m2=min_m2,
                                  counts=counts) if regions else None
    report = area_from_counts(counts, table, mask.shape[:2], gsd, found_regions)
    found = find_regions(mask, focus, gsd, min_px=min_px, min_m2=min_m2, table=table) if focus is not None \
        else None
    return MaskArea(path, report, found)


def measure_masks(paths: Sequence[Path], table: ClassTable, *, gsd: Gsd | None = None,
                  image: Path | None = None, image_dirs: Sequence[Path] = (), focus: int | None = None,
                  min_px: int = 0, min_m2: float | None = None, regions: bool = True,
                  token: CancelToken | None = None) -> Job[AreaRun]:
    """Measure masks one by one; a bad file is reported and the run carries on.

    Without `gsd`, each mask's GSD comes from georeferencing beside it, then
    from `image` or a same-stem picture in `image_dirs`; a mask with none gets
    pixels only (m² None).
    """
    run = AreaRun(table)
    total = len(paths)
    yield Progress(0, total, "measuring areas")
    for done, path in enumerate(paths, 1):
        if token is not None:
            token.raise_if_cancelled()
        error = None
        try:
            pictures = pictures_for(path, image, image_dirs)
            run.items.append(measure_mask(path, table, gsd=gsd, pictures=pictures, focus=focus,
                                          min_px=min_px, min_m2=min_m2, regions=regions))
        except BadInputError as exc:
            error = str(exc) if exc.path is not None else f"{path}: {exc}"
            run.failed.append((path, error))
        yield Progress(done, total, path.name, item=str(path), error=error)
    return run
