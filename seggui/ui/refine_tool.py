"""The refine tool (R) on the canvas: clicks and boxes in, a preview of the refined region out.

Click: this is the class (a positive click); Shift+click: it is not (a
negative one); drag: a box around the region. Each click updates the
preview as soon as its cut is done (on a worker thread, the newest click
wins: `seggui.ui.refine_preview`); Enter keeps it as one undo step (once the
newest cut is in), Esc drops it, Backspace takes back the last click. The
clicks show as small circles (positive) and crosses (negative) drawn like
the brush outline. The work is
`seggui.ui.refine_preview.RefinePreview`'s; this only turns input into its calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QKeyEvent, QPainterPath

from seggui.ui.canvas_tools import ALT, Outline, cross_cursor

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.editing import EditController

SHIFT = Qt.KeyboardModifier.ShiftModifier
MARK_PX = 6  # click markers, in screen pixels
DRAG_PX = 4  # a press and release this far apart (screen pixels) is a box, not a click


class RefineTool:
    """Refine (R): see the module docstring."""

    name = "refine"

    def __init__(self, ctrl: EditController) -> None:
        self.ctrl = ctrl
        self.marks = Outline(ctrl.canvas)
        self._press: QPointF | None = None
        self._box: QRectF | None = None
        self.assist.settled.connect(self._draw)  # Enter kept the preview once its cut was in: markers go

    @property
    def assist(self):  # noqa: ANN201 - the AssistController's RefinePreview
        return self.ctrl.assist.refiner

    def activate(self) -> None:
        self._draw()

    def deactivate(self) -> None:
        """Leaving the tool (or the picture) drops a preview not kept with Enter."""
        self._press, self._box = None, None
        self.assist.drop()
        self.marks.hide()

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if modifiers & ALT:
            self.ctrl.pick_at(pos)
            return
        self._press = QPointF(pos)

    def move(self, pos: QPointF, _modifiers: Qt.KeyboardModifier) -> None:
        if self._press is not None and self._dragged(pos):
            self._box = QRectF(self._press, pos).normalized()
            self._draw()

    def release(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        start, self._press, self._box = self._press, None, None
        if start is None:
            return
        if self._dragged(pos, start):
            r = QRectF(start, pos).normalized()
            self.assist.refine_box((r.left(), r.top(), r.right(), r.bottom()))
        else:
            self.assist.refine_click(start.x(), start.y(), not modifiers & SHIFT)
        self._draw()

    def _dragged(self, pos: QPointF, start: QPointF | None = None) -> bool:
        start = start or self._press
        if start is None:
            return False
        zoom = max(self.ctrl.canvas.zoom(), 1e-6)
        return max(abs(pos.x() - start.x()), abs(pos.y() - start.y())) * zoom > DRAG_PX

    def hover(self, _pos: QPointF) -> None:
        cross_cursor(self.ctrl.canvas)

    def key(self, event: QKeyEvent) -> bool:
        k = event.key()
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            done = self.assist.commit()
        elif k == Qt.Key.Key_Escape:
            done = self.assist.drop()
        elif k == Qt.Key.Key_Backspace and self.assist.clicks:
            done = self.assist.undo_click()
        else:
            return False
        self._draw()
        return done

    def _draw(self) -> None:
        clicks = self.assist.clicks
        if not clicks and self._box is None and self.assist.box is None:
            self.marks.hide()
            return
        half = MARK_PX / 2 / max(self.ctrl.canvas.zoom(), 1e-6)
        path = QPainterPath()
        for c in clicks:
            if c.positive:
                path.addEllipse(QPointF(c.x, c.y), half, half)
            else:
                path.moveTo(c.x - half, c.y - half)
                path.lineTo(c.x + half, c.y + half)
                path.moveTo(c.x - half, c.y + half)
                path.lineTo(c.x + half, c.y - half)
        box = self._box
        if box is None and self.assist.box is not None:
            x0, y0, x1, y1 = self.assist.box
            box = QRectF(x0, y0, x1 - x0, y1 - y0)
        if box is not None:
            path.addRect(box)
        self.marks.set_path(path)
