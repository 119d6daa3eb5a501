"""`seggui infer --ray`: the drive pipeline with the model runs spread over Ray actors.

Why this shape:

- The driver (the machine running `seggui infer`) reads the frames and
  writes the outputs with the very sink the single-process pipeline uses
  (`FolderOutputs`), so the layout, the resume (frames already written are
  skipped before they are read) and `areas.csv` are the same by
  construction; only `Predictor.infer` runs elsewhere. The workers need the
  model, not the data: pictures and videos stay where the driver is.
- One actor per worker holds one predictor (loaded once, pinned to a GPU by
  Ray's `num_gpus=1` when the cluster has GPUs), so a model loads once per
  worker, not once per frame; the driver keeps two batches queued per
  actor so none waits.
- Nothing is dropped silently: a batch whose task raises is retried frame
  by frame; a lost worker (its process or machine gone) is replaced and its
  batches go out again; a frame that still fails after `RETRIES` tries is
  reported in the result, as a frame that cannot be read is.

The masks equal a single-process run's on the same kind of device: the same
card, backend choice and input preparation run on each worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import ray
import ray.exceptions

from seggui.core.errors import BadInputError, SegguiError
from seggui.core.jobs import Job, Progress
from seggui.core.media import Source, iter_frames_threaded
from seggui.engine.card import ModelCard
from seggui.engine.pipeline import PipelineResult, Sink, _batched, _runs, drain_bad, split_span
from seggui.engine.postprocess import Prediction

RETRIES = 3  # tries per frame before it is reported as failed
QUEUED_PER_WORKER = 2


class PredictorActor:
    """One Ray worker's predictor (created by `ray.remote(PredictorActor)`)."""

    def __init__(self, folder: str | None, ref: str, load: dict[str, Any]) -> None:
        from seggui.engine.predictor import load_predictor

        # the card folder when this machine has it (shared storage, one install), else the name@version
        self.predictor = load_predictor(folder if folder and Path(folder).is_dir() else ref, **load)

    def describe(self) -> str:
        return f"{self.predictor.describe()} on {os.uname().nodename} (pid {os.getpid()})"

    def predict(self, frames: list[np.ndarray], confidence: bool) -> list[Prediction]:
        preds = self.predictor.infer([self.predictor.prepare(f) for f in frames], confidence)
        return [Prediction(p.labels, p.confidence) for p in preds]


@dataclass
class _Task:
    slot: int
    generation: int
    chunk: list[tuple[int, np.ndarray]]
    attempt: int = 1


@dataclass
class RayRun:
    """A pool of predictor actors on a Ray cluster, and the job that feeds them a source.

    `address`: None or "local" starts a local Ray (or uses the one this
    process already joined); "auto" or "HOST:PORT" joins a cluster.
    `workers` defaults to the cluster's GPUs, else its CPUs / threads.
    """

    card: ModelCard
    load: dict[str, Any]
    address: str | None = None
    workers: int | None = None
    actors: list[Any] = field(default_factory=list)
    generations: list[int] = field(default_factory=list)
    started_ray: bool = False

    # ------------------------------------------------------------ the pool
    def start(self) -> list[str]:
        """Join or start Ray and create the actors; returns where each runs."""
        if not ray.is_initialized():
            local = self.address in (None, "", "local")
            try:
                if local:
                    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
                else:
                    ray.init(address=self.address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise SegguiError(f"--ray {self.address or ''}: cannot start or join Ray ({exc})") from None
            self.started_ray = True
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        threads = int(self.load.get("threads") or 1)
        n = self.workers or (gpus or max(1, int(resources.get("CPU", 1)) // threads))
        if n < 1:
            raise BadInputError(None, f"--workers must be at least 1, not {n}")
        self._options = {"num_gpus": 1 if gpus else 0, "num_cpus": threads if not gpus else 1}
        if gpus and self.load.get("device") == "auto":
            self.load = {**self.load, "device": "cuda"}
        self.actors = [self._new_actor() for _ in range(n)]
        self.generations = [0] * n
        return ray.get([a.describe.remote() for a in self.actors])

    def _new_actor(self) -> Any:
        folder = str(self.card.folder) if self.card.folder is not None else None
        return ray.remote(PredictorActor).options(**self._options).remote(folder, self.card.ref, self.load)

    def replace(self, slot: int) -> None:
        """A new actor in `slot` (its predecessor is gone)."""
        try:
            ray.kill(self.actors[slot])
        except Exception:  # noqa: BLE001 - already dead is what we expect
            pass
        self.actors[slot] = self._new_actor()
        self.generations[slot] += 1

    def close(self) -> None:
        for a in self.actors:
            try:
                ray.kill(a)
            except Exception:  # noqa: BLE001 - a dead actor needs no killing
                pass
        self.actors = []
        if self.started_ray:
            ray.shutdown()
            self.started_ray = False

    # ------------------------------------------------------------- the job
    def run(self, source: Source, sink: Sink, *, start: int = 0, stop: int | None = None,
            skip: Callable[[int, str], bool] | None = None, batch: int | None = None,
            confidence: bool = False,
            ) -> Job[PipelineResult]:
        """`run_pipeline`'s job, with `Predictor.infer` on the actors; the sink runs here, on the driver.

        `batch`: frames per task (default 4 on GPU workers, 1 on CPU ones, as the engine's default).
        """
        if not self.actors:
            raise SegguiError("RayRun.run before start()")
        batch = batch or (4 if self._options["num_gpus"] else 1)
        span, result, todo = split_span(source, start, stop, skip)
        total = len(span)
        done = len(result.skipped)
        bad: list[tuple[int, str]] = []
        pending: dict[Any, _Task] = {}
        load = [0] * len(self.actors)
        t0 = time.perf_counter()

        def submit(task: _Task) -> None:
            slot = min(range(len(self.actors)), key=lambda s: load[s]) if task.attempt == 1 else (
                (task.slot + 1) % len(self.actors))  # a retry goes to another worker when there is one
            task.slot, task.generation = slot, self.generations[slot]
            ref = self.actors[slot].predict.remote([f for _, f in task.chunk], confidence)
            pending[ref] = task
            load[slot] += 1

        def settle(limit: int) -> Iterator[Progress]:
            nonlocal done
            while len(pending) > limit:
                ready, _ = ray.wait(list(pending), num_returns=1)
                task = pending.pop(ready[0])
                load[task.slot] -= 1
                names = ", ".join(source.name(i) for i, _ in task.chunk)
                try:
                    preds = ray.get(ready[0])
                except ray.exceptions.RayActorError as exc:
                    if task.generation == self.generations[task.slot]:
                        self.replace(task.slot)
                    why = f"worker {task.slot} lost ({type(exc).__name__})"
                    yield from retry(task, why, names)
                    continue
                except ray.exceptions.RayTaskError as exc:
                    yield from retry(task, str(exc.cause if exc.cause is not None else exc).strip(), names)
                    continue
                for (i, frame), pred in zip(task.chunk, preds, strict=True):
                    sink(i, source.name(i), frame, pred)
                    result.written.append(i)
                done += len(task.chunk)
                last = source.name(task.chunk[-1][0])
                yield Progress(done, total, f"frame {last}", item=last)

        def retry(task: _Task, why: str, names: str) -> Iterator[Progress]:
            nonlocal done
            if task.attempt < RETRIES:
                yield Progress(done, total, "retrying", error=f"{names}: {why}; retrying "
                               f"(try {task.attempt + 1} of {RETRIES})")
                parts = [task.chunk] if len(task.chunk) == 1 else [[c] for c in task.chunk]
                for part in parts:  # a batch that failed is retried frame by frame
                    submit(_Task(task.slot, 0, part, task.attempt + 1))
                return
            for i, _ in task.chunk:
                done += 1
                result.failed.append((i, why))
                yield Progress(done, total, source.name(i), item=source.name(i),
                               error=f"{source.name(i)}: {why} (after {RETRIES} tries)")

        try:
            yield Progress(done, total, f"{done} frames already done" if done else "starting")
            for run_start, run_stop in _runs(todo):
                stream = iter_frames_threaded(source, run_start, run_stop, 16, None,
                                              on_bad=lambda i, e: bad.append((i, str(e))))
                for frames in _batched(stream, batch):
                    submit(_Task(0, 0, frames))
                    yield from settle(QUEUED_PER_WORKER * len(self.actors))
                    done = yield from drain_bad(bad, source, result, done, total)
                done = yield from drain_bad(bad, source, result, done, total)  # at the end of a run
            yield from settle(0)
        finally:
            result.seconds = time.perf_counter() - t0
        result.written.sort()
        result.failed.sort()
        return result
