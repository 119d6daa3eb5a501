"""Read a GeoTIFF or COG by windows, never whole: bands, nodata, 16-bit stretch.

Orthomosaics run to 20,000 px and more a side, so nothing here reads a whole
band: `GeoRaster.read(window)` returns an RGB uint8 block and its validity,
and the statistics a stretch needs come from a decimated read (GDAL serves it
from the file's overviews when it has them).

- Bands: RGB from RGB, RGBA or RGBN (the colour interpretation when the file
  states it, else bands 1, 2, 3); `bands=(4, 1, 2)` picks others (false colour);
  one band is shown as grey.
- Validity: GDAL's dataset mask, which folds nodata values, an alpha band and
  internal masks into one answer; invalid pixels are predicted as nodata.
- Depth: 8-bit is used as is; 16-bit, 32-bit and float bands are stretched
  per band between their 2nd and 98th percentiles (of valid pixels) to 0..255,
  the same stretch for display and for the model (whose card normalisation
  then applies as for any 8-bit picture), so every window of the file is
  stretched alike and tiles do not show seams.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.geo import require

Window = tuple[int, int, int, int]  # row0, row1, col0, col1 (end exclusive)
STATS_SIDE = 1024  # the decimated read for statistics is at most this many pixels a side
GEOTIFF_SUFFIXES = (".tif", ".tiff", ".gtif", ".gtiff")


@dataclass(frozen=True)
class GeoInfo:
    """What a georeferenced raster is: size, bands, grid (CRS and affine transform), nodata."""

    path: Path
    height: int
    width: int
    count: int
    dtype: str
    bands: tuple[int, ...]
    crs_wkt: str | None
    crs_name: str
    epsg: int | None
    transform: tuple[float, float, float, float, float, float]  # a b c d e f: x = a*col + b*row + c
    nodata: float | None
    block: tuple[int, int]
    tiled: bool

    @property
    def has_crs(self) -> bool:
        return self.crs_wkt is not None

    @property
    def rotated(self) -> bool:
        """True when the grid is rotated or sheared (b or d non-zero)."""
        return self.transform[1] != 0.0 or self.transform[3] != 0.0

    @property
    def georeferenced(self) -> bool:
        """A CRS or a transform other than GDAL's identity default (pixels = map units)."""
        return self.has_crs or self.transform != (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)

    def describe(self) -> str:
        crs = self.crs_name if self.has_crs else "no CRS"
        return (f"{self.path.name}: {self.width}x{self.height}, {self.count} band(s) {self.dtype}, "
                f"bands {list(self.bands)} as RGB, {crs}, "
                f"{'tiled' if self.tiled else 'striped'} {self.block[1]}x{self.block[0]}")


def parse_bands(text: str | None) -> tuple[int, ...] | None:
    """`--bands 4,1,2` -> (4, 1, 2); None or "" -> None (the default choice)."""
    if not text:
        return None
    try:
        bands = tuple(int(b) for b in text.replace(" ", "").split(","))
    except ValueError:
        raise BadInputError(None, f"--bands must be 1 or 3 band numbers like 1,2,3, got {text!r}") from None
    if len(bands) not in (1, 3) or min(bands) < 1:
        raise BadInputError(None, f"--bands must be 1 or 3 band numbers from 1, got {text!r}")
    return bands


def default_bands(count: int, interp: list[str]) -> tuple[int, ...]:
    """RGB band numbers from the colour interpretation, else the first three (RGBN, RGBA); grey for one."""
    where = {name: i + 1 for i, name in enumerate(interp)}
    if all(c in where for c in ("red", "green", "blue")):
        return where["red"], where["green"], where["blue"]
    if count >= 3:
        return 1, 2, 3
    return (1,)


def is_geotiff(path: str | Path) -> bool:
    """A .tif/.tiff name (the files GDAL reads as GeoTIFF here)."""
    return Path(path).suffix.lower() in GEOTIFF_SUFFIXES


class GeoRaster:
    """An open GeoTIFF read window by window; use as a context manager."""

    def __init__(self, path: str | Path, bands: tuple[int, ...] | None = None) -> None:
        rasterio = require("rasterio")
        self.path = Path(path)
        if not self.path.is_file():
            raise BadInputError(self.path, "file not found")
        try:
            self._ds: Any = rasterio.open(self.path)
        except Exception as exc:  # noqa: BLE001 - GDAL reports a damaged header as several kinds
            raise BadInputError(self.path, f"not a readable GeoTIFF ({_short(exc)})") from None
        ds = self._ds
        interp = [str(c.name) for c in ds.colorinterp]
        chosen = bands or default_bands(ds.count, interp)
        if any(b > ds.count for b in chosen):
            self.close()
            raise BadInputError(self.path, f"bands {list(chosen)} asked for, the file has {ds.count}")
        crs = ds.crs
        epsg = crs.to_epsg() if crs is not None else None
        name = (f"EPSG:{epsg}" if epsg else "custom CRS") if crs is not None else "no CRS"
        if crs is not None:
            try:
                name = f"{name} ({require('pyproj').CRS.from_wkt(crs.to_wkt()).name})"
            except Exception:  # noqa: BLE001 - a CRS PROJ cannot name is still usable
                pass
        t = ds.transform
        block = tuple(ds.block_shapes[0]) if ds.block_shapes else (1, ds.width)
        self.info = GeoInfo(
            self.path, int(ds.height), int(ds.width), int(ds.count), str(ds.dtypes[0]), tuple(chosen),
            crs.to_wkt() if crs is not None else None, name, epsg,
            (float(t.a), float(t.b), float(t.c), float(t.d), float(t.e), float(t.f)),
            None if ds.nodata is None else float(ds.nodata), (int(block[0]), int(block[1])),
            bool(ds.profile.get("tiled", False)),
        )
        self._stretch: list[tuple[float, float]] | None = None

    # ---------------------------------------------------------------- reading
    def read_raw(self, window: Window, out_shape: tuple[int, int] | None = None,
                 bands: tuple[int, ...] | None = None) -> np.ndarray:
        """The chosen bands (or `bands`) of a window, (bands, h, w) in the file's type (resampled)."""
        r0, r1, c0, c1 = window
        bands = bands or self.info.bands
        win = require("rasterio.windows").Window(c0, r0, c1 - c0, r1 - r0)
        kw: dict[str, Any] = {}
        if out_shape is not None:
            kw = {"out_shape": (len(bands), *out_shape),
                  "resampling": require("rasterio.enums").Resampling.bilinear}
        try:
            return np.asarray(self._ds.read(list(bands), window=win, **kw))
        except Exception as exc:  # noqa: BLE001 - a truncated file or a corrupt tile
            raise BadInputError(self.path, f"cannot read rows {r0}-{r1}, columns {c0}-{c1} "
                                           f"(damaged or truncated file: {_short(exc)})") from None

    def valid(self, window: Window, out_shape: tuple[int, int] | None = None) -> np.ndarray:
        """Boolean (h, w): False where the file says nodata (nodata value, alpha 0, internal mask)."""
        r0, r1, c0, c1 = window
        win = require("rasterio.windows").Window(c0, r0, c1 - c0, r1 - r0)
        kw: dict[str, Any] = {}
        if out_shape is not None:
            kw = {"out_shape": out_shape, "resampling": require("rasterio.enums").Resampling.nearest}
        try:
            return np.asarray(self._ds.dataset_mask(window=win, **kw)) > 0
        except Exception as exc:  # noqa: BLE001
            raise BadInputError(self.path, f"cannot read the nodata mask of rows {r0}-{r1} "
                                           f"({_short(exc)})") from None

    def read(self, window: Window, out_shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(RGB uint8 (h, w, 3), valid (h, w)) for a window, stretched like the whole file."""
        return self.read_rgb(window, out_shape), self.valid(window, out_shape)

    def read_rgb(self, window: Window, out_shape: tuple[int, int] | None = None) -> np.ndarray:
        """RGB uint8 (h, w, 3) of a window, read band by band into place (one band in memory at a time)."""
        h, w = out_shape or (window[1] - window[0], window[3] - window[2])
        out = np.empty((h, w, 3), np.uint8)
        bands = self.info.bands
        for i in range(3):
            k = i if len(bands) == 3 else 0
            raw = self.read_raw(window, out_shape, (bands[k],))[0]
            out[..., i] = raw if raw.dtype == np.uint8 else self._stretched(raw, k)
        return out

    def _stretched(self, band: np.ndarray, k: int) -> np.ndarray:
        lo, hi = self.stretch()[k]
        scaled = (band.astype(np.float32) - lo) * (255.0 / max(hi - lo, 1e-12))
        return cast(np.ndarray, np.clip(scaled, 0, 255).astype(np.uint8))

    def to_rgb8(self, raw: np.ndarray) -> np.ndarray:
        """(bands, h, w) in the file's type -> (h, w, 3) uint8 with the file-wide stretch."""
        if raw.dtype == np.uint8:
            out = raw
        else:
            out = np.empty(raw.shape, np.uint8)
            for i in range(raw.shape[0]):
                out[i] = self._stretched(raw[i], i)
        if out.shape[0] == 1:
            out = np.repeat(out, 3, axis=0)
        return np.ascontiguousarray(np.moveaxis(out, 0, -1))

    def overview(self, side: int = STATS_SIDE) -> tuple[np.ndarray, np.ndarray]:
        """A decimated read of the whole file (raw bands, valid), at most `side` px a side."""
        h, w = self.info.height, self.info.width
        f = max(1.0, max(h, w) / side)
        shape = (max(1, round(h / f)), max(1, round(w / f)))
        full = (0, h, 0, w)
        return self.read_raw(full, shape), self.valid(full, shape)

    def stretch(self) -> list[tuple[float, float]]:
        """Per band (low, high) for the 8-bit view: identity for uint8, else 2nd-98th percentiles."""
        if self._stretch is None:
            if self.info.dtype == "uint8":
                self._stretch = [(0.0, 255.0)] * len(self.info.bands)
            else:
                raw, ok = self.overview()
                if not ok.any():
                    raise BadInputError(self.path, "every pixel is nodata: nothing to read")
                self._stretch = []
                for band in raw:
                    v = band[ok].astype(np.float64)
                    v = v[np.isfinite(v)]
                    lo, hi = (np.percentile(v, [2, 98]) if v.size else (0.0, 1.0))
                    self._stretch.append((float(lo), float(hi) if hi > lo else float(lo) + 1.0))
        return self._stretch

    def use_stretch(self, stretch: list[tuple[float, float]] | list[list[float]]) -> None:
        """Take a stretch measured before (a cached pyramid's tag) instead of measuring it again."""
        self._stretch = [(float(lo), float(hi)) for lo, hi in stretch]

    def tags(self) -> dict[str, str]:
        """The file's dataset tags (GDAL metadata)."""
        return dict(self._ds.tags())

    def check_not_empty(self) -> None:
        """Refuse a file whose every pixel is nodata (seen on the decimated read).

        A file whose decimated read fails (a corrupt or truncated tile) passes:
        the blocks that can be read are processed and the others reported.
        """
        try:
            _, ok = self.overview(256)
        except BadInputError:
            return
        if not ok.any():
            raise BadInputError(self.path, "every pixel is nodata (nodata value, alpha or mask): "
                                           "nothing to predict or measure")

    def close(self) -> None:
        self._ds.close()

    def __enter__(self) -> GeoRaster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _short(exc: BaseException) -> str:
    """GDAL's own reason: rasterio wraps it ("Read failed. See previous exception"), so look inside."""
    texts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(texts) < 3:
        line = str(seen).strip().splitlines()[0] if str(seen).strip() else type(seen).__name__
        if "see previous exception" not in line.lower():
            texts.append(line)
        seen = seen.__cause__ or seen.__context__
    return ("; ".join(texts) or str(exc))[:200]


def same_grid(a: GeoInfo, b: GeoInfo) -> None:
    """Raise naming `a` unless `a` and `b` share size, transform and CRS (a mask and its picture)."""
    if (a.height, a.width) != (b.height, b.width):
        raise BadInputError(a.path, f"is {a.width}x{a.height} but {b.path.name} is {b.width}x{b.height}: "
                                    "not on the same grid")
    if not all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9) for x, y in zip(a.transform, b.transform,
                                                                           strict=True)):
        raise BadInputError(a.path, f"its transform {a.transform} differs from {b.path.name}'s "
                                    f"{b.transform}: not on the same grid")
    if a.has_crs and b.has_crs and a.epsg != b.epsg and a.crs_wkt != b.crs_wkt:
        raise BadInputError(a.path, f"is in {a.crs_name} but {b.path.name} is in {b.crs_name}")
