"""Write a `WorkspaceReport` as CSV, JSON or one self-contained HTML file.

All three carry the same numbers: JSON is the report's `to_dict()`; CSV has
one row per frame (per-class m² as columns) followed by a totals row; HTML has
a summary table, the CRS and area method of the frames, a per-class bar
chart, an area-over-time chart per drive, per-region tables with a small
map of the regions, and overlay thumbnails, all embedded (no external file,
no network). The region tables are in the JSON too; the CSV has one row per
frame and leaves them out.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from seggui.core.area import min_region_px
from seggui.core.atomic import atomic_write_text
from seggui.core.charts import bar_chart_svg, image_data_uri, line_chart_svg
from seggui.core.csvfile import csv_text
from seggui.core.errors import BadInputError, SegguiError
from seggui.core.images import read_image
from seggui.core.masks import overlay
from seggui.core.report import FrameReport, WorkspaceReport
from seggui.core.report_regions import region_map_uri, regions_table_html
from seggui.core.workspace import Workspace

FORMATS = ("csv", "json", "html")
MAX_THUMBNAILS = 24
MAX_MAPS = 24  # frames whose region table and map the HTML shows


def _v(x: Any) -> Any:
    """A CSV cell: None as an empty cell, a float to 6 decimals (0.15² m² sums printed 449.41499999999996)."""
    if x is None:
        return ""
    return round(x, 6) if isinstance(x, float) else x


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def frame_rows(report: WorkspaceReport) -> list[dict[str, Any]]:
    """One flat row per frame, the CSV's body (and the HTML table's source)."""
    rows = []
    for f in report.frames:
        row: dict[str, Any] = {
            "frame": f.frame, "source": f.source or f.image or "", "index": _v(f.index),
            "mask": f.mask_kind, "status": f.status, "model": _v(f.model),
            "width": f.width, "height": f.height,
            "gsd_m_per_px": _v(f.gsd.m_per_px if f.gsd else None),
            "gsd_source": f.gsd.describe() if f.gsd else "",
            "crs": f.crs or "", "area_method": f.area_method,
        }
        if f.parking is not None:
            row.update({
                "parking_px": f.parking["pixels"], "parking_m2": _v(f.parking["m2"]),
                "parking_percent": f.parking["percent"], "parking_regions": f.parking["regions"],
                "largest_parking_m2": _v(f.parking["largest_m2"]),
            })
        gt = f.gt or {}
        row["miou"] = _v(gt.get("miou"))
        if f.parking is not None:
            row.update({
                "true_parking_m2": _v(gt.get("true_parking_m2")),
                "parking_iou": _v(gt.get("parking_iou")),
                "parking_symdiff_m2": _v(gt.get("parking_symdiff_m2")),
            })
        for c in f.classes:
            row[f"{c['name']} px"] = c["pixels"]
            row[f"{c['name']} m2"] = _v(c["m2"])
            row[f"{c['name']} %"] = _v(c["percent"])
        rows.append(row)
    return rows


def to_csv(report: WorkspaceReport) -> str:
    """Frames as rows, then a TOTAL row (sums of px and m², means of IoU)."""
    rows = frame_rows(report)
    totals = report.totals()
    total_row: dict[str, Any] = {"frame": "TOTAL", "source": _count(totals["frames"], "frame")}
    for c in totals["classes"]:
        total_row[f"{c['name']} px"] = c["pixels"]
        total_row[f"{c['name']} m2"] = _v(c["m2"])
    if report.parking_id is not None:
        total_row.update({
            "parking_m2": _v(totals.get("parking_m2")), "parking_regions": totals.get("parking_regions"),
            "true_parking_m2": _v(totals.get("true_parking_m2")),
            "parking_iou": _v(totals.get("mean_parking_iou")),
            "parking_symdiff_m2": _v(totals.get("parking_symdiff_m2")),
        })
    total_row["miou"] = _v(totals.get("mean_miou"))
    fields: list[str] = []
    for row in [*rows, total_row]:
        fields.extend(k for k in row if k not in fields)
    return csv_text(fields, [*rows, total_row], lineterminator="\r\n")


def to_json(report: WorkspaceReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _fmt(x: Any, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return html.escape(str(x))


def _thumbnail(ws: Workspace | None, f: FrameReport) -> str:
    """An overlay thumbnail of a frame, or '' when its picture cannot be read."""
    if ws is None:
        return ""
    try:
        rgb = _frame_picture(ws, f)
        mask = ws.read_mask(f.frame, f.mask_kind)
        if rgb is None or mask is None or mask.shape != rgb.shape[:2]:
            return ""
        uri = image_data_uri(overlay(rgb, mask, ws.classes, 0.45))
    except SegguiError:
        return ""
    return (f'<figure><img src="{uri}" alt="{html.escape(f.frame)}">'
            f"<figcaption>{html.escape(f.frame)}</figcaption></figure>")


CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
.hl{background:#fff4cc;font-weight:600}.grid{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0}figure img{display:block;max-width:300px;border:1px solid #999}
figure img.map{max-width:480px}h3{font-size:14px;margin-top:18px}
figcaption{font-size:11px;color:#555}.note{color:#666;font-size:12px}
"""


def _methods_html(report: WorkspaceReport) -> str:
    """Which CRS and area method the frames' areas come from, with how many frames each."""
    seen: dict[tuple[str, str], int] = {}
    for f in report.frames:
        key = (f.crs or "no CRS", f.area_method or "–")
        seen[key] = seen.get(key, 0) + 1
    if not seen:
        return ""
    items = "".join(f"<li>{html.escape(crs)}: areas {html.escape(method)} ({n} frame{'s' * (n != 1)})</li>"
                    for (crs, method), n in seen.items())
    return f"<h2>CRS and area method</h2><ul class='note'>{items}</ul>"


def _frame_picture(ws: Workspace, f: FrameReport) -> Any:
    """The RGB picture of a frame, or None when it cannot be read."""
    try:
        if f.image is not None:
            return read_image(cast(Path, ws.image_path(f.frame)))
        if f.source is not None and f.index is not None:
            from seggui.core.media import open_source

            with open_source(cast(Path, ws.source_path(f.frame))) as src:
                return src.read(f.index)
    except SegguiError:
        return None
    return None


def _regions_html(report: WorkspaceReport, ws: Workspace | None) -> str:
    """Per frame with regions (the first MAX_MAPS): a map of the numbered regions and their table."""
    frames = [f for f in report.frames if f.regions][:MAX_MAPS]
    if not frames:
        return ""
    table = report.table
    out = [f"<h2>Regions of {html.escape(frames[0].region_class or '')}</h2>"]
    for f in frames:
        out.append(f"<h3>{html.escape(f.frame)}: {_count(len(f.regions), 'region')} · "
                   f"{html.escape(f.crs or 'no CRS')} · areas {html.escape(f.area_method)}</h3>"
                   "<div class='grid'>")
        mask = ws.read_mask(f.frame, f.mask_kind) if ws is not None else None
        if mask is not None and f.region_class is not None:
            cls = table.find(f.region_class)
            uri = region_map_uri(_frame_picture(ws, f) if ws is not None else None, mask, cls.id,
                                 cls.color, min_region_px(ws.settings) if ws is not None else 0)
            out.append(f'<figure><img class="map" src="{uri}" alt="regions of {html.escape(f.frame)}">'
                       f"<figcaption>numbers as in the table</figcaption></figure>")
        out.append("<div>" + regions_table_html(f.regions, f.crs) + "</div></div>")
    left = len([f for f in report.frames if f.regions]) - len(frames)
    if left > 0:
        out.append(f"<p class='note'>{_count(left, 'more frame')} with regions not shown here: the JSON "
                   "format of this report lists the regions of every frame (export it as a .json file).</p>")
    return "".join(out)


def to_html(report: WorkspaceReport, ws: Workspace | None = None) -> str:
    """One self-contained page: summary, per-class chart, drives over time, thumbnails."""
    t = report.totals()
    table = report.table
    pid = report.parking_id
    title = html.escape(report.title or Path(report.workspace).name)
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{title} — seggui area report</title>"
           f"<style>{CSS}</style></head><body>",
           f"<h1>Area report — {title}</h1>",
           f"<p class='note'>Workspace {html.escape(report.workspace)} · classes {html.escape(table.name)}"
           f" · created {html.escape(report.created)} · {_count(t['frames'], 'frame')} measured, "
           f"{t['frames_with_ground_truth']} with ground truth</p>", _methods_html(report)]
    if pid is not None:
        out.append("<table><tr><th>Parking</th><th title='from each frame's correction where it has one, "
                   "else its prediction'>measured m²</th><th>true m²</th>"
                   "<th title='the mean of the parking IoU of each frame; the IoU table below sums one "
                   "confusion matrix over all frames'>mean IoU per frame</th>"
                   "<th>|O Δ E| m²</th><th>regions</th></tr>"
                   f"<tr class='hl'><td>{html.escape(table.name_of(pid))}</td>"
                   f"<td>{_fmt(t.get('parking_m2'))}</td><td>{_fmt(t.get('true_parking_m2'))}</td>"
                   f"<td>{_fmt(t.get('mean_parking_iou'), 3)}</td>"
                   f"<td>{_fmt(t.get('parking_symdiff_m2'))}</td>"
                   f"<td>{_fmt(t.get('parking_regions'))}</td></tr></table>")
    # per-frame summary table
    out.append("<h2>Per picture / frame</h2><table><tr><th>frame</th><th>mask (status)</th><th>model</th>"
               "<th>GSD m/px</th>")
    if pid is not None:
        out.append("<th>parking px</th><th>parking m²</th><th>regions</th><th>largest m²</th><th>true m²</th>"
                   "<th>parking IoU</th><th>|O Δ E| m²</th>")
    out.append("<th>mIoU</th></tr>")
    for f in report.frames:
        gt = f.gt or {}
        out.append(f"<tr><td>{html.escape(f.frame)}</td><td>{f.status or f.mask_kind}</td>"
                   f"<td>{_fmt(f.model)}</td>"
                   f"<td title='{html.escape(f.gsd.describe() if f.gsd else '')}'>"
                   f"{_fmt(f.gsd.m_per_px if f.gsd else None, 3)}</td>")
        if pid is not None and f.parking is not None:
            out.append(f"<td>{f.parking['pixels']:,}</td>"
                       f"<td class='hl'>{_fmt(f.parking['m2'])}</td><td>{f.parking['regions']}</td>"
                       f"<td>{_fmt(f.parking['largest_m2'])}</td><td>{_fmt(gt.get('true_parking_m2'))}</td>"
                       f"<td>{_fmt(gt.get('parking_iou'), 3)}</td>"
                       f"<td>{_fmt(gt.get('parking_symdiff_m2'))}</td>")
        out.append(f"<td>{_fmt(gt.get('miou'), 3)}</td></tr>")
    out.append("</table>")
    # per-class totals + bar chart
    scored = list(t["classes"])
    have_m2 = all(c["m2"] is not None for c in scored)
    unit = "m²" if have_m2 else "px"
    values = [c["m2"] if have_m2 else float(c["pixels"]) for c in scored]
    out.append(f"<h2>Area per class (all frames, {unit})</h2>")
    out.append(bar_chart_svg([c["name"] for c in scored], values,
                             [table.by_id[c["id"]].color for c in scored], unit))
    if t.get("dataset_per_class_iou"):
        out.append("<h2>IoU against ground truth (confusion matrix over all scored frames)</h2><table>"
                   "<tr><th>class</th><th>IoU</th></tr>")
        for name, v in t["dataset_per_class_iou"].items():
            out.append(f"<tr><td>{html.escape(name)}</td><td>{_fmt(v, 3)}</td></tr>")
        out.append(f"<tr class='hl'><td>mIoU</td><td>{_fmt(t.get('dataset_miou'), 3)}</td></tr></table>")
    # drives
    for src, frames in report.drives.items():
        xs = [float(f.index or 0) + 1 for f in frames]  # counted from 1, as the window's timeline counts
        series: dict[str, tuple[Sequence[float], Sequence[int]]] = {}
        if pid is not None:
            vals = [f.parking["m2"] if f.parking and f.parking["m2"] is not None else float("nan")
                    for f in frames]
            series[f"{table.name_of(pid)} m²"] = (vals, table.by_id[pid].color)
        else:
            for c in scored[:4]:
                vals = [f.class_m2(c["id"]) for f in frames]
                series[c["name"]] = ([float("nan") if v is None else v for v in vals],
                                     table.by_id[c["id"]].color)
        out.append(f"<h2>Drive {html.escape(Path(src).name)}: area over time</h2>")
        out.append(line_chart_svg(xs, series, "frame", "m²"))
    out.append(_regions_html(report, ws))
    # thumbnails: pictures first, then a sample of each drive
    pics = [f for f in report.frames if f.source is None][:MAX_THUMBNAILS]
    for frames in report.drives.values():
        step = max(1, len(frames) // 6)
        pics.extend(frames[::step][:6])
    thumbs = [s for s in (_thumbnail(ws, f) for f in pics) if s]
    if thumbs:
        out.append("<h2>Overlays</h2><div class='grid'>" + "".join(thumbs) + "</div>")
    if report.skipped:
        out.append("<h2>Not measured</h2><ul>")
        out.extend(f"<li>{html.escape(s['frame'])}: {html.escape(s['reason'])}</li>" for s in report.skipped)
        out.append("</ul>")
    out.append("<p class='note'>Areas are pixels × GSD². IoU and |O Δ E| compare the mask with the "
               "ground truth of the same frame. Made by seggui.</p></body></html>")
    return "".join(out)


def write_report(report: WorkspaceReport, fmt: str, path: str | Path, ws: Workspace | None = None) -> Path:
    """Write the report in one of FORMATS, atomically."""
    if fmt not in FORMATS:
        raise BadInputError(path, f"unknown report format {fmt!r} (choose {', '.join(FORMATS)})")
    text = {"csv": to_csv, "json": to_json}[fmt](report) if fmt != "html" else to_html(report, ws)
    return atomic_write_text(path, text)
