"""`seggui area PATH --classes TABLE`: class areas (pixels, m², %) and region counts of masks.

The GSD comes from `--gsd`, else from georeferencing beside each mask (world
file, GeoTIFF tags), else from the picture given by `--image` or found by stem
in `--images DIR` (scaled when the mask is smaller than the picture). A mask
with no GSD at all still gets pixel counts, and its m² is shown as unknown:
that is not an error, since pixels are useful alone. Only `--min-region`
(in m²) makes a missing GSD an error for that mask.

Exit status: 0 when every mask was measured, 1 when some files of a folder
failed (each reported, the rest measured), 2 on bad input (one line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seggui.cli.progress import run_with_progress
from seggui.core.area import (
    AreaReport,
    AreaRun,
    ClassArea,
    MaskArea,
    RegionReport,
    measure_mask,
    measure_masks,
    pictures_for,
)
from seggui.core.atomic import atomic_write_json, atomic_write_text, check_writable
from seggui.core.classes import load_classes
from seggui.core.csvfile import csv_text
from seggui.core.errors import BadInputError
from seggui.core.gsd import Gsd
from seggui.core.images import list_images

MAX_REGIONS_SHOWN = 30


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("area", help="class areas in pixels and m², and connected regions, of masks",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("path", type=Path, help="an index mask, or a folder of masks")
    p.add_argument("--classes", required=True, help="class-table preset name or JSON file")
    p.add_argument("--gsd", type=float, metavar="M_PER_PX", help="ground sampling distance, metres per pixel")
    p.add_argument("--image", type=Path, help="the georeferenced picture of a single mask")
    p.add_argument("--images", type=Path, metavar="DIR", help="folder of georeferenced pictures (same stems)")
    p.add_argument("--class", dest="focus", metavar="NAME",
                   help="focus one class (name or id): list its regions")
    p.add_argument("--min-region", type=float, metavar="M2", help="leave out regions smaller than this (m²)")
    p.add_argument("--min-region-px", type=int, default=0, metavar="PX",
                   help="leave out regions smaller than this many pixels")
    p.add_argument("--json", type=Path, metavar="OUT", help="write every figure (and every region) as JSON")
    p.add_argument("--csv", type=Path, metavar="OUT",
                   help="write one row per class per mask (with --class: one row per region)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _masks(path: Path) -> list[Path]:
    if path.is_dir():
        found = list_images(path)
        if not found:
            raise BadInputError(path, "no mask files (PNG, TIFF, ...) in this folder")
        return found
    if not path.exists():
        raise BadInputError(path, "mask not found")
    return [path]


def run(args: argparse.Namespace) -> int:
    masks = _masks(args.path)
    if args.image is not None:
        if args.path.is_dir():
            raise BadInputError(args.image, "--image goes with a single mask; use --images DIR for a folder")
        if not args.image.is_file():
            raise BadInputError(args.image, "picture not found")
    if args.images is not None and not args.images.is_dir():
        raise BadInputError(args.images, "--images folder not found")
    if (args.min_region is not None and args.min_region < 0) or args.min_region_px < 0:
        raise BadInputError(None, "--min-region and --min-region-px must not be negative")
    for out in (args.json, args.csv):  # refused before any mask is read
        if out is not None:
            check_writable(out)
    table = load_classes(args.classes)
    gsd = Gsd.square(args.gsd, "flag") if args.gsd is not None else None
    focus = table.find(args.focus).id if args.focus else None
    dirs = [args.images] if args.images else []
    if args.path.is_dir():
        job = measure_masks(masks, table, gsd=gsd, image_dirs=dirs, focus=focus,
                            min_px=args.min_region_px, min_m2=args.min_region)
        result = run_with_progress(job, "area", quiet=args.quiet)
        _print_folder(result, focus)
    else:  # one mask: its failure is the command's failure, one line from main()
        pictures = pictures_for(masks[0], args.image, dirs)
        result = AreaRun(table, [measure_mask(masks[0], table, gsd=gsd, pictures=pictures, focus=focus,
                                              min_px=args.min_region_px, min_m2=args.min_region)])
        _print_mask(result.items[0], focus)
    if args.json:
        atomic_write_json(args.json, result.to_dict())
    if args.csv:
        atomic_write_text(args.csv, _csv(result, focus))
    if result.failed:
        print(f"seggui area: {len(result.failed)} of {len(masks)} masks could not be measured",
              file=sys.stderr)
        return 1
    return 0


# ------------------------------------------------------------------ printing
def _m2(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.2f}"


def _gsd_line(area: AreaReport) -> str:
    if area.gsd is None:
        return "GSD unknown, areas in pixels only (give --gsd, a world file or a GeoTIFF)"
    return f"GSD {area.gsd.describe()}"


def _table(rows: list[ClassArea]) -> None:
    print(f"  {'id':>4}  {'class':32s} {'pixels':>12} {'m²':>14} {'%':>7} {'regions':>8}")
    for c in rows:
        regions = "" if c.regions is None else str(c.regions)
        print(f"  {c.id:>4}  {c.name[:32]:32s} {c.pixels:>12,} {_m2(c.m2):>14} {c.percent:>7.2f} "
              f"{regions:>8}")


def _regions(rep: RegionReport) -> None:
    limit = []
    if rep.min_px:
        limit.append(f"{rep.min_px} px")
    if rep.min_m2 is not None:
        limit.append(f"{rep.min_m2:g} m²")
    at_least = f", at least {' and '.join(limit)}" if limit else ""
    print(f"{rep.count} regions of {rep.class_name} ({rep.connectivity}-connected{at_least}); "
          f"{rep.left_out} smaller left out ({rep.left_out_px:,} px)")
    if rep.regions:
        print(f"  {'#':>4} {'pixels':>10} {'m²':>12}  {'bbox x,y,w,h':22s} centroid x,y")
    for i, r in enumerate(rep.regions[:MAX_REGIONS_SHOWN], 1):
        box = ",".join(str(v) for v in r.bbox)
        print(f"  {i:>4} {r.pixels:>10,} {_m2(r.m2):>12}  {box:22s} {r.centroid[0]:.1f},{r.centroid[1]:.1f}")
    if rep.count > MAX_REGIONS_SHOWN:
        print(f"  ... and {rep.count - MAX_REGIONS_SHOWN} more (all in --json / --csv)")


def _print_mask(item: MaskArea, focus: int | None) -> None:
    a = item.area
    print(f"{item.path.name}: {a.width}x{a.height} px, {_gsd_line(a)}")
    _table([c for c in a.classes if (c.id == focus if focus is not None else c.pixels)])
    if a.ignored_px:
        print(f"  ignored (not in %): {a.ignored_px:,} px, {_m2(a.m2(a.ignored_px))} m²")
    if a.unlisted_px:
        print(f"  ids the table does not list (not in %): {a.unlisted_px:,} px")
    if item.focus is not None:
        _regions(item.focus)


def _print_folder(result: AreaRun, focus: int | None) -> None:
    for item in result.items:
        a = item.area
        if focus is not None:
            c = a.get(focus)
            print(f"{item.path.name}: {c.pixels:,} px, {_m2(c.m2)} m², {c.percent:.2f}%, "
                  f"{c.regions} regions; {_gsd_line(a)}")
        else:
            print(f"{item.path.name}: {a.width}x{a.height} px, {_gsd_line(a)}")
    totals = result.totals()
    if not totals:
        return
    print(f"total over {len(result.items)} masks:")
    _table([c for c in totals if c.id == focus] if focus is not None else [c for c in totals if c.pixels])


def _csv(result: AreaRun, focus: int | None) -> str:
    if focus is None:
        header = ["mask", "class_id", "class", "pixels", "m2", "percent", "regions", "m2_per_px",
                  "gsd_source"]
        rows = []
        for item in result.items:
            g = item.area.gsd
            for c in item.area.classes:
                rows.append([item.path.name, c.id, c.name, c.pixels, "" if c.m2 is None else f"{c.m2:.6g}",
                             f"{c.percent:.4f}", "" if c.regions is None else c.regions,
                             "" if g is None else f"{g.m2_per_px:.6g}", "" if g is None else g.source])
        return csv_text(header, rows)
    header = ["mask", "class_id", "class", "region", "pixels", "m2", "bbox_x", "bbox_y", "bbox_w", "bbox_h",
              "centroid_x", "centroid_y"]
    rows = []
    for item in result.items:
        rep = item.focus
        if rep is None:
            continue
        for i, r in enumerate(rep.regions, 1):
            rows.append([item.path.name, rep.class_id, rep.class_name, i, r.pixels,
                         "" if r.m2 is None else f"{r.m2:.6g}", *r.bbox, f"{r.centroid[0]:.2f}",
                         f"{r.centroid[1]:.2f}"])
    return csv_text(header, rows)
