"""Write corrections off the window's thread: the next stroke never waits for a PNG encode.

Encoding the mask of an 8000x6000 aerial picture takes about 0.4 s; done
on the GUI thread after each stroke, that is a visible stall whenever the
analyst starts the next stroke within it. Here the debounced autosave takes a
snapshot of the labels (a copy into a reused buffer, a few ms), one worker
thread encodes and writes it atomically, and the result comes back to the
GUI thread, where `AutoSave.commit` records the status in the workspace
(which only the GUI thread touches).

One write at a time: a later snapshot waits until the one in flight is done,
so files land in version order. Any synchronous save (Ctrl+S, leaving the
picture, mark reviewed) first calls `wait`, so an older snapshot can never
land after a newer synchronous write.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from seggui.core.editing import AutoSave


class SaveWorker(QObject):
    """One background writer of `AutoSave` snapshots, results delivered on the GUI thread."""

    written = Signal(object)  # the finished Future (emitted from the worker thread)
    committed = Signal(object, str)  # the AutoSave, and "" once recorded or why the write failed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seggui-autosave")
        self._inflight: tuple[AutoSave, int, Future[Any]] | None = None
        self._buffer: np.ndarray | None = None
        self.written.connect(self._on_written)  # queued: emitted from the worker thread

    @property
    def busy(self) -> bool:
        return self._inflight is not None

    def submit(self, saver: AutoSave) -> bool:
        """Start writing the saver's current labels; False (nothing started) while a write is in flight."""
        if self._inflight is not None or not saver.pending:
            return False
        version, labels = saver.snapshot(self._buffer)
        self._buffer = labels
        future = self._pool.submit(saver.write_snapshot, labels)
        self._inflight = (saver, version, future)
        future.add_done_callback(self.written.emit)
        return True

    def wait(self) -> None:
        """Finish the write in flight (if any) and record it now, on the calling (GUI) thread."""
        if self._inflight is None:
            return
        saver, version, future = self._inflight
        error = future.exception()  # blocks until the worker is done
        self._finish(saver, version, error)

    def _on_written(self, future: Future[Any]) -> None:
        """A write ended; record it unless `wait` already did (matched by the future, never by version)."""
        if self._inflight is not None and self._inflight[2] is future:
            saver, version, _f = self._inflight
            self._finish(saver, version, future.exception())

    def _finish(self, saver: AutoSave, version: int, error: BaseException | None) -> None:
        self._inflight = None
        if error is None:
            saver.commit(version)
        self.committed.emit(saver, "" if error is None else str(error))

    def close(self) -> None:
        """Finish the last write and stop the thread (the window is closing)."""
        self.wait()
        self._pool.shutdown(wait=True)
