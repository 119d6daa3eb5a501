"""The canvas: a picture with one translucent mask layer, zoom to cursor, pan, readout.

Scene coordinates are image pixel coordinates (the picture's top-left pixel
covers [0, 1) x [0, 1)), so anything that maps the mouse to the image is one
inverse transform and a floor.

Why these choices:
- The mask is a separate layer item whose opacity is the overlay slider, so
  moving the slider costs nothing but a repaint. The layer owns its QImage
  and paints only the exposed rectangle, so `update_overlay_patch` (the
  brush, per mouse move) writes a few pixels and repaints just those: a
  pixmap item would copy the whole layer on every write (its pixmap is
  shared) and repaint all of it (measured: ~85 ms per brush segment on a
  4096x4096 layer, tests/benchmarks/editing.py).
- The scene rectangle is the picture plus a wide margin on every side, so
  zooming at the cursor never hits a scroll limit and the pixel under the
  cursor really stays put (scroll bars would clamp it at the edges).
- Left-button input that is not a pan is handed to a `CanvasTool` in image
  coordinates; editing tools plug in there without touching this class.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPixmap, QTransform, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from seggui.ui.qtutil import rgb_to_qimage, rgba_to_qimage

MAX_ZOOM = 64.0  # screen pixels per image pixel
MIN_ZOOM_OF_FIT = 0.25  # the smallest zoom, as a share of the fit-to-window zoom
WHEEL_STEP = 1.25  # zoom factor per wheel notch (120 eighths of a degree)
MARGIN = 4.0  # scene margin around the picture, in picture sizes


class CanvasTool(Protocol):
    """What an editing tool receives: left-button strokes in image coordinates.

    A tool may also define any of `hover(pos)` (every mouse move, for an
    outline cursor), `leave()`, `double_click(pos, modifiers)`,
    `key(event) -> bool` and `wheel(steps, modifiers) -> bool` (Ctrl+wheel);
    the last two return True when they used the event.
    """

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...


class MaskLayer(QGraphicsItem):
    """An RGBA layer the canvas owns as a QImage; paints only the exposed part, nearest neighbour."""

    def __init__(self) -> None:
        super().__init__()
        self.image = QImage()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def set_image(self, image: QImage) -> None:
        self.prepareGeometryChange()
        # premultiplied once here, so painting never converts
        self.image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied) \
            if not image.isNull() else image
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(0, 0, self.image.width(), self.image.height())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              _widget: QWidget | None = None) -> None:
        if self.image.isNull():
            return
        area = option.exposedRect.toAlignedRect().intersected(self.image.rect())
        if not area.isEmpty():
            painter.drawImage(area.topLeft(), self.image, area)

    def patch(self, x: int, y: int, image: QImage) -> None:
        """Overwrite a rectangle (alpha included) and repaint only it."""
        painter = QPainter(self.image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(QPoint(x, y), image)
        painter.end()
        self.update(QRectF(x, y, image.width(), image.height()))


class Canvas(QGraphicsView):
    """Shows one picture and one RGBA layer; emits the image pixel under the cursor."""

    pixelHovered = Signal(int, int)  # image x, y; (-1, -1) when off the picture
    zoomChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # source pixels per scene pixel: 1, but 2**level where an orthomosaic shows a coarser level
        self.source_scale = 1.0
        self.source_origin = (0.0, 0.0)  # the source pixel at the scene's (0, 0) (an orthomosaic region's)
        self.setScene(QGraphicsScene(self))
        self._image_item = QGraphicsPixmapItem()
        self._image_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self._overlay_item = MaskLayer()
        self._overlay_item.setZValue(1)
        self._overlay_item.setOpacity(0.5)
        self.scene().addItem(self._image_item)
        self.scene().addItem(self._overlay_item)
        self._size: tuple[int, int] = (0, 0)  # width, height
        self._fit_mode = True
        self._space = False
        self._pan_from: QPoint | None = None
        self.tool: CanvasTool | None = None
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(QColor(48, 48, 52))
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # drops go to the main window, which opens them
        self.viewport().setMouseTracking(True)
        self.setMinimumSize(200, 150)

    # ---------------------------------------------------------------- content
    def image_size(self) -> tuple[int, int]:
        """(width, height) of the shown picture; (0, 0) when empty."""
        return self._size

    def has_image(self) -> bool:
        return self._size != (0, 0)

    def set_image(self, rgb: np.ndarray | None, keep_view: bool = False) -> None:
        """Show a picture (RGB uint8); a picture of the same size keeps the view if asked."""
        if rgb is None:
            self._image_item.setPixmap(QPixmap())
            self._overlay_item.set_image(QImage())
            self._size = (0, 0)
            return
        h, w = rgb.shape[:2]
        same = (w, h) == self._size
        self._image_item.setPixmap(QPixmap.fromImage(rgb_to_qimage(rgb)))
        self._size = (w, h)
        m = MARGIN * max(w, h)
        self.setSceneRect(QRectF(-m, -m, w + 2 * m, h + 2 * m))
        if not (keep_view and same):
            self.fit()

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """Replace the mask layer (RGBA uint8 of the picture's size) or clear it."""
        if rgba is None:
            self._overlay_item.set_image(QImage())
            return
        if (rgba.shape[1], rgba.shape[0]) != self._size:
            raise ValueError(f"layer {rgba.shape[1]}x{rgba.shape[0]} does not match picture {self._size}")
        self._overlay_item.set_image(rgba_to_qimage(rgba))

    def update_overlay_patch(self, x: int, y: int, rgba: np.ndarray) -> None:
        """Overwrite a rectangle of the mask layer (its top-left at image x, y); repaints only it."""
        if self._overlay_item.image.isNull():
            return
        self._overlay_item.patch(int(x), int(y), rgba_to_qimage(rgba))

    def has_overlay(self) -> bool:
        return not self._overlay_item.image.isNull()

    def overlay_pixmap(self) -> QPixmap:
        """The mask layer as a pixmap (a copy: for tests and screenshots)."""
        return QPixmap.fromImage(self._overlay_item.image)

    def overlay_opacity(self) -> float:
        return self._overlay_item.opacity()

    def set_overlay_opacity(self, opacity: float) -> None:
        self._overlay_item.setOpacity(min(1.0, max(0.0, float(opacity))))

    # -------------------------------------------------------------- geometry
    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self.transform().m11()

    def map_to_image(self, view_pos: QPointF | QPoint) -> QPointF:
        """A viewport position in image coordinates (sub-pixel, not clamped)."""
        inv, _ok = self.viewportTransform().inverted()
        return inv.map(QPointF(view_pos))

    def map_from_image(self, image_pos: QPointF) -> QPointF:
        """An image position in viewport coordinates."""
        return self.viewportTransform().map(QPointF(image_pos))

    def pixel_at(self, view_pos: QPointF | QPoint) -> tuple[int, int] | None:
        """The image pixel (x, y) under a viewport position, or None off the picture."""
        p = self.map_to_image(view_pos)
        x, y = math.floor(p.x()), math.floor(p.y())
        w, h = self._size
        return (x, y) if 0 <= x < w and 0 <= y < h else None

    def fit_zoom(self) -> float:
        w, h = self._size
        if not w or not h:
            return 1.0
        vp = self.viewport().rect()
        return max(1e-6, min(vp.width() / w, vp.height() / h))

    def fit(self) -> None:
        """Show the whole picture, centred; the view refits on resize until the user zooms."""
        self._fit_mode = True
        self._set_scale(self.fit_zoom())
        self.centerOn(self._size[0] / 2, self._size[1] / 2)

    def actual_size(self) -> None:
        """One source pixel per screen pixel (an orthomosaic's, not its level's), keeping the centre."""
        centre = self.map_to_image(QPointF(self.viewport().rect().center()))
        self._fit_mode = False
        self._set_scale(min(MAX_ZOOM, self.source_scale))
        self.centerOn(centre)

    def source_zoom(self) -> float:
        """Screen pixels per source pixel: what the zoom figure says."""
        return self.zoom() / self.source_scale

    def set_source_scale(self, scale: float, origin: tuple[float, float] = (0.0, 0.0)) -> None:
        """Source pixels per scene pixel and the source pixel at the scene's origin (see `source_scale`);
        the zoom figure follows at once."""
        self.source_origin = origin
        if scale != self.source_scale:
            self.source_scale = scale
            self.zoomChanged.emit(self.zoom())

    def source_xy(self, x: int, y: int) -> tuple[int, int]:
        """A picture pixel as the source's pixel (the same for a plain picture)."""
        return (int(x * self.source_scale + self.source_origin[0]),
                int(y * self.source_scale + self.source_origin[1]))

    def show_at(self, centre: QPointF, zoom: float) -> None:
        """Centre the view on a picture point at a zoom (an orthomosaic keeps its view across pictures)."""
        self._fit_mode = False
        self._set_scale(min(MAX_ZOOM, max(1e-6, zoom)))
        self.centerOn(centre)

    def zoom_at(self, factor: float, view_pos: QPointF) -> None:
        """Multiply the zoom by `factor`, keeping the image point under `view_pos` fixed."""
        if not self.has_image():
            return
        target = min(MAX_ZOOM, max(MIN_ZOOM_OF_FIT * self.fit_zoom(), self.zoom() * factor))
        if math.isclose(target, self.zoom()):
            return
        anchor = self.map_to_image(view_pos)
        self._fit_mode = False
        self._set_scale(target)
        moved = self.map_from_image(anchor) - QPointF(view_pos)
        self._scroll_by(moved.x(), moved.y())

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the picture by (dx, dy) screen pixels (positive: picture moves right/down)."""
        self._fit_mode = False
        self._scroll_by(-dx, -dy)

    def _scroll_by(self, dx: float, dy: float) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def _set_scale(self, zoom: float) -> None:
        self.setTransform(QTransform.fromScale(zoom, zoom))
        # nearest-neighbour when magnified (see the pixels), smooth when reduced
        mode = Qt.TransformationMode.FastTransformation if zoom >= 1 else \
            Qt.TransformationMode.SmoothTransformation
        self._image_item.setTransformationMode(mode)
        self.zoomChanged.emit(zoom)

    # ---------------------------------------------------------------- events
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._fit_mode and self.has_image():
            self.fit()

    def _tool_hook(self, name: str):  # noqa: ANN202 - an optional method of the tool, or None
        return getattr(self.tool, name, None) if self.tool is not None else None

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        wheel = self._tool_hook("wheel")
        if steps and event.modifiers() & Qt.KeyboardModifier.ControlModifier and wheel is not None \
                and wheel(steps, event.modifiers()):
            event.accept()
            return
        if steps:
            self.zoom_at(WHEEL_STEP ** steps, event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        key = self._tool_hook("key")
        if key is not None and key(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = False
                if self._pan_from is None:
                    self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton and self.tool is not None and self.has_image():
            self.tool.press(self.map_to_image(event.position()), event.modifiers())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._pan_from is not None:
            now = pos.toPoint()
            delta = now - self._pan_from
            self._pan_from = now
            self.pan_by(delta.x(), delta.y())
        elif self.tool is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.tool.move(self.map_to_image(pos), event.modifiers())
        hover = self._tool_hook("hover")
        if hover is not None and self.has_image():
            hover(self.map_to_image(pos))
        pixel = self.pixel_at(pos)
        self.pixelHovered.emit(*(pixel if pixel is not None else (-1, -1)))
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton,
                                                             Qt.MouseButton.LeftButton):
            self._pan_from = None
            if self._space:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.viewport().unsetCursor()
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self.tool is not None and self.has_image():
            self.tool.release(self.map_to_image(event.position()), event.modifiers())
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        double = self._tool_hook("double_click")
        if event.button() == Qt.MouseButton.LeftButton and double is not None and self.has_image() \
                and not self._space:
            double(self.map_to_image(event.position()), event.modifiers())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        leave = self._tool_hook("leave")
        if leave is not None:
            leave()
        self.pixelHovered.emit(-1, -1)
        super().leaveEvent(event)
