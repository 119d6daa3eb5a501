"""The tiles of an orthomosaic on the canvas: a layer that draws what is loaded, a loader that reads the rest.

The canvas picture of an orthomosaic is its whole extent at the pyramid's
picture level (`seggui.core.geo.overviews`); this layer lies over it (under
the mask layer) and draws the finer level the zoom calls for, tile by tile
(512 px at every level), each with its mask (the correction where there is
one, else the prediction) at the overlay's opacity.

Why this shape:
- `paint` never reads a file: it draws the tiles in memory (a coarser tile
  stretched where the right one is not loaded yet), and hands the missing
  ones to the loader. Panning therefore costs a few `drawImage` calls per
  frame whatever the file.
- The loader is one thread with its own readers (rasterio datasets are not
  thread-safe) and one wanted list that each paint replaces: the latest
  view wins, tiles the view has left are never read.
- Tiles are kept in a small LRU (`MAX_TILES`, about 1.75 MB each), so memory
  is bounded whatever the orthomosaic's size.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QRegion
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.ortho_region import OrthoFiles, labels_for_editing, mask_window
from seggui.core.geo.overviews import TILE, Pyramid, TileReader
from seggui.ui.qtutil import rgb_to_qimage, rgba_to_qimage

MAX_TILES = 160
GDAL_CACHE_MB = 64
Key = tuple[int, int, int]  # level, tile row, tile column


class TileLoader(QObject):
    """Reads wanted tiles on its own thread, the latest wanted list first; emits each as it is read."""

    loaded = Signal(object, object, object)  # key, QImage (RGB), QImage (mask RGBA) or None
    failed = Signal(str)

    def __init__(self, pyramid: Pyramid, files: OrthoFiles, colours: Callable[[np.ndarray], Any],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pyramid, self.files, self.colours = pyramid, files, colours
        self._wanted: list[Key] = []
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="ortho-tiles", daemon=True)
        self._thread.start()

    def want(self, keys: list[Key]) -> None:
        """Replace the wanted list (first: read first)."""
        with self._cond:
            self._wanted = list(keys)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _next(self) -> Key | None:
        with self._cond:
            while not self._wanted and not self._stop:
                self._cond.wait()
            return None if self._stop else self._wanted.pop(0)

    def _run(self) -> None:
        # GDAL's block cache defaults to 5% of the machine's memory and fills with full-resolution
        # blocks as the view pans: held to GDAL_CACHE_MB (the tiles are kept here, in MAX_TILES)
        with require("rasterio").Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            self._read_wanted()

    def _read_wanted(self) -> None:
        reader: TileReader | None = None
        told = False
        try:
            while (key := self._next()) is not None:
                try:
                    reader = reader or TileReader(self.pyramid)
                    level, ty, tx = key
                    rgb = reader.tile(level, ty, tx)
                    win = self.pyramid.tile_window(level, ty, tx)
                    labels, _ = mask_window(self.files, win, rgb.shape[:2])
                    mask = None
                    if labels is not None:
                        rgba = self.colours(labels)
                        mask = rgba_to_qimage(rgba) if rgba is not None else None
                    self.loaded.emit(key, rgb_to_qimage(rgb), mask)
                except BadInputError as exc:
                    if not told:  # a damaged file: said once, the other tiles still load
                        told = True
                        self.failed.emit(str(exc))
        finally:
            if reader is not None:
                reader.close()


def mask_colours(table: Any, hidden: set[int]) -> Callable[[np.ndarray], Any]:
    """Mask-file labels -> RGBA, as the prediction view paints them (`core.errorview.view_rgba`)."""
    from seggui.core.errorview import view_rgba

    return lambda labels: view_rgba("prediction", labels_for_editing(labels, table), None, table, hidden)


class TileLayer(QGraphicsItem):
    """Draws loaded tiles of the orthomosaic in source pixel coordinates (scaled by its owner)."""

    def __init__(self, pyramid: Pyramid, opacity: Callable[[], float], show_mask: Callable[[], bool]) -> None:
        super().__init__()
        self.pyramid = pyramid
        self.mask_opacity, self.show_mask = opacity, show_mask
        self.tiles: OrderedDict[Key, tuple[QImage, QImage | None]] = OrderedDict()
        self.loader: TileLoader | None = None
        self.view_rect: Callable[[], QRectF] = self.boundingRect  # the owner tells the visible source rect
        self.hole: QRect | None = None  # the editing region: the canvas draws it (with the live mask)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setZValue(0.5)  # over the canvas picture, under its mask layer (1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(0, 0, self.pyramid.width, self.pyramid.height)

    def level_for(self, zoom: float) -> int:
        """The level whose tile pixel is at least a screen pixel at `zoom` (screen px per source px)."""
        level = int(math.floor(math.log2(1.0 / max(zoom, 1e-9)))) if zoom < 1 else 0
        return max(0, min(self.pyramid.picture_level, level))

    def visible_keys(self, rect: QRectF, level: int, ring: int = 0) -> list[Key]:
        """Tiles of `level` under `rect` (source px), centre first, with `ring` more around them."""
        span = TILE << level
        rows, cols = self.pyramid.tiles(level)
        y0, y1 = max(0, int(rect.top() // span) - ring), min(rows - 1, int(rect.bottom() // span) + ring)
        x0, x1 = max(0, int(rect.left() // span) - ring), min(cols - 1, int(rect.right() // span) + ring)
        cy, cx = rect.center().y() / span, rect.center().x() / span
        keys = [(level, ty, tx) for ty in range(y0, y1 + 1) for tx in range(x0, x1 + 1)]
        return sorted(keys, key=lambda k: (k[1] + 0.5 - cy) ** 2 + (k[2] + 0.5 - cx) ** 2)

    def store(self, key: Key, rgb: QImage, mask: QImage | None) -> None:
        self.tiles[key] = (rgb, mask)
        self.tiles.move_to_end(key)
        while len(self.tiles) > MAX_TILES:
            self.tiles.popitem(last=False)
        level, ty, tx = key
        span = TILE << level
        self.update(QRectF(tx * span, ty * span, span, span))

    def forget_masks(self, window: tuple[int, int, int, int]) -> None:
        """Drop the tiles over a source window whose mask changed (they are read again)."""
        r0, r1, c0, c1 = window
        for key in [k for k in self.tiles if self._overlaps(k, r0, r1, c0, c1)]:
            del self.tiles[key]
        self.update(QRectF(c0, r0, c1 - c0, r1 - r0))

    def _overlaps(self, key: Key, r0: int, r1: int, c0: int, c1: int) -> bool:
        level, ty, tx = key
        span = TILE << level
        return ty * span < r1 and (ty + 1) * span > r0 and tx * span < c1 and (tx + 1) * span > c0

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              _widget: QWidget | None = None) -> None:
        zoom = painter.worldTransform().m11()
        level = self.level_for(zoom)
        exposed = option.exposedRect.intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        if self.hole is not None:
            whole = QRegion(exposed.toAlignedRect())
            painter.setClipRegion(whole.subtracted(QRegion(self.hole)))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, level > 0 and zoom < 1)
        missing: list[Key] = []
        masks = self.show_mask()
        # at the picture's own level the canvas picture is these pixels already: only the masks are drawn
        rgb = not (level == self.pyramid.picture_level and self.hole is None)
        for key in self.visible_keys(exposed, level):
            if not self._draw(painter, key, masks, rgb):
                missing.append(key)
                self._draw_coarser(painter, key, masks)
        if self.loader is not None:  # the whole view's tiles (a scroll exposes a strip only), then a ring
            view = self.view_rect().intersected(self.boundingRect())
            keys = self.visible_keys(view, level, 1) if not view.isEmpty() else []
            self.loader.want([k for k in missing if k not in keys] + [k for k in keys if k not in self.tiles])

    def _target(self, key: Key, image: QImage) -> QRectF:
        level, ty, tx = key
        f = 1 << level
        return QRectF((tx * TILE) * f, (ty * TILE) * f, image.width() * f, image.height() * f)

    def _draw(self, painter: QPainter, key: Key, masks: bool, with_rgb: bool = True) -> bool:
        got = self.tiles.get(key)
        if got is None:
            return False
        rgb, mask = got
        target = self._target(key, rgb)
        if with_rgb:
            painter.drawImage(target, rgb)
        if masks and mask is not None:
            painter.save()
            painter.setOpacity(self.mask_opacity())
            painter.drawImage(target, mask)
            painter.restore()
        return True

    def _draw_coarser(self, painter: QPainter, key: Key, masks: bool) -> None:
        """Stretch the part of the nearest loaded coarser tile that covers `key` (until it loads)."""
        level, ty, tx = key
        for up in range(level + 1, self.pyramid.picture_level + 1):
            shift = up - level
            parent = (up, ty >> shift, tx >> shift)
            if parent in self.tiles:
                painter.save()
                span = TILE << level
                painter.setClipRect(QRectF(tx * span, ty * span, span, span), Qt.ClipOperation.IntersectClip)
                self._draw(painter, parent, masks)
                painter.restore()
                return

