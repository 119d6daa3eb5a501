"""An orthomosaic in the window: the whole extent through overviews, editing by regions at full resolution.

A picture over `seggui.core.geo.ortho_region.ortho_pixels()` (a 20,000-px
GeoTIFF) is never decoded whole. Its frame's picture is the whole extent at
the pyramid's picture level (`core.geo.ortho_region.frame_picture`, from the
file's overviews or ones built once in the workspace when it was opened);
`TileLayer` draws the finer levels over it as the zoom asks, read in the
background. Pan and zoom are the canvas's own.

Editing: a left press with a painting tool (any tool but Navigate) makes the
4096-px cell under the pointer the *editing region*, an ordinary frame of
the workspace (`NAME@r<row>c<col>`, `core.geo.ortho_region.write_region_files`),
and the window switches to it keeping the view: the same ground under the
same screen pixel. The canvas then holds that cell at full resolution with
its mask; the normal tools, undo, autosave and the live figures (the Areas
panel) work on it, and say so in the hint line. Each autosave of a region
is written back into the orthomosaic's correction GeoTIFF by its window, on
a worker thread. Zooming out past two regions' width goes back to the whole
orthomosaic, keeping the view.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem

from seggui.core.errors import BadInputError
from seggui.core.geo.bands import saved_bands
from seggui.core.geo.ortho_region import (
    REGION,
    OrthoFiles,
    is_orthomosaic,
    parse_region_id,
    record_region,
    region_at,
    region_id,
    region_known,
    write_back,
    write_region_files,
)
from seggui.core.geo.overviews import open_pyramid
from seggui.core.mask_kind import MaskKind
from seggui.ui.background_call import call_in_background
from seggui.ui.editing import EditController
from seggui.ui.ortho_tiles import TileLayer, TileLoader, mask_colours
from seggui.ui.qtutil import rgb_to_qimage

MIN_EDIT_ZOOM = 0.25  # screen px per source px: below it a press asks to zoom in instead of editing
BACK_TO_WHOLE = 2  # a region view wider than this many regions goes back to the whole orthomosaic


@dataclass
class Ortho:
    """The orthomosaic on screen: its frame, file, size and how scene coordinates map to it."""

    frame: str
    source: Path
    height: int
    width: int
    level: int  # the picture level of the whole-extent frame
    files: OrthoFiles
    region: tuple[int, int, int, int] | None = None  # the editing region shown (None: the whole frame)

    @property
    def scale(self) -> float:
        """Source px per scene px."""
        return 1.0 if self.region is not None else float(1 << self.level)

    @property
    def origin(self) -> tuple[int, int]:
        """Source (x, y) of the scene origin."""
        return (self.region[2], self.region[0]) if self.region is not None else (0, 0)


class OrthoView(QObject):
    """Binds an orthomosaic's tiles, regions and write-backs to the session and canvas."""

    writtenBack = Signal(object)  # (r0, r1, c0, c1) of a region written into the correction GeoTIFF
    writeFailed = Signal(object)  # the BadInputError of a write-back (said on the GUI thread)

    def __init__(self, session: Any, view: Any, editing: EditController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.view, self.editing = session, view, editing
        self.canvas = view.canvas
        self.ortho: Ortho | None = None
        self.layer: TileLayer | None = None
        self.base: QGraphicsPixmapItem | None = None
        self._keep: tuple[QPointF, float] | None = None  # source centre, zoom (screen px per source px)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ortho-writeback")
        self._pending: list[Any] = []
        self._ws: Any = None
        self._back = QTimer(self)
        self._back.setSingleShot(True)
        self._back.setInterval(250)
        self._back.timeout.connect(self._maybe_whole)
        session.opened.connect(self._on_opened)
        session.frameChanged.connect(self._on_frame)
        session.classViewChanged.connect(self._on_colours)
        self.canvas.zoomChanged.connect(lambda _z: self._back.start())
        view.opacity.valueChanged.connect(lambda _v: self.layer.update() if self.layer else None)
        view.view_combo.currentIndexChanged.connect(lambda _i: self.layer.update() if self.layer else None)
        self.canvas.pixelHovered.connect(self._on_hover)
        self.writtenBack.connect(self._on_written)
        self.writeFailed.connect(self.session.log.report)
        self.canvas.viewport().installEventFilter(self)

    # ------------------------------------------------------------ binding
    def _on_opened(self) -> None:
        ws = self.session.workspace
        if ws is self._ws:  # the same workspace opened again (another class table): recolour the masks
            self._on_colours()
            return
        if self._ws is not None:
            self._ws.events.masks_changed.disconnect(self._on_ws_mask)
        self._ws = ws
        self._drop_layer()
        if ws is not None:
            ws.events.masks_changed.connect(self._on_ws_mask)

    def _find(self, fid: str | None) -> tuple[str, Path, tuple[int, int, int, int] | None] | None:
        """(orthomosaic frame, its file, the region window or None) when `fid` shows an orthomosaic."""
        ws = self.session.workspace
        if ws is None or fid is None or fid not in ws.frames:
            return None
        path = ws.image_path(fid)
        if path is not None and is_orthomosaic(path):
            return fid, path, None
        stem = fid.rpartition("@")[0]
        if stem and stem in ws.frames:
            src = ws.image_path(stem)
            if src is not None and is_orthomosaic(src):
                o = self.ortho if self.ortho is not None and self.ortho.frame == stem else None
                h, w = (o.height, o.width) if o else self._size(src)
                parsed = parse_region_id(fid, h, w)
                if parsed is not None:
                    return stem, src, parsed[1]
        return None

    @staticmethod
    def _size(path: Path) -> tuple[int, int]:
        from seggui.core.imagesize import tiff_size

        return tiff_size(path) or (0, 0)

    def _on_frame(self, fid: str) -> None:
        found = self._find(fid)
        if found is None:
            self._drop_layer()
            return
        stem, src, region = found
        if self.ortho is None or self.ortho.frame != stem:
            self._make_layer(stem, src)
        assert self.ortho is not None and self.layer is not None
        self.ortho.region = region
        self._place()
        keep, self._keep = self._keep, None
        if keep is not None:
            centre, zoom = keep
            self.canvas.show_at(self.to_scene(centre), zoom * self.ortho.scale)
        self._hint()

    def _make_layer(self, stem: str, src: Path) -> None:
        self._drop_layer()
        ws = self.session.workspace
        pyramid = open_pyramid(src, ws.root, saved_bands(ws, src))  # View ▸ Bands… (core.geo.bands)
        files = OrthoFiles(ws.root, src)
        self.ortho = Ortho(stem, src, pyramid.height, pyramid.width, pyramid.picture_level, files)
        layer = TileLayer(pyramid, self.canvas.overlay_opacity,
                          lambda: self.view.view in ("prediction", "errors"))
        colours = mask_colours(self.session.classes, set(self.session.hidden))
        layer.loader = TileLoader(pyramid, files, colours)
        layer.loader.loaded.connect(layer.store)
        layer.loader.failed.connect(self.session.log.error)
        layer.view_rect = self.view_rect
        self.layer = layer
        self.canvas.scene().addItem(layer)
        picture = self.session.image(stem)
        if picture is not None:  # the whole extent, under a region's margins
            self.base = QGraphicsPixmapItem(QPixmap.fromImage(rgb_to_qimage(picture)))
            self.base.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
            self.base.setZValue(-1)
            self.canvas.scene().addItem(self.base)
        self._resync(ws, files)

    def reload(self) -> None:
        """Forget the tiles and the layer (other bands chosen): the next frame change builds them anew."""
        self._drop_layer()

    def _drop_layer(self) -> None:
        if self.layer is not None:
            if self.layer.loader is not None:
                self.layer.loader.close()
            self.canvas.scene().removeItem(self.layer)
            self.layer = None
        if self.base is not None:
            self.canvas.scene().removeItem(self.base)
            self.base = None
        self.ortho = None
        self.canvas.set_source_scale(1.0)

    def _place(self) -> None:
        """Put the tiles and the whole-extent picture under the canvas picture, in its coordinates."""
        o, layer = self.ortho, self.layer
        assert o is not None and layer is not None
        s, (x0, y0) = o.scale, o.origin
        self.canvas.set_source_scale(s, (x0, y0))  # the zoom figure, 1:1 and the readout count source pixels
        layer.setScale(1.0 / s)
        layer.setPos(-x0 / s, -y0 / s)
        r = o.region
        layer.hole = QRect(r[2], r[0], r[3] - r[2], r[1] - r[0]) if r is not None else None
        if self.base is not None:
            self.base.setScale((1 << o.level) / s)
            self.base.setPos(-x0 / s, -y0 / s)
            self.base.setVisible(r is not None)
        m = 4 * max(o.width, o.height) / s
        self.canvas.setSceneRect(QRectF(-x0 / s - m, -y0 / s - m, o.width / s + 2 * m, o.height / s + 2 * m))
        layer.update()

    def _on_colours(self) -> None:
        if self.layer is not None and self.layer.loader is not None:
            self.layer.loader.colours = mask_colours(self.session.classes, set(self.session.hidden))
            self.layer.tiles.clear()
            self.layer.update()

    # ------------------------------------------------------------ mapping
    def to_source(self, scene: QPointF) -> QPointF:
        o = self.ortho
        assert o is not None
        x0, y0 = o.origin
        return QPointF(scene.x() * o.scale + x0, scene.y() * o.scale + y0)

    def to_scene(self, source: QPointF) -> QPointF:
        o = self.ortho
        assert o is not None
        x0, y0 = o.origin
        return QPointF((source.x() - x0) / o.scale, (source.y() - y0) / o.scale)

    def view_rect(self) -> QRectF:
        """The source pixels in view."""
        vp = self.canvas.viewport().rect()
        a = self.to_source(self.canvas.map_to_image(QPointF(vp.topLeft())))
        b = self.to_source(self.canvas.map_to_image(QPointF(vp.bottomRight())))
        return QRectF(a, b)

    def source_zoom(self) -> float:
        """Screen px per source px."""
        return self.canvas.source_zoom()

    # ------------------------------------------------------------ regions
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if self.ortho is None or event.type() != QEvent.Type.MouseButtonPress:
            return False
        ev: QMouseEvent = event  # type: ignore[assignment]
        if ev.button() != Qt.MouseButton.LeftButton or self.editing.tool == "navigate" \
                or ev.modifiers() & Qt.KeyboardModifier.AltModifier:
            return False
        p = self.to_source(self.canvas.map_to_image(ev.position()))
        r = self.ortho.region
        if r is not None and r[0] <= p.y() < r[1] and r[2] <= p.x() < r[3]:
            return False  # inside the region being edited
        if self.source_zoom() < MIN_EDIT_ZOOM:
            self.session.log.warning(f"zoom in to edit {self.ortho.source.name}: painting works on "
                                     f"{REGION}-px regions at full resolution (zoom to 25% or more)")
            return True
        return not self.edit_at(p)

    def edit_at(self, p: QPointF) -> bool:
        """Make the region under source point `p` the frame being edited, keeping the view; False: not."""
        o, ws = self.ortho, self.session.workspace
        if o is None or ws is None:
            return False
        win = region_at(p.x(), p.y(), o.height, o.width)
        if win is None:
            return False
        if self.session.read_only:
            return False  # the editor says why when the press reaches it
        fid = region_id(o.source.stem, win)
        if not region_known(ws, o.source, win):
            table, bands = ws.classes, self.layer.pyramid.bands if self.layer is not None else None
            try:  # the files on a worker thread (the window paints), the workspace on this one
                picture, kinds = call_in_background(
                    lambda: write_region_files(ws.root, o.source, win, table, bands))
            except BadInputError as exc:
                self.session.log.report(exc)
                return False
            record_region(ws, fid, picture, kinds)
        self.switch_to(fid)
        return True

    def switch_to(self, fid: str) -> None:
        """Show another frame of this orthomosaic (a region, or the whole), the same ground in view."""
        centre = self.to_source(self.canvas.map_to_image(QPointF(self.canvas.viewport().rect().center())))
        self._keep = (centre, self.source_zoom())
        self.session.set_frame(fid)

    def _maybe_whole(self) -> None:
        """Zoomed out of a region past `BACK_TO_WHOLE` regions: back to the whole orthomosaic."""
        o = self.ortho
        if o is None or o.region is None or self.session.current == o.frame:
            return
        editor = self.session.editor
        if editor is not None and editor.in_stroke:
            return
        view = self.view_rect()
        if max(view.width(), view.height()) > BACK_TO_WHOLE * REGION:
            self.switch_to(o.frame)

    # ------------------------------------------------------------ writing back
    def _on_ws_mask(self, fid: str, kind: str) -> None:
        """A region's correction was saved: write its window into the correction GeoTIFF (worker thread)."""
        o, ws = self.ortho, self._ws
        if o is None or ws is None or kind != MaskKind.CORRECTED or not fid.startswith(o.files.stem + "@"):
            return
        source = o.source
        self._pending.append(self._writer.submit(self._write_back, ws, source, fid))

    def _write_back(self, ws: Any, source: Path, fid: str) -> None:
        try:
            path = write_back(ws, source, fid)
        except BadInputError as exc:
            self.writeFailed.emit(exc)
            return
        if path is not None:
            parsed = parse_region_id(fid, *self._size(source))
            if parsed is not None:
                self.writtenBack.emit(parsed[1])

    def _on_written(self, window: tuple[int, int, int, int]) -> None:
        if self.layer is not None:
            self.layer.forget_masks(window)

    def wait_written(self) -> None:
        """Block until every queued write-back is on disk (closing the window; tests)."""
        for fut in self._pending:
            fut.result()
        self._pending.clear()

    def _resync(self, ws: Any, files: OrthoFiles) -> None:
        """Regions corrected after the correction GeoTIFF was last written (a crash, a quit) go in now."""
        stamp = files.corrected.stat().st_mtime if files.corrected.is_file() else -math.inf
        for fid in ws.frames:
            if fid.startswith(files.stem + "@") and ws.mask_path(fid, MaskKind.CORRECTED).is_file() \
                    and ws.mask_path(fid, MaskKind.CORRECTED).stat().st_mtime > stamp:
                self._pending.append(self._writer.submit(self._write_back, ws, files.source, fid))

    # ------------------------------------------------------------ words
    def _hint(self) -> None:
        o = self.ortho
        if o is None:
            return
        if o.region is None:
            text = (f"Orthomosaic {o.source.name}, {o.width:,} × {o.height:,} px, shown through overviews: "
                    f"zoom in and paint to edit it by {REGION}-px regions.")
        else:
            r0, r1, c0, c1 = o.region
            text = (f"Editing region rows {r0}–{r1}, columns {c0}–{c1} of {o.source.name} at full "
                    "resolution: painting, undo and the figures cover this region.")
        self.view.hint.setText(text)

    def _on_hover(self, x: int, y: int) -> None:
        o = self.ortho
        if o is None or x < 0:
            return
        p = self.to_source(QPointF(x + 0.5, y + 0.5))
        rest = self.view.readout.text().split("  ·  ")[1:] if o.region is not None else []
        self.view.readout.setText("  ·  ".join([f"x {int(p.x())}, y {int(p.y())} of {o.source.name}", *rest]))

    def close(self) -> None:
        """Finish the write-backs and stop the tile reader (the window closes)."""
        self.wait_written()
        self._writer.shutdown(wait=True)
        self._drop_layer()
