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
  stroke starts), encoded and written on a worker thread
  (`seggui.ui.save_worker`) so the next stroke never waits for it; leaving
  the picture, Ctrl+S and mark reviewed write at once. A crash loses at most
  the stroke being drawn. And a "settled" signal when editing pauses, for
  the figures that need a whole pass (region counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, QPointF, Qt, QTimer, Signal

from seggui.core.editing import (
    DEFAULT_BUDGET,
    AutoSave,
    Change,
    Editor,
    EditorShelf,
    blank_labels,
    file_stamp,
    starting_labels,
)
from seggui.core.editing import unlabelled_value as table_unlabelled
from seggui.core.errors import SegguiError
from seggui.core.errorview import view_rgba
from seggui.core.workspace import FrameStatus
from seggui.ui.canvas_tools import FillTool, NavigateTool, PaintTool, PickerTool, PolygonTool
from seggui.ui.save_worker import SaveWorker
from seggui.ui.session import Session
from seggui.ui.view_panel import ViewPanel

TOOLS = ("navigate", "brush", "eraser", "fill", "polygon", "picker")
SAVE_DELAY_MS = 300
EMIT_INTERVAL_MS = 33
SETTLE_DELAY_MS = 700
SIZE_STEP = 1.2


def next_size(size: int, direction: int) -> int:
    """The brush size one step up or down (x1.2, at least one pixel), within 1..500."""
    if direction > 0:
        return min(500, max(size + 1, round(size * SIZE_STEP)))
    return max(1, min(size - 1, round(size / SIZE_STEP)))


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
        self.saver: AutoSave | None = None
        self.last_error = ""
        self._previous_tool = "brush"
        self.shelf = EditorShelf()  # editors of frames left with an undo history, for coming back
        self.unsaved: dict[str, Editor] = {}  # editors whose correction could not be written
        self.writer = SaveWorker(self)
        self.writer.committed.connect(self._on_committed)
        self._status_before: FrameStatus | None = None
        self._flushing = False
        self._unsaved_back = False
        self._save_timer = self._timer(SAVE_DELAY_MS, self.flush_in_background)
        self._emit_timer = self._timer(EMIT_INTERVAL_MS, self._emit_now)
        self._settle_timer = self._timer(SETTLE_DELAY_MS, self._settle)
        self.tools: dict[str, Any] = {"navigate": NavigateTool(self), "brush": PaintTool(self, erase=False),
                      "eraser": PaintTool(self, erase=True), "fill": FillTool(self),
                      "polygon": PolygonTool(self), "picker": PickerTool(self)}
        self.tool = "navigate"  # browsing never edits: painting starts with B (or another tool)
        self.canvas.tool = self.tools["navigate"]
        session.leaving.connect(self.finish)
        session.opened.connect(self.shelf.clear)
        session.opened.connect(self.unsaved.clear)
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
            for name in ("brush", "eraser"):
                self.tools[name].refresh()
            self.sizeChanged.emit(size)

    def step_size(self, direction: int) -> None:
        self.set_size(next_size(self.size, direction))

    def set_paint_over(self, value: int | None) -> None:
        self.paint_over = value
        self.stateChanged.emit()

    def unlabelled_value(self) -> int | None:
        table = self.session.classes
        return None if table is None else table_unlabelled(table)

    def erase_value(self) -> int | None:
        return self.eraser_value if self.eraser_value is not None else self.unlabelled_value()

    def use_cross_cursor(self) -> None:
        vp = self.canvas.viewport()
        if vp.cursor().shape() == Qt.CursorShape.ArrowCursor:
            vp.setCursor(Qt.CursorShape.CrossCursor)

    # -------------------------------------------------------------- editor
    @property
    def editor(self) -> Editor | None:
        s = self.session
        return s.editor if s.editor is not None and s.editor_frame == s.current else None

    def ensure_editor(self) -> Editor | None:
        """The current picture's editor, made on first use; None (with a message) when there is no picture."""
        if self.view.view in ("ground_truth", "picture"):
            self.view.set_view("prediction")  # show the mask being edited, or the edit is invisible
        if self.editor is not None:
            return self.editor
        s = self.session
        image = s.image()
        if s.workspace is None or s.current is None or image is None or s.classes is None:
            return None
        self.finish()
        editor = self._unshelve()
        if editor is None:
            try:
                labels = starting_labels(image.shape[:2], s.classes, s.mask("corrected"), s.mask("predicted"),
                                         self.start_from_prediction)
            except ValueError as exc:
                s.log.error(f"{s.current}: cannot edit ({exc})")
                return None
            editor = Editor(labels, s.classes, s.mask("ground_truth"), self.budget_bytes)
        self.saver = AutoSave(s.workspace, s.current, editor)
        if self._unsaved_back:
            self._unsaved_back = False
            self.saver.saved_version = -1
        s.begin_editing(s.current, editor)
        self.view.refresh_layer()  # once: the layer now shows the labels being edited
        self.stateChanged.emit()
        return editor

    def _unshelve(self) -> Editor | None:
        """The editor parked when this frame was left, if its correction on disk is still its own.

        An editor whose save failed comes back whatever the disk holds: its
        labels are the analyst's latest work.
        """
        s = self.session
        if s.workspace is not None and s.current is not None and s.current in self.unsaved:
            self._unsaved_back = True  # its saver starts out pending: nothing of it is on disk
            return self.unsaved.pop(s.current)
        if s.workspace is None or s.current is None or s.current not in self.shelf:
            return None
        editor = self.shelf.take(s.current, file_stamp(s.workspace.mask_path(s.current, "corrected")))
        if editor is not None:
            editor.set_ground_truth(s.mask("ground_truth"))  # it may have been imported meanwhile
        return editor

    def _resume_unsaved(self, frame_id: str) -> None:
        """Back on a frame whose correction could not be written: show and keep editing that work."""
        if frame_id in self.unsaved and self.ensure_editor() is not None:
            self.session.log.warning(f"{frame_id}: showing the correction that could not be saved; "
                                     "it is written again now (Ctrl+S to retry)")
            self.flush_in_background()

    def _parked(self, frame_id: str | None) -> bool:
        return frame_id is not None and (frame_id in self.shelf or frame_id in self.unsaved)

    def finish(self) -> None:
        """Save and let go of the editor (before the picture or workspace changes, and on close).

        An editor with undo steps is parked on the shelf (see
        `seggui.core.editing.shelf`), so coming back to the frame brings its
        history back.
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
        saver, frame = self.saver, self.session.editor_frame
        if saver is not None and frame is not None and not saver.pending:
            if editor.history.can_undo or editor.history.can_redo:
                editor.set_ground_truth(None)  # the frame's truth is read again on return (_unshelve)
            self.shelf.put(frame, editor, file_stamp(saver.workspace.mask_path(frame, "corrected")))
        elif saver is not None and frame is not None:  # the save failed: never drop the analyst's work
            self.unsaved[frame] = editor
            self.session.log.error(f"the correction of {frame} is not saved ({self.last_error}); it is kept "
                                   "in memory: go back to it and press Ctrl+S once the disk is writable")
        self.session.end_editing()
        self.saver = None
        self.tools[self.tool].activate()
        self.stateChanged.emit()

    def flush_in_background(self) -> bool:
        """Start writing a pending autosave on the worker thread (the debounced save after a stroke)."""
        saver = self.saver
        if saver is None or not saver.pending:
            return False
        if self.writer.busy:
            self._save_timer.start()  # the write in flight finishes first; try again shortly
            return False
        self._save_timer.stop()
        self._status_before = saver.workspace.frames[saver.frame_id].status
        started = self.writer.submit(saver)
        self.stateChanged.emit()
        return started

    def _on_committed(self, saver: AutoSave, error: str) -> None:
        if error:
            message = f"could not save the correction of {saver.frame_id}: {error}"
            if message != self.last_error:  # once, not once per retry
                self.session.log.error(message + " (kept in memory; the next stroke or Ctrl+S tries again)")
            self.last_error = message
            self.stateChanged.emit()
            return  # no retry loop: the next stroke, Ctrl+S or leaving the picture try again
        self.last_error = ""
        if saver.workspace.frames[saver.frame_id].status != self._status_before:
            self.session.framesChanged.emit()
        if saver is self.saver and saver.pending and not self._flushing:
            editor = self.editor
            if editor is not None and not editor.in_stroke:
                self.flush_in_background()  # strokes made while it was writing go to disk at once
            elif not self._save_timer.isActive():
                self._save_timer.start()
        self.stateChanged.emit()

    def flush(self) -> bool:
        """Write a pending autosave now, on this thread; False when nothing was written (or it failed).

        A background write in flight is finished first, so files land in order.
        """
        self._save_timer.stop()
        self._flushing = True  # the write in flight must not queue another one: this one writes now
        try:
            self.writer.wait()
        finally:
            self._flushing = False
        self._unsaved_back = False
        saver = self.saver
        if saver is None or not saver.pending:
            return False
        before = saver.workspace.frames[saver.frame_id].status
        try:
            saver.save()
        except (OSError, SegguiError) as exc:
            self.last_error = f"could not save the correction of {saver.frame_id}: {exc}"
            self.session.log.error(self.last_error)
            self.stateChanged.emit()
            return False
        self.last_error = ""
        if saver.workspace.frames[saver.frame_id].status != before:
            self.session.framesChanged.emit()
        self.stateChanged.emit()
        return True

    @property
    def saved(self) -> bool:
        return self.saver is None or (not self.saver.pending and not self.writer.busy)

    @property
    def save_failed(self) -> bool:
        """The last write of the current correction failed and it is still not on disk."""
        return bool(self.last_error) and self.saver is not None and self.saver.pending

    # ------------------------------------------------------------- strokes
    def paint_value(self, erase: bool) -> int | None:
        if erase:
            return self.erase_value()
        if self.session.active_class is None:
            self.session.log.warning("choose a class to paint in the Classes panel")
        return self.session.active_class

    def only_over(self) -> set[int] | None:
        return None if self.paint_over is None else {self.paint_over}

    def begin_stroke(self, pos: QPointF, erase: bool = False) -> bool:
        """Start a brush or eraser stroke at `pos`; False when there is nothing to paint on or with."""
        value = self.paint_value(erase)
        editor = self.ensure_editor() if value is not None else None
        if editor is None or value is None:
            return False
        if self._save_timer.isActive():
            self.flush_in_background()  # the previous stroke goes to disk while this one is drawn
        editor.begin_stroke(self.size, value, self.only_over())
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
        value = self.paint_value(False)
        editor = self.ensure_editor() if value is not None else None
        if editor is not None and value is not None:
            self._changed(editor.fill(pos.x(), pos.y(), value, not self.fill_global, self.only_over()))

    def polygon(self, points: Sequence[tuple[float, float]]) -> None:
        value = self.paint_value(False)
        editor = self.ensure_editor() if value is not None else None
        if editor is not None and value is not None:
            self._changed(editor.polygon(points, value, self.only_over()))

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
        editor = self.editor or (self.ensure_editor() if self._parked(self.session.current) else None)
        if editor is not None:
            self._changed(editor.undo())

    def redo(self) -> None:
        editor = self.editor or (self.ensure_editor() if self._parked(self.session.current) else None)
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
            if self.saver is not None:
                self._save_timer.stop()
                self.writer.wait()
                self.saver.save(force=True)
                s.framesChanged.emit()
                self.stateChanged.emit()

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
        if editor is None or self.saver is None:
            return
        editor.end_stroke()
        self._save_timer.stop()
        self.writer.wait()
        try:
            self.saver.mark_reviewed()
        except (OSError, SegguiError) as exc:
            s.log.error(f"could not mark {s.current} reviewed: {exc}")
            return
        s.log.info(f"{s.current} marked reviewed")
        s.framesChanged.emit()
        self.stateChanged.emit()

    def status(self) -> FrameStatus | None:
        s = self.session
        if s.workspace is None or s.current not in s.workspace.frames:
            return None
        return s.workspace.frames[s.current].status

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
            if self.saver is not None and self.saver.pending:
                self._save_timer.start()
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
        self.session.note_settled(self.session.editor_frame or "")

    def _on_masks(self, frame_id: str) -> None:
        """New ground truth (or a prediction) for the picture being edited: recount its matrix."""
        editor = self.editor
        if editor is not None and frame_id == self.session.editor_frame:
            gt = self.session.mask("ground_truth")
            if gt is not editor.live.gt:
                editor.set_ground_truth(gt)
                self._emit_now()
