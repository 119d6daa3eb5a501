"""Background inference: the chosen model card, its loaded predictor, and the run job.

The window predicts through the engine's one path, `predict_workspace`, like
the CLI, the demo and retraining. The run is planned on the GUI thread (which
frames, the drive sources the session has open), then the job runs on the
`JobRunner`'s worker: it loads the predictor on first use (torch or ONNX
Runtime are imported there, never before the window shows) and the pipeline's
writer thread encodes and writes each mask PNG through a
`DeferredWorkspaceOutputs` sink. The GUI thread only records the written
frames in the workspace, in batches (every half second, and at the end): one
seggui.json write and one coalesced event per batch, never one per frame. A
picture that fails is reported in `Progress.error` and the run goes on.

Drive frames (a video's, or an image sequence's) go through the drive's own
media `Source` (one pipeline run per drive, decoded sequentially, never a
seek per frame); frames outside the request (a frame range of the timeline),
and those the same model already predicted, are skipped, so a cancelled drive
resumes where it stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from seggui.core.errors import BadInputError
from seggui.core.frame_record import counted, done_of
from seggui.core.jobs import CancelToken, Job, Progress, every, map_progress
from seggui.core.outputs import DeferredWorkspaceOutputs
from seggui.engine.card import ModelCard
from seggui.ui.runner import JobHandle, JobRunner
from seggui.ui.session import Session

if TYPE_CHECKING:
    from seggui.engine.workspace_inference import PredictionPlan


def _predict_job(card: ModelCard, predictor: Any, plan: PredictionPlan, sink: DeferredWorkspaceOutputs,
                 token: CancelToken) -> Job[dict[str, int]]:
    """Load the predictor if none is given (telling the window in `Progress.data`), then run the plan."""
    from seggui.engine.workspace_inference import predict_workspace

    if predictor is None:
        yield Progress(0, plan.total, f"loading {card.name}…")
        from seggui.engine.predictor import load_predictor  # torch/ORT load here, off the UI thread

        predictor = load_predictor(card)
        yield Progress(0, plan.total, predictor.describe(), data={"predictor": predictor, "card": card.ref})
    # a progress bar moved 20 times a second is enough: one repaint per frame costs the GUI more than
    # recording the frames does
    written = yield from map_progress(
        predict_workspace(sink.ws, predictor, token=token, sink=sink, plan=plan), every(0.05))
    return {"predicted": written, "failed": len(plan.failed)}


def model_ref(card: ModelCard) -> str:
    """How a workspace names its model in use: the card's folder (a picked card may lie anywhere)."""
    return str(card.folder.resolve()) if card.folder is not None else card.ref


def _card_key(card: ModelCard | None) -> tuple[Path | None, str] | None:
    """Two card objects read from the same folder at the same version are the same model."""
    return None if card is None else (card.folder, card.ref)


class Inference(QObject):
    """Holds the model choice and runs it through the window's job runner."""

    modelChanged = Signal()
    predictorReady = Signal(str)
    _recordDue = Signal()  # from the pipeline's writer thread: a batch of written frames awaits recording

    def __init__(self, session: Session, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.card: ModelCard | None = None
        self.predictor: Any = None
        self.last_result: dict[str, int] | None = None
        self._what = ""  # what the running prediction covers ("4 pictures"), for its closing line
        self.run_root: Path | None = None  # the workspace a running prediction job writes into
        self._sink: DeferredWorkspaceOutputs | None = None  # the running job's, until its last batch
        # written frames are recorded (one seggui.json write) at most this often, or this many at once
        self.record_every_s, self.record_every_n = 0.5, 500
        self.record_budget_s = 0.0005  # GUI time a batch may spend per frame it records
        # asks the analyst to confirm a class map (ClassMap -> ClassMap, or None to stop); the window
        # shows ClassMapDialog, tests and scripts may answer otherwise
        self.confirm_map: Callable[[Any], Any] = lambda suggested: suggested
        self._handle: JobHandle | None = None  # the running prediction job's
        session.opened.connect(self._on_opened)
        self._recordDue.connect(self._record)  # queued: emitted on the writer thread

    def describe(self) -> str:
        """The status-bar text: model name (and version once retrained), backend and device once loaded."""
        if self.card is None:
            return "No model"
        name = f"{self.card.name} v{self.card.version}"  # as the model box names it: versions share a name
        if self.predictor is None:
            return f"{name} · loads on first run"
        return f"{name} · {self.predictor.describe()}"

    def set_card(self, card: ModelCard | None) -> None:
        if _card_key(card) == _card_key(self.card):
            return
        if self.predictor is not None and not self.runner.is_running():
            self.predictor.close()
        self.card, self.predictor = card, None
        self.modelChanged.emit()

    def run(self, scope: str = "current", frame_ids: list[str] | None = None) -> bool:
        """Start predicting the current frame ("current"), every frame ("all") or `frame_ids` ("frames").

        Except for "current", drive frames (videos and image sequences) this
        model already predicted are skipped, so a stopped drive run resumes;
        pictures are predicted again, as before drives existed.
        """
        s = self.session
        if s.workspace is None:
            raise BadInputError(None, "open pictures before running a model")
        s.workspace.check_writable()  # a second window only reads: its predictions would not be kept
        if self.card is None:
            raise BadInputError(None, "choose a model first (Model ▸ Open model card…)")
        if self.runner.is_running():
            raise BadInputError(None, f"{self.runner.title} is still running; wait or cancel it")
        if not self.use_model_classes():
            return False
        if scope == "frames":
            ids = [fid for fid in frame_ids or [] if fid in s.workspace.frames]
        else:
            ids = [s.current] if scope == "current" and s.current else s.frame_ids
        plan = self._plan(ids, resume=scope != "current")
        if plan.skipped:
            s.log.info(f"{plan.skipped} drive frames already predicted by {self.card.name}: skipped")
        count = plan.total
        if count == 0:
            plan.close()
            s.log.info("nothing to predict")
            return False
        card, predictor = self.card, self.predictor
        sink = DeferredWorkspaceOutputs(s.workspace, card.ref, every_s=self.record_every_s,
                                        every_n=self.record_every_n, notify=self._recordDue.emit)
        only = plan.pictures[0][0] if plan.pictures else s.current
        self._what = counted(count, sum(len(d.indices) for d in plan.drives))  # "4 pictures", "40 frames"
        title = f"Predicting {only}" if count == 1 else f"Predicting {self._what}"
        handle = self.runner.start(title, lambda token: _predict_job(card, predictor, plan, sink, token))
        if handle is None:
            return False
        handle.progress.connect(self.take_predictor)
        handle.result.connect(self._on_finished)
        handle.error.connect(self._on_ended)
        handle.cancelled.connect(self._on_ended)
        self.run_root, self._sink, self._handle = s.workspace.root, sink, handle
        s.workspace.set_model(model_ref(card))  # the model in use: what Retrain fine-tunes
        return True

    def use_model_classes(self) -> bool:
        """Bring the workspace to the chosen model's classes; False when the analyst declines the map.

        A workspace with nothing yet takes the model's table; one with ground
        truth in another table gets a class map the analyst confirms
        (`confirm_map`); corrections in another table are refused with a
        message (seggui.core.model_classes).
        """
        from seggui.core.model_classes import plan_switch

        s = self.session
        assert s.workspace is not None and self.card is not None
        table = self.card.classes  # raises for a card whose classes do not fit its outputs
        switch = plan_switch(s.workspace, table)
        if switch is None:
            return True
        cmap = None
        if switch.suggested is not None:
            cmap = self.confirm_map(switch.suggested)
            if cmap is None:
                s.log.info(f"not run: {self.card.name} predicts {table.name} classes and the class map "
                           "was not confirmed")
                return False
        s.adopt_classes(switch, cmap)
        s.log.info(f"workspace now uses the classes of model {self.card.name} ({table.name})")
        return True

    def _plan(self, ids: list[str], resume: bool) -> PredictionPlan:
        """Which of `ids` to predict, on this thread (it reads the workspace): every picture, and the
        drive frames not yet predicted by this model when `resume`, through the session's open sources.
        """
        from seggui.engine.workspace_inference import plan_prediction

        s, ref = self.session, self.card.ref if self.card else ""
        ws = s.workspace
        assert ws is not None

        def done(fid: str) -> bool:
            return ws.frames[fid].drive is not None and ws.predicted_by(fid, ref)

        # s.video: None for an unreadable drive, already reported by the session
        plan = plan_prediction(ws, ids, done=done if resume else None, source_of=s.video)
        for d in plan.drives:
            if d.lost:
                s.log.warning(f"{d.source.path}: {len(d.lost)} frames of the workspace are no longer in it "
                              f"(first: {d.lost[0]}); they are not predicted")
        return plan

    def take_predictor(self, p: Progress) -> None:
        """A job's progress that hands over the predictor it loaded off the GUI thread: kept for the
        next runs, and the status bar names its backend."""
        data = p.data or {}
        if "predictor" in data and self.card is not None and data["card"] == self.card.ref:
            self.predictor = data["predictor"]
            self.predictorReady.emit(self.predictor.describe())
            self.modelChanged.emit()

    def _record(self) -> None:
        """Record the frames the running job wrote since the last batch: one seggui.json write for all.

        Into the open workspace when it is the run's folder (opened again or
        not); into the run's own workspace object when another one was opened
        meanwhile (its files are there, never in the new one).
        """
        sink = self._sink
        if sink is None:
            return
        ws = self.session.workspace
        t0 = time.perf_counter()
        done = sink.record(ws if ws is not None and ws.root == sink.ws.root else None)
        if done:  # a save costs about the same for 1 frame as for 300: wait for enough to share it
            spent = time.perf_counter() - t0
            sink.min_n = max(1, math.ceil(spent / self.record_budget_s))

    def _same_workspace(self) -> bool:
        """Whether the run's results still belong to the open workspace (never write into another one)."""
        ws = self.session.workspace
        return ws is not None and self.run_root is not None and ws.root == self.run_root

    def _on_opened(self) -> None:
        """Another workspace opened while a prediction runs: stop it; its frames resume next time."""
        if self._handle is not None and not self._same_workspace():
            self.session.log.info(f"{self._handle.title} stopped: another workspace was opened "
                                  "(frames already predicted are kept; run again to resume)")
            if self._sink is not None:
                self._sink.stop()
            self._handle.cancel()

    def _on_ended(self, *_: object) -> None:
        self._record()  # the last batch: what the run wrote before it stopped or failed is kept
        self.run_root, self._sink, self._handle = None, None, None

    def _on_finished(self, result: Any) -> None:
        self._on_ended()
        if isinstance(result, dict) and "predicted" in result:
            self.last_result = result
            failed = f", {result['failed']} failed (see Messages)" if result["failed"] else ""
            self.session.log.info(f"predicted {done_of(result['predicted'], self._what)}{failed}")
