"""`seggui vectorize MASK --out parking.gpkg`: class regions of a mask as polygons with their area.

MASK is a mask GeoTIFF (as `seggui infer` writes for an orthomosaic) or an
index PNG with `--picture`, the GeoTIFF it was predicted from (same grid).
The output format follows the name: .gpkg, .shp (with .prj) or .geojson
(WGS84, RFC 7946). Attributes: class, area_m2, perimeter_m, the centroid in
the CRS, the source picture and the model. Areas are planar in a projected
CRS and geodesic in a geographic or Mercator one; the summary gives, per
class, the polygons' area beside the raster's. A mask GeoTIFF is read strip
by strip (`seggui.core.geo.regions`), so memory is bounded by a strip and
the polygons, not by the mask.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("vectorize", help="class regions of a georeferenced mask as GIS polygons with areas",
                       description=__doc__.split("\n\n")[0] + " Needs the geo extra (pip install "
                       "'seggui[geo]').")
    p.add_argument("mask", type=Path, help="mask GeoTIFF, or index PNG with --picture")
    p.add_argument("--classes", help="class-table preset or JSON file (default: the table stored in "
                                     "the mask GeoTIFF by seggui infer)")
    p.add_argument("--out", required=True, type=Path, help="output file: .gpkg, .shp or .geojson")
    p.add_argument("--class", dest="only", action="append", metavar="NAME",
                   help="only this class (name or id); repeat for several (default: every class)")
    p.add_argument("--min-area", type=float, default=0.0, metavar="M2", help="leave out smaller polygons")
    p.add_argument("--simplify", type=float, default=0.0, metavar="M",
                   help="simplify outlines to this tolerance in metres (default 0: exact pixel edges)")
    p.add_argument("--picture", type=Path, help="the georeferenced picture of a PNG mask (same grid)")
    p.add_argument("--model", default="", help="model name@version for the attribute (default: the mask's)")
    p.set_defaults(func=run)


def _table(args: argparse.Namespace, tags: dict[str, str]):  # noqa: ANN202 - ClassTable, imported lazily
    from seggui.core.classes import ClassTable, load_classes
    from seggui.core.errors import BadInputError

    if args.classes:
        return load_classes(args.classes)
    if "classes" in tags:
        return ClassTable.from_dict(json.loads(tags["classes"]), args.mask)
    raise BadInputError(args.mask, "the mask carries no class table: give --classes")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from seggui.core.atomic import check_writable
    from seggui.core.errors import BadInputError
    from seggui.core.geo import require
    from seggui.core.geo.raster import GeoRaster, is_geotiff, same_grid
    from seggui.core.geo.vectorize import (
        FORMATS,
        check_agreement,
        mask_polygons,
        raster_polygons,
        write_polygons,
    )
    from seggui.core.masks import read_mask

    if args.out.suffix.lower() not in FORMATS:
        raise BadInputError(args.out, "unknown polygon format: name the output .gpkg, .shp or .geojson")
    check_writable(args.out)
    if args.min_area < 0 or args.simplify < 0:
        raise BadInputError(None, "--min-area and --simplify must not be negative")
    tags: dict[str, str] = {}
    opts = {"classes": args.only, "min_area_m2": args.min_area, "simplify_m": args.simplify}
    if is_geotiff(args.mask):
        with GeoRaster(args.mask, bands=(1,)) as ras:
            info = ras.info
            ds = ras._ds  # noqa: SLF001 - the tags seggui infer stored
            tags = {**ds.tags(), **ds.tags(1)}
        if args.picture is not None:
            with GeoRaster(args.picture) as pic:
                same_grid(info, pic.info)
        require("pyogrio")
        polys = raster_polygons(args.mask, _table(args, tags), **opts)  # strip by strip: bounded memory
    else:
        if args.picture is None:
            raise BadInputError(args.mask, "a PNG mask has no georeferencing: give --picture, the "
                                           "GeoTIFF it was predicted from")
        labels = read_mask(args.mask)
        with GeoRaster(args.picture) as pic:
            info = pic.info
        if labels.shape != (info.height, info.width):
            raise BadInputError(args.mask, f"is {labels.shape[1]}x{labels.shape[0]} but "
                                           f"{args.picture.name} is {info.width}x{info.height}: "
                                           "not on the same grid")
        from dataclasses import replace

        require("pyogrio")
        nodata = 255 if labels.dtype == np.uint8 else 65535
        polys = mask_polygons(labels, replace(info, path=args.mask), _table(args, tags), nodata=nodata,
                              **opts)
    source = tags.get("seggui_source") or (args.picture.name if args.picture else args.mask.name)
    model = args.model or tags.get("seggui_model", "")
    out = write_polygons(polys, args.out, source=source, model=model)
    summary = {"polygons": len(polys.geoms), "left_out_under_min_area": polys.dropped, "out": str(out),
               "crs": polys.crs_name, "area_method": polys.method, "classes": polys.summary()}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if not args.simplify and not args.min_area:
        for line in check_agreement(polys):
            print(f"warning: polygon and raster areas differ by more than 0.5%: {line}", file=sys.stderr)
    return 0
