"""Area over time (and IoU over time where ground truth exists) of the current drive.

One point per frame that has a mask, measured from the masks on disk by
`seggui.core.drive_series` (the area report's code) in a background job of
its own, so a long drive stays browsable while it is measured. The class is
the active class of the Classes panel. A changed frame (new prediction,
settled edit) is measured again alone. Clicking the plot jumps to the frame
nearest the click; a vertical line marks the current frame.

pyqtgraph is imported when the first drive is shown, not at start-up.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from seggui.core.drive_series import FramePoint, measure_series
from seggui.core.jobs import Progress
from seggui.ui.runner import JobRunner
from seggui.ui.session import Session

PLOT_LINES = 4  # each plot at least this many text lines tall: two labelled values and its unit fit
FRAME_AXIS_LINES = 5  # the frame numbers, their label and the layout's margins, in text lines


def min_height(line: float) -> int:
    """The plot widget's least height in pixels for text lines `line` pixels tall.

    Two plots of `PLOT_LINES` over one frame axis: at the old fixed 120 px
    each plot had 17-45 px and its value labels overlapped. The y axes also
    label fewer values when short (`seggui.ui.plot_axis`), so labels never
    overlap at any height; this floor keeps two of them and the axis title.
    """
    return math.ceil((2 * PLOT_LINES + FRAME_AXIS_LINES) * line)


class DrivePlot(QWidget):
    """The area/IoU-over-time plot of the drive holding the current frame."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = JobRunner(self)
        self.frames: list[str] = []
        self.points: dict[str, FramePoint] = {}
        self.class_id: int | None = None
        self.widget: Any = None  # pyqtgraph GraphicsLayoutWidget, made for the first drive
        self.area_plot: Any = None
        self.iou_plot: Any = None
        self._dirty = False
        self.info = QLabel("Open a video or an image sequence to see its area over time.")
        self.info.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(2, 2, 2, 2)
        self._layout.addWidget(self.info)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(150)
        self._later.timeout.connect(self.refresh)
        self._redraw_later = QTimer(self)
        self._redraw_later.setSingleShot(True)
        self._redraw_later.setInterval(250)
        self._redraw_later.timeout.connect(self.redraw)
        self.runner.progress.connect(self._on_progress)
        for sig in (self.runner.finished, self.runner.cancelled, self.runner.failed):
            sig.connect(self._on_job_end)
        session.opened.connect(self._on_opened)
        session.frameChanged.connect(self._on_frame)
        session.masksChanged.connect(self._forget)
        session.editSettled.connect(self._forget)
        session.classViewChanged.connect(self._on_class)
        session.gsdChanged.connect(self._remeasure)  # px become m² (walkthrough: the axis kept px)

    # ------------------------------------------------------------ building
    def _ensure_widget(self) -> None:
        if self.widget is not None:
            return
        import pyqtgraph as pg

        from seggui.ui.plot_axis import FittingAxis

        widget = pg.GraphicsLayoutWidget()
        widget.setBackground("w")
        widget.setMinimumHeight(min_height(QFontMetricsF(widget.font()).height()))
        self.area_plot = widget.addPlot(row=0, col=0, axisItems={"left": FittingAxis("left")})
        self.iou_plot = widget.addPlot(row=1, col=0, axisItems={"left": FittingAxis("left")})
        self.iou_plot.setXLink(self.area_plot)
        self.iou_plot.setYRange(0, 1)
        self.iou_plot.setLabel("left", "IoU")
        self.iou_plot.setLabel("bottom", "frame")
        for plot in (self.area_plot, self.iou_plot):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMenuEnabled(False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)  # frame numbers, not kilo-frames
        pen = pg.mkPen((40, 90, 200), width=2)
        self.area_curve = self.area_plot.plot([], [], pen=pen, symbol="o", symbolSize=5,
                                              symbolBrush=(40, 90, 200))
        self.iou_curve = self.iou_plot.plot([], [], pen=pg.mkPen((200, 90, 40), width=2), symbol="o",
                                            symbolSize=5, symbolBrush=(200, 90, 40))
        self.cursor_lines = [plot.addLine(x=0, pen=pg.mkPen((120, 120, 120), style=Qt.PenStyle.DashLine))
                             for plot in (self.area_plot, self.iou_plot)]
        widget.scene().sigMouseClicked.connect(self._on_click)
        self._layout.addWidget(widget, 1)
        self.widget = widget

    # --------------------------------------------------------------- state
    def _on_opened(self) -> None:
        self.runner.cancel()
        self.frames, self.points = [], {}
        self._on_frame(self.session.current or "")

    def _on_frame(self, frame_id: str) -> None:
        drive = self.session.drive_frames(frame_id) if frame_id else []
        if drive != self.frames:
            self.runner.cancel()
            self.frames, self.points = drive, {}
            self._later.start()
        self._move_cursor()

    def _on_class(self) -> None:
        if self.session.active_class != self.class_id:
            self._remeasure()

    def _remeasure(self) -> None:
        self.runner.cancel()
        self.points = {}
        self._later.start()

    def _forget(self, frame_id: str) -> None:
        if frame_id in self.points or frame_id in self.frames:
            self.points.pop(frame_id, None)
            self._later.start()

    def refresh(self) -> None:
        """Measure the drive's frames that have a mask and no point yet (in the background)."""
        ws, cid = self.session.workspace, self.session.active_class
        if not self.frames or ws is None or cid is None:
            self.redraw()
            return
        if self.runner.is_running():
            self._dirty = True
            return
        self.class_id = cid
        todo = [f for f in self.frames if f not in self.points and ws.frames[f].status != "none"]
        if todo:
            self.runner.start("Measuring the drive", lambda token: measure_series(ws, todo, cid, token))
        self.redraw()

    def _on_progress(self, p: Progress) -> None:
        point = (p.data or {}).get("point")
        if isinstance(point, FramePoint) and point.frame in self.frames and self.class_id == \
                self.session.active_class:
            self.points[point.frame] = point
            if not self._redraw_later.isActive():
                self._redraw_later.start()
        if p.error:
            self.session.log.error(p.error)

    def _on_job_end(self, *_args: Any) -> None:
        self.redraw()
        if self._dirty:
            self._dirty = False
            self._later.start()

    # ------------------------------------------------------------- drawing
    def series(self) -> list[FramePoint]:
        """The points on show, in frame order."""
        return sorted((self.points[f] for f in self.frames if f in self.points), key=lambda p: p.index)

    def redraw(self) -> None:
        if not self.frames:
            if self.widget is not None:
                self.widget.hide()
            self.info.setText("Open a video or an image sequence to see its area over time.")
            self.info.show()
            return
        self._ensure_widget()
        self.widget.show()
        pts = self.series()
        table = self.session.classes
        name = table.name_of(self.class_id) if table is not None and self.class_id is not None else "?"
        unit = "m²" if pts and all(p.in_m2 for p in pts) else "px"
        self.area_plot.setLabel("left", f"{name} ({unit})")
        self.iou_plot.setLabel("left", f"{name} IoU")  # the class's, not the frame's mIoU
        # frames counted from 1 on screen, as on the timeline (indices stay 0-based inside)
        self.area_curve.setData([p.index + 1 for p in pts], [p.value for p in pts])
        if len(pts) > 1:
            self.area_plot.enableAutoRange()
        else:  # none or one measured: the drive's frame span, not pyqtgraph's ±50 around one point
            first, last = (self.session.record(f).index or 0 for f in (self.frames[0], self.frames[-1]))
            self.area_plot.setXRange(first + 1, max(last, first + 1) + 1, padding=0.02)
            self.area_plot.setYRange(0, max(1.0, 1.2 * pts[0].value) if pts else 1, padding=0)
        with_gt = [p for p in pts if not math.isnan(p.iou)]
        self.iou_curve.setData([p.index + 1 for p in with_gt], [p.iou for p in with_gt])
        self.iou_plot.setVisible(bool(with_gt))
        self.area_plot.setLabel("bottom", None if with_gt else "frame")
        # the frame numbers once, under the lower plot: the upper one gets their height
        self.area_plot.getAxis("bottom").setStyle(showValues=not with_gt)
        missing = len(self.frames) - len(pts)
        gt_frames = f"{len(with_gt)} frame{'s' if len(with_gt) != 1 else ''}"
        self.info.setText(f"{name}: {len(pts)} of {len(self.frames)} frames measured"
                          + (f" ({missing} without a mask or still measuring)" if missing else "")
                          + (f"; IoU on {gt_frames} with ground truth" if with_gt else ""))
        self._move_cursor()

    def _move_cursor(self) -> None:
        if self.widget is None or self.session.current not in self.frames:
            return
        rec = self.session.record(self.session.current)
        for line in self.cursor_lines:
            line.setValue((rec.index or 0) + 1)

    # ------------------------------------------------------------ clicking
    def frame_near(self, x: float) -> str | None:
        """The measured frame nearest `x`, a frame number counted from 1 (None when nothing is plotted)."""
        pts = self.series()
        return min(pts, key=lambda p: abs(p.index + 1 - x)).frame if pts else None

    def _on_click(self, event: Any) -> None:
        pos: QPointF = event.scenePos()
        for plot in (self.area_plot, self.iou_plot):
            if plot.isVisible() and plot.vb.sceneBoundingRect().contains(pos):
                fid = self.frame_near(plot.vb.mapSceneToView(pos).x())
                if fid is not None:
                    self.session.set_frame(fid)
                return
