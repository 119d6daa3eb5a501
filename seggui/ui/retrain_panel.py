"""The Retrain panel: fine-tune the workspace model on the analyst's corrections, compare, promote.

The work is `seggui.training.retrain` (the run, in a child process, so a crash or an out-of-memory in
training cannot take the window down) and `seggui.training.retrain_versions` (compare, promote, roll
back, re-predict); this panel only chains them through the window's one `JobRunner`: retrain -> compare
-> (on Promote) re-predict, each a job started when the previous one finishes. Nothing is overwritten:
every run writes a new card folder, and promote / roll back only move the model.

While a job of this panel runs, `stage` names it; other jobs' signals pass by untouched. The training
modules are imported when a retrain starts, so the window still shows without them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seggui.core.errors import SegguiError
from seggui.core.frame_record import count_records, done_of
from seggui.core.jobs import Progress
from seggui.core.workspace import FrameStatus, Workspace
from seggui.ui import retrain_display as show
from seggui.ui.messages import MessageLog
from seggui.ui.model_picker import ModelPicker
from seggui.ui.qtutil import figures_table
from seggui.ui.retrain_dialog import DEFAULTS, AdvancedDialog, base_text
from seggui.ui.runner import JobRunner
from seggui.ui.session import Session


class RetrainPanel(QWidget):
    """Retrain button, live curves, the old/new comparison, Promote and the version list.

    `done(how)` fires when a chain of this panel's jobs ends: "compared",
    "trained" (no validation frames to compare on), "promoted", "refused",
    "failed" or "cancelled". `device`, `backend` and `child_env` (extra
    environment of the training process) may be set before a run.
    """

    done = Signal(str)

    def __init__(self, session: Session, runner: JobRunner, picker: ModelPicker, log: MessageLog,
                 before_start: Callable[[], None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.runner, self.picker, self.log = session, runner, picker, log
        self.before_start = before_start
        self.settings: dict[str, Any] = dict(DEFAULTS)
        self.device, self.backend = "auto", "auto"
        self.child_env: dict[str, str] | None = None
        self.stage: str | None = None
        self._todo_what = ""  # what Promote re-predicts ("3 pictures"), for the message when it is done
        self._root: Path | None = None  # the workspace shown, to tell another from the same one re-read
        self.plan: Any = None
        self.result: Any = None
        self.comparison: Any = None
        self.epochs: list[dict[str, Any]] = []
        self._t0, self._budget_end = 0.0, float("inf")  # when training started; its time budget ends
        self.plot: Any = None  # pyqtgraph PlotWidget, made on the first epoch
        self.retrain_button = QPushButton("Retrain on corrections")
        self.retrain_button.setToolTip("Fine-tune the current model on the corrected and reviewed frames")
        self.advanced_button = QPushButton("Advanced…")
        self.cancel_button = QPushButton("Cancel")
        self.status, self.message = QLabel("Correct some masks, then retrain."), QLabel("")
        for label in (self.status, self.message):
            label.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart_slot = QLabel("")
        self.chart_slot.setMinimumHeight(110)
        self.table = figures_table(["Class", "Current", "New", "Δ"])
        self.promote_button = QPushButton("Promote")
        self.promote_button.setToolTip("Use the new model and re-predict the frames not yet corrected")
        self.versions = QComboBox()
        self.rollback_button = QPushButton("Roll back")
        self.repredict_button = QPushButton("Re-predict")
        self.repredict_button.setToolTip("Predict the frames not yet corrected again with the model in use")
        self.repredict_button.setVisible(False)
        top = QHBoxLayout()
        for w in (self.retrain_button, self.advanced_button, self.cancel_button):
            top.addWidget(w)
        # the version list on a row of its own: beside three buttons a narrow dock cut its text
        bottom = QHBoxLayout()
        bottom.addWidget(self.versions, 1)
        bottom.addWidget(self.rollback_button)
        actions = QHBoxLayout()
        for part in (self.promote_button, self.repredict_button):
            actions.addWidget(part)
        actions.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addWidget(self.message)
        self.chart_index = lay.count()
        lay.addWidget(self.chart_slot, 1)
        lay.addWidget(self.table, 1)
        lay.addLayout(actions)
        lay.addLayout(bottom)
        self.retrain_button.clicked.connect(self.start)
        self.advanced_button.clicked.connect(self.advanced)
        self.cancel_button.clicked.connect(self.cancel)
        self.promote_button.clicked.connect(self.promote)
        self.rollback_button.clicked.connect(self.rollback)
        self.versions.currentIndexChanged.connect(lambda _i: self._buttons())  # Roll back only to another
        self.repredict_button.clicked.connect(self.repredict)
        session.framesChanged.connect(self._ready_text)
        runner.progress.connect(self._on_progress)
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        runner.started.connect(lambda _t: self._buttons())
        runner.idle.connect(self._buttons)
        session.opened.connect(self._on_opened)
        # a folder opened without a model gets one on its first Run: the list then names it
        session.modelChanged.connect(lambda _ref: self._fill_versions() if self.stage is None else None)
        self._buttons()

    # ------------------------------------------------------------ actions
    def advanced(self) -> None:
        dialog = AdvancedDialog(self.settings, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.settings.update(dialog.values())
            ws = self.session.workspace
            if ws is not None:  # kept with the workspace: the next retrain here starts from them
                ws.set_setting("retrain", {k: v for k, v in self.settings.items() if v != DEFAULTS.get(k)})
            base = base_text(self.settings)
            self.retrain_button.setToolTip("Fine-tune the current model on the corrected and reviewed frames"
                                           + (f", mixed with the {base}" if base else ""))
            if self.stage is None and base:
                self.status.setText(f"Retraining will mix in the {base}.")

    def start(self) -> bool:
        """Plan (on this thread, so a refusal is immediate) and start the training process."""
        from seggui.training.retrain import plan_retrain, retrain_job

        ws = self.session.workspace
        if self.runner.is_running():
            return self._refuse(f"{self.runner.title} is still running; wait or cancel it")
        if ws is None:
            return self._refuse("open a workspace with corrected frames first")
        if self.session.read_only:
            return self._refuse("read-only: this workspace is open in another window "
                                f"({self.session.read_only}); retrain there")
        if self.before_start is not None:
            self.before_start()  # the stroke being painted is a correction too
        if not ws.model:
            card = self.picker.inference.card
            if card is None:
                return self._refuse("no model in use here: choose one in the toolbar's model box and run it "
                                    "(Model ▸ Run, Ctrl+R), then retrain")
            from seggui.ui.inference import model_ref

            ws.set_model(model_ref(card))  # the model shown in the toolbar is the one in use
        try:
            plan = plan_retrain(ws, device=self.device, **self.settings)
        except SegguiError as exc:
            return self._refuse(str(exc))
        self.plan, self.result, self.comparison, self.epochs = plan, None, None, []
        self.table.setRowCount(0)
        if self.plot is not None:
            self.plot.clear()
        for p in plan.problems:
            self.log.warning(p)
        self._say("")
        mixed = (f" + {plan.base['per_epoch']} samples per epoch of {Path(plan.base['root']).name}"
                 if plan.base else "")
        trained = count_records([ws.frames[f] for f in plan.train_ids if f in ws.frames])
        named = f": {', '.join(plan.val_ids)}" if len(plan.val_ids) <= 3 else ""  # which ones, when few
        self.status.setText(f"Training {show.shown(plan.parent.ref)} into v{plan.config.version} on {trained}"
                            f"{mixed}, validating on {len(plan.val_ids)} ({plan.val_source}{named})…")
        if plan.val_ids and plan.val_source == "held out":
            self.log.info(f"held out of training to validate on: {', '.join(plan.val_ids[:10])}"
                          + (f" and {len(plan.val_ids) - 10} more" if len(plan.val_ids) > 10 else ""))
        self.stage, self._t0, self._budget_end = "retrain", time.monotonic(), float("inf")
        env, job = self.child_env, f"Retraining {plan.parent.name}"
        return self.runner.start(job, lambda t: retrain_job(plan, t, env=env)) is not None

    def cancel(self) -> None:
        if self.stage is not None:
            self.runner.cancel()

    def promote(self) -> bool:
        """Make the new card the workspace model, show it in the picker, then re-predict through the window's
        own inference (`Inference.run`): a frame corrected meanwhile is never replaced, nothing reloads."""
        from seggui.training.retrain_versions import promote

        ws = self.session.workspace
        if self.result is None or ws is None or self.runner.is_running():
            return False
        try:
            promote(ws, self.result.card_dir)
        except SegguiError as exc:
            return self._refuse(str(exc), "failed")
        self.picker.open_card(self.result.card_dir)
        self._fill_versions()
        todo = ws.frames_with_status(FrameStatus.PREDICTED)  # what the old model predicted, uncorrected
        name = show.shown_dir(self.result.card_dir)
        self._todo_what = count_records([ws.frames[f] for f in todo])
        said = (f"Promoted {name}; re-predicting the {self._todo_what} the previous "
                "model had predicted and nobody corrected…" if todo else
                f"Promoted {name}: every frame is corrected, none to re-predict.")
        self.log.info(said)
        self.status.setText(said)
        if not todo:  # nothing to run (a run of nothing logged "nothing to predict" beside this)
            self._end("promoted")
            return False
        self.stage = "repredict"
        try:
            started = self.picker.inference.run("frames", todo)
        except SegguiError as exc:
            self.stage = None
            return self._refuse(f"{exc}\nThe new model is in use; run it again from the Model menu.",
                                "failed")
        if not started:
            self.stage = None
            self.status.setText(f"{show.shown_dir(self.result.card_dir)} is the workspace model.")
            self._end("promoted")
        return started

    def rollback(self) -> bool:
        """Switch the workspace (and the picker) back to the version chosen in the combo."""
        from seggui.training.retrain_versions import rollback, version_card_path

        ws, label = self.session.workspace, self.versions.currentData()
        if ws is None or not label or self.runner.is_running():
            return False
        try:
            entry = rollback(ws, label)
        except SegguiError as exc:
            return self._refuse(str(exc), "failed")
        self.picker.open_card(version_card_path(ws, entry["card"]))
        self.log.info(f"rolled back to {show.shown(entry['ref'])} ({entry['label']} in the workspace)")
        self._fill_versions()
        # only what another version predicted: after a Re-predict these are this version's already
        todo = [f for f in ws.frames_with_status(FrameStatus.PREDICTED) if ws.frames[f].model != entry["ref"]]
        self.status.setText(f"{show.shown(entry['ref'])} is the model in use again." + (
            f" The uncorrected predictions of {count_records([ws.frames[f] for f in todo])} were made by "
            "another version: Re-predict makes them this model's." if todo else ""))
        self.repredict_button.setText(f"Re-predict {count_records([ws.frames[f] for f in todo])}")
        self.repredict_button.setVisible(bool(todo))
        self._say("")
        self._clear_results()  # its columns were two other versions: not the one now in use
        self._end("rolled back")
        return True

    def repredict(self) -> bool:
        """Predict the uncorrected frames again with the model in use (offered after a roll back)."""
        ws = self.session.workspace
        if ws is None or self.runner.is_running():
            return False
        card = self.picker.inference.card
        todo = [f for f in ws.frames_with_status(FrameStatus.PREDICTED)
                if card is None or ws.frames[f].model != card.ref]  # what this version predicted stays
        self.repredict_button.setVisible(False)
        try:
            return self.picker.inference.run("frames", todo)
        except SegguiError as exc:
            return self._refuse(str(exc), "failed")

    # -------------------------------------------------------- job signals
    def _on_progress(self, p: Progress) -> None:
        if self.stage is None:
            return
        if self.stage != "retrain":
            self.status.setText(p.message)
            return
        ev = p.data or {}
        if ev.get("event") == "export":
            self.status.setText(p.message)
            return
        if ev.get("event") == "epoch":
            self.epochs.append(ev)
            self._curves()
        if "budget_left_s" in ev:  # only step events carry it: keep when the budget runs out
            self._budget_end = time.monotonic() + float(ev["budget_left_s"])
        if p.total and p.done:
            now = time.monotonic()  # the rate's estimate, never past the end of a time budget
            left = min((now - self._t0) / p.done * (p.total - p.done), max(0.0, self._budget_end - now))
            last = self.epochs[-1] if self.epochs else {}
            ips = f"{last['images_per_s']:.1f} images/s · " if last.get("images_per_s") else ""
            self.status.setText(f"Epoch {ev.get('epoch') or len(self.epochs)}/{self.plan.config.epochs} · "
                                f"{ips}{int(left) // 60}:{int(left) % 60:02d} left")

    def _on_finished(self, result: Any) -> None:
        stage, self.stage = self.stage, None
        if stage == "retrain":
            self.result = result
            self._fill_versions()
            if not self.plan.val_ids:
                self.status.setText(f"Trained {show.shown_dir(result.card_dir)}; no validation frames "
                                    "to compare on.")
                self._end("trained")
                return
            self._compare()
        elif stage == "compare":
            self.comparison = result
            self._show_comparison(result)
            d = result.miou_delta
            self.status.setText(f"{show.shown(result.new_ref)} vs {show.shown(result.old_ref)}: "
                                f"mIoU {show.fmt(result.old_miou)} → {show.fmt(result.new_miou)}"
                                + (f" ({show.fmt(d, sign=True)})" if d is not None else "")
                                + f", measured on {result.rests_on()}"
                                + (f"; trained with {Path(result.base['root']).name} mixed in"
                                   if result.base else ""))
            weak = result.weaknesses()
            if weak:
                self._say("\n".join(weak), error=True)
            self._curves()
            self._end("compared")
        elif stage == "repredict":
            done = result.get("predicted", 0) if isinstance(result, dict) else result
            what = done_of(done, self._todo_what)
            self.log.info(f"re-predicted {what} nobody corrected with the new model")
            self.status.setText(f"{show.shown_dir(self.result.card_dir)} is the model in use; it "
                                f"re-predicted {what} the previous model had predicted.")
            self._end("promoted")

    def _on_failed(self, message: str, _details: str) -> None:
        if self.stage is not None:
            stage, self.stage = self.stage, None
            what = ("The new model is in use; run it again from the Model menu." if stage == "repredict"
                    else "The current model stays in use.")
            self._say(f"{message}\n{what}", error=True)
            self._end("failed")

    def _on_cancelled(self) -> None:
        if self.stage is not None:
            stage, self.stage = self.stage, None
            self._say("Cancelled; the new model is in use, but the remaining frames were not re-predicted: "
                      "run it from the Model menu." if stage == "repredict"
                      else "Cancelled; the current model stays in use.")
            self._end("cancelled")

    # ------------------------------------------------------------- helpers
    def _compare(self) -> None:
        from seggui.training.retrain_versions import compare_models

        plan, result = self.plan, self.result
        root, backend, device = self.session.workspace.root, self.backend, self.device
        self.stage = "compare"
        self.status.setText("Comparing the current and the new model on the validation frames…")
        self.runner.start("Comparing models", lambda t: compare_models(
            Workspace.open(root), plan.parent, result.card_dir, plan.val_ids, backend, device, t))

    def _show_comparison(self, cmp: Any) -> None:
        show.fill_table(self.table, show.comparison_rows(cmp))

    def table_rows(self) -> list[tuple[str, Any, Any, Any]]:
        """What the comparison table shows (numbers as stored in the cells): for tests and copying."""
        return show.table_rows(self.table)

    def _curves(self) -> None:
        from seggui.ui.retrain_chart import draw_curves, new_plot

        if self.plot is None:
            self.plot = new_plot()
            self.layout().replaceWidget(self.chart_slot, self.plot)
            self.chart_slot.deleteLater()
        draw_curves(self.plot, self.epochs, self.comparison)

    def _fill_versions(self) -> None:
        from seggui.training.retrain_versions import list_versions

        ws = self.session.workspace
        self.versions.clear()
        for v in list_versions(ws) if ws is not None else []:
            here = ws.model and Path(ws.model).resolve() == (ws.root / v["card"]).resolve()
            self.versions.addItem(show.shown(v["ref"]) + (show.IN_USE if here else ""), v["label"])
        if ws is not None and ws.model and not self.versions.count():  # an empty list read as broken
            self.versions.addItem(f"{show.shown_dir(Path(ws.model))}{show.IN_USE}", None)
            self.versions.setItemData(0, "no other version used here yet", Qt.ItemDataRole.ToolTipRole)
        for i in range(self.versions.count()):  # the tooltip adds where the version lies
            label = self.versions.itemData(i)
            if label:
                self.versions.setItemData(i, f"{self.versions.itemText(i)} — models/{label}",
                                          Qt.ItemDataRole.ToolTipRole)
            if self.versions.itemText(i).endswith(show.IN_USE):
                self.versions.setCurrentIndex(i)  # shown first: the list reads "this one is in use"
        self.versions.setToolTip(self.versions.currentText())
        self._buttons()

    def _clear_results(self) -> None:
        self.result, self.comparison, self.epochs = None, None, []
        self.table.setRowCount(0)
        if self.plot is not None:
            self.plot.clear()

    def _on_opened(self) -> None:
        ws = self.session.workspace
        self.settings = {**DEFAULTS, **((ws.settings.get("retrain") or {}) if ws is not None else {})}
        self.repredict_button.setVisible(False)
        root = ws.root if ws is not None else None
        if self.stage is None and root != self._root:  # another workspace: its run, chart, comparison go
            self.plan = None
            self._clear_results()
            self._say("")
        self._root = root  # the same one again (a class map taken on) keeps a result still to promote
        if self.stage is None:
            self._fill_versions()
            self._ready_text()

    def _ready_text(self) -> None:
        """Say what a retrain would learn from, while nothing is running or shown."""
        ws = self.session.workspace
        if self.stage is None and self.result is None and ws is not None:
            self.status.setText(show.ready_text(ws))

    def _refuse(self, text: str, how: str = "refused") -> bool:
        self.log.error(text)
        self._say(text, error=True)
        self.done.emit(how)
        return False

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _end(self, how: str) -> None:
        self._buttons()
        self.done.emit(how)

    def _buttons(self) -> None:
        busy = self.runner.is_running()
        self.retrain_button.setEnabled(not busy)
        self.advanced_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy and self.stage is not None)
        ws = self.session.workspace
        in_use = bool(ws is not None and ws.model and self.result is not None
                      and Path(ws.model).resolve() == Path(self.result.card_dir).resolve())
        self.promote_button.setEnabled(not busy and self.result is not None and not in_use)
        chosen = self.versions.currentIndex()
        self.rollback_button.setEnabled(not busy and self.versions.count() > 1 and chosen >= 0
                                        and not self.versions.itemText(chosen).endswith(show.IN_USE))
