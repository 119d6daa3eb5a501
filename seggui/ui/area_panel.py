"""The area panel: the GSD and where it came from, area per class in m² and %, regions.

Figures are `seggui.core.area` reports of the current picture's mask (the
prediction or correction, or the ground truth), with the GSD the session
resolves: the picture's own georeferencing (GeoTIFF tags or a world file)
first, else the value typed here (saved in the workspace). Without any GSD the
m² column says "unknown" rather than guessing. The focus class (one whose name
says "parking", else the active class) is highlighted with its region count,
the figure the parking analysis asks for.

While the mask is being painted the panel takes the live path
(`Session.editChanged`): pixels, m² and % come from the editor's
incrementally updated counts, O(classes) per update, and the region counts
(which need a whole pass) are greyed until painting pauses
(`Session.editSettled`), when the panel refreshes in full.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seggui.core.area import MIN_REGION_KEY, AreaReport
from seggui.core.errors import BadInputError
from seggui.ui.qtutil import figures_table, swatch_icon
from seggui.ui.session import Session

SOURCES = (("current", "Prediction"), ("ground_truth", "Ground truth"))
HEADERS = ("Class", "Area", "%", "Regions")
FOCUS_BG = QColor(255, 236, 150)


def fmt_m2(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


class AreaPanel(QWidget):
    """GSD controls, a focus line, and one row per class."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.report: AreaReport | None = None
        self.focus_id: int | None = None
        self.gsd_label = QLabel("")
        self.gsd_label.setWordWrap(True)
        self.gsd_spin = QDoubleSpinBox()
        self.gsd_spin.setDecimals(4)
        self.gsd_spin.setRange(0.0, 10000.0)
        self.gsd_spin.setSingleStep(0.01)
        self.gsd_spin.setSuffix(" m/px")
        self.gsd_spin.setSpecialValueText("not set")
        self.gsd_spin.setToolTip("Ground sampling distance for pictures without georeferencing "
                                 "(0 clears it); saved in the workspace")
        self.set_button = set_button = QPushButton("Set")
        set_button.clicked.connect(self._on_set_gsd)
        self.source_combo = QComboBox()
        for key, text in SOURCES:
            self.source_combo.addItem(text, key)
        self.min_spin = QSpinBox()
        self.min_spin.setRange(0, 10_000_000)
        self.min_spin.setValue(session.min_region_px)
        self.min_spin.setSuffix(" px")
        self.min_spin.setToolTip("Regions smaller than this are not counted (specks)")
        self.focus = QLabel("")
        self.focus.setWordWrap(True)
        self.focus.setStyleSheet("background: #fff3b0; color: #222; padding: 4px; border-radius: 3px")
        self.table = figures_table(list(HEADERS))
        grid = QGridLayout()
        grid.addWidget(QLabel("GSD:"), 0, 0)
        grid.addWidget(self.gsd_spin, 0, 1)
        grid.addWidget(set_button, 0, 2)
        grid.addWidget(self.gsd_label, 1, 0, 1, 3)
        grid.addWidget(QLabel("Mask:"), 2, 0)
        grid.addWidget(self.source_combo, 2, 1, 1, 2)
        grid.addWidget(QLabel("Min region:"), 3, 0)
        grid.addWidget(self.min_spin, 3, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(grid)
        lay.addWidget(self.focus)
        lay.addWidget(self.table, 1)
        self.source_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.min_spin.editingFinished.connect(self._on_min_region)
        for sig in (session.opened, session.gsdChanged, session.classViewChanged):
            sig.connect(self.refresh)
        session.frameChanged.connect(lambda _f: self.refresh())
        session.masksChanged.connect(lambda fid: self.refresh() if fid == session.current else None)
        session.framesChanged.connect(self._mask_label)  # Mark reviewed makes the mask a correction
        session.editChanged.connect(self._on_edit)
        session.editSettled.connect(lambda fid: self.refresh() if fid == session.current else None)

    def set_source(self, key: str) -> None:
        self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(key)))

    def _on_set_gsd(self) -> None:
        value = self.gsd_spin.value()
        try:
            if self.session.workspace is None:
                raise BadInputError(None, "open a picture, a folder or a workspace first")
            self.session.workspace.set_gsd(value if value > 0 else None)  # the workspace tells the views
        except Exception as exc:  # noqa: BLE001 - shown to the user, the app goes on
            self.session.log.report(exc)

    def _on_min_region(self) -> None:
        ws = self.session.workspace
        if ws is not None and self.min_spin.value() != self.session.min_region_px:
            ws.set_setting(MIN_REGION_KEY, int(self.min_spin.value()))  # the report counts the same regions
            self.refresh()

    def _mask_label(self) -> None:
        """The mask box names what is measured: the correction once there is one, else the prediction."""
        s = self.session
        rec = s.workspace.frames.get(s.current) if s.workspace is not None and s.current else None
        corrected = rec is not None and rec.has_correction
        self.source_combo.setItemText(0, "Correction" if corrected else "Prediction")

    def _focus_class(self) -> int | None:
        table = self.session.classes
        if table is None:
            return None
        parking = [c for c in table.scored_ids if "parking" in table.name_of(c).casefold()]
        return parking[0] if parking else self.session.active_class

    def refresh(self) -> None:
        s = self.session
        ws = s.workspace
        self._mask_label()
        if self.min_spin.value() != s.min_region_px and not self.min_spin.hasFocus():
            self.min_spin.setValue(s.min_region_px)  # the workspace's own (another one may have opened)
        if ws is not None:  # this workspace's own, or "not set": never the last workspace's value
            self.gsd_spin.blockSignals(True)
            self.gsd_spin.setValue(ws.gsd.m_per_px if ws.gsd is not None else 0.0)
            self.gsd_spin.blockSignals(False)
        gsd = s.gsd()
        self.gsd_label.setText(gsd.describe() if gsd is not None else
                               "<span style='color:#a60'>No GSD: areas in pixels only.</span>")
        report = s.area(self.source_combo.currentData())
        self.report = report
        self.focus_id = self._focus_class()
        self.table.setRowCount(0)
        if report is None or s.classes is None:
            what = self.source_combo.currentText().lower()
            self.focus.setText(f"No {what} for this picture." if s.current else "")
            return
        self._fill(report)

    def _fill(self, report: AreaReport) -> None:
        table = self.session.classes
        assert table is not None
        bold = QFont()
        bold.setBold(True)
        self.table.setRowCount(len(report.classes))
        for row, c in enumerate(report.classes):
            cells = [
                QTableWidgetItem(swatch_icon(table.by_id[c.id].color), c.name),
                QTableWidgetItem(f"{fmt_m2(c.m2)} m²" if c.m2 is not None else f"{c.pixels:,} px"),
                QTableWidgetItem(f"{c.percent:.1f}"),
                QTableWidgetItem("" if c.regions is None else str(c.regions)),
            ]
            for col, cell in enumerate(cells):
                if col:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c.id == self.focus_id:
                    cell.setFont(bold)
                    cell.setBackground(QBrush(FOCUS_BG))
                    cell.setForeground(QBrush(QColor(20, 20, 20)))
                self.table.setItem(row, col, cell)
            cells[0].setToolTip(f"{c.name}: {c.pixels:,} px")
        if self.focus_id is not None:
            focus_row = [a.id for a in report.classes].index(self.focus_id)
            self.table.scrollToItem(self.table.item(focus_row, 0))  # type: ignore[arg-type]
        self._focus_text(report)

    def _on_edit(self, frame_id: str) -> None:
        """Live path: update pixels, m² and % in place from the editor's counts; grey the regions."""
        s = self.session
        if frame_id != s.current or self.source_combo.currentData() != "current":
            return
        live = s.area(frame_id=frame_id, live=True)
        if live is None:
            return
        same_rows = self.report is not None and self.table.rowCount() == len(live.classes) and \
            [c.id for c in self.report.classes] == [c.id for c in live.classes]
        self.report = live
        if not same_rows:
            self.focus_id = self._focus_class()
            self._fill(live)
            return
        stale = QBrush(QColor(150, 150, 150))
        for row, c in enumerate(live.classes):
            self.table.item(row, 1).setText(f"{fmt_m2(c.m2)} m²" if c.m2 is not None else f"{c.pixels:,} px")
            self.table.item(row, 2).setText(f"{c.percent:.1f}")
            self.table.item(row, 3).setForeground(stale)
            self.table.item(row, 3).setToolTip("Recounted when painting pauses")
            self.table.item(row, 0).setToolTip(f"{c.name}: {c.pixels:,} px")
        self._focus_text(live)

    def _focus_text(self, report: AreaReport) -> None:
        if self.focus_id is None:
            self.focus.setText("")
            return
        c = report.get(self.focus_id)
        size = f"{fmt_m2(c.m2)} m²" if c.m2 is not None else f"{c.pixels:,} px (no GSD)"
        regions = "" if c.regions is None else f" in <b>{c.regions}</b> region{'s' * (c.regions != 1)}"
        self.focus.setText(f"<b>{c.name}</b>: <b>{size}</b>, {c.percent:.1f}% of the labelled area"
                           f"{regions}")
