"""The frame browser: every picture of the workspace with its status, filterable.

Status is the workspace's (`FrameStatus`: no mask, predicted, corrected,
reviewed) plus whether ground truth exists; a coloured dot and a word say it,
so the colour is never the only cue. Filters narrow the list to, e.g., the
pictures still without a mask, or those with ground truth.

With thumbnails on (View menu; the default), each row also shows its picture
at about 64 px, with the status dot and word under the name. Only the rows
on screen (and a few around them) get thumbnails, made off the GUI thread and
cached in the workspace (`seggui.ui.thumbnails`, `seggui.core.thumbnails`); a
row whose picture cannot be read shows a crossed-out box instead.

View ▸ Sort pictures by uncertainty orders the list most uncertain prediction
first (`seggui.ui.uncertainty_rank`: scored on a worker thread from the
confidence files, re-sorted when predictions change), pictures without a
prediction last; an "Unsure" column and each row's tooltip give the score.
The choice is kept in the workspace's settings (`picture_order`).
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seggui.core.media import is_video_file
from seggui.core.thumbnails import THUMBNAIL_DIR, ThumbnailCache
from seggui.core.workspace import FrameRecord, FrameStatus
from seggui.ui.qtutil import status_dot_icon
from seggui.ui.session import Session
from seggui.ui.thumbnails import THUMB_BOX, NameCell, ThumbJob, ThumbnailLoader, blank_icon, no_picture_icon
from seggui.ui.uncertainty_rank import UncertaintyRanker, describe, ordered

STATUS_COLORS = {
    FrameStatus.NONE: (150, 150, 150),
    FrameStatus.PREDICTED: (60, 130, 230),
    FrameStatus.CORRECTED: (235, 150, 30),
    FrameStatus.REVIEWED: (40, 170, 70),
    FrameStatus.PROPAGATED: (150, 80, 200),  # violet: carried along the drive, not reviewed yet
}
STATUS_TEXT = {FrameStatus.NONE: "no mask", FrameStatus.PREDICTED: "predicted",
               FrameStatus.CORRECTED: "corrected", FrameStatus.REVIEWED: "reviewed",
               FrameStatus.PROPAGATED: "propagated"}
FILTERS = (
    ("all", "All pictures"),
    ("none", "No mask"),
    ("predicted", "Predicted"),
    ("corrected", "Corrected"),
    ("reviewed", "Reviewed"),
    ("propagated", "Propagated (to review)"),
    ("gt", "With ground truth"),
    ("no_gt", "Without ground truth"),
)
ROW_MARGIN = 6  # rows above and below the visible ones that get thumbnails too (smooth scrolling)
THUMBS_KEPT = 1000  # thumbnails held in memory (~12 KB each); older ones reload from the disk cache
VISIBLE_DELAY_MS = 40  # at most this often the visible rows are recomputed while scrolling
ORDERS = ("list", "uncertainty")  # the list's order: the workspace's, or most uncertain prediction first
UNSURE = 3  # the column of the uncertainty score (shown while sorted by it)


def matches(rec: FrameRecord, key: str, text: str = "") -> bool:
    """Whether a frame passes a filter key and a name substring."""
    if text and text.casefold() not in rec.id.casefold():
        return False
    if key == "all":
        return True
    if key == "gt":
        return rec.has_gt
    if key == "no_gt":
        return not rec.has_gt
    return rec.status == FrameStatus(key)


class FrameBrowser(QWidget):
    """A filterable list of frames; clicking one makes it current."""

    orderChanged = Signal(str)  # one of ORDERS (the View menu follows it)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.filter_combo = QComboBox()
        for key, text in FILTERS:
            self.filter_combo.addItem(text, key)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by name")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Picture", "Status", "GT", "Unsure"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(UNSURE, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.headerItem().setToolTip(UNSURE, "Share of the prediction's pixels the model was unsure of")
        self.tree.setColumnHidden(UNSURE, True)
        self.order = "list"
        self.ranker: UncertaintyRanker | None = None
        self._scores_shown: dict[str, object] = {}  # the score each row shows (None: none)
        self.count = QLabel("")
        top = QHBoxLayout()
        top.addWidget(self.filter_combo, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addWidget(self.search)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.count)
        self._icons = {st: status_dot_icon(rgb) for st, rgb in STATUS_COLORS.items()}
        self._items: dict[str, QTreeWidgetItem] = {}
        self._shown: dict[str, tuple[str, bool]] = {}  # (status, has_gt) update_statuses last showed
        self.thumbnails_on = False
        self._list_icon_size = self.tree.iconSize()
        self._thumbs: OrderedDict[str, QPixmap] = OrderedDict()  # least recently shown first
        self._unreadable: set[str] = set()
        self._placeholder = blank_icon(THUMB_BOX)
        self._no_picture = no_picture_icon(THUMB_BOX)
        self.tree.setItemDelegateForColumn(0, NameCell(self.tree, lambda: self.thumbnails_on))
        self.loader = ThumbnailLoader(self)
        self.loader.ready.connect(self._on_thumbnail)
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(VISIBLE_DELAY_MS)
        self._visible_timer.timeout.connect(self._load_visible)
        self.tree.verticalScrollBar().valueChanged.connect(lambda _v: self._schedule())
        self.tree.viewport().installEventFilter(self)
        self.filter_combo.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.search.textChanged.connect(lambda _t: self._apply_filter())
        self.tree.currentItemChanged.connect(self._on_current)
        session.opened.connect(self.rebuild)
        session.framesChanged.connect(self.update_statuses)
        session.frameChanged.connect(self._select)
        self.set_thumbnails(True)

    def rebuild(self) -> None:
        """Refill the list from the workspace (after opening one)."""
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items.clear()
        self._shown.clear()
        self._scores_shown.clear()
        for fid in self.session.frame_ids:
            item = QTreeWidgetItem([fid, "", ""])
            item.setData(0, Qt.ItemDataRole.UserRole, fid)
            self._items[fid] = item
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        self._thumbs.clear()
        self._unreadable.clear()
        ws = self.session.workspace
        order = ws.settings.get("picture_order", "list") if ws is not None else "list"
        self.order = order if order in ORDERS else "list"
        self.tree.setColumnHidden(UNSURE, self.order == "list")
        self.orderChanged.emit(self.order)
        self._reorder()
        self.loader.set_cache(ThumbnailCache(ws.root / THUMBNAIL_DIR) if ws is not None else None)
        self.update_statuses()
        self._select(self.session.current or "")
        self._schedule()

    def update_statuses(self) -> None:
        """Refresh icons and status words (cheap: no file is read)."""
        ws = self.session.workspace
        if ws is None:
            return
        header = self.tree.header()
        # each change of a row re-measures every row of a ResizeToContents column (4 ms a row at 2,000
        # rows): measure once, after all of them
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        for fid, item in self._items.items():
            rec = ws.frames.get(fid)
            if rec is None or self._shown.get(fid) == (rec.status, rec.has_gt):
                continue  # unchanged: nothing to set
            self._shown[fid] = (rec.status, rec.has_gt)
            self._decorate(fid, item, rec)
            item.setText(1, STATUS_TEXT[rec.status])
            item.setText(2, "✓" if rec.has_gt else "")
            self._tooltip(fid, item, rec)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self._apply_filter()

    def _tooltip(self, fid: str, item: QTreeWidgetItem, rec: FrameRecord) -> None:
        score = self.ranker.scores.get(fid) if self.ranker is not None else None
        item.setToolTip(0, f"{fid}: {STATUS_TEXT[rec.status]}"
                           f"{', has ground truth' if rec.has_gt else ''}"
                           f"{' (the picture cannot be read)' if fid in self._unreadable else ''}"
                           f"{'; the model: ' + describe(score) if score is not None else ''}")

    # ------------------------------------------------------------ order
    def set_ranker(self, ranker: UncertaintyRanker) -> None:
        """The uncertainty scores to sort by (the window's one ranker, shared with Go ▸ Most uncertain)."""
        self.ranker = ranker
        ranker.ranked.connect(self._on_ranked)

    def set_order(self, order: str) -> None:
        """Sort the list: "list" (the workspace's order) or "uncertainty"; kept in the workspace."""
        if order not in ORDERS:
            raise ValueError(f"unknown picture order {order!r} (one of {', '.join(ORDERS)})")
        ws = self.session.workspace
        if ws is not None and not self.session.read_only:
            ws.set_setting("picture_order", None if order == "list" else order)
        self.order = order
        self.tree.setColumnHidden(UNSURE, order == "list")
        if order == "uncertainty" and self.ranker is not None:
            self.ranker.score_in_background()
        self._reorder()
        self.orderChanged.emit(order)

    def row_ids(self) -> list[str]:
        """Every frame id in the list's order, hidden rows included."""
        root = self.tree.invisibleRootItem()
        return [root.child(i).data(0, Qt.ItemDataRole.UserRole) for i in range(root.childCount())]

    def _on_ranked(self) -> None:
        ws = self.session.workspace
        scores = self.ranker.scores if self.ranker is not None else {}
        for fid, item in self._items.items():
            u = scores.get(fid)
            if self._scores_shown.get(fid) == u:
                continue  # only the rows whose score moved are touched
            self._scores_shown[fid] = u
            item.setText(UNSURE, "" if u is None else f"{u.low_share:.0%}")
            if ws is not None and fid in ws.frames:
                self._tooltip(fid, item, ws.frames[fid])
        self._reorder()

    def _reorder(self) -> None:
        """Put the rows in the chosen order (no-op when they are in it); the current row stays current."""
        scores = self.ranker.scores if self.ranker is not None and self.order == "uncertainty" else {}
        want = ordered(self.session.frame_ids, scores) if scores else list(self.session.frame_ids)
        want = [f for f in want if f in self._items]
        if want == self.row_ids():
            return
        self.tree.blockSignals(True)
        self.tree.invisibleRootItem().takeChildren()
        self.tree.addTopLevelItems([self._items[f] for f in want])
        self.tree.blockSignals(False)
        self._apply_filter()
        self._select(self.session.current or "")

    def visible_ids(self) -> list[str]:
        """The rows the filter shows, in the list's order."""
        return [fid for fid in self.row_ids() if not self._items[fid].isHidden()]

    def set_filter(self, key: str) -> None:
        self.filter_combo.setCurrentIndex(max(0, self.filter_combo.findData(key)))

    def _apply_filter(self) -> None:
        ws = self.session.workspace
        if ws is None:
            return
        key, text = self.filter_combo.currentData(), self.search.text().strip()
        shown = 0
        for fid, item in self._items.items():
            ok = matches(ws.frames[fid], key, text) if fid in ws.frames else False
            item.setHidden(not ok)
            shown += ok
        self.count.setText(f"{shown} of {len(self._items)} pictures")
        self._schedule()

    def _on_current(self, item: QTreeWidgetItem | None, _prev: QTreeWidgetItem | None) -> None:
        if item is not None:
            self.session.set_frame(item.data(0, Qt.ItemDataRole.UserRole))

    def _select(self, frame_id: str) -> None:
        item = self._items.get(frame_id)
        if item is not None and self.tree.currentItem() is not item:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.blockSignals(False)
            self.tree.scrollToItem(item)

    # ------------------------------------------------------------- thumbnails
    def set_thumbnails(self, on: bool) -> None:
        """Show pictures in the rows (taller rows, loaded as they scroll into view) or names only."""
        self.thumbnails_on = bool(on)
        self.tree.setIconSize(THUMB_BOX if self.thumbnails_on else self._list_icon_size)
        self.tree.setColumnHidden(1, self.thumbnails_on)  # the status goes under the name (NameCell)
        if not self.thumbnails_on:
            self.loader.cancel()
        ws = self.session.workspace
        for fid, item in self._items.items():
            rec = ws.frames.get(fid) if ws is not None else None
            if rec is not None:
                self._decorate(fid, item, rec)
        self._schedule()

    @property
    def thumbnails_loading(self) -> bool:
        """Whether thumbnails are still being looked for or made (tests and screenshots wait on it)."""
        return self._visible_timer.isActive() or self.loader.busy

    def thumbnail(self, frame_id: str) -> QPixmap | None:
        """The thumbnail a row holds now (None: not loaded yet, or the picture is unreadable)."""
        if frame_id in self._unreadable:
            return None
        return self._thumbs.get(frame_id)

    def thumbnail_unreadable(self, frame_id: str) -> bool:
        """Whether the row's picture could not be read for a thumbnail."""
        return frame_id in self._unreadable

    def rows_in_view(self, margin: int = 0) -> list[str]:
        """Frame ids of the rows on screen, then `margin` rows below and above them (filter applied)."""
        tree = self.tree
        top = tree.itemAt(QPoint(1, 1))
        if top is None:
            return []
        height = tree.viewport().height()
        ids: list[str] = []
        item: QTreeWidgetItem | None = top
        while item is not None and tree.visualItemRect(item).top() < height:
            ids.append(item.data(0, Qt.ItemDataRole.UserRole))
            item = tree.itemBelow(item)
        for step, start in ((tree.itemBelow, item), (tree.itemAbove, tree.itemAbove(top))):
            item = start
            for _ in range(margin):
                if item is None:
                    break
                ids.append(item.data(0, Qt.ItemDataRole.UserRole))
                item = step(item)
        return ids

    def close_thumbnails(self) -> None:
        """Stop the background loader (the window is closing)."""
        self._visible_timer.stop()
        self.loader.shutdown()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.tree.viewport() and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self._schedule()
        return super().eventFilter(watched, event)

    def _decorate(self, fid: str, item: QTreeWidgetItem, rec: FrameRecord) -> None:
        """Icons of a row: the status dot beside the name, or the picture there and the dot by the word."""
        dot = self._icons[rec.status]
        if not self.thumbnails_on:
            item.setIcon(0, dot)
            item.setIcon(1, QIcon())
            return
        item.setIcon(1, dot)
        if fid in self._unreadable:
            item.setIcon(0, self._no_picture)
        elif fid in self._thumbs:
            item.setIcon(0, QIcon(self._thumbs[fid]))  # painted in Normal mode: never tinted when selected
        else:
            item.setIcon(0, self._placeholder)

    def _schedule(self) -> None:
        """Recompute the rows in view soon: once per burst of scroll events, not once per event."""
        if self.thumbnails_on and not self._visible_timer.isActive():
            self._visible_timer.start()

    def _job(self, fid: str) -> ThumbJob | None:
        ws = self.session.workspace
        rec = ws.frames.get(fid) if ws is not None else None
        if ws is None or rec is None:
            return None
        if rec.image is not None:  # a picture, or a frame of an image sequence
            path = ws.image_path(fid)
            return ThumbJob(fid, path) if path is not None else None
        source = ws.source_path(fid)
        if source is not None and rec.index is not None and is_video_file(source):
            return ThumbJob(fid, source, rec.index)
        return None

    def _load_visible(self) -> None:
        """Ask for the thumbnails of the rows in view; whatever waited for other rows is dropped."""
        if not self.thumbnails_on or self.session.workspace is None or not self.tree.isVisible():
            self.loader.cancel()
            return
        wanted = []
        for fid in self.rows_in_view(ROW_MARGIN):
            if fid in self._thumbs:
                self._thumbs.move_to_end(fid)  # on screen: the last to be forgotten
            elif fid not in self._unreadable:
                job = self._job(fid)
                if job is not None:
                    wanted.append(job)
        self.loader.request(wanted)

    def _on_thumbnail(self, fid: str, image: QImage) -> None:
        item = self._items.get(fid)
        if item is None:
            return
        if image.isNull():
            self._unreadable.add(fid)
        else:
            dpr = self.devicePixelRatioF()
            box = THUMB_BOX * dpr
            if image.width() > box.width() or image.height() > box.height():
                image = image.scaled(box, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(dpr)
            self._thumbs[fid] = pixmap
            while len(self._thumbs) > THUMBS_KEPT:
                old, _pm = self._thumbs.popitem(last=False)
                if old in self._items and self.thumbnails_on:
                    self._items[old].setIcon(0, self._placeholder)
        ws = self.session.workspace
        rec = ws.frames.get(fid) if ws is not None else None
        if rec is not None:
            self._decorate(fid, item, rec)
            self._tooltip(fid, item, rec)
