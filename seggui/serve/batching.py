"""One worker thread per model: concurrent requests share backend runs.

A predictor runs one call at a time (see `Predictor`), and on a GPU a batch
of 4 frames costs little more than one. So each served model gets a thread
that owns its predictor: requests put their prepared pictures on its queue
(preparing - resize, normalise - happens on the request's own thread, in
parallel); the worker takes the first waiting one, gathers whatever else
arrives within `wait_s` (up to `max_batch`), and runs them in one
`Predictor.infer`, which stacks equal-sized pictures into backend calls of
the predictor's batch size. A request alone waits at most `wait_s` extra.

A failing batch fails the requests in it with the error and the worker goes
on; `close()` finishes the queued work, then releases the backend.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from seggui.engine.postprocess import Prediction
from seggui.engine.predictor import Predictor
from seggui.engine.preprocess import PreparedImage

_STOP = object()


@dataclass
class Served:
    """A prediction and how many requests shared its backend run."""

    prediction: Prediction
    batch: int


class ModelWorker:
    """Runs one predictor on a thread, batching the requests that arrive together."""

    def __init__(self, predictor: Predictor, max_batch: int = 8, wait_s: float = 0.005) -> None:
        self.predictor = predictor
        self.max_batch = max(1, int(max_batch))
        self.wait_s = max(0.0, float(wait_s))
        self.requests = 0
        self.batches = 0
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"seggui-serve-{predictor.card.name}",
                                        daemon=True)
        self._thread.start()

    def submit(self, prepared: PreparedImage) -> Future[Served]:
        """Queue one prepared picture; the future resolves to its prediction (or its error)."""
        fut: Future[Served] = Future()
        self._queue.put((prepared, fut))
        return fut

    def _gather(self, first: tuple[PreparedImage, Future[Served]]) -> tuple[list, bool]:
        items = [first]
        deadline = time.monotonic() + self.wait_s
        while len(items) < self.max_batch:
            left = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return items, True
            items.append(item)  # type: ignore[arg-type]
        return items, False

    def _loop(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is _STOP:
                break
            items, stop = self._gather(first)  # type: ignore[arg-type]
            live = [(p, f) for p, f in items if f.set_running_or_notify_cancel()]
            if not live:
                continue
            self.batches += 1
            self.requests += len(live)
            try:
                preds = self.predictor.infer([p for p, _ in live], confidence=False)
            except BaseException as exc:  # noqa: BLE001 - handed to the requests, the worker goes on
                for _, fut in live:
                    fut.set_exception(exc)
                continue
            for (_, fut), pred in zip(live, preds, strict=True):
                fut.set_result(Served(pred, len(live)))

    def close(self) -> None:
        """Finish what is queued, stop the thread, release the backend."""
        self._queue.put(_STOP)
        self._thread.join()
        self.predictor.close()
