"""The editing tools as canvas tools: brush, eraser, fill, polygon, picker, and their outlines.

Each tool turns canvas input (image coordinates) into calls on the
`EditController`; none touches a mask itself. The brush outline is a scene
item of the brush's true size, centred where the dab will land
(`seggui.core.editing.dab_centre`), so at any zoom it circles exactly the
pixels a click paints. Outlines draw with cosmetic pens (one screen pixel,
black under white dashes, visible on any picture); their bounding box grows
by a few screen pixels at the current zoom so no trail is left when they move.
Alt+click picks the label under the pointer with any tool. The default
tool is Navigate (left-drag pans), so browsing pictures never edits a mask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from seggui.core.editing import dab_centre
from seggui.ui.canvas import Canvas

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.editing import EditController

ALT = Qt.KeyboardModifier.AltModifier
VERTEX_PX = 5  # polygon vertex markers, in screen pixels
SIZE_STEP = 1.2


def next_size(size: int, direction: int) -> int:
    """The brush size one step up or down (x1.2, at least one pixel), within 1..500."""
    if direction > 0:
        return min(500, max(size + 1, round(size * SIZE_STEP)))
    return max(1, min(size - 1, round(size / SIZE_STEP)))


def cross_cursor(canvas: Canvas) -> None:
    """A cross over the picture while a painting tool is active (unless a tool set its own cursor)."""
    vp = canvas.viewport()
    if vp.cursor().shape() == Qt.CursorShape.ArrowCursor:
        vp.setCursor(Qt.CursorShape.CrossCursor)


class Outline(QGraphicsItem):
    """A path drawn one screen pixel wide, black with white dashes, above the mask layer."""

    def __init__(self, canvas: Canvas) -> None:
        super().__init__()
        self.canvas = canvas
        self._path = QPainterPath()
        self._margin = 4.0
        self.setZValue(10)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        canvas.scene().addItem(self)
        canvas.zoomChanged.connect(self._on_zoom)
        self._on_zoom(canvas.zoom())
        self.hide()

    def _on_zoom(self, zoom: float) -> None:
        self.prepareGeometryChange()
        self._margin = 4.0 / max(zoom, 1e-6)

    def set_path(self, path: QPainterPath) -> None:
        self.prepareGeometryChange()
        self._path = path
        self.show()

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        m = self._margin
        return self._path.boundingRect().adjusted(-m, -m, m, m)

    def paint(self, painter: QPainter, _option: QStyleOptionGraphicsItem,
              _widget: QWidget | None = None) -> None:
        dark = QPen(QColor(0, 0, 0), 0)
        dark.setCosmetic(True)
        light = QPen(QColor(255, 255, 255), 0, Qt.PenStyle.DashLine)
        light.setCosmetic(True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for pen in (dark, light):
            painter.setPen(pen)
            painter.drawPath(self._path)


class NavigateTool:
    """Navigate (H): left-drag pans, keeping the grabbed picture point under the pointer."""

    name = "navigate"

    def __init__(self, ctrl: EditController) -> None:
        self.ctrl = ctrl
        self._grab: QPointF | None = None

    def activate(self) -> None: ...

    def deactivate(self) -> None:
        self._grab = None

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if modifiers & ALT:
            self.ctrl.pick_at(pos)
            return
        self._grab = QPointF(pos)
        self.ctrl.canvas.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, pos: QPointF, _modifiers: Qt.KeyboardModifier) -> None:
        if self._grab is not None:
            zoom = self.ctrl.canvas.zoom()
            self.ctrl.canvas.pan_by((pos.x() - self._grab.x()) * zoom, (pos.y() - self._grab.y()) * zoom)

    def release(self, _pos: QPointF, _modifiers: Qt.KeyboardModifier) -> None:
        self._grab = None
        self.ctrl.canvas.viewport().unsetCursor()


class PaintTool:
    """Brush (B) or eraser (E): round strokes; Ctrl+wheel sizes; Esc takes back the stroke in progress."""

    def __init__(self, ctrl: EditController, erase: bool) -> None:
        self.ctrl = ctrl
        self.erase = erase
        self.name = "eraser" if erase else "brush"
        self.cursor = Outline(ctrl.canvas)
        self._stroking = False
        self._last: QPointF | None = None

    def activate(self) -> None:
        if self._last is not None:
            self.hover(self._last)

    def deactivate(self) -> None:
        if self._stroking:
            self.ctrl.end_stroke()
            self._stroking = False
        self.cursor.hide()

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if modifiers & ALT:
            self.ctrl.pick_at(pos)
            return
        self._stroking = self.ctrl.begin_stroke(pos, self.erase)

    def move(self, pos: QPointF, _modifiers: Qt.KeyboardModifier) -> None:
        if self._stroking:
            self.ctrl.stroke_to(pos)

    def release(self, pos: QPointF, _modifiers: Qt.KeyboardModifier) -> None:
        if self._stroking:
            self._stroking = False
            self.ctrl.stroke_to(pos)
            self.ctrl.end_stroke()

    def hover(self, pos: QPointF) -> None:
        self._last = QPointF(pos)
        size = self.ctrl.size
        cx, cy = dab_centre(pos.x(), pos.y(), size)
        path = QPainterPath()
        path.addEllipse(QPointF(cx, cy), size / 2, size / 2)
        self.cursor.set_path(path)
        cross_cursor(self.ctrl.canvas)

    def leave(self) -> None:
        self.cursor.hide()

    def key(self, event: QKeyEvent) -> bool:
        if event.key() == Qt.Key.Key_Escape and self._stroking:
            self._stroking = False
            self.ctrl.cancel_stroke()
            return True
        return False

    def wheel(self, steps: float, _modifiers: Qt.KeyboardModifier) -> bool:
        self.ctrl.set_size(next_size(self.ctrl.size, 1 if steps > 0 else -1))
        if self._last is not None:
            self.hover(self._last)
        return True

    def refresh(self) -> None:
        """Redraw the outline after a size change."""
        if self._last is not None and self.cursor.isVisible():
            self.hover(self._last)


class FillTool:
    """Flood fill (F): replaces the clicked label (contiguous or global, a toolbar option)."""

    name = "fill"

    def __init__(self, ctrl: EditController) -> None:
        self.ctrl = ctrl

    def activate(self) -> None: ...

    def deactivate(self) -> None: ...

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if modifiers & ALT:
            self.ctrl.pick_at(pos)
        else:
            self.ctrl.fill_at(pos)

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def hover(self, _pos: QPointF) -> None:
        cross_cursor(self.ctrl.canvas)


class PolygonTool:
    """Polygon fill (P): click vertices; Enter or double-click fills, Backspace drops one, Esc cancels."""

    name = "polygon"

    def __init__(self, ctrl: EditController) -> None:
        self.ctrl = ctrl
        self.points: list[QPointF] = []
        self.outline = Outline(ctrl.canvas)
        self._pointer: QPointF | None = None

    def activate(self) -> None: ...

    def deactivate(self) -> None:
        self.cancel()

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if modifiers & ALT:
            self.ctrl.pick_at(pos)
            return
        self.points.append(QPointF(pos))
        self._draw()

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def double_click(self, _pos: QPointF, _modifiers: Qt.KeyboardModifier) -> None:
        self.close()

    def hover(self, pos: QPointF) -> None:
        self._pointer = QPointF(pos)
        cross_cursor(self.ctrl.canvas)
        if self.points:
            self._draw()

    def key(self, event: QKeyEvent) -> bool:
        k = event.key()
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.points:
            self.close()
            return True
        if k == Qt.Key.Key_Escape and self.points:
            self.cancel()
            return True
        if k == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self._draw()
            return True
        return False

    def close(self) -> None:
        """Fill the polygon drawn so far (three vertices or more) and start a new one."""
        points = [(p.x(), p.y()) for p in self.points]
        self.cancel()
        if len(points) >= 3:
            self.ctrl.polygon(points)

    def cancel(self) -> None:
        self.points = []
        self.outline.hide()

    def _draw(self) -> None:
        if not self.points:
            self.outline.hide()
            return
        path = QPainterPath(self.points[0])
        for p in self.points[1:]:
            path.lineTo(p)
        if self._pointer is not None:
            path.lineTo(self._pointer)
        if len(self.points) >= 2:
            path.lineTo(self.points[0])
        half = VERTEX_PX / 2 / max(self.ctrl.canvas.zoom(), 1e-6)
        for p in self.points:
            path.addRect(QRectF(p.x() - half, p.y() - half, 2 * half, 2 * half))
        self.outline.set_path(path)


class PickerTool:
    """Label picker (L): the clicked label becomes the brush's class, then the previous tool returns."""

    name = "picker"

    def __init__(self, ctrl: EditController) -> None:
        self.ctrl = ctrl

    def activate(self) -> None: ...

    def deactivate(self) -> None: ...

    def press(self, pos: QPointF, _modifiers: Qt.KeyboardModifier) -> None:
        self.ctrl.pick_at(pos, return_to_previous=True)

    def move(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None: ...

    def hover(self, _pos: QPointF) -> None:
        cross_cursor(self.ctrl.canvas)
