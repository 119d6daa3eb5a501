"""The metrics panel: per-class IoU, Dice, precision and recall, as a table and a bar chart.

Every figure is `seggui.core.metrics.compute_metrics` of a
`seggui.core.confusion.ConfusionMatrix`: for the current picture, the
session's matrix of that frame; for the whole workspace, the matrices of all
frames with ground truth summed (pixel-weighted, as the CLI's `eval` does).
The workspace sum reads masks on a worker thread (a `JobRunner` of its own,
so it never waits for a long inference run); frames already measured are
cached by the session, so after a new prediction only that frame is re-read.
pyqtgraph is imported when the first figures are charted, not at start-up.

While a mask is painted (`Session.editChanged`) the picture scope takes the
live path: the session's matrix of that picture is the editor's, updated
from the changed pixels only, and the table and bars are rewritten in place
(O(classes²) per update, whatever the picture size). The workspace scope
re-sums when painting pauses (`Session.editSettled`).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seggui.core.confusion import ConfusionMatrix
from seggui.core.jobs import Progress
from seggui.core.metrics import SegMetrics, compute_metrics
from seggui.ui.qtutil import figures_table, swatch_icon
from seggui.ui.runner import JobRunner
from seggui.ui.session import Session

COLUMNS = (("iou", "IoU"), ("dice", "Dice"), ("precision", "Precision"), ("recall", "Recall"))
SCOPES = (("picture", "This picture"), ("workspace", "All pictures"))


def fmt(value: float) -> str:
    """A ratio as shown in the table: three decimals, an en dash when undefined (NaN)."""
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


class MetricsPanel(QWidget):
    """Table + bar chart of one `SegMetrics`; `metrics` holds what is shown."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.metrics: SegMetrics | None = None
        self.kind = "current"  # the mask scored: "predicted" while the view shows the model's own
        self.frames_counted = 0
        self.runner = JobRunner(self)
        self._dirty = False
        self.scope_combo = QComboBox()
        for key, text in SCOPES:
            self.scope_combo.addItem(text, key)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.table = figures_table(["Class"] + [t for _k, t in COLUMNS])
        self.plot = None  # a pyqtgraph PlotWidget, made when the first figures arrive
        self.bars = None
        self.chart_slot = QLabel("")
        self.chart_slot.setMinimumHeight(120)
        top = QHBoxLayout()
        top.addWidget(QLabel("Scope:"))
        top.addWidget(self.scope_combo, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.chart_slot)
        self.split = split
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(split, 1)
        self.scope_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_workspace_done)
        self.runner.failed.connect(lambda msg, details: session.log.error(f"metrics: {msg}", details))
        self.runner.idle.connect(self._on_idle)
        session.opened.connect(self.refresh)
        session.frameChanged.connect(self._on_frame)
        session.masksChanged.connect(self._on_masks)
        session.editChanged.connect(self._on_edit)
        session.editSettled.connect(lambda _fid: self.refresh() if self.scope == "workspace" else None)

    # ------------------------------------------------------------- binding
    @property
    def scope(self) -> str:
        return self.scope_combo.currentData()

    def set_scope(self, key: str) -> None:
        self.scope_combo.setCurrentIndex(max(0, self.scope_combo.findData(key)))

    def measure(self, view: str) -> None:
        """Score what the view shows: the model's own mask under View ▸ Model's prediction."""
        kind = "predicted" if view == "model" else "current"
        if kind != self.kind:
            self.kind = kind
            if self.scope == "picture":
                self.refresh()

    def _on_frame(self, _fid: str) -> None:
        if self.scope == "picture":
            self.refresh()

    def _on_masks(self, frame_id: str) -> None:
        if self.scope == "workspace" or frame_id == self.session.current:
            self.refresh()

    def _on_edit(self, frame_id: str) -> None:
        """Live path: figures of the edited picture's (incrementally updated) matrix, written in place."""
        s = self.session
        if self.scope != "picture" or frame_id != s.current or s.classes is None or self.kind != "current":
            return
        cm = s.frame_matrix(frame_id)
        if cm is None:
            return
        metrics = compute_metrics(cm, s.classes)
        shown = self.metrics
        if shown is None or shown.ids != metrics.ids or self.table.rowCount() != len(metrics.ids):
            self._show(metrics, f"{s.current}")
            return
        self.metrics = metrics
        self._summary(metrics, f"{s.current}")
        for row in range(len(metrics.ids)):
            for col, (key, _title) in enumerate(COLUMNS, start=1):
                value = float(getattr(metrics, key)[row])
                cell = self.table.item(row, col)
                cell.setText(fmt(value))
                cell.setData(Qt.ItemDataRole.UserRole, value)
        if self.bars is not None:
            self.bars.setOpts(width=np.nan_to_num(metrics.iou, nan=0.0))
        else:
            self._chart(metrics)

    def refresh(self) -> None:
        """Recompute for the chosen scope (the workspace sum runs in the background)."""
        s = self.session
        if s.classes is None:
            self._show(None, "")
            return
        if self.scope == "picture":
            cm = s.frame_matrix(kind=self.kind)
            if cm is None:
                missing = "prediction" if s.mask(self.kind) is None else "ground truth"
                self._show(None, f"This picture has no {missing}: nothing to score.")
            else:
                self._show(compute_metrics(cm, s.classes), f"{s.current}" + (
                    " · model's prediction" if self.kind == "predicted" else ""))
            return
        if self.runner.is_running():
            self._dirty = True
            return
        _total, _known, factory = s.workspace_matrix_job()
        if not self.runner.start("Measuring the workspace", factory):
            self._dirty = True

    def _on_progress(self, p: Progress) -> None:
        data = p.data or {}
        if "frame" in data:
            self.session.store_matrix(data["frame"], data["version"], data["matrix"])
        if p.total:
            self.summary.setText(f"Measuring… {p.done}/{p.total} pictures")

    def _on_workspace_done(self, result: tuple[ConfusionMatrix, int]) -> None:
        if self.scope != "workspace" or self.session.classes is None:
            return
        total, count = result
        if count == 0:
            self._show(None, "No picture has both a prediction and ground truth yet.")
            return
        self.frames_counted = count
        self._show(compute_metrics(total, self.session.classes), f"{count} pictures with ground truth")

    def _on_idle(self) -> None:
        if self._dirty:
            self._dirty = False
            self.refresh()

    # -------------------------------------------------------------- showing
    def _show(self, metrics: SegMetrics | None, what: str) -> None:
        self.metrics = metrics
        table = self.session.classes
        self.table.setRowCount(0)
        if self.bars is not None and self.plot is not None:
            self.plot.removeItem(self.bars)
            self.bars = None
        if metrics is None or table is None:
            self.summary.setText(what)
            return
        self._summary(metrics, what)
        self.table.setRowCount(len(metrics.ids))
        for row, (cid, name) in enumerate(zip(metrics.ids, metrics.names, strict=True)):
            item = QTableWidgetItem(swatch_icon(table.by_id[cid].color), name)
            item.setToolTip(name)
            self.table.setItem(row, 0, item)
            for col, (key, _title) in enumerate(COLUMNS, start=1):
                value = float(getattr(metrics, key)[row])
                cell = QTableWidgetItem(fmt(value))
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setData(Qt.ItemDataRole.UserRole, value)
                self.table.setItem(row, col, cell)
        self._chart(metrics)

    def _summary(self, metrics: SegMetrics, what: str) -> None:
        self.summary.setText(
            f"<b>mIoU {fmt(metrics.miou)}</b> &nbsp; pixel accuracy {fmt(metrics.pixel_accuracy)}"
            f" &nbsp; <span style='color:gray'>{what}</span>")

    def _ensure_plot(self):  # noqa: ANN202 - returns a pyqtgraph PlotWidget
        """Create the chart on first use: importing pyqtgraph costs ~0.5 s of start-up."""
        if self.plot is None:
            import pyqtgraph as pg

            plot = pg.PlotWidget(background="w")
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setLabel("bottom", "IoU")
            plot.setXRange(0, 1, padding=0.02)
            plot.setMinimumHeight(120)
            self.split.replaceWidget(1, plot)
            self.split.setSizes([330, 240])
            self.chart_slot.deleteLater()
            self.plot = plot
        return self.plot

    def _chart(self, metrics: SegMetrics) -> None:
        import pyqtgraph as pg

        plot = self._ensure_plot()
        table = self.session.classes
        assert table is not None
        n = len(metrics.ids)
        ys = np.arange(n)[::-1].astype(float)  # first class on top
        widths = np.nan_to_num(metrics.iou, nan=0.0)
        brushes = [pg.mkBrush(QColor(*table.by_id[c].color)) for c in metrics.ids]
        self.bars = pg.BarGraphItem(x0=0, y=ys, height=0.7, width=widths, brushes=brushes,
                                    pen=pg.mkPen(90, 90, 90))
        plot.addItem(self.bars)
        axis = plot.getAxis("left")
        axis.setTicks([[(float(y), name) for y, name in zip(ys, metrics.names, strict=True)]])
        plot.setYRange(-0.6, n - 0.4, padding=0)

    def value(self, class_id: int, key: str) -> float:
        """The number shown for a class and column (NaN for an en dash): used by tests."""
        assert self.metrics is not None
        row = self.metrics.ids.index(class_id)
        col = 1 + [k for k, _t in COLUMNS].index(key)
        return float(self.table.item(row, col).data(Qt.ItemDataRole.UserRole))
