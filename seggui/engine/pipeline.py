"""The drive pipeline: decode, prepare, infer and write, overlapped.

Three stages run at once so the model never waits:

- a decoder thread (`iter_frames_threaded`) reads frames ahead into a bounded
  queue;
- this thread prepares a batch (numpy normalise/pad) and runs the backend;
- a writer thread hands each result to the `sink` (PNG encoding, areas), with
  a bounded backlog so memory stays flat on long drives.

The job is a plain generator (yield `Progress`, poll a `CancelToken`), run by
the CLI with a progress bar and by the GUI on a QThread. Frames the `skip`
predicate accepts (already written) are not decoded again, so a stopped run
resumes where it stopped. A frame that cannot be read is reported and the
others continue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.media import Source, iter_frames_threaded
from seggui.engine.predictor import Prediction, Predictor

Sink = Callable[[int, str, np.ndarray, Prediction], None]


@dataclass
class PipelineResult:
    """What a run did: frames written, skipped as done, failed (with reasons), and its speed."""

    written: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return len(self.written) / self.seconds if self.seconds > 0 else 0.0


def split_span(source: Source, start: int, stop: int | None,
               skip: Callable[[int, str], bool] | None) -> tuple[range, PipelineResult, list[int]]:
    """(the frames asked for, a result holding those `skip` leaves out, the frames to predict)."""
    span = source.span(start, stop)
    result = PipelineResult()
    todo = []
    for i in span:
        if skip is not None and skip(i, source.name(i)):
            result.skipped.append(i)
        else:
            todo.append(i)
    return span, result, todo


def _runs(indices: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Contiguous [start, stop) runs of sorted indices (to decode each run in one pass)."""
    start: int | None = None
    prev = 0  # read only once start is set
    for i in indices:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            yield start, prev + 1
            start = prev = i
    if start is not None:
        yield start, prev + 1


def run_pipeline(
    predictor: Predictor,
    source: Source,
    sink: Sink,
    *,
    start: int = 0,
    stop: int | None = None,
    skip: Callable[[int, str], bool] | None = None,
    batch: int | None = None,
    confidence: bool = True,
    token: CancelToken | None = None,
    queue_size: int = 16,
) -> Job[PipelineResult]:
    """Predict frames start..stop-1 of `source` and give each to `sink(index, name, frame, prediction)`.

    The sink runs on the writer thread, in frame order. Cancel stops after
    the batch in flight, whose results are still written.
    """
    span, result, todo = split_span(source, start, stop, skip)
    total = len(span)
    batch = max(1, batch or predictor.batch_size)
    bad: list[tuple[int, str]] = []
    t0 = time.perf_counter()
    pending: list[Future[None]] = []
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seggui-writer")

    def settle(limit: int) -> None:
        """Wait for the writer until at most `limit` results are queued; surface its errors."""
        while len(pending) > limit:
            pending.pop(0).result()

    def write(i: int, name: str, frame: np.ndarray, pred: Prediction) -> None:
        sink(i, name, frame, pred)
        result.written.append(i)

    done = len(result.skipped)
    try:
        yield Progress(done, total, f"{done} frames already done" if done else "starting")
        for run_start, run_stop in _runs(todo):
            stream = iter_frames_threaded(
                source, run_start, run_stop, queue_size, token,
                on_bad=lambda i, e: bad.append((i, str(e))),
            )
            for frames in _batched(stream, batch):
                preds = predictor.infer([predictor.prepare(f) for _, f in frames], confidence)
                for (i, frame), pred in zip(frames, preds, strict=True):
                    pending.append(writer.submit(write, i, source.name(i), frame, pred))
                settle(4 * batch)
                done += len(frames)
                last = source.name(frames[-1][0])
                yield Progress(done, total, f"frame {last}", item=last)
                done = yield from drain_bad(bad, source, result, done, total)
            done = yield from drain_bad(bad, source, result, done, total)  # at the end of a run
        settle(0)
    finally:
        # Results already inferred are still written (cancel keeps finished work).
        writer.shutdown(wait=True)
        result.seconds = time.perf_counter() - t0
    result.written.sort()
    return result


def drain_bad(bad: list[tuple[int, str]], source: Source, result: PipelineResult, done: int, total: int
              ) -> Generator[Progress, None, int]:
    """Report the frames the reader could not decode since the last call, and forget them.

    One Progress with the error per frame, each counted done and recorded as
    failed; returns the new done count. The local pipeline and the Ray run both
    call it after every batch and once at the end of a run, so an unreadable
    frame is reported the same way wherever it sits.
    """
    for i, why in bad:
        done += 1
        result.failed.append((i, why))
        yield Progress(done, total, source.name(i), item=source.name(i),
                       error=f"{source.name(i)}: {why}")
    bad.clear()
    return done


def _batched(stream: Iterator[tuple[int, np.ndarray]], n: int) -> Iterator[list[tuple[int, np.ndarray]]]:
    """Group a frame stream into lists of up to `n` (the last one may be shorter)."""
    chunk: list[tuple[int, np.ndarray]] = []
    for item in stream:
        chunk.append(item)
        if len(chunk) == n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
