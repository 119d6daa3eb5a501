"""The class panel: colour, name, visibility, the active class, and its pixel share.

The active class (the selected row) is what the error view shows and what
the brush will paint (issue 7). The share is the class's percentage of the
labelled pixels of the current mask, from `seggui.core.area` (the ground
truth's when the picture has no prediction yet).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seggui.ui.qtutil import swatch_icon
from seggui.ui.session import Session

ID_ROLE = Qt.ItemDataRole.UserRole


class ClassPanel(QWidget):
    """One row per scored class; check to show, select to make active."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Class", "Share"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Tick to show a class on the canvas; select a row to make it the active class")
        self.source = QLabel("")
        self.source.setStyleSheet("color: #555")
        self.source.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.source)
        self._rows: dict[int, int] = {}
        self._view = ""  # the canvas view on show (see show_view)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.currentCellChanged.connect(self._on_current)
        session.opened.connect(self.rebuild)
        session.frameChanged.connect(lambda _f: self.update_shares())
        session.masksChanged.connect(self._on_masks)
        session.editSettled.connect(self._on_masks)  # shares follow edits when painting pauses
        session.classViewChanged.connect(self._sync_active)

    def rebuild(self) -> None:
        """Refill the rows from the workspace's class table."""
        table = self.session.classes
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self._rows.clear()
        if table is not None:
            for cid in table.scored_ids:
                info = table.by_id[cid]
                row = self.table.rowCount()
                self.table.insertRow(row)
                name = QTableWidgetItem(swatch_icon(info.color), info.name)
                name.setData(ID_ROLE, cid)
                name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                name.setCheckState(Qt.CheckState.Unchecked if cid in self.session.hidden
                                   else Qt.CheckState.Checked)
                name.setToolTip(f"{info.name}: id {cid}, RGB {list(info.color)}")
                share = QTableWidgetItem("")
                share.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, 0, name)
                self.table.setItem(row, 1, share)
                self._rows[cid] = row
        self.table.blockSignals(False)
        self._sync_active()
        self.update_shares()

    def show_view(self, view: str) -> None:
        """The canvas's view changed: under the model's prediction (Alt+5) the shares are the model's."""
        self._view = view
        self.update_shares()

    def update_shares(self) -> None:
        """Show each class's share of the mask on show (the edited one, the model's, else ground truth)."""
        s = self.session
        if self._view == "model":
            report, what = s.area("predicted"), "model's prediction"
        else:
            report = s.area("current")
            edited = s.current is not None and s.workspace is not None and s.record(s.current).has_correction
            what = "correction" if edited else "prediction"
        if report is None:
            report, what = self.session.area("ground_truth"), "ground truth"
        self.table.blockSignals(True)
        for cid, row in self._rows.items():
            text = ""
            if report is not None:
                text = f"{report.get(cid).percent:.1f}%"
            self.table.item(row, 1).setText(text)
        self.table.blockSignals(False)
        self.source.setText(f"Share of labelled pixels in the {what}" if report is not None
                            else "No mask for this picture")

    def _on_masks(self, frame_id: str) -> None:
        if frame_id == self.session.current:
            self.update_shares()

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            cid = item.data(ID_ROLE)
            self.session.set_class_visible(cid, item.checkState() == Qt.CheckState.Checked)

    def _on_current(self, row: int, _col: int, _prow: int, _pcol: int) -> None:
        item = self.table.item(row, 0) if row >= 0 else None
        if item is not None:
            self.session.set_active_class(item.data(ID_ROLE))

    def _sync_active(self) -> None:
        row = self._rows.get(self.session.active_class) if self.session.active_class is not None else None
        if row is not None and self.table.currentRow() != row:
            self.table.blockSignals(True)
            self.table.setCurrentCell(row, 0)
            self.table.blockSignals(False)

    def select_class(self, class_id: int) -> None:
        """Make a class active (as a click on its row does)."""
        row = self._rows.get(class_id)
        if row is not None:
            self.table.setCurrentCell(row, 0)
