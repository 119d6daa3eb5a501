"""Run a core generator job on a QThread; report on the main thread through signals.

Core jobs (`seggui.core.jobs`) are plain generators that yield `Progress` and
poll a `CancelToken`; the CLI drives them with a progress bar, this runner
drives the same generators in the GUI. The worker thread only advances the
generator: every `Progress` (which may carry a result in `data`) crosses to
the main thread as a queued signal, and the slots there apply results to the
workspace and the widgets. So no model object is ever touched from two
threads.

Starting a job returns its `JobHandle`: the job's own signals (progress,
result, error, cancelled, finished), so the code that started it listens to
that job alone instead of filtering every job's progress by `Progress.data`
keys (superqt's worker pattern). The runner's own signals still tell whoever
shows any job (the job panel).

Cancel sets the token and requests thread interruption; the runner also
checks between yields, so even a job that never polls the token stops at its
next `Progress`. An item error the job reports in `Progress.error` is just a
progress event: the job goes on with the next item.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from seggui.core.errors import Cancelled, SegguiError
from seggui.core.jobs import CancelToken, Job, Progress, drive

JobFactory = Callable[[CancelToken], Job[Any]]


class _JobThread(QThread):
    """Advance one generator to its end on a worker thread."""

    progressed = Signal(object)
    completed = Signal(object)
    errored = Signal(str, str)
    stopped = Signal()

    def __init__(self, factory: JobFactory, token: CancelToken, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._token = token

    def _check(self) -> None:
        if self.isInterruptionRequested():
            self._token.cancel()
        self._token.raise_if_cancelled()

    def run(self) -> None:  # noqa: D401 - Qt override
        try:
            self._check()
            self.completed.emit(drive(self._factory(self._token), self.progressed.emit, self._check))
        except Cancelled:
            self.stopped.emit()
        except SegguiError as exc:
            self.errored.emit(str(exc), "")
        except Exception as exc:  # a bug or a library failure: report, never kill the app
            self.errored.emit(f"{type(exc).__name__}: {exc}", traceback.format_exc())


class JobHandle(QObject):
    """One started job and its own signals, all delivered on the main thread.

    `progress(Progress)`; then one of `result(value)`, `error(message,
    details)` or `cancelled()`; then `finished()`. Connect right after
    `JobRunner.start` returns: nothing is delivered before control goes back
    to the event loop.
    """

    progress = Signal(object)
    result = Signal(object)
    error = Signal(str, str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, title: str, runner: JobRunner) -> None:
        super().__init__()  # no Qt parent: a finished handle is freed with its last reference, never piled up
        self.title = title
        self._runner = runner

    def cancel(self) -> None:
        """Ask this job to stop (nothing happens once it has ended)."""
        if self._runner.handle is self:
            self._runner.cancel()


class JobRunner(QObject):
    """Runs one job at a time; `start` returns the job's `JobHandle`, or None while another runs.

    The runner's signals tell about every job it runs (for the job panel;
    all delivered on the main thread, after the handle's own):
    `started(title)`, `progress(Progress)`, `finished(result)`,
    `failed(message, details)`, `cancelled()`, and `idle()` after any of the
    last three.
    """

    started = Signal(str)
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: _JobThread | None = None
        self._token: CancelToken | None = None
        self.handle: JobHandle | None = None  # the running job's
        self.title = ""

    def is_running(self) -> bool:
        """True from `start` until the end signal has been delivered."""
        return self._thread is not None

    def start(self, title: str, factory: JobFactory) -> JobHandle | None:
        """Start `factory(token)` on a worker thread; its handle, or None if a job is already running."""
        if self._thread is not None:
            return None
        self.title = title
        self._token = CancelToken()
        self.handle = JobHandle(title, self)
        thread = _JobThread(factory, self._token)
        # bound slots of this main-thread object, so Qt queues them to the main thread; they emit the
        # handle's signals there, so a slot connected to the handle after start() misses nothing
        thread.progressed.connect(self._on_progressed)
        thread.completed.connect(self._on_completed)
        thread.errored.connect(self._on_errored)
        thread.stopped.connect(self._on_stopped)
        thread.finished.connect(thread.deleteLater)
        self._thread = thread
        self.started.emit(title)
        thread.start()
        return self.handle

    def cancel(self) -> None:
        """Ask the running job to stop at its next check; `cancelled` follows."""
        if self._thread is not None and self._token is not None:
            self._token.cancel()
            self._thread.requestInterruption()

    def wait(self, ms: int = 10000) -> bool:
        """Block until the worker thread has ended (used when the window closes)."""
        thread = self._thread
        return True if thread is None else thread.wait(ms)

    @Slot(object)
    def _on_progressed(self, p: Progress) -> None:
        if self.handle is not None:
            self.handle.progress.emit(p)
        self.progress.emit(p)

    @Slot(object)
    def _on_completed(self, result: Any) -> None:
        self._end("result", "finished", result)

    @Slot(str, str)
    def _on_errored(self, message: str, details: str) -> None:
        self._end("error", "failed", message, details)

    @Slot()
    def _on_stopped(self) -> None:
        self._end("cancelled", "cancelled")

    def _end(self, handle_signal: str, runner_signal: str, *args: Any) -> None:
        thread, self._thread, self._token = self._thread, None, None
        handle, self.handle = self.handle, None
        if thread is not None:
            thread.wait()
        if handle is not None:
            getattr(handle, handle_signal).emit(*args)
        getattr(self, runner_signal).emit(*args)
        if handle is not None:
            handle.finished.emit()  # then the handle goes with the last Python reference to it
        self.idle.emit()
