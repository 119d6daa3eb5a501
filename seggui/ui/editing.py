"""Mask editing in the window: one controller between the canvas tools and `seggui.core.editing`.

The controller owns the `Editor` of the current picture (made on the first
edit, from the correction, else the prediction when "start from the
prediction" is on, else a blank mask) and the session serves that editor's
labels and live confusion matrix as the picture's current mask and figures.
After every change it:

- repaints only the changed rectangle of the mask layer (`Canvas.update_overlay_patch`),
- tells the panels (`Session.editChanged`, at most ~30 times a second while
  a stroke is drawn, at once when it ends) so IoU and m² follow the brush
  from the incrementally updated matrix and counts,
- schedules the autosave (300 ms after the last edit, or when the next
  stroke starts), encoded and written on a worker thread so the next stroke
  never waits for it; leaving the picture, Ctrl+S and mark reviewed write at
  once. A crash loses at most the stroke being drawn. The save path (its one
  `SaveState`, parked and unsaved editors) is `seggui.ui.edit_saving`; the
  status a save moves is told by the workspace, never emitted from here.
  And a "settled" signal when editing pauses, for the figures that need a
  whole pass (region counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, QPointF, QTimer, Signal

from seggui.core.editing import DEFAULT_BUDGET, Change, Editor, blank_labels, starting_labels
from seggui.core.editing import unlabelled_value as table_unlabelled
from seggui.core.editing.superpixels import Segments
from seggui.core.errorview import view_rgba
from seggui.ui.assist import AssistController
from seggui.ui.canvas_tools import FillTool, NavigateTool, PaintTool, PickerTool, PolygonTool
from seggui.ui.edit_saving import EditSaving
from seggui.ui.refine_tool import RefineTool
from seggui.ui.session import Session
from seggui.ui.superpixel_tool import SuperpixelTool
from seggui.ui.view_panel import ViewPanel

TOOLS = ("navigate", "brush", "eraser", "fill", "polygon", "picker", "refine", "superpixel")
EMIT_INTERVAL_MS = 33
SETTLE_DELAY_MS = 700


class EditController(QObject):
    """Tools, settings, the current editor, autosave; see the module docstring."""

    toolChanged = Signal(str)
    sizeChanged = Signal(int)
    stateChanged = Signal()  # undo/redo availability, saved state, options

    def __init__(self, session: Session, view: ViewPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.view = view
        self.canvas = view.canvas
        self.size = 15
        self.paint_over: int | None = None  # None: paint over everything; an id: only over that label
        self.eraser_value: int | None = None  # None: the table's unlabelled id
        self.fill_global = False
        self.start_from_prediction = True
        self.budget_bytes = DEFAULT_BUDGET
        self._previous_tool = "brush"
        self.saving = EditSaving(lambda: self.session.log, self.stateChanged.emit,
                                 lambda: self.editor is None or self.editor.in_stroke, self)
        self.shelf, self.unsaved, self.writer = self.saving.shelf, self.saving.unsaved, self.saving.writer
        self._save_timer = self.saving.timer
        self._emit_timer = self._timer(EMIT_INTERVAL_MS, self._emit_now)
        self._settle_timer = self._timer(SETTLE_DELAY_MS, self._settle)
        self.tools: dict[str, Any] = {"navigate": NavigateTool(self), "brush": PaintTool(self, erase=False),
                      "eraser": PaintTool(self, erase=True), "fill": FillTool(self),
                      "polygon": PolygonTool(self), "picker": PickerTool(self)}
        self.assist = AssistController(self)  # refine, propagation, most-uncertain next (seggui.ui.assist)
        self.tools["refine"] = RefineTool(self)
        self.superpixel_size = 24  # segment size of the superpixel brush, pixels across
        self.tools["superpixel"] = SuperpixelTool(self)
        self.tool = "navigate"  # browsing never edits: painting starts with B (or another tool)
        self.canvas.tool = self.tools["navigate"]
        session.leaving.connect(self.finish)
        session.opened.connect(self.saving.forget)
        session.frameChanged.connect(self._resume_unsaved)
        session.masksChanged.connect(self._on_masks)
        session.opened.connect(self.stateChanged.emit)

    def _timer(self, ms: int, slot) -> QTimer:  # noqa: ANN001
        t = QTimer(self)
        t.setSingleShot(True)
        t.setInterval(ms)
        t.timeout.connect(slot)
        return t

    # ------------------------------------------------------------ settings
    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown tool {name!r}")
        if name == self.tool:
            return
        self.tools[self.tool].deactivate()
        if self.tool != "picker":
            self._previous_tool = self.tool
        self.tool = name
        self.canvas.tool = self.tools[name]
        self.tools[name].activate()
        self.toolChanged.emit(name)

    def set_size(self, size: int) -> None:
        size = max(1, min(500, int(size)))
        if size != self.size:
            self.size = size
            for name in ("brush", "eraser", "superpixel"):
                self.tools[name].refresh()
            self.sizeChanged.emit(size)

    def set_paint_over(self, value: int | None) -> None:
        self.paint_over = value
        self.stateChanged.emit()

    def unlabelled_value(self) -> int | None:
        table = self.session.classes
        return None if table is None else table_unlabelled(table)

    def erase_value(self) -> int | None:
        return self.eraser_value if self.eraser_value is not None else self.unlabelled_value()

    # -------------------------------------------------------------- editor
    @property
    def editor(self) -> Editor | None:
        s = self.session
        return s.editor if s.editor is not None and s.editor_frame == s.current else None

    def ensure_editor(self) -> Editor | None:
        """The current picture's editor, made on first use; None (with a message) when there is no picture."""
        shown = self.view.view
        if shown in ("ground_truth", "picture", "model"):
            self.view.set_view("prediction")  # show the mask being edited, or the edit is invisible
            if shown == "model":  # it says "read only": say where the stroke goes (Ctrl+Z takes it back)
                self.session.log.info("painting edits your correction, not the model's prediction: the view "
                                      "is back on Prediction (Alt+1); Alt+5 shows the model's again")
        if self.editor is not None:
            return self.editor
        s = self.session
        image = s.image()
        if s.workspace is None or s.current is None or image is None or s.classes is None:
            return None
        if s.read_only:  # another window has it: painting here would be lost or overwrite theirs
            s.log.warning(f"read-only: this workspace is open in another window ({s.read_only}); close it "
                          "there and open the workspace again here to correct masks")
            return None
        self.finish()
        editor, returned = self._unshelve()
        if editor is None:
            try:
                labels = starting_labels(image.shape[:2], s.classes, s.mask("corrected"), s.mask("predicted"),
                                         self.start_from_prediction)
            except ValueError as exc:
                s.log.error(f"{s.current}: cannot edit ({exc})")
                return None
            editor = Editor(labels, s.classes, s.mask("ground_truth"), self.budget_bytes)
        self.saving.start(s.workspace, s.current, editor, returned)
        s.set_editor(s.current, editor)
        self.view.refresh_layer()  # once: the layer now shows the labels being edited
        self.stateChanged.emit()
        return editor

    def _unshelve(self) -> tuple[Editor | None, bool]:
        """(the editor parked when this frame was left, whether it is unsaved work): EditSaving.unshelve."""
        s = self.session
        if s.workspace is None or s.current is None:
            return None, False
        editor, returned = self.saving.unshelve(s.workspace, s.current)
        if editor is not None and not returned:
            editor.set_ground_truth(s.mask("ground_truth"))  # it may have been imported meanwhile
        return editor, returned

    def _resume_unsaved(self, frame_id: str) -> None:
        """Back on a frame whose correction could not be written: show and keep editing that work."""
        if frame_id in self.saving.unsaved and self.ensure_editor() is not None:
            self.session.log.warning(f"{frame_id}: showing the correction that could not be saved; "
                                     "it is written again now (Ctrl+S to retry)")
            self.saving.flush_in_background()

    def finish(self) -> None:
        """Save and let go of the editor (before the picture or workspace changes, and on close).

        An editor with undo steps is parked on the shelf (see
        `seggui.core.editing.shelf`), so coming back to the frame brings its
        history back; one whose save failed is kept as unsaved work.
        """
        editor = self.session.editor
        if editor is None:
            return
        for tool in self.tools.values():
            tool.deactivate()
        editor.end_stroke()
        self._emit_timer.stop()
        self._settle_timer.stop()
        self.flush()
        if self.session.editor_frame is not None:
            self.saving.park(self.session.editor_frame, editor)
        self.session.set_editor(None, None)
        self.saving.stop()
        self.tools[self.tool].activate()
        self.stateChanged.emit()

    def flush(self) -> bool:
        """Write a pending autosave now (Ctrl+S); False when nothing was written (or it failed)."""
        return self.saving.flush()

    @property
    def saved(self) -> bool:
        return self.saving.saved

    @property
    def save_failed(self) -> bool:
        """The last write of the current correction failed and it is still not on disk."""
        return self.saving.failed

    # ------------------------------------------------------------- strokes
    def _paint_value(self, erase: bool) -> int | None:
        if erase:
            return self.erase_value()
        if self.session.active_class is None:
            self.session.log.warning("choose a class to paint in the Classes panel")
        return self.session.active_class

    def _only_over(self) -> set[int] | None:
        return None if self.paint_over is None else {self.paint_over}

    def begin_stroke(self, pos: QPointF, erase: bool = False, segments: Segments | None = None) -> bool:
        """Start a brush or eraser (or superpixel) stroke at `pos`; False when there is nothing to paint."""
        value = self._paint_value(erase)
        editor = self.ensure_editor() if value is not None else None
        if editor is None or value is None:
            return False
        if self._save_timer.isActive():
            self.saving.flush_in_background()  # the previous stroke goes to disk while this one is drawn
        try:
            editor.begin_stroke(self.size, value, self._only_over(), segments)
        except ValueError as exc:  # superpixels of another picture size
            self.session.log.error(f"{self.session.current}: {exc}")
            return False
        self._changed(editor.stroke_to(pos.x(), pos.y()), final=False)
        return True

    def stroke_to(self, pos: QPointF) -> None:
        editor = self.editor
        if editor is not None and editor.in_stroke:
            self._changed(editor.stroke_to(pos.x(), pos.y()), final=False)

    def end_stroke(self) -> None:
        editor = self.editor
        if editor is not None and editor.in_stroke:
            self._changed(editor.end_stroke())

    def cancel_stroke(self) -> None:
        editor = self.editor
        if editor is not None:
            self._changed(editor.cancel_stroke())

    # --------------------------------------------------------------- tools
    def fill_at(self, pos: QPointF) -> None:
        value = self._paint_value(False)
        editor = self.ensure_editor() if value is not None else None
        if editor is not None and value is not None:
            self._changed(editor.fill(pos.x(), pos.y(), value, not self.fill_global, self._only_over()))

    def polygon(self, points: Sequence[tuple[float, float]]) -> None:
        value = self._paint_value(False)
        editor = self.ensure_editor() if value is not None else None
        if editor is not None and value is not None:
            self._changed(editor.polygon(points, value, self._only_over()))

    def pick_at(self, pos: QPointF, return_to_previous: bool = False) -> int | None:
        """Make the label under `pos` the brush class (the eraser for unlabelled pixels)."""
        labels = self.session.mask("current")
        x, y = int(pos.x() // 1), int(pos.y() // 1)
        if labels is None or not (0 <= y < labels.shape[0] and 0 <= x < labels.shape[1]):
            return None
        value = int(labels[y, x])
        table = self.session.classes
        if table is not None and value in table.scored_ids:
            self.session.set_active_class(value)
            back = self._previous_tool if self._previous_tool != "navigate" else "brush"
            self.set_tool(back if return_to_previous else self.tool)
        else:
            self.set_tool("eraser")
        return value

    # ------------------------------------------------------------ commands
    def undo(self) -> None:
        editor = self.editor or (self.ensure_editor() if self.saving.parked(self.session.current) else None)
        if editor is not None:
            self._changed(editor.undo())

    def redo(self) -> None:
        editor = self.editor or (self.ensure_editor() if self.saving.parked(self.session.current) else None)
        if editor is not None:
            self._changed(editor.redo())

    def accept_prediction(self) -> None:
        """Start from the model's mask: the labels become the prediction (undoable), saved at once."""
        s = self.session
        pred = s.mask("predicted")
        if pred is None:
            s.log.warning(f"{s.current or 'this picture'} has no prediction to accept: run a model first")
            return
        editor = self.ensure_editor()
        if editor is not None:
            self._changed(editor.replace(pred))
            self.saving.save_now(force=True)  # the workspace tells the views of the new status

    def clear(self) -> None:
        editor = self.ensure_editor()
        if editor is not None and self.session.classes is not None:
            self._changed(editor.replace(blank_labels(editor.labels.shape, self.session.classes)))

    def copy_previous(self) -> None:
        """Take the labels of the previous frame: in its drive on a drive (near-identical), else in the list.

        The first frame of a drive has no previous frame: the list's neighbour
        would be another drive's last frame, a different street.
        """
        s = self.session
        drive = s.drive_frames()
        ids = drive or s.frame_ids
        if s.current not in ids or ids.index(s.current) == 0:
            where = "it is the first frame of its drive" if drive else "it is the first picture"
            s.log.warning(f"there is no previous frame to copy labels from ({where})")
            return
        prev = ids[ids.index(s.current) - 1]
        labels = s.mask("current", prev)
        if labels is None:
            s.log.warning(f"the previous picture ({prev}) has no mask to copy")
            return
        editor = self.ensure_editor()
        if editor is None:
            return
        try:
            self._changed(editor.replace(labels))
        except ValueError as exc:
            s.log.error(f"cannot copy the labels of {prev}: {exc}")

    def mark_reviewed(self) -> None:
        """Save the current mask as the correction and mark the picture reviewed (the retraining set)."""
        s = self.session
        if s.workspace is None or s.current is None:
            return
        if self.editor is None and s.mask("current") is None:
            s.log.warning(f"{s.current} has no mask to review yet")
            return
        editor = self.ensure_editor()
        if editor is None or self.saving.saver is None:
            return
        editor.end_stroke()
        if self.saving.save_now(reviewed=True):  # the workspace tells the views of the new status
            s.log.info(f"{s.current} marked reviewed")

    # ------------------------------------------------------------ internals
    def _changed(self, change: Change | None, final: bool = True) -> None:
        editor = self.editor
        if editor is None:
            return
        if change is not None:
            self.repaint_dirty()
            self._settle_timer.start()
        if final:
            self._emit_timer.stop()
            self._emit_now()
            self.saving.schedule()
            self.stateChanged.emit()
        elif change is not None and not self._emit_timer.isActive():
            self._emit_timer.start()

    def repaint_dirty(self) -> None:
        """Repaint the mask layer inside the rectangle the edits changed since the last repaint."""
        editor, s = self.editor, self.session
        dirty = editor.map.take_dirty() if editor is not None else None
        if dirty is None or s.classes is None:
            return
        x, y, w, h = dirty
        labels = editor.labels[y:y + h, x:x + w]
        view = self.view.view
        if view not in ("prediction", "errors"):
            return  # the ground-truth and picture views do not show the edited mask
        gt = editor.live.gt[y:y + h, x:x + w] if editor.live.gt is not None else None
        rgba = view_rgba(view, labels, gt, s.classes, s.hidden, s.active_class)
        if rgba is None:
            return
        if not self.canvas.has_overlay():
            self.view.refresh_layer()
        else:
            self.canvas.update_overlay_patch(x, y, rgba)

    def _emit_now(self) -> None:
        if self.session.editor_frame is not None:
            self.session.note_edit(self.session.editor_frame)

    def _settle(self) -> None:
        editor = self.editor
        if editor is None:
            return
        if editor.in_stroke:
            self._settle_timer.start()
            return
        self.session.note_edit(self.session.editor_frame or "", settled=True)

    def _on_masks(self, frame_id: str) -> None:
        """New ground truth (or a prediction) for the picture being edited: recount its matrix."""
        editor = self.editor
        if editor is not None and frame_id == self.session.editor_frame:
            gt = self.session.mask("ground_truth")
            if gt is not editor.live.gt:
                editor.set_ground_truth(gt)
                self._emit_now()
