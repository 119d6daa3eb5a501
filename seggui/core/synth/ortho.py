"""Large synthetic orthomosaics (20,000 px a side and more) written by windows, in bounded memory.

Rendering a 20k x 20k scene at once would take minutes and gigabytes, so one
rendered parking scene (`tile` px a side) is repeated over the extent, each
copy tinted by its position (a few grey levels per row and column of copies),
so a window read back says where it came from. Tiled (512 px), deflate, on a
UTM grid (`seggui.core.synth.geotiff.grid`); with `overviews` the file carries
its own (as a COG or a `gdaladdo`-ed file does), without them the window
builds and caches its own. Needs the `geo` extra (rasterio).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.geo import require
from seggui.core.synth.geotiff import UTM, grid
from seggui.core.synth.scene import render_scene


def tint(row: int, col: int) -> int:
    """The grey offset added to the copy of the scene at (row, col) of copies (0..30)."""
    return int((row * 7 + col * 3) % 31)


def write_orthomosaic(path: str | Path, side: int, *, tile: int = 2048, seed: int = 3, gsd: float = 0.15,
                      overviews: bool = False, block: int = 512) -> dict[str, Any]:
    """Write a `side` x `side` RGB GeoTIFF (see the module docstring); returns its grid and tile."""
    rasterio = require("rasterio")
    path = Path(path)
    t = min(tile, side)
    scene = render_scene(seed, (t, t), gsd)
    img = np.moveaxis(scene.image, -1, 0)
    a, b, c, d, e, f = grid(UTM, gsd)
    profile = {"driver": "GTiff", "height": side, "width": side, "count": 3, "dtype": "uint8",
               "crs": UTM, "transform": rasterio.Affine(a, b, c, d, e, f), "tiled": True,
               "blockxsize": block, "blockysize": block, "compress": "deflate", "photometric": "RGB",
               "BIGTIFF": "IF_SAFER"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as ds:
        for i, r in enumerate(range(0, side, t)):
            for j, q in enumerate(range(0, side, t)):
                h, w = min(t, side - r), min(t, side - q)
                part = np.minimum(img[:, :h, :w].astype(np.uint16) + tint(i, j), 255).astype(np.uint8)
                ds.write(part, window=require("rasterio.windows").Window(q, r, w, h))
        if overviews:
            ds.build_overviews([2, 4, 8, 16, 32, 64], require("rasterio.enums").Resampling.average)
    return {"path": path, "transform": (a, b, c, d, e, f), "crs": UTM, "tile": t, "scene": scene}
