"""Run a blocking call on a worker thread while the window keeps painting, then hand back its result.

Opening a folder of 10,000 pictures reads and records every file (seconds):
done on the GUI thread it froze the window. `call_in_background(fn)` runs
`fn` on a plain thread and spins a local event loop until it ends, so the
window repaints and answers meanwhile, and the caller still gets the result
(or the exception) as if the call had been direct: `Session.open_path`
keeps its simple contract. A question `fn` must ask the analyst (a dialog)
goes through `on_gui_thread`, which runs it on the GUI thread and waits for
the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Qt, QThread, QTimer, Signal


class _Asker(QObject):
    """Runs a function on its own (GUI) thread for a worker that waits for the answer."""

    ask = Signal(object, object, object)  # fn, args, (event, box)

    def __init__(self) -> None:
        super().__init__()
        self.ask.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...],
             reply: tuple[threading.Event, list[Any]]) -> None:
        done, box = reply
        try:
            box.append((True, fn(*args)))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting worker
            box.append((False, exc))
        finally:
            done.set()


_asker: _Asker | None = None


def on_gui_thread(fn: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """`fn` made callable from a worker: it runs on the GUI thread and the worker waits for its result."""
    global _asker
    if fn is None:
        return None
    if _asker is None:
        _asker = _Asker()
    asker = _asker

    def call(*args: Any) -> Any:
        if QThread.currentThread() is asker.thread():
            return fn(*args)
        done, box = threading.Event(), []  # type: ignore[var-annotated]
        asker.ask.emit(fn, args, (done, box))
        done.wait()
        ok, value = box[0]
        if not ok:
            raise value
        return value

    return call


def call_in_background(fn: Callable[[], Any], poll_ms: int = 15) -> Any:
    """`fn()` on a worker thread; the GUI thread processes events until it ends. Returns or raises as fn."""
    box: list[tuple[bool, Any]] = []

    def work() -> None:
        try:
            box.append((True, fn()))
        except BaseException as exc:  # noqa: BLE001 - raised again on the caller's thread
            box.append((False, exc))

    worker = threading.Thread(target=work, name="seggui-background-call", daemon=True)
    worker.start()
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(poll_ms)
    timer.timeout.connect(lambda: loop.quit() if not worker.is_alive() else None)
    timer.start()
    if worker.is_alive():
        loop.exec()
    timer.stop()
    worker.join()
    ok, value = box[0]
    if not ok:
        raise value
    return value
