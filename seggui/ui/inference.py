"""Background inference: the chosen model card, its loaded predictor, and the run job.

The job is a plain generator (like every core job) that the `JobRunner`
drives on a worker thread: it loads the predictor on first use (torch or
ONNX Runtime are imported there, never before the window shows), runs the
engine's pipeline over the pictures, and yields the labels in `Progress.data`. The main thread
applies each result to the session (mask files, status, views), so the
workspace is only ever changed on the main thread. A picture that fails is
reported in `Progress.error` and the run goes on with the next one.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.outputs import confidence_png
from seggui.engine.card import ModelCard
from seggui.ui.runner import JobRunner
from seggui.ui.session import Session


def predict_job(card: ModelCard, predictor: Any, items: list[tuple[str, Path]],
                token: CancelToken) -> Job[dict[str, int]]:
    """Predict each (frame id, picture) pair through the engine's pipeline.

    Loads the predictor first if none is given. `seggui.engine.pipeline`
    decodes ahead, batches and reports unreadable pictures; its sink (on the
    pipeline's writer thread) only queues each result, and this generator
    hands them on in `Progress.data`, so the workspace is written on the main
    thread alone.
    """
    from seggui.core.media import PictureListSource

    total = len(items)
    if predictor is None:
        yield Progress(0, total, f"loading {card.name}…")
        from seggui.engine.predictor import load_predictor  # torch/ORT load here, off the UI thread

        predictor = load_predictor(card)
        yield Progress(0, total, predictor.describe(), data={"predictor": predictor, "card": card.ref})
    from seggui.engine.pipeline import run_pipeline

    ready: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
    source = PictureListSource([path for _fid, path in items], [fid for fid, _path in items])
    inner = run_pipeline(predictor, source, lambda _i, fid, _frame, pred: ready.put((fid, pred)), token=token)

    def results(done: int) -> Iterator[Progress]:
        while not ready.empty():
            fid, pred = ready.get()
            conf = None if pred.confidence is None else confidence_png(pred.confidence)
            yield Progress(done, total, fid, item=fid, data={"frame": fid, "labels": pred.labels,
                                                             "confidence": conf, "model": card.ref})

    try:
        while True:
            try:
                p = next(inner)
            except StopIteration as stop:
                outcome = stop.value
                break
            yield from results(p.done)
            yield p
        yield from results(total)
    finally:
        inner.close()
    return {"predicted": len(outcome.written), "failed": len(outcome.failed)}


def same_classes(a: Any, b: Any) -> bool:
    """Whether two class tables agree on ids, names and the ignore index (colours may differ)."""
    return ([(c.id, c.name) for c in a.classes] == [(c.id, c.name) for c in b.classes]
            and a.ignore_index == b.ignore_index)


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
        runner.progress.connect(self._on_progress)
        runner.finished.connect(self._on_finished)

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

    def run(self, scope: str = "current") -> bool:
        """Start predicting the current picture ("current") or every picture ("all")."""
        s = self.session
        if s.workspace is None:
            raise BadInputError(None, "open pictures before running a model")
        if self.card is None:
            raise BadInputError(None, "choose a model first (Model ▸ Open model card…)")
        if self.runner.is_running():
            raise BadInputError(None, f"{self.runner.title} is still running; wait or cancel it")
        table = self.card.classes  # raises for a card whose classes do not fit its outputs
        if not same_classes(table, s.workspace.classes):
            s.adopt_classes(table)  # refuses (with a message) if masks of other classes exist
            s.log.info(f"workspace now uses the classes of model {self.card.name} ({table.name})")
        ids = [s.current] if scope == "current" and s.current else s.frame_ids
        items = []
        for fid in ids:
            path = s.workspace.image_path(fid)
            if path is None:
                s.log.warning(f"{fid}: video frames are not predicted from the window yet; skipped")
            else:
                items.append((fid, path))
        card, predictor = self.card, self.predictor
        title = f"Predicting {items[0][0]}" if len(items) == 1 else f"Predicting {len(items)} pictures"
        return self.runner.start(title, lambda token: predict_job(card, predictor, items, token))

    def _on_progress(self, p: Progress) -> None:
        data = p.data or {}
        if "predictor" in data:
            if self.card is not None and data["card"] == self.card.ref:
                self.predictor = data["predictor"]
                self.predictorReady.emit(self.predictor.describe())
                self.modelChanged.emit()
        elif "labels" in data:
            self.session.apply_prediction(data["frame"], data["labels"], data["confidence"], data["model"])

    def _on_finished(self, result: Any) -> None:
        if isinstance(result, dict) and "predicted" in result:
            self.last_result = result
            failed = f", {result['failed']} failed (see Messages)" if result["failed"] else ""
            self.session.log.info(f"predicted {result['predicted']} pictures{failed}")
