"""Long work as plain generators: yield `Progress`, check a `CancelToken`.

The same job runs under the CLI (a progress bar) and under the GUI (a QThread
runner); neither the job nor its caller needs to know about the other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from seggui.core.errors import Cancelled

T = TypeVar("T")


@dataclass
class Progress:
    """One step of a job: `done` of `total` units, with a human message.

    `item` names what was just processed (a file, a frame) and `error` carries
    the message when that item failed but the job carries on.
    """

    done: int
    total: int | None
    message: str = ""
    item: str | None = None
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float | None:
        """Share done in [0, 1], or None when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class CancelToken:
    """A thread-safe flag a job polls between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise `Cancelled` if cancel was asked for."""
        if self._event.is_set():
            raise Cancelled("cancelled")


Job = Generator[Progress, None, T]


def drive(job: Job[T], on_progress: Callable[[Progress], object] | None = None,
          check: Callable[[], object] | None = None) -> T:
    """The one loop that runs a job to its end: the CLI's progress bar, the GUI's worker thread and
    the training process all call it. Returns the job's result.

    `on_progress(p)` sees each `Progress`; `check()` runs after each one and
    may raise (`Cancelled`) to stop the job, which is then closed, so its
    `finally` blocks run on this thread.
    """
    try:
        while True:
            try:
                p = next(job)
            except StopIteration as stop:
                return cast(T, stop.value)
            if on_progress is not None:
                on_progress(p)
            if check is not None:
                check()
    finally:
        job.close()


def run_job(job: Job[T]) -> T:
    """Drive a job to completion without showing progress; return its result."""
    return drive(job)


def map_progress(job: Job[T], fn: Callable[[Progress], Progress | None]) -> Job[T]:
    """Run `job` inside another, yielding `fn(p)` for each of its `Progress` (e.g. counted over a larger
    whole, or printed on the way; None: not passed on); returns the job's result. Closing this
    generator closes `job`.

    The generator form of `drive`, for a job that runs inside another job.
    """
    try:
        while True:
            try:
                p = next(job)
            except StopIteration as stop:
                return cast(T, stop.value)
            q = fn(p)
            if q is not None:
                yield q
    finally:
        job.close()


def every(seconds: float) -> Callable[[Progress], Progress | None]:
    """For `map_progress`: pass a plain `Progress` on at most every `seconds` (the first and the last of a
    count always; one with an error or data always), so a fast job does not repaint a window per item.
    """
    last = [float("-inf")]

    def keep(p: Progress) -> Progress | None:
        now = time.monotonic()
        if p.error or p.data or now - last[0] >= seconds or (p.total is not None and p.done >= p.total):
            last[0] = now
            return p
        return None

    return keep


def iter_with_cancel(items: Iterable[T], token: CancelToken | None) -> Iterator[T]:
    """Iterate, raising `Cancelled` before each item once the token is set."""
    for item in items:
        if token is not None:
            token.raise_if_cancelled()
        yield item
