"""The save path of mask editing: autosave on a worker, synchronous saves, parked and unsaved editors.

`EditController` (seggui.ui.editing) edits; this object gets its work to
disk. One explicit `SaveState` says where the write of the current
correction stands, instead of flags that had to agree with each other:

- IDLE: no write runs; `AutoSave.pending` says whether edits wait for one
  (the debounced timer writes them 300 ms after the last edit);
- WRITING: a snapshot is encoded and written on the worker thread
  (`seggui.ui.save_worker`); strokes go on meanwhile and follow as soon as
  it ends;
- FLUSHING: a synchronous save (Ctrl+S, leaving the picture, mark
  reviewed) first waits for the write in flight, which must then not queue
  another one, and writes the latest labels itself;
- FAILED: the last write failed; the work stays in memory (an editor left
  in this state is kept in `unsaved` and comes back with the frame), the
  message is said once, and the next stroke, Ctrl+S or leaving tries again.

The status change a write makes (predicted -> corrected) is told by the
workspace itself (`Workspace.record_mask` emits `frames_changed`), so this
module never emits the session's signals.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import QObject, QTimer

from seggui.core.editing import AutoSave, Editor, EditorShelf, file_stamp
from seggui.core.errors import SegguiError
from seggui.core.mask_kind import MaskKind
from seggui.core.workspace import Workspace
from seggui.ui.save_worker import SaveWorker

SAVE_DELAY_MS = 300


class SaveState(Enum):
    """Where the write of the current correction stands (see the module docstring)."""

    IDLE = "idle"
    WRITING = "writing"
    FLUSHING = "flushing"
    FAILED = "failed"


class EditSaving(QObject):
    """Autosave, Ctrl+S, the shelf of parked editors and the editors whose save failed.

    `log` says problems (the window's Messages panel); `changed()` is called
    whenever the saved state may look different (the toolbar's "saving…");
    `in_stroke()` tells whether a stroke is being drawn (its end writes).
    """

    def __init__(self, log: Callable[[], object], changed: Callable[[], None],
                 in_stroke: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._log, self._changed, self._in_stroke = log, changed, in_stroke
        self.state = SaveState.IDLE
        self.saver: AutoSave | None = None
        self.last_error = ""
        self.shelf = EditorShelf()  # editors of frames left with an undo history, for coming back
        self.unsaved: dict[str, Editor] = {}  # editors whose correction could not be written
        self.writer = SaveWorker(self)
        self.writer.committed.connect(self._on_committed)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SAVE_DELAY_MS)
        self.timer.timeout.connect(self.flush_in_background)

    # ----------------------------------------------------------- one editor
    def start(self, workspace: Workspace, frame_id: str, editor: Editor, returned: bool) -> None:
        """Save `editor` as the correction of `frame_id` from now on.

        `returned`: it comes back from `unsaved`, so nothing of it is on disk
        yet and its first save must write whatever its version.
        """
        self.saver = AutoSave(workspace, frame_id, editor)
        if returned:
            self.saver.saved_version = -1

    def stop(self) -> None:
        self.saver = None

    def schedule(self) -> None:
        """Write in the background shortly (debounced), when edits wait for it."""
        if self.saver is not None and self.saver.pending:
            self.timer.start()

    def flush_in_background(self) -> bool:
        """Start writing a pending autosave on the worker thread (the debounced save after a stroke)."""
        saver = self.saver
        if saver is None or not saver.pending:
            return False
        if self.writer.busy:
            self.timer.start()  # the write in flight finishes first; try again shortly
            return False
        self.timer.stop()
        before, self.state = self.state, SaveState.WRITING  # first: a write ending at once commits in submit
        started = self.writer.submit(saver)
        if not started and self.state is SaveState.WRITING:
            self.state = before
        self._changed()
        return started

    def _on_committed(self, saver: AutoSave, error: str) -> None:
        if error:
            message = f"could not save the correction of {saver.frame_id}: {error}"
            if message != self.last_error:  # once, not once per retry
                self._error(message + " (kept in memory; the next stroke or Ctrl+S tries again)")
            self.last_error = message
            self.state = SaveState.FAILED
            self._changed()
            return  # no retry loop: the next stroke, Ctrl+S or leaving the picture try again
        self.last_error = ""
        if self.state is not SaveState.FLUSHING:  # a synchronous save writes the rest itself
            self.state = SaveState.IDLE
            if saver is self.saver and saver.pending:
                if not self._in_stroke():
                    self.flush_in_background()  # strokes made while it was writing go to disk at once
                elif not self.timer.isActive():
                    self.timer.start()
        self._changed()

    def flush(self) -> bool:
        """Write a pending autosave now, on this thread; False when nothing was written (or it failed).

        A background write in flight is finished first, so files land in order.
        """
        self.timer.stop()
        self.state = SaveState.FLUSHING
        try:
            self.writer.wait()
        finally:
            self.state = SaveState.FAILED if self.last_error else SaveState.IDLE
        saver = self.saver
        if saver is None or not saver.pending:
            return False
        return self.save_now()

    def save_now(self, force: bool = False, reviewed: bool = False) -> bool:
        """Write the labels now, after the write in flight (`force`: even unchanged; `reviewed`: mark it)."""
        saver = self.saver
        if saver is None:
            return False
        self.timer.stop()
        self.writer.wait()
        try:
            if reviewed:
                saver.mark_reviewed()
            else:
                saver.save(force=force)
        except (OSError, SegguiError) as exc:
            self.last_error = (f"could not mark {saver.frame_id} reviewed: {exc}" if reviewed
                               else f"could not save the correction of {saver.frame_id}: {exc}")
            self._error(self.last_error)
            self.state = SaveState.FAILED
            self._changed()
            return False
        self.last_error = ""
        self.state = SaveState.IDLE
        self._changed()
        return True

    @property
    def saved(self) -> bool:
        return self.saver is None or (not self.saver.pending and not self.writer.busy)

    @property
    def failed(self) -> bool:
        """The last write of the current correction failed and it is still not on disk."""
        return self.state is SaveState.FAILED and self.saver is not None and self.saver.pending

    # ----------------------------------------------------- leaving and back
    def park(self, frame: str, editor: Editor) -> None:
        """Let go of the editor of `frame` (already flushed): on the shelf, or kept as unsaved work."""
        saver = self.saver
        if saver is not None and not saver.pending:
            if editor.history.can_undo or editor.history.can_redo:
                editor.set_ground_truth(None)  # the frame's truth is read again on return (unshelve)
            self.shelf.put(frame, editor, file_stamp(saver.workspace.mask_path(frame, MaskKind.CORRECTED)))
        elif saver is not None:  # the save failed: never drop the analyst's work
            self.unsaved[frame] = editor
            self._error(f"the correction of {frame} is not saved ({self.last_error}); it is kept in memory: "
                        "go back to it and press Ctrl+S once the disk is writable")
        self.saver = None
        self.state = SaveState.IDLE

    def unshelve(self, workspace: Workspace, frame: str) -> tuple[Editor | None, bool]:
        """(the editor parked when `frame` was left, whether it is unsaved work), or (None, False).

        A parked editor comes back only if the correction on disk is still
        its own; one whose save failed comes back whatever the disk holds: its
        labels are the analyst's latest work.
        """
        if frame in self.unsaved:
            return self.unsaved.pop(frame), True
        if frame not in self.shelf:
            return None, False
        return self.shelf.take(frame, file_stamp(workspace.mask_path(frame, MaskKind.CORRECTED))), False

    def parked(self, frame: str | None) -> bool:
        return frame is not None and (frame in self.shelf or frame in self.unsaved)

    def forget(self) -> None:
        """Another workspace was opened: parked and unsaved editors belong to the one before."""
        self.shelf.clear()
        self.unsaved.clear()

    def _error(self, text: str) -> None:
        self._log().error(text)  # type: ignore[attr-defined]
