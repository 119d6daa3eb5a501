"""Overviews of a large GeoTIFF for the window: the file's own, else built once and cached.

The window shows a 20,000-px orthomosaic whole and zooms into it without
ever reading it whole. What it needs is a pyramid: the whole extent at a
coarse scale (the canvas picture, at most `PICTURE_SIDE` px a side) and
tiles at every power-of-two scale between that and the full resolution.

- A file with its own overviews (a COG, or `gdaladdo`) serves every scale
  itself: a decimated read (`out_shape`) is answered from the nearest
  overview, in milliseconds.
- A file without them would answer a decimated read by decoding every full
  resolution block under it (seconds for the whole extent). So the scales
  from 1/`CACHE_FACTOR` down are built once, by one pass of strip reads, into
  an 8-bit RGB GeoTIFF in the workspace (`overviews/<name>-<key>.tif`, on
  the source's grid scaled, with its own internal overviews) and read from
  there. Its name carries the source's size, modification time and band
  choice, so a changed file or another band choice builds a new one.

`TileReader` reads tiles at a level (level L: one tile pixel is 2^L source
pixels): level 0 and the levels finer than the cache from the source, the
others from the cache or the source's own overviews. Both files are opened
by the reader, so each thread that reads keeps its own reader (rasterio
datasets are not thread-safe).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.raster import GeoRaster, Window
from seggui.core.jobs import CancelToken, Job, Progress

PICTURE_SIDE = 2048  # the whole-extent picture of the canvas is at most this many px a side
CACHE_FACTOR = 4  # the cached pyramid starts at 1/4 of the source's resolution
TILE = 512  # tile side in tile pixels, at every level
STRETCH_TAG = "seggui_stretch"
STRIP = 512  # source rows per read while the cache is built (memory: about STRIP x width x 6 bytes)


def picture_level(height: int, width: int, side: int = PICTURE_SIDE) -> int:
    """The level k (1 px = 2^k source px) of the whole-extent picture: the first at most `side` a side."""
    return max(0, math.ceil(math.log2(max(height, width) / side))) if max(height, width) > side else 0


def level_shape(height: int, width: int, level: int) -> tuple[int, int]:
    """(h, w) of the whole extent at `level` (rounded up: the last pixel may cover less than 2^level)."""
    f = 1 << level
    return -(-height // f), -(-width // f)


def has_own_overviews(path: str | Path) -> bool:
    """True when the file carries overviews of its first band (GDAL then serves decimated reads)."""
    with require("rasterio").open(path) as ds:
        return bool(ds.overviews(1))


def cache_path(root: str | Path, source: str | Path, bands: tuple[int, ...]) -> Path:
    """Where the overviews of `source` (with this band choice) are cached in the workspace `root`."""
    source = Path(source)
    st = source.stat()
    key = f"{source.resolve()}|{st.st_size}|{st.st_mtime_ns}|{','.join(map(str, bands))}"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]
    return Path(root) / "overviews" / f"{source.stem}-{digest}.tif"


def cache_ready(path: Path) -> bool:
    """The cache exists and is complete (it is written under another name and renamed at the end)."""
    return path.is_file()


def decimated(ras: GeoRaster, window: Window, factor: int) -> np.ndarray:
    """RGB uint8 of `window` reduced `factor` times (area average), from one read of all its bands.

    GDAL's own decimated read of a file without overviews reads the blocks
    once per band and resamples slowly; one read of the chosen bands and
    OpenCV's area average is several times faster. The last output pixel
    of a side that is not a multiple of `factor` averages what there is.
    """
    rgb = ras.to_rgb8(ras.read_raw(window))
    if factor == 1:
        return rgb
    h, w = rgb.shape[:2]
    oh, ow = -(-h // factor), -(-w // factor)
    if (oh * factor, ow * factor) != (h, w):  # pad by edge copies to whole output pixels
        rgb = cv2.copyMakeBorder(rgb, 0, oh * factor - h, 0, ow * factor - w, cv2.BORDER_REPLICATE)
    return cast(np.ndarray, cv2.resize(rgb, (ow, oh), interpolation=cv2.INTER_AREA))


def _strips(height: int, step: int) -> Iterator[tuple[int, int]]:
    for r0 in range(0, height, step):
        yield r0, min(height, r0 + step)


def build_overviews(source: str | Path, out: str | Path, bands: tuple[int, ...] | None = None,
                    token: CancelToken | None = None) -> Job[Path]:
    """Build the cached pyramid of `source` into `out` (see the module docstring); a job.

    One pass over the source by strips of `STRIP` rows, each read decimated
    by `CACHE_FACTOR` (GDAL averages the block pixels under each output
    pixel), then internal overviews on the small file. Written to
    `out.partial.tif` and renamed, so a stopped build never leaves a cache
    that looks finished. Memory is one strip of the source's blocks.
    """
    rasterio = require("rasterio")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".partial.tif")
    with rasterio.Env(GDAL_CACHEMAX=64), GeoRaster(source, bands) as ras:
        info = ras.info
        f = CACHE_FACTOR
        h, w = level_shape(info.height, info.width, int(math.log2(f)))
        a, b, c, d, e, g = info.transform
        profile: dict[str, Any] = {
            "driver": "GTiff", "height": h, "width": w, "count": 3, "dtype": "uint8",
            "crs": rasterio.crs.CRS.from_wkt(info.crs_wkt) if info.crs_wkt else None,
            "transform": require("affine").Affine(a * f, b * f, c, d * f, e * f, g),
            "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate",
            "photometric": "RGB", "BIGTIFF": "IF_SAFER"}
        strips = list(_strips(info.height, STRIP))
        yield Progress(0, len(strips) + 1, f"overviews of {info.path.name}")
        try:
            with rasterio.open(tmp, "w", **profile) as dst:
                for n, (r0, r1) in enumerate(strips, 1):
                    if token is not None:
                        token.raise_if_cancelled()
                    try:
                        rgb = decimated(ras, (r0, r1, 0, info.width), f)
                    except BadInputError as exc:  # a damaged strip is shown black; the others still show
                        rgb = np.zeros((-(-(r1 - r0) // f), w, 3), np.uint8)
                        yield Progress(n, len(strips) + 1, f"overviews of {info.path.name}",
                                       error=f"{info.path.name}: {exc.problem}")
                    dst.write(np.moveaxis(rgb, -1, 0), window=require("rasterio.windows").Window(
                        0, r0 // f, rgb.shape[1], rgb.shape[0]))
                    yield Progress(n, len(strips) + 1, f"overviews of {info.path.name}")
                dst.update_tags(**{STRETCH_TAG: json.dumps(ras.stretch())})
                factors = [x for x in (2, 4, 8, 16, 32, 64) if max(h, w) // x >= 128]
                if factors:
                    dst.build_overviews(factors, require("rasterio.enums").Resampling.average)
            os.replace(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    yield Progress(len(strips) + 1, len(strips) + 1, f"overviews of {info.path.name} ready")
    return out


@dataclass(frozen=True)
class Pyramid:
    """Which file answers which level: the source, and the cache (None when the source has overviews)."""

    source: Path
    bands: tuple[int, ...] | None
    height: int
    width: int
    cache: Path | None  # None: the source's own overviews serve every level
    picture_level: int

    @property
    def cache_level(self) -> int:
        return int(math.log2(CACHE_FACTOR))

    def tiles(self, level: int) -> tuple[int, int]:
        """(rows, columns) of tiles at `level`."""
        h, w = level_shape(self.height, self.width, level)
        return -(-h // TILE), -(-w // TILE)

    def tile_window(self, level: int, ty: int, tx: int) -> Window:
        """The source window (r0, r1, c0, c1) under tile (ty, tx) at `level`, clipped to the extent."""
        span = TILE << level
        return (ty * span, min(self.height, (ty + 1) * span), tx * span, min(self.width, (tx + 1) * span))


def open_pyramid(source: str | Path, root: str | Path, bands: tuple[int, ...] | None = None) -> Pyramid:
    """The pyramid of `source` for the workspace `root`: its own overviews, else the cache path.

    The cache may not exist yet: `build_overviews(source, pyramid.cache)`
    makes it (the caller runs that in the background).
    """
    with GeoRaster(source, bands) as ras:
        info = ras.info
    cache = None if has_own_overviews(source) else cache_path(root, source, info.bands)
    return Pyramid(Path(source), bands, info.height, info.width, cache,
                   picture_level(info.height, info.width))


class TileReader:
    """Reads RGB tiles of a pyramid at any level; one per thread (see the module docstring)."""

    def __init__(self, pyramid: Pyramid) -> None:
        self.pyramid = pyramid
        self._src = GeoRaster(pyramid.source, pyramid.bands)
        self._cache: GeoRaster | None = None
        if pyramid.cache is not None and cache_ready(pyramid.cache):
            self._cache = GeoRaster(pyramid.cache, (1, 2, 3))
            stretch = self._cache.tags().get(STRETCH_TAG)
            if stretch:  # the source's 16-bit stretch, measured once when the cache was built
                self._src.use_stretch(json.loads(stretch))

    def read(self, level: int, window: Window) -> np.ndarray:
        """RGB uint8 of a source `window` at `level` (each side divided by 2^level, rounded up)."""
        r0, r1, c0, c1 = window
        f = 1 << level
        shape = (max(1, -(-(r1 - r0) // f)), max(1, -(-(c1 - c0) // f)))
        p = self.pyramid
        if level >= p.cache_level and self._cache is not None:
            g = CACHE_FACTOR
            ch, cw = self._cache.info.height, self._cache.info.width
            win = (r0 // g, min(ch, -(-r1 // g)), c0 // g, min(cw, -(-c1 // g)))
            return self._cache.read_rgb(win, shape)
        if level == 0 or p.cache is not None:  # no overviews in the file (or full resolution): read it all
            return decimated(self._src, window, f)
        return self._src.read_rgb(window, shape)  # GDAL answers from the file's own overviews

    def tile(self, level: int, ty: int, tx: int) -> np.ndarray:
        """The RGB tile (at most TILE x TILE) at `level`, row `ty`, column `tx`."""
        return self.read(level, self.pyramid.tile_window(level, ty, tx))

    def picture(self) -> np.ndarray:
        """The whole extent at the pyramid's picture level (the canvas picture)."""
        p = self.pyramid
        return self.read(p.picture_level, (0, p.height, 0, p.width))

    def close(self) -> None:
        self._src.close()
        if self._cache is not None:
            self._cache.close()

    def __enter__(self) -> TileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
