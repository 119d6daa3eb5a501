"""Background inference: the chosen model card, its loaded predictor, and the run job.

The job is a plain generator (like every core job) that the `JobRunner`
drives on a worker thread: it loads the predictor on first use (torch or
ONNX Runtime are imported there, never before the window shows), runs the
engine's pipeline over the pictures and video frames, and yields the labels
in `Progress.data`. The main thread applies each result to the session (mask files, status, views), so the
workspace is only ever changed on the main thread. A picture that fails is
reported in `Progress.error` and the run goes on with the next one.

Drive frames (a video's, or an image sequence's) go through the drive's own
media `Source` (one pipeline run per drive, decoded sequentially, never a
seek per frame); frames outside the request (a frame range of the timeline),
and those the same model already predicted, are skipped, so a cancelled drive
resumes where it stopped.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.outputs import confidence_png
from seggui.engine.card import ModelCard
from seggui.ui.runner import JobRunner
from seggui.ui.session import Session

VideoRun = tuple[Any, list[int]]  # (media Source of a drive, frame indices to predict)


def predict_job(card: ModelCard, predictor: Any, items: list[tuple[str, Path]],
                token: CancelToken, videos: list[VideoRun] | None = None) -> Job[dict[str, int]]:
    """Predict each (frame id, picture) pair, then each drive's frames, through the engine's pipeline.

    Loads the predictor first if none is given. `seggui.engine.pipeline`
    decodes ahead, batches and reports unreadable pictures; its sink (on the
    pipeline's writer thread) only queues each result, and this generator
    hands them on in `Progress.data`, so the workspace is written on the main
    thread alone.
    """
    from seggui.core.media import PictureListSource

    videos = [(src, sorted(ix)) for src, ix in videos or [] if ix]
    total = len(items) + sum(len(ix) for _src, ix in videos)
    if predictor is None:
        yield Progress(0, total, f"loading {card.name}…")
        from seggui.engine.predictor import load_predictor  # torch/ORT load here, off the UI thread

        predictor = load_predictor(card)
        yield Progress(0, total, predictor.describe(), data={"predictor": predictor, "card": card.ref})
    from seggui.engine.pipeline import run_pipeline

    ready: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
    runs: list[tuple[Any, int, int | None, Callable[[int, str], bool] | None]] = []
    if items:
        runs.append((PictureListSource([path for _fid, path in items], [fid for fid, _path in items]),
                     0, None, None))
    for src, indices in videos:
        wanted = set(indices)
        runs.append((src, indices[0], indices[-1] + 1, lambda i, _name, w=wanted: i not in w))  # type: ignore[misc]

    def results(done: int) -> Iterator[Progress]:
        while not ready.empty():
            fid, pred = ready.get()
            conf = None if pred.confidence is None else confidence_png(pred.confidence)
            yield Progress(done, total, fid, item=fid, data={"frame": fid, "labels": pred.labels,
                                                             "confidence": conf, "model": card.ref})

    written = failed = base = 0
    for source, start, stop, skip in runs:
        inner = run_pipeline(predictor, source, lambda _i, fid, _frame, pred: ready.put((fid, pred)),
                             start=start, stop=stop, skip=skip, token=token)
        span = source.span(start, stop)
        unwanted = len(span) - (sum(1 for i in span if not skip(i, "")) if skip else len(span))
        try:
            while True:
                try:
                    p = next(inner)
                except StopIteration as stop_:
                    outcome = stop_.value
                    break
                done = base + max(0, p.done - unwanted)
                yield from results(done)
                yield Progress(done, total, p.message, item=p.item, error=p.error)
        finally:
            inner.close()
        written += len(outcome.written)
        failed += len(outcome.failed)
        base += len(outcome.written) + len(outcome.failed)
        yield from results(base)
    return {"predicted": written, "failed": failed}


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

    def __init__(self, session: Session, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.card: ModelCard | None = None
        self.predictor: Any = None
        self.last_result: dict[str, int] | None = None
        self.run_root: Path | None = None  # the workspace a running prediction job writes into
        # asks the analyst to confirm a class map (ClassMap -> ClassMap, or None to stop); the window
        # shows ClassMapDialog, tests and scripts may answer otherwise
        self.confirm_map: Callable[[Any], Any] = lambda suggested: suggested
        runner.progress.connect(self._on_progress)
        runner.finished.connect(self._on_finished)
        for signal in (runner.failed, runner.cancelled):
            signal.connect(self._on_ended)
        session.opened.connect(self._on_opened)

    def describe(self) -> str:
        """The status-bar text: model name, backend and device once loaded."""
        if self.card is None:
            return "No model"
        if self.predictor is None:
            return f"{self.card.name} · loads on first run"
        return f"{self.card.name} · {self.predictor.describe()}"

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
        items, videos, done = self._plan(ids, resume=scope != "current")
        if done:
            s.log.info(f"{done} drive frames already predicted by {self.card.name}: skipped")
        count = len(items) + sum(len(ix) for _src, ix in videos)
        if count == 0:
            s.log.info("nothing to predict")
            return False
        card, predictor = self.card, self.predictor
        only = items[0][0] if items else s.current
        title = f"Predicting {only}" if count == 1 else f"Predicting {count} frames"
        started = self.runner.start(title, lambda token: predict_job(card, predictor, items, token, videos))
        if started:
            self.run_root = s.workspace.root
            s.workspace.set_model(model_ref(card))  # the model in use: what Retrain fine-tunes
        return started

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

    def _plan(self, ids: list[str], resume: bool) -> tuple[list[tuple[str, Path]], list[VideoRun], int]:
        """(pictures, drive runs with frame indices, frames skipped as already done by this model)."""
        s, ref = self.session, self.card.ref if self.card else ""
        ws = s.workspace
        assert ws is not None
        pictures, drives = ws.split_by_drive(ids)
        items = [(fid, path) for fid in pictures if (path := ws.image_path(fid)) is not None]
        done = 0
        if resume:
            todo = {k: [f for f in fids if not ws.predicted_by(f, ref)] for k, fids in drives.items()}
            done = sum(len(v) for v in drives.values()) - sum(len(v) for v in todo.values())
            drives = {k: v for k, v in todo.items() if v}
        videos: list[VideoRun] = []
        for fids in drives.values():
            src = s.video(fids[0])  # None: unreadable, already reported by the session
            if src is None:
                continue
            index = {src.name(i): i for i in range(len(src))}
            lost = [fid for fid in fids if fid not in index]
            if lost:
                s.log.warning(f"{src.path}: {len(lost)} frames of the workspace are no longer in it "
                              f"(first: {lost[0]}); they are not predicted")
            videos.append((src, [index[fid] for fid in fids if fid in index]))
        return items, videos, done

    def _on_progress(self, p: Progress) -> None:
        data = p.data or {}
        if "predictor" in data:
            if self.card is not None and data["card"] == self.card.ref:
                self.predictor = data["predictor"]
                self.predictorReady.emit(self.predictor.describe())
                self.modelChanged.emit()
        elif "labels" in data and self._same_workspace():
            self.session.apply_prediction(data["frame"], data["labels"], data["confidence"], data["model"])

    def _same_workspace(self) -> bool:
        """Whether the run's results still belong to the open workspace (never write into another one)."""
        ws = self.session.workspace
        return ws is not None and self.run_root is not None and ws.root == self.run_root

    def _on_opened(self) -> None:
        """Another workspace opened while a prediction runs: stop it; its frames resume next time."""
        if self.run_root is not None and self.runner.is_running() and not self._same_workspace():
            self.session.log.info(f"{self.runner.title} stopped: another workspace was opened "
                                  "(frames already predicted are kept; run again to resume)")
            self.runner.cancel()

    def _on_ended(self, *_: object) -> None:
        self.run_root = None

    def _on_finished(self, result: Any) -> None:
        self.run_root = None
        if isinstance(result, dict) and "predicted" in result:
            self.last_result = result
            failed = f", {result['failed']} failed (see Messages)" if result["failed"] else ""
            n = result["predicted"]
            self.session.log.info(f"predicted {n} frame{'s' * (n != 1)}{failed}")
