"""Edit ▸ Propagate labels along the drive… (Ctrl+Shift+P): carry this frame's correction N frames on.

The dialog asks how many frames, which way, and whether frames the analyst
corrected or reviewed may be replaced (by default they are kept, and the
chain goes on from them). The carrying is `seggui.core.editing.propagate_drive`:
planned here on the GUI thread, run as a background job (progress and
Cancel in the job panel), and each carried frame written and marked
"propagated" back on the GUI thread, where the frame being edited and
frames corrected meanwhile are checked again and left alone. They are
written in batches, every half second and at the end: one seggui.json
write each (a save costs ~0.1 s on a 2,000-frame drive).
The Messages panel says how many frames were carried, how many were kept
and, when it stopped early, where and why (a cut, a frame of another size,
the end of the drive).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from seggui.core.editing import unlabelled_value
from seggui.core.editing.propagate_drive import (
    ANALYST,
    FrameReader,
    PropagationOutcome,
    Step,
    plan_propagation,
    propagate_job,
    record_step,
)
from seggui.core.errors import BadInputError, SegguiError
from seggui.core.jobs import Progress
from seggui.core.workspace import Workspace

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.main_window import MainWindow

DEFAULT_COUNT = 10
RECORD_EVERY_MS = 500  # carried frames are written and recorded together this often


class PropagateDialog(QDialog):
    """How many frames, forward or back, and whether the analyst's frames may be replaced."""

    def __init__(self, ws: Workspace, drive: list[str], start: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Propagate labels along the drive")
        self.ws, self.drive, self.start = ws, drive, start
        self.count = QSpinBox()
        self.count.setRange(1, max(1, len(drive) - 1))
        self.count.setValue(min(DEFAULT_COUNT, max(1, len(drive) - 1)))
        self.direction = QComboBox()
        self.direction.addItem("Forward (the next frames)", 1)
        self.direction.addItem("Back (the previous frames)", -1)
        i = drive.index(start)
        if i == len(drive) - 1:  # at the end of the drive only back makes sense
            self.direction.setCurrentIndex(1)
        self.replace = QCheckBox("Also replace frames I corrected or reviewed")
        self.replace.setToolTip("Off: such frames are kept as they are and the chain goes on from them")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Frames", self.count)
        form.addRow("Direction", self.direction)
        form.addRow(self.replace)
        form.addRow(self.summary)
        std = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(std.Ok | std.Cancel)
        buttons.button(std.Ok).setText("Propagate")
        self.ok = buttons.button(std.Ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.count.valueChanged.connect(self._describe)
        self.direction.currentIndexChanged.connect(self._describe)
        self.replace.toggled.connect(self._describe)
        self._describe()

    def choice(self) -> tuple[int, int, bool]:
        """(frames, direction +1/-1, replace the analyst's frames)."""
        return self.count.value(), int(self.direction.currentData()), self.replace.isChecked()

    def _describe(self) -> None:
        count, direction, replace = self.choice()
        try:
            plan = plan_propagation(self.ws, self.drive, self.start, count, direction, replace)
        except BadInputError as exc:
            self.summary.setText(exc.problem)
            self.ok.setEnabled(False)
            return
        self.ok.setEnabled(True)
        t = plan.targets
        span = f"{t[0]} … {t[-1]}" if len(t) > 1 else t[0]
        lines = [f"{len(t)} frame{'s' if len(t) != 1 else ''}: {span}"]
        if plan.end_note:
            lines.append(plan.end_note[0].upper() + plan.end_note[1:] + ".")
        mine = [f for f in t if self.ws.frames[f].status in ANALYST]
        if mine:
            lines.append(f"{len(mine)} corrected or reviewed: "
                         + ("replaced." if replace else "kept, and the chain goes on from them."))
        lines.append("Carried frames are marked propagated until you review them (Ctrl+Enter); "
                     "retraining leaves them out until then.")
        self.summary.setText("\n".join(lines))


def _busy(win: MainWindow) -> set[str]:
    """Frames whose mask lives in the window, not on disk: the one being edited, unsaved corrections."""
    s = win.session
    busy = set(win.editing.saving.unsaved)
    if s.editor is not None and s.editor_frame is not None:
        busy.add(s.editor_frame)
    return busy


def start_propagation(win: MainWindow, count: int, direction: int = 1, replace: bool = False) -> bool:
    """Carry the current frame's labels `count` frames forward (+1) or back (-1) in the background."""
    s = win.session
    ws, start = s.workspace, s.current
    try:
        if ws is None or start is None:
            raise BadInputError(None, "open a drive first (a video or an image sequence)")
        if s.read_only:
            raise BadInputError(ws.root, f"is open in another window ({s.read_only}); this window only "
                                "reads it")
        if win.runner.is_running():
            raise BadInputError(None, f"wait for the running job ({win.runner.title}) or cancel it first")
        win.editing.finish()  # the stroke inside the autosave delay is written and its status moved
        plan = plan_propagation(ws, s.drive_frames(), start, count, direction, replace, _busy(win))
        labels = s.mask("current")
        if labels is None:
            raise BadInputError(ws.mask_path(start, "corrected"), f"{start} has no mask to carry")
        reader = FrameReader(ws, [start, *plan.targets])
    except SegguiError as exc:
        win.log.report(exc)
        return False
    labels, unl = labels.copy(), unlabelled_value(ws.classes)
    handle = win.runner.start(f"Propagate {start}",
                              lambda token: propagate_job(plan, reader, labels, unl, token))
    if handle is None:
        reader.close()
        return False
    written: list[str] = []
    refused: list[str] = []
    pending: list[Step] = []
    ended: dict[str, Any] = {}
    timer = QTimer(win)  # recorded in batches: one seggui.json write each (~0.1 s on a 2,000-frame drive)
    timer.setSingleShot(True)
    timer.setInterval(RECORD_EVERY_MS)

    def record() -> None:
        steps, pending[:] = list(pending), []
        if s.workspace is not ws:  # another workspace was opened meanwhile: nothing goes into that one
            for step in steps:
                step.discard()
            return
        busy = _busy(win)
        with ws.batch():
            for step in steps:
                try:
                    (written if record_step(ws, plan, step, busy) else refused).append(step.frame)
                except (SegguiError, OSError) as exc:
                    step.discard()
                    refused.append(step.frame)
                    win.log.error(f"{step.frame}: the propagated mask could not be written ({exc})")

    def arrived(p: Progress) -> None:
        step = p.data.get("step")
        if isinstance(step, Step) and step.labels is not None:
            pending.append(step)
            if not timer.isActive():
                timer.start()

    def end() -> None:
        timer.stop()
        record()
        timer.deleteLater()
        outcome = ended.get("outcome")
        if ended.get("cancelled"):
            win.log.info(f"propagation of {start} cancelled after {len(written)} frames "
                         "(those stay propagated)")
        elif isinstance(outcome, PropagationOutcome):
            late = [f for f in refused if f not in outcome.kept]  # became the analyst's during the job
            outcome.carried, outcome.kept = written, outcome.kept + late
            (win.log.warning if outcome.stopped else win.log.info)(outcome.summary(start))

    timer.timeout.connect(record)
    handle.progress.connect(arrived)
    handle.result.connect(lambda outcome: ended.update(outcome=outcome))
    handle.cancelled.connect(lambda: ended.update(cancelled=True))
    handle.finished.connect(end)
    return True


def propagate_dialog(win: MainWindow) -> bool:
    """Ask for the frames and the direction, then start the propagation (False when not started)."""
    s = win.session
    drive = s.drive_frames()
    if s.workspace is None or s.current is None or not drive:
        win.log.warning("propagation carries labels along a drive: go to a frame of a video or an image "
                        "sequence first")
        return False
    win.editing.finish()  # so the dialog's counts see this frame as corrected
    dialog = PropagateDialog(s.workspace, drive, s.current, win)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    return start_propagation(win, *dialog.choice())
