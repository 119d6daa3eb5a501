"""Decode ahead on a background thread, so inference never waits on the decoder.

OpenCV releases the GIL while it decodes, so a decoder thread really runs
beside the model. A bounded queue keeps it at most `queue_size` frames ahead,
which bounds the memory; cancelling, an error in the decoder, or the consumer
walking away (break, close, garbage collection) all stop the thread cleanly.

A frame that cannot be read (a corrupt picture in a folder, a damaged stretch
of a video) either ends the stream with its BadInputError, or, when the caller
passes `on_bad`, is reported there and skipped, so a folder run carries on.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken
from seggui.core.media.base import Source

_POLL_S = 0.05  # how often a blocked thread looks at the stop flags


class _Done:
    """End of the stream: carries the decoder's exception, if it failed."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Bad:
    """A frame that could not be read, for the consumer's `on_bad`."""

    def __init__(self, index: int, error: BadInputError) -> None:
        self.index, self.error = index, error


_Item = tuple[int, np.ndarray] | _Done | _Bad


def iter_frames_threaded(src: Source, start: int = 0, stop: int | None = None, queue_size: int = 8,
                         cancel: CancelToken | None = None,
                         on_bad: Callable[[int, BadInputError], None] | None = None,
                         ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (index, frame) for frames start..stop-1 in order, decoded on a thread.

    A frame that cannot be read raises its BadInputError after the frames
    before it; with `on_bad`, `on_bad(index, error)` is called instead (on the
    consumer's thread, in frame order) and the stream goes on. Raises
    `Cancelled` once `cancel` is set.
    """
    if queue_size < 1:
        raise ValueError(f"queue_size must be >= 1, not {queue_size}")
    q: queue.Queue[_Item] = queue.Queue(maxsize=queue_size)
    quit_ = threading.Event()
    span = src.span(start, stop)

    def stopping() -> bool:
        return quit_.is_set() or (cancel is not None and cancel.cancelled)

    def offer(item: _Item) -> bool:
        while not quit_.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def decode_from(pos: int) -> int | None:
        """Stream frames from `pos`; return where to resume after a bad frame, None when done."""
        frames = src.iter_frames(pos, span.stop)
        try:
            for i, frame in frames:
                if stopping() or not offer((i, frame)):
                    return None
                pos = i + 1
        except BadInputError as exc:
            if on_bad is None:
                offer(_Done(exc))
                return None
            return pos + 1 if offer(_Bad(pos, exc)) else None
        finally:
            close = getattr(frames, "close", None)  # a generator: closing releases a video's decoder
            if close is not None:
                close()
        offer(_Done())
        return None

    def decode() -> None:
        pos: int | None = span.start
        try:
            while pos is not None and pos < span.stop:
                pos = decode_from(pos)
            if pos is not None:  # an empty span, or the last frame was bad
                offer(_Done())
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer to raise
            offer(_Done(exc))

    worker = threading.Thread(target=decode, name=f"decode {src.path.name}", daemon=True)
    worker.start()
    try:
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                item = q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            if isinstance(item, _Bad):
                assert on_bad is not None
                on_bad(item.index, item.error)
                continue
            yield item
    finally:
        quit_.set()
        worker.join()
