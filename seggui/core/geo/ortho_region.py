"""Editing an orthomosaic one region at a time, on the full-resolution mask, never the whole of it.

A 20,000-px orthomosaic's mask is 400 Mpx: the editor (`seggui.core.editing`)
holds a few bytes per pixel for the labels, the undo history and the live
figures, so it cannot hold the whole mask. The orthomosaic is therefore cut
into fixed cells of `REGION` px a side (the last row and column smaller),
and the cell under the pointer becomes the *editing region*: an ordinary
frame of the workspace (`<name>@r<row>c<col>`) whose picture is that window
of the orthomosaic (a PNG written once in `ortho/<name>/`), whose prediction
and correction are that window of the orthomosaic's mask GeoTIFFs. Painting,
undo, autosave, the live figures, reports and retraining then work on it
as on any picture. Fixed cells never overlap, so a region frame never goes
stale against another one.

The mask GeoTIFFs of an orthomosaic live in the workspace's `ortho/`:
`<name>.predicted.tif` (written by a model run over the whole orthomosaic,
`seggui.engine.ortho`) and `<name>.corrected.tif` (the regions corrected in
the window, written back window by window: tiled, deflate, sparse, on the
source's grid with its CRS and transform; nodata where nothing was
corrected). `mask_window` reads the correction where it has one, else the
prediction.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.editing.label_map import unlabelled_value
from seggui.core.errors import BadInputError
from seggui.core.frame_ids import safe_mask_path
from seggui.core.geo import require
from seggui.core.geo.maskfile import colormap, mask_profile
from seggui.core.geo.overviews import Pyramid, TileReader, build_overviews, cache_ready, open_pyramid
from seggui.core.geo.raster import GeoInfo, GeoRaster, Window, is_geotiff
from seggui.core.images import read_image, write_image
from seggui.core.imagesize import tiff_size
from seggui.core.jobs import Progress, drive
from seggui.core.mask_kind import MaskKind
from seggui.core.masks import write_mask
from seggui.core.workspace import Workspace

ENV_ORTHO_PIXELS = "SEGGUI_ORTHO_PIXELS"
DEFAULT_ORTHO_PIXELS = 25_000_000  # a GeoTIFF over 25 Mpx (5000 x 5000) opens as an orthomosaic
REGION = 4096  # editing region (cell) side, source pixels
_REGION_ID = re.compile(r"^(?P<stem>.+)@r(?P<r>\d+)c(?P<c>\d+)$")
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def ortho_pixels() -> int:
    """Pictures (GeoTIFF) larger than this open as orthomosaics: `SEGGUI_ORTHO_PIXELS`, else 25 Mpx."""
    raw = os.environ.get(ENV_ORTHO_PIXELS, "").strip().replace("_", "")
    try:
        return max(1, int(float(raw))) if raw else DEFAULT_ORTHO_PIXELS
    except ValueError:
        raise BadInputError(None, f"{ENV_ORTHO_PIXELS}={raw!r} is not a pixel count") from None


def is_orthomosaic(path: str | Path | None) -> bool:
    """A .tif over `ortho_pixels()`, by its header: shown through overviews, edited by regions.

    False without rasterio (the `geo` extra): the picture is then read whole, as before.
    """
    if path is None or not is_geotiff(path) or not Path(path).is_file() \
            or importlib.util.find_spec("rasterio") is None:
        return False
    size = tiff_size(Path(path))
    return size is not None and size[0] * size[1] > ortho_pixels()


def lock_for(path: Path) -> threading.Lock:
    """One lock per mask file: a window written on one thread is never read half-written on another."""
    key = Path(path).resolve()
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class OrthoFiles:
    """Where an orthomosaic's region pictures and mask GeoTIFFs live in a workspace."""

    root: Path
    source: Path

    @property
    def stem(self) -> str:
        return self.source.stem

    @property
    def predicted(self) -> Path:
        return self.root / "ortho" / f"{self.stem}.predicted.tif"

    @property
    def corrected(self) -> Path:
        return self.root / "ortho" / f"{self.stem}.corrected.tif"

    def picture(self, win: Window) -> Path:
        return self.root / "ortho" / self.stem / f"r{win[0]}c{win[2]}.png"


def region_at(x: float, y: float, height: int, width: int, side: int | None = None) -> Window | None:
    """The cell (r0, r1, c0, c1) holding source pixel (x, y), or None off the extent (`side`: REGION)."""
    side = side or REGION
    col, row = int(x // 1), int(y // 1)
    if not (0 <= row < height and 0 <= col < width):
        return None
    r0, c0 = (row // side) * side, (col // side) * side
    return r0, min(height, r0 + side), c0, min(width, c0 + side)


def region_id(stem: str, win: Window) -> str:
    return f"{stem}@r{win[0]}c{win[2]}"


def parse_region_id(frame_id: str, height: int, width: int,
                    side: int | None = None) -> tuple[str, Window] | None:
    """(orthomosaic stem, window) of a region frame id, or None when it is not one (`side`: REGION)."""
    side = side or REGION
    m = _REGION_ID.match(frame_id)
    if m is None:
        return None
    r0, c0 = int(m["r"]), int(m["c"])
    if r0 % side or c0 % side or r0 >= height or c0 >= width:
        return None
    return m["stem"], (r0, min(height, r0 + side), c0, min(width, c0 + side))


def read_window(path: Path, win: Window, out_shape: tuple[int, int] | None = None) -> np.ndarray | None:
    """Band 1 of a mask GeoTIFF in `win` (nearest when decimated), or None when the file is absent."""
    if not path.is_file():
        return None
    rasterio = require("rasterio")
    r0, r1, c0, c1 = win
    kw = {} if out_shape is None else {"out_shape": out_shape,
                                       "resampling": require("rasterio.enums").Resampling.nearest}
    with lock_for(path), rasterio.open(path) as ds:
        try:
            return np.asarray(ds.read(1, window=require("rasterio.windows").Window(c0, r0, c1 - c0, r1 - r0),
                                      **kw))
        except Exception as exc:  # noqa: BLE001 - a damaged mask file
            raise BadInputError(path, f"cannot read rows {r0}-{r1}, columns {c0}-{c1} ({exc})") from None


def _nodata(path: Path) -> int:
    with require("rasterio").open(path) as ds:
        return int(ds.nodata) if ds.nodata is not None else 255


def mask_window(files: OrthoFiles, win: Window,
                out_shape: tuple[int, int] | None = None) -> tuple[np.ndarray | None, bool]:
    """(labels of `win`, whether any come from the correction): the correction, else the prediction.

    Labels are in the mask files' numbering; pixels neither file labels are
    their nodata value (see `labels_for_editing`). None when neither exists.
    """
    pred = read_window(files.predicted, win, out_shape)
    corr = read_window(files.corrected, win, out_shape)
    if corr is None:
        return pred, False
    done = corr != _nodata(files.corrected)
    if not done.any():
        return pred, False
    if pred is None:
        return corr, True
    return np.where(done, corr, pred), True


def labels_for_editing(labels: np.ndarray, table: ClassTable) -> np.ndarray:
    """Mask-file labels as editor labels: nodata and ids outside the table become unlabelled."""
    out: np.ndarray = labels.astype(table.mask_dtype, copy=True)
    known = np.zeros(max(int(labels.max()) + 1, 1), bool)
    ids = [c.id for c in table.classes if c.id < known.size]
    known[ids] = True
    out[~known[labels]] = unlabelled_value(table)
    return out


def make_region(ws: Workspace, source: Path, win: Window, bands: tuple[int, ...] | None = None) -> str:
    """The region frame of `win` in `ws` (made once: picture PNG, prediction and correction windows).

    Returns its frame id. A frame made before is returned as it is: its own
    files are newer than the GeoTIFF windows (they are written back from it).
    The window does the two halves apart: `write_region_files` on a worker
    thread (files only), `record_region` on the thread that owns `ws`.
    """
    fid = region_id(source.stem, win)
    if region_known(ws, source, win):
        return fid
    picture, kinds = write_region_files(ws.root, source, win, ws.classes, bands)
    record_region(ws, fid, picture, kinds)
    return fid


def region_known(ws: Workspace, source: Path, win: Window) -> bool:
    """The region frame of `win` exists with its picture (nothing to read from the GeoTIFFs)."""
    return region_id(source.stem, win) in ws.frames and OrthoFiles(ws.root, source).picture(win).is_file()


def write_region_files(root: Path, source: Path, win: Window, table: ClassTable,
                       bands: tuple[int, ...] | None = None) -> tuple[Path, list[str]]:
    """Write a region's picture (with its world file) and its mask windows as workspace PNGs; files only.

    Returns (the picture, the mask kinds written); safe on any thread, as it
    never touches the `Workspace` object.
    """
    files = OrthoFiles(root, source)
    fid, picture = region_id(files.stem, win), files.picture(win)
    if not picture.is_file():
        with GeoRaster(source, bands) as ras:
            rgb = ras.read_rgb(win)
            info = ras.info
        picture.parent.mkdir(parents=True, exist_ok=True)
        write_world_file(picture, info, win)
        write_image(picture, rgb)
    kinds: list[str] = []
    labels, corrected = mask_window(files, win)
    pred = read_window(files.predicted, win)
    for kind, mask in ((MaskKind.PREDICTED, pred), (MaskKind.CORRECTED, labels if corrected else None)):
        if mask is not None:
            write_mask(safe_mask_path(root, kind, fid), labels_for_editing(mask, table))
            kinds.append(kind)
    return picture, kinds


def record_region(ws: Workspace, fid: str, picture: Path, kinds: list[str]) -> None:
    """Add a region frame whose files `write_region_files` wrote (one seggui.json write)."""
    with ws.batch():
        ws.add_image(picture, frame_id=fid)
        for kind in kinds:
            ws.record_mask(fid, kind, save=False)
        ws.save()


def write_world_file(picture: Path, info: GeoInfo, win: Window) -> None:
    """A world file (and .prj) beside a region's picture, so its areas are in m² like the source's.

    Only for a projected CRS: a geographic one has no single pixel size (the
    region's figures are then in pixels, or the workspace GSD).
    """
    if info.crs_wkt is None or not require("pyproj").CRS.from_wkt(info.crs_wkt).is_projected:
        return
    a, b, c, d, e, f = info.transform
    r0, c0 = win[0] + 0.5, win[2] + 0.5  # a world file names the centre of the top-left pixel
    lines = [a, d, b, e, c + a * c0 + b * r0, f + d * c0 + e * r0]
    picture.with_suffix(".pgw").write_text("\n".join(repr(float(v)) for v in lines) + "\n", encoding="utf-8")
    picture.with_suffix(".prj").write_text(info.crs_wkt, encoding="utf-8")


def correction_profile(info: GeoInfo, table: ClassTable) -> dict[str, object]:
    """The correction GeoTIFF: the mask profile on the source's grid, sparse (unwritten tiles are nodata)."""
    dtype = "uint8" if table.mask_dtype == np.uint8 else "uint16"
    return {**mask_profile(info, dtype), "SPARSE_OK": "TRUE"}


def write_region(files: OrthoFiles, win: Window, labels: np.ndarray, table: ClassTable) -> Path:
    """Write a region's corrected labels into the correction GeoTIFF at `win` (made on first use).

    Only that window is written (the file is tiled and sparse); the CRS,
    transform, colour table and class table come from the source and the
    workspace. Thread-safe against `read_window` on the same file.
    """
    r0, r1, c0, c1 = win
    if labels.shape != (r1 - r0, c1 - c0):
        raise BadInputError(files.corrected, f"region {labels.shape[1]}x{labels.shape[0]} does not fit "
                                             f"the window {c1 - c0}x{r1 - r0}")
    rasterio = require("rasterio")
    path = files.corrected
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock_for(path):
        if not path.is_file():
            with GeoRaster(files.source) as ras:
                info = ras.info
            tmp = path.with_name(path.stem + ".new.tif")
            with rasterio.open(tmp, "w", **correction_profile(info, table)) as ds:
                if ds.dtypes[0] == "uint8":
                    ds.write_colormap(1, colormap(table))
                ds.update_tags(1, classes=json.dumps(table.to_dict()))
                ds.update_tags(seggui_source=files.source.name)
            os.replace(tmp, path)
        with rasterio.open(path, "r+") as ds:
            ds.write(labels.astype(ds.dtypes[0], copy=False), 1,
                     window=require("rasterio.windows").Window(c0, r0, c1 - c0, r1 - r0))
    return path


def write_back(ws: Workspace, source: Path, frame_id: str) -> Path | None:
    """Copy a region frame's correction (its PNG) into the orthomosaic's correction GeoTIFF.

    None when `frame_id` is not a region of `source` or has no correction.
    """
    with GeoRaster(source) as ras:
        h, w = ras.info.height, ras.info.width
    parsed = parse_region_id(frame_id, h, w)
    if parsed is None or parsed[0] != source.stem:
        return None
    labels = ws.read_mask(frame_id, MaskKind.CORRECTED)
    if labels is None:
        return None
    return write_region(OrthoFiles(ws.root, source), parsed[1], labels, ws.classes)


def ensure_overviews(root: Path, source: Path, bands: tuple[int, ...] | None = None,
                     problems: list[str] | None = None) -> Pyramid:
    """The pyramid of `source`, its cache built now when the file has no overviews and none is cached.

    Opening calls this on its worker thread, so the window answers while a
    20,000-px file without overviews is read once (see `core.geo.overviews`).
    Strips the file cannot give (a damaged tile) are built black and said in
    `problems`.
    """
    pyramid = open_pyramid(source, root, bands)
    if pyramid.cache is not None and not cache_ready(pyramid.cache):
        def note(p: Progress) -> None:
            if p.error and problems is not None:
                problems.append(p.error)

        drive(build_overviews(source, pyramid.cache, bands), note)
    return pyramid


def frame_picture(root: Path, path: Path, bands: tuple[int, ...] | None = None) -> np.ndarray:
    """A frame's picture: read whole (`read_image`), or an orthomosaic's whole extent from its overviews.

    `bands` (View ▸ Bands…, `core.geo.bands`) picks the RGB of a multi-band
    GeoTIFF: a plain one is then read whole through `GeoRaster`.

    The window's picture of an orthomosaic is its pyramid's picture level
    (at most `PICTURE_SIDE` px a side); `seggui.ui.ortho_view` draws the
    finer levels over it and makes regions for editing.
    """
    if not is_orthomosaic(path):
        if bands is None:
            return read_image(path)
        with GeoRaster(path, bands) as ras:
            return ras.read_rgb((0, ras.info.height, 0, ras.info.width))
    with TileReader(ensure_overviews(root, path, bands)) as reader:
        return reader.picture()


def refresh_regions(ws: Workspace, source: Path) -> list[str]:
    """After a run over the orthomosaic, give its region frames the new prediction's windows.

    Their corrections stay (they are the analyst's); returns the frames updated.
    """
    files = OrthoFiles(ws.root, source)
    if not files.predicted.is_file():
        return []
    with GeoRaster(source) as ras:
        h, w = ras.info.height, ras.info.width
    done = []
    with ws.batch():
        for fid in list(ws.frames):
            parsed = parse_region_id(fid, h, w)
            if parsed is None or parsed[0] != files.stem:
                continue
            labels = read_window(files.predicted, parsed[1])
            if labels is not None:
                ws.write_mask(fid, MaskKind.PREDICTED, labels_for_editing(labels, ws.classes), save=False)
                done.append(fid)
        ws.save()
    return done
