"""Area reports of a workspace: the analyst's deliverable.

Per picture or video frame: area per class (pixels, m², % of the picture),
the parking area, its number of regions and the largest, IoU and
symmetric-difference area |O Δ E| against ground truth when there is some,
the model (name@version) and the GSD with where it came from. Frames of a
video are also grouped per drive (area over time). Totals and means close the
report. `seggui.core.report_formats` writes it as CSV, JSON or one
self-contained HTML file; all three carry the same numbers. Each frame also
says its CRS and how its areas were measured (projected, geodesic, Web
Mercator corrected, a GSD stated by the user) and lists the regions of the
parking class (or another) with area, perimeter and centroid
(`seggui.core.report_regions`; the HTML adds a small map of them).

The mask measured is the analyst's correction when there is one, else the
prediction. The GSD is, in order: the one the caller forces (a flag), the
picture's own georeferencing (GeoTIFF tags or world file), the workspace's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from seggui import __version__
from seggui.core.area import area_per_class, find_regions, min_region_px
from seggui.core.classes import ClassTable
from seggui.core.confusion import ConfusionMatrix
from seggui.core.errors import BadInputError
from seggui.core.gsd import Gsd, find_gsd
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.metrics import compute_metrics
from seggui.core.report_regions import placement, region_rows
from seggui.core.workspace import Workspace


def parking_class(table: ClassTable, wanted: str | int | None = None) -> int | None:
    """The id of the parking class: the one asked for, else the first named *parking*."""
    if wanted is not None:
        return table.find(wanted).id
    for c in table.classes:
        if "parking" in c.name.casefold() and c.id != table.ignore_index:
            return c.id
    return None


@dataclass
class FrameReport:
    """The figures of one picture or frame."""

    frame: str
    image: str | None
    source: str | None
    index: int | None
    mask_kind: str
    width: int
    height: int
    model: str | None
    gsd: Gsd | None
    classes: list[dict[str, Any]]
    parking: dict[str, Any] | None
    gt: dict[str, Any] | None
    crs: str | None = None  # the picture's CRS (a GeoTIFF's), None without one
    area_method: str = ""  # how a pixel's area was had (see report_regions.placement)
    region_class: str | None = None
    regions: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""  # the frame's: predicted, corrected, reviewed or propagated (mask_kind is the file's)

    def class_m2(self, class_id: int) -> float | None:
        for c in self.classes:
            if c["id"] == class_id:
                return cast(float | None, c["m2"])
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "frame": self.frame, "image": self.image, "source": self.source, "index": self.index,
            "mask": self.mask_kind, "status": self.status, "width": self.width, "height": self.height,
            "model": self.model,
            "gsd_m_per_px": self.gsd.m_per_px if self.gsd else None,
            "gsd_source": self.gsd.describe() if self.gsd else None,
            "crs": self.crs, "area_method": self.area_method,
            "classes": self.classes, "parking": self.parking, "ground_truth": self.gt,
            "region_class": self.region_class, "regions": self.regions,
        }


@dataclass
class WorkspaceReport:
    """All frames of a workspace, grouped drives, totals and means."""

    workspace: str
    table: ClassTable
    parking_id: int | None
    frames: list[FrameReport] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    summary_cm: ConfusionMatrix | None = None
    title: str = ""  # the workspace's name (see workspace_title)

    @property
    def drives(self) -> dict[str, list[FrameReport]]:
        """Frames of each video, in frame order."""
        out: dict[str, list[FrameReport]] = {}
        for f in self.frames:
            if f.source is not None:
                out.setdefault(f.source, []).append(f)
        for frames in out.values():
            frames.sort(key=lambda f: f.index or 0)
        return out

    def totals(self) -> dict[str, Any]:
        """Sums over frames (m² only when every frame has a GSD) and means of the GT scores."""
        per_class = []
        for cid in self.table.ids:
            if cid == self.table.ignore_index:
                continue
            px = [c["pixels"] for f in self.frames for c in f.classes if c["id"] == cid]
            m2 = [c["m2"] for f in self.frames for c in f.classes if c["id"] == cid]
            per_class.append({
                "id": cid, "name": self.table.name_of(cid), "pixels": int(sum(px)),
                "m2": float(sum(m2)) if m2 and all(v is not None for v in m2) else None,
            })
        scored = [f.gt for f in self.frames if f.gt]
        out: dict[str, Any] = {
            "frames": len(self.frames),
            "frames_with_ground_truth": len(scored),
            "classes": per_class,
        }
        if self.parking_id is not None:
            pm2 = [f.parking["m2"] for f in self.frames if f.parking]
            out["parking_m2"] = float(sum(pm2)) if pm2 and all(v is not None for v in pm2) else None
            out["parking_regions"] = int(sum(f.parking["regions"] for f in self.frames if f.parking))
            true: list[Any] = [f.gt.get("true_parking_m2") for f in self.frames if f.gt]
            out["true_parking_m2"] = (
                float(sum(true)) if true and all(v is not None for v in true) else None
            )
        if scored:
            out["mean_miou"] = _mean([g["miou"] for g in scored])
            if self.parking_id is not None:
                out["mean_parking_iou"] = _mean([g["parking_iou"] for g in scored])
                sd = [g["parking_symdiff_m2"] for g in scored]
                out["parking_symdiff_m2"] = float(sum(sd)) if all(v is not None for v in sd) else None
        if self.summary_cm is not None and scored:
            m = compute_metrics(self.summary_cm, self.table).to_dict()
            out["dataset_miou"] = m["miou"]
            out["dataset_per_class_iou"] = m["per_class_iou"]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "seggui-area-report/1",
            "seggui_version": __version__,
            "created": self.created,
            "workspace": self.workspace, "title": self.title,
            "classes": self.table.name,
            "parking_class": self.table.name_of(self.parking_id) if self.parking_id is not None else None,
            "frames": [f.to_dict() for f in self.frames],
            "drives": {
                src: [{"index": f.index, "frame": f.frame,
                       "parking_m2": f.parking["m2"] if f.parking else None,
                       "miou": f.gt["miou"] if f.gt else None} for f in frames]
                for src, frames in self.drives.items()
            },
            "skipped": self.skipped,
            "totals": self.totals(),
        }


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(vals)) if vals else None


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def frame_gsd(ws: Workspace, frame_id: str, forced: Gsd | None, shape: tuple[int, int]) -> Gsd | None:
    """The GSD of one frame: forced, else the picture's georeferencing, else the workspace's."""
    if forced is not None:
        return forced
    img = ws.image_path(frame_id)
    if img is not None and img.exists():
        found = find_gsd(img, shape=shape)
        if found is not None:
            return found
    return ws.gsd


def measure_frame(
    ws: Workspace, frame_id: str, mask: np.ndarray, kind: str, gsd: Gsd | None, parking_id: int | None,
    cm_total: ConfusionMatrix | None = None, region_id: int | None = None,
) -> FrameReport:
    """The figures of one frame from its mask (and its ground truth, if any).

    `region_id`: the class whose regions are listed (default: the parking class).
    """
    table = ws.classes
    rec = ws.frames[frame_id]
    area = area_per_class(mask, table, gsd)
    total = mask.size
    classes: list[dict[str, Any]] = [
        {"id": c.id, "name": c.name, "pixels": c.pixels, "m2": c.m2,
         "percent": 100.0 * c.pixels / total if total else 0.0}
        for c in area.classes if c.id != table.ignore_index
    ]
    parking = None
    if parking_id is not None:
        regions = find_regions(mask, parking_id, gsd, table=table, min_px=min_region_px(ws.settings))
        largest = regions.regions[0] if regions.regions else None
        px = int(sum(c["pixels"] for c in classes if c["id"] == parking_id))
        parking = {
            "pixels": px, "m2": None if gsd is None else px * gsd.m2_per_px,
            "percent": 100.0 * px / total if total else 0.0,
            "regions": regions.count,
            "largest_px": largest.pixels if largest else 0,
            "largest_m2": largest.m2 if largest else (0.0 if gsd else None),
        }
    gt_report = None
    gt = ws.read_mask(frame_id, "ground_truth")
    if gt is not None:
        cm = ConfusionMatrix.for_table(table).update(mask, gt, ws.mask_path(frame_id, "ground_truth"))
        if cm_total is not None:
            cm_total.merge(cm)
        m = compute_metrics(cm, table).to_dict()
        gt_report = {"miou": m["miou"], "pixel_accuracy": m["pixel_accuracy"],
                     "per_class_iou": m["per_class_iou"]}
        if parking_id is not None:
            name = table.name_of(parking_id)
            sd_px = int(m["symdiff_px"][name])
            true_px = int(np.count_nonzero(gt == parking_id))
            gt_report.update({
                "parking_iou": m["per_class_iou"][name],
                "parking_symdiff_px": sd_px,
                "parking_symdiff_m2": None if gsd is None else sd_px * gsd.m2_per_px,
                "true_parking_px": true_px,
                "true_parking_m2": None if gsd is None else true_px * gsd.m2_per_px,
            })
    place = placement(ws.image_path(frame_id) if rec.image else None, gsd)
    region_id = parking_id if region_id is None else region_id
    rows = [] if region_id is None else region_rows(mask, region_id, gsd, place, min_region_px(ws.settings))
    return FrameReport(
        frame_id, rec.image, rec.drive, rec.index, kind, int(mask.shape[1]), int(mask.shape[0]),
        rec.model or ws.model, gsd, classes, parking, gt_report, place.crs, place.method,
        table.name_of(region_id) if region_id is not None else None, rows, str(rec.status),
    )


def build_report(
    ws: Workspace,
    gsd: Gsd | None = None,
    parking: str | int | None = None,
    token: CancelToken | None = None,
    region_class: str | int | None = None,
) -> Job[WorkspaceReport]:
    """Measure every frame that has a mask; frames that fail are listed, the rest go on.

    `region_class`: the class whose regions each frame lists (default: the parking class).
    """
    pid = parking_class(ws.classes, parking if parking is not None else ws.settings.get("parking_class"))
    rid = ws.classes.find(region_class).id if region_class is not None else None
    report = WorkspaceReport(str(ws.root), ws.classes, pid, summary_cm=ConfusionMatrix.for_table(ws.classes),
                             title=workspace_title(ws))
    ids = list(ws.frames)
    for i, fid in enumerate(ids):
        if token is not None:
            token.raise_if_cancelled()
        error = None
        try:
            kind = "corrected" if ws.mask_path(fid, "corrected").exists() else "predicted"
            mask = ws.read_mask(fid, kind)
            if mask is None:
                report.skipped.append({"frame": fid, "reason": "no mask yet"})
            else:
                g = frame_gsd(ws, fid, gsd, mask.shape)
                report.frames.append(measure_frame(ws, fid, mask, kind, g, pid, report.summary_cm, rid))
        except BadInputError as exc:
            error = str(exc)
            report.skipped.append({"frame": fid, "reason": error})
        yield Progress(i + 1, len(ids), f"measured {fid}", item=fid, error=error)
    return report


GENERIC_FOLDERS = {"images", "imgs", "img", "pictures", "photos", "frames", "val", "train", "test", "data"}


def workspace_title(ws: Workspace) -> str:
    """What a person calls the workspace: the name given to it, else the folder it was opened from.

    A managed workspace's own folder has a hash in its name (`images-e995d64c20`);
    a folder with a generic name (images/, val/) is said with its parent
    (`houston-uav/images`).
    """
    name = ws.settings.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    opened = ws.settings.get("opened_from")
    if isinstance(opened, str) and opened:
        p = Path(opened)
        generic = p.name.casefold() in GENERIC_FOLDERS and p.parent.name
        return f"{p.parent.name}/{p.name}" if generic else p.name
    return ws.root.name


def default_report_path(ws_root: str | Path, fmt: str) -> Path:
    """Where a report goes by default: WORKSPACE/reports/area-report.FMT."""
    return Path(ws_root) / "reports" / f"area-report.{fmt}"
