"""Thumbnails made off the GUI thread, only for the rows the analyst can see.

The picture list asks for the rows on screen (plus a small margin) each time
it scrolls, resizes or filters; `ThumbnailLoader.request` *replaces* the
waiting list with that, so a fast scroll through a 2,000-frame drive never
piles up thousands of jobs for rows long gone: at most `workers` thumbnails
are in flight, and the rest wait in a list that the next request overwrites.

Work runs on a small thread pool (decoding releases the GIL); each result
comes back through a queued signal, so widgets are only touched on the GUI
thread. A new workspace (`set_cache`) bumps a generation number: results of
jobs started for the old one are dropped when they arrive, never shown.

`NameCell` paints a row with its thumbnail: the picture, then the name over
the status (see `seggui.ui.frame_browser`).

Frames of a video have no picture file. Their pixels come from a
`VideoSource` the loader opens on the same file for itself: its reads are
locked, and the video's index is remembered per process, so opening it costs
no new scan. It is deliberately not the session's source: that one's decoder
cursor serves the canvas and playback, and thumbnails of the rows ahead,
read through it, would make every played frame seek back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from seggui.core.media import VideoSource
from seggui.core.thumbnails import ThumbnailCache
from seggui.ui.qtutil import rgb_to_qimage

THUMB_BOX = QSize(64, 48)  # a 4:3 picture fills it; 16:9 drives and square aerial shots fit inside


@dataclass(frozen=True)
class ThumbJob:
    """One thumbnail to make: a picture file, or frame `index` of a video file."""

    frame_id: str
    path: Path
    index: int | None = None


class _Videos:
    """The loader's own decoders, one per video file, shared by its worker threads."""

    def __init__(self) -> None:
        self._sources: dict[Path, VideoSource] = {}
        self._lock = threading.Lock()

    def frame(self, path: Path, index: int) -> np.ndarray:
        with self._lock:
            src = self._sources.get(path)
            if src is None:
                src = self._sources[path] = VideoSource(path)
        return src.read(index)

    def close(self) -> None:
        with self._lock:
            sources, self._sources = list(self._sources.values()), {}
        for src in sources:
            src.close()


def _make(cache: ThumbnailCache, videos: _Videos, job: ThumbJob) -> np.ndarray | None:
    """Worker side: the thumbnail of one job, or None; never raises (a crash would lose the row)."""
    try:
        if job.index is None:
            return cache.get(job.frame_id, job.path)
        return cache.get(job.frame_id, job.path, job.index,
                         read=lambda: videos.frame(job.path, job.index))  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a thumbnail is optional; the row shows "no picture" instead
        return None


class ThumbnailLoader(QObject):
    """Makes thumbnails on worker threads; `ready(frame_id, QImage)` arrives on the GUI thread.

    The QImage is null when the picture cannot be read.
    """

    ready = Signal(str, QImage)
    _finished = Signal(int, object, object)  # generation, ThumbJob, ndarray | None (from a worker)

    def __init__(self, parent: QObject | None = None, workers: int = 1) -> None:
        super().__init__(parent)
        self.workers = max(1, int(workers))
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="seggui-thumbs")
        self._cache: ThumbnailCache | None = None
        self._videos = _Videos()
        self._generation = 0
        self._pending: OrderedDict[str, ThumbJob] = OrderedDict()
        self._inflight: set[str] = set()  # frame ids of this generation being made now
        self._running = 0  # jobs on the pool, of any generation (they hold its threads)
        self._closed = False
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)

    @property
    def cache(self) -> ThumbnailCache | None:
        return self._cache

    @property
    def pending(self) -> list[str]:
        """Frame ids waiting for a worker, first served first."""
        return list(self._pending)

    @property
    def busy(self) -> bool:
        return bool(self._pending or self._running)

    def set_cache(self, cache: ThumbnailCache | None) -> None:
        """Switch to another workspace's cache: forget waiting jobs, ignore those in flight."""
        self._generation += 1
        self._pending.clear()
        self._inflight.clear()
        self._videos.close()
        self._videos = _Videos()
        self._cache = cache

    def request(self, jobs: Sequence[ThumbJob]) -> None:
        """Make these thumbnails, in this order, instead of whatever was still waiting."""
        self._pending = OrderedDict((j.frame_id, j) for j in jobs if j.frame_id not in self._inflight)
        self._pump()

    def cancel(self) -> None:
        """Drop the waiting jobs (those in flight finish; their results still arrive)."""
        self._pending.clear()

    def shutdown(self) -> None:
        """Stop for good (the window closes): nothing new starts, and no result is delivered."""
        self._closed = True
        self.set_cache(None)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._videos.close()

    def _pump(self) -> None:
        while self._pending and self._running < self.workers and self._cache is not None \
                and not self._closed:
            fid, job = self._pending.popitem(last=False)
            generation = self._generation
            self._inflight.add(fid)
            self._running += 1
            future = self._pool.submit(_make, self._cache, self._videos, job)
            future.add_done_callback(lambda f, g=generation, j=job: self._deliver(g, j, f))  # type: ignore[misc]

    def _deliver(self, generation: int, job: ThumbJob, future: Future[np.ndarray | None]) -> None:
        """Worker side: hand the result to the GUI thread."""
        result = None if future.cancelled() else future.result()
        try:
            self._finished.emit(generation, job, result)
        except RuntimeError:  # the loader was deleted meanwhile: nobody is waiting
            pass

    def _on_finished(self, generation: int, job: ThumbJob, thumb: np.ndarray | None) -> None:
        self._running -= 1
        if generation == self._generation and not self._closed:
            self._inflight.discard(job.frame_id)
            self.ready.emit(job.frame_id, rgb_to_qimage(thumb) if thumb is not None else QImage())
        self._pump()


class NameCell(QStyledItemDelegate):
    """The first column with thumbnails on: the picture, then the name over the status dot and word.

    A row is about 64 px of picture wide; the dock is about 260 px. A status
    column beside the name would leave the name cut to "0016E5...", so the
    status moves under the name, into the height the thumbnail gives the row.
    The items keep their texts (column 1 still holds the status word), so
    the list reads the same to code and to assistive tools either way.
    """

    def __init__(self, view: QWidget, active: Callable[[], bool]) -> None:
        super().__init__(view)
        self.active = active  # whether thumbnails are on: else this paints as the default delegate does

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt override
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        if self.active():
            size.setHeight(max(size.height(), THUMB_BOX.height() + 4, 2 * option.fontMetrics.height() + 6))
        return size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        if not self.active():
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        name, picture = opt.text, QIcon(opt.icon)  # a copy: the option hands out its own member
        opt.text, opt.icon = "", QIcon()
        opt.features &= ~QStyleOptionViewItem.ViewItemFeature.HasDecoration
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)  # background, focus
        box = QRect(opt.rect.left() + 3, opt.rect.top() + (opt.rect.height() - THUMB_BOX.height()) // 2,
                    THUMB_BOX.width(), THUMB_BOX.height())
        picture.paint(painter, box, Qt.AlignmentFlag.AlignCenter)  # a portrait picture sits mid-box
        left = box.right() + 8
        text = QRect(left, opt.rect.top(), opt.rect.right() - left - 2, opt.rect.height())
        status = index.siblingAtColumn(1)
        word = str(status.data(Qt.ItemDataRole.DisplayRole) or "")
        dot = status.data(Qt.ItemDataRole.DecorationRole)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        fm, line = opt.fontMetrics, opt.fontMetrics.height()
        top = text.center().y() - line + 1
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(opt.palette.color(QPalette.ColorRole.HighlightedText if selected
                                         else QPalette.ColorRole.Text))
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        elide = Qt.TextElideMode.ElideMiddle  # frame ids differ at the end: keep both ends
        painter.drawText(QRect(text.left(), top, text.width(), line), align,
                         fm.elidedText(name, elide, text.width()))
        x = text.left()
        if isinstance(dot, QIcon) and not dot.isNull():
            mode = QIcon.Mode.Selected if selected else QIcon.Mode.Normal  # ringed: not lost in the highlight
            dot.paint(painter, QRect(x, top + line + (line - 12) // 2, 12, 12),
                      Qt.AlignmentFlag.AlignCenter, mode)
            x += 16
        painter.drawText(QRect(x, top + line, text.right() - x, line), align,
                         fm.elidedText(word, Qt.TextElideMode.ElideRight, text.right() - x))
        painter.restore()


def blank_icon(size: QSize) -> QIcon:
    """A transparent icon of the thumbnail size: names stay aligned while pictures load."""
    pm = QPixmap(size)
    pm.fill(Qt.GlobalColor.transparent)
    return QIcon(pm)


def no_picture_icon(size: QSize) -> QIcon:
    """A grey, crossed-out box: this row's picture cannot be read."""
    pm = QPixmap(size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(150, 150, 150), 1.5))
    p.setBrush(QColor(225, 225, 225))
    r = pm.rect().adjusted(4, 2, -5, -3)
    p.drawRect(r)
    p.drawLine(r.topLeft(), r.bottomRight())
    p.drawLine(r.topRight(), r.bottomLeft())
    p.end()
    return QIcon(pm)
