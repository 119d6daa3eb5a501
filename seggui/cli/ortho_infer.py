"""`seggui infer ortho.tif`: the GeoTIFF branch of the infer command.

A georeferenced GeoTIFF (a CRS, or a transform) is predicted block by block
into ``OUT/masks/<stem>.tif`` on the same grid (`seggui.engine.ortho`) and
its class areas, measured the way the CRS calls for, go to
``OUT/areas.json`` with the CRS and the method named. Pictures without
georeferencing keep the PNG path of `infer_cmd`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def is_orthomosaic(source: str) -> bool:
    """A GeoTIFF file with georeferencing that the geo extra can read (else the PNG path)."""
    from seggui.core.geo import GeoUnavailable, geo_available
    from seggui.core.geo.raster import GeoRaster, is_geotiff

    path = Path(source)
    if not (path.is_file() and is_geotiff(path)):
        return False
    if not geo_available():
        print(f"note: {path.name} may be a GeoTIFF; install seggui[geo] to write a georeferenced "
              "mask (writing a PNG)", file=sys.stderr)
        return False
    try:
        with GeoRaster(path) as ras:
            return ras.info.georeferenced
    except GeoUnavailable:
        return False


def run_ortho(args: argparse.Namespace) -> int:
    """Predict one orthomosaic; print a JSON summary; 0 done, 1 some blocks failed."""
    from seggui.cli.progress import run_with_progress
    from seggui.core.atomic import atomic_write_json, check_writable
    from seggui.core.errors import BadInputError
    from seggui.core.geo.maskfile import mask_class_m2
    from seggui.core.geo.raster import parse_bands
    from seggui.engine.ortho import DEFAULT_BLOCK, predict_ortho
    from seggui.engine.predictor import load_predictor

    check_writable(args.out, folder=True)
    if args.confidence or args.overlay_video:
        raise BadInputError(Path(args.source), "--confidence and --overlay-video are for pictures and "
                                               "videos, not orthomosaics")
    predictor = load_predictor(args.model, args.backend, args.device, args.threads, int8=args.int8,
                               batch_size=args.batch)
    out = Path(args.out) / "masks" / (Path(args.source).stem + ".tif")
    print(f"{predictor.card.ref} on {predictor.describe()}: orthomosaic {args.source} -> {out}",
          file=sys.stderr)
    table = predictor.card.classes
    with predictor:
        result = run_with_progress(
            predict_ortho(predictor, args.source, out, bands=parse_bands(getattr(args, "bands", None)),
                          block=getattr(args, "block", None) or DEFAULT_BLOCK, resume=not args.no_resume,
                          cog=bool(getattr(args, "cog", False))),
            "orthomosaic",
        )
    summary: dict[str, object] = {"model": predictor.card.ref, "device": predictor.describe(),
                                  **result.to_dict()}
    if result.mask is not None:
        try:
            counts, m2, method = mask_class_m2(result.mask, max(256, table.size))
        except BadInputError as exc:
            if args.gsd is None:
                summary["areas"] = f"unknown: {exc.problem}"
            counts, m2, method = None, None, ""
        if args.gsd is not None:  # the user's figure overrides (a file without CRS)
            import numpy as np

            from seggui.core.geo.maskfile import read_mask_blocks

            counts = np.zeros(max(256, table.size), np.int64)
            for _, labels in read_mask_blocks(result.mask):
                counts += np.bincount(labels.ravel(), minlength=counts.size)[:counts.size]
            m2 = counts * (args.gsd * args.gsd)
            method = f"GSD {args.gsd} m/px given by the user (--gsd)"
        if counts is not None and m2 is not None:
            areas = {"area_method": method, "classes": {
                c.name: {"pixels": int(counts[c.id]), "m2": round(float(m2[c.id]), 3)}
                for c in table.classes}}
            atomic_write_json(Path(args.out) / "areas.json", areas)
            summary["areas"] = areas
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 1 if result.failed else 0
