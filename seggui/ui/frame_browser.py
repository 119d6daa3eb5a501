"""The frame browser: every picture of the workspace with its status, filterable.

Status is the workspace's (`FrameStatus`: no mask, predicted, corrected,
reviewed) plus whether ground truth exists; a coloured dot and a word say it,
so the colour is never the only cue. Filters narrow the list to, e.g., the
pictures still without a mask, or those with ground truth.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
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

from seggui.core.workspace import FrameRecord, FrameStatus
from seggui.ui.qtutil import swatch_icon
from seggui.ui.session import Session

STATUS_COLORS = {
    FrameStatus.NONE: (150, 150, 150),
    FrameStatus.PREDICTED: (60, 130, 230),
    FrameStatus.CORRECTED: (235, 150, 30),
    FrameStatus.REVIEWED: (40, 170, 70),
}
STATUS_TEXT = {FrameStatus.NONE: "no mask", FrameStatus.PREDICTED: "predicted",
               FrameStatus.CORRECTED: "corrected", FrameStatus.REVIEWED: "reviewed"}
FILTERS = (
    ("all", "All pictures"),
    ("none", "No mask"),
    ("predicted", "Predicted"),
    ("corrected", "Corrected"),
    ("reviewed", "Reviewed"),
    ("gt", "With ground truth"),
    ("no_gt", "Without ground truth"),
)


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
        self.tree.setHeaderLabels(["Picture", "Status", "GT"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.count = QLabel("")
        top = QHBoxLayout()
        top.addWidget(self.filter_combo, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addWidget(self.search)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.count)
        self._icons = {st: swatch_icon(rgb, 12, round_=True) for st, rgb in STATUS_COLORS.items()}
        self._items: dict[str, QTreeWidgetItem] = {}
        self.filter_combo.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.search.textChanged.connect(lambda _t: self._apply_filter())
        self.tree.currentItemChanged.connect(self._on_current)
        session.opened.connect(self.rebuild)
        session.framesChanged.connect(self.update_statuses)
        session.frameChanged.connect(self._select)

    def rebuild(self) -> None:
        """Refill the list from the workspace (after opening one)."""
        self.tree.blockSignals(True)
        self.tree.clear()
        self._items.clear()
        for fid in self.session.frame_ids:
            item = QTreeWidgetItem([fid, "", ""])
            item.setData(0, Qt.ItemDataRole.UserRole, fid)
            self._items[fid] = item
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        self.update_statuses()
        self._select(self.session.current or "")

    def update_statuses(self) -> None:
        """Refresh icons and status words (cheap: no file is read)."""
        ws = self.session.workspace
        if ws is None:
            return
        for fid, item in self._items.items():
            rec = ws.frames.get(fid)
            if rec is None:
                continue
            item.setIcon(0, self._icons[rec.status])
            item.setText(1, STATUS_TEXT[rec.status])
            item.setText(2, "✓" if rec.has_gt else "")
            item.setToolTip(0, f"{fid}: {STATUS_TEXT[rec.status]}"
                               f"{', has ground truth' if rec.has_gt else ''}")
        self._apply_filter()

    def visible_ids(self) -> list[str]:
        return [fid for fid, item in self._items.items() if not item.isHidden()]

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
