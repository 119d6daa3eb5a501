"""Deliver plain (Qt-free) callbacks on the thread of a Qt object.

The workspace's events (`seggui.core.events`) are delivered on the thread
that changed it. The session's handlers touch its caches and emit Qt signals
the widgets act on, so they must run on the GUI thread: a change made on a
worker thread (a prediction sink writing into the open workspace) is handed
over through a queued signal; on the GUI thread the handler runs at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal


class MainThreadRelay(QObject):
    """Wraps callbacks so they always run on this object's thread (queued from any other)."""

    _call = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., None]:
        """`fn`, called directly on this object's thread, queued to it from any other thread."""

        def relayed(*args: Any) -> None:
            if QThread.currentThread() is self.thread():
                fn(*args)
            else:
                self._call.emit(fn, args)

        return relayed

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        fn(*args)
