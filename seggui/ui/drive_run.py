"""Run the model over the current drive, or over a frame range of it, from the window.

A drive is long (a dashcam hour is 100,000 frames) and an analyst often
wants one stretch of it: the junction, the car park. The range comes from the
timeline's marks (I / O) or is typed into the dialog; either way the run goes
through `Inference.run(..., "frames")`, so it is a background job with
progress and cancel, and frames this model already predicted are skipped (a
stopped run resumes). Positions are the timeline's: 0 is the drive's first
frame, as the frame label under the slider counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QWidget

from seggui.core.errors import BadInputError, SegguiError

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.main_window import MainWindow


class RangeDialog(QDialog):
    """From / to spin boxes over a drive's positions, with the frame ids and count they cover."""

    def __init__(self, frames: list[str], first: int, last: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run on part of this drive")
        self.frames = frames
        self.first, self.last = QSpinBox(), QSpinBox()
        for box, value in ((self.first, first), (self.last, last)):
            box.setRange(1, len(frames))  # counted from 1, as the timeline shows them
            box.setValue(value + 1)
            box.valueChanged.connect(self._describe)
        self.summary = QLabel()
        form = QFormLayout(self)
        form.addRow("From frame", self.first)
        form.addRow("To frame (included)", self.last)
        form.addRow(self.summary)
        std = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(std.Ok | std.Cancel)
        buttons.button(std.Ok).setText("Run")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._describe()

    def span(self) -> tuple[int, int]:
        """(first, last) drive positions, 0-based."""
        a, b = self.first.value() - 1, self.last.value() - 1
        return min(a, b), max(a, b)

    def _describe(self) -> None:
        a, b = self.span()
        self.summary.setText(f"{b - a + 1} frames: {self.frames[a]} … {self.frames[b]}\n"
                             "Frames this model already predicted are skipped.")


def _drive_frames(win: MainWindow) -> list[str]:
    frames = win.timeline.frames
    if not frames or win.timeline.position < 0:
        raise BadInputError(None, "go to a frame of a drive first (open a video or an image sequence)")
    return frames


def update_actions(win: MainWindow, actions: list) -> None:  # noqa: ANN001 - QActions
    """The drive's actions (run on it or part of it, export its video and CSV) only on a drive's frame."""
    on = bool(win.timeline.frames) and win.timeline.position >= 0
    for action in actions:
        action.setEnabled(on)


def run_drive(win: MainWindow) -> bool:
    """Predict every frame of the current drive in the background (resuming a stopped run)."""
    try:
        return win.inference.run("frames", _drive_frames(win))
    except SegguiError as exc:
        win.log.report(exc)
        return False


def run_range(win: MainWindow, first: int, last: int) -> bool:
    """Predict the drive's frames from position `first` to `last` (inclusive) in the background."""
    try:
        _drive_frames(win)
        return win.inference.run("frames", win.timeline.range_frames(first, last))
    except SegguiError as exc:
        win.log.report(exc)
        return False


def run_range_dialog(win: MainWindow) -> bool:
    """Ask for the range (prefilled from the I / O marks, else here to the end), then run it."""
    try:
        frames = _drive_frames(win)
    except SegguiError as exc:
        win.log.report(exc)
        return False
    tl = win.timeline
    first, last = tl.marked_range() if tl.has_marks() else (tl.position, len(frames) - 1)  # type: ignore[misc]
    dialog = RangeDialog(frames, first, last, win)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    return run_range(win, *dialog.span())
