"""`seggui report WORKSPACE --format csv|json|html [--out FILE]`: the area report."""

from __future__ import annotations

import argparse
import sys

from seggui.cli.class_map_args import add_class_map_args
from seggui.cli.progress import run_with_progress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a workspace's area report (CSV, JSON or self-contained HTML)",
        description="Per picture/frame: area per class (px, m², %%), parking area, regions, IoU and "
        "|O Δ E| against ground truth, model and GSD; per drive: area over time; totals and means.",
    )
    p.add_argument("workspace", help="a workspace folder (holding seggui.json)")
    p.add_argument("--format", choices=("csv", "json", "html"), default="html")
    p.add_argument("--out", help="output file (default WORKSPACE/reports/area-report.FORMAT)")
    p.add_argument("--gsd", type=float, help="metres per pixel, overriding georeferencing and the workspace")
    p.add_argument("--parking-class", help="the class reported as parking (default: the one named *parking*)")
    p.add_argument("--region-class", help="the class whose regions are listed per frame with area, perimeter "
                                          "and centroid, and mapped in the HTML (default: the parking class)")
    add_class_map_args(p, "the workspace's (its own class map otherwise)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seggui.cli.class_map_args import class_map_args
    from seggui.core.atomic import check_writable
    from seggui.core.class_map import scoring_table
    from seggui.core.gsd import Gsd
    from seggui.core.report import build_report, default_report_path
    from seggui.core.report_formats import write_report
    from seggui.core.workspace import Workspace

    ws = Workspace.open(args.workspace)
    check_writable(args.out or default_report_path(ws.root, args.format))  # before measuring
    cmap = class_map_args(args, ws.classes)
    if cmap is not None:  # for this report only: the workspace file is not changed
        ws.set_classes(scoring_table(ws.classes) if cmap.needs_ignore else ws.classes, class_map=cmap,
                       save=False)
        for problem in cmap.problems():
            print(f"warning: {problem}", file=sys.stderr)
    gsd = Gsd.square(args.gsd) if args.gsd is not None else None
    report = run_with_progress(build_report(ws, gsd, args.parking_class, region_class=args.region_class),
                               "measuring")
    out = args.out or default_report_path(ws.root, args.format)
    path = write_report(report, args.format, out, ws)
    t = report.totals()
    line = f"{t['frames']} frames measured"
    if report.parking_id is not None and t.get("parking_m2") is not None:
        line += f", parking {t['parking_m2']:,.1f} m²"
        if t.get("true_parking_m2") is not None:
            line += f" (true {t['true_parking_m2']:,.1f} m², mean IoU {t.get('mean_parking_iou') or 0:.3f})"
    print(f"{line}\nreport written to {path}")
    for s in report.skipped:
        print(f"not measured: {s['frame']}: {s['reason']}", file=sys.stderr)
    return 0 if report.frames else 2
