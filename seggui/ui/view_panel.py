"""The centre of the window: the canvas, the layer chooser, opacity, fit and 1:1.

It binds the canvas to the session: on a frame, mask or class-view change it
asks `seggui.core.errorview` for the RGBA layer of the chosen view
(prediction, ground truth, or the error view of the active class) and hands
it to the canvas; the pixel readout reads the cached masks at the hovered
pixel.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from seggui.core.errors import BadInputError
from seggui.core.errorview import FN_COLOR, FP_COLOR, TP_COLOR, view_rgba
from seggui.ui.canvas import Canvas
from seggui.ui.session import Session

VIEWS = (("prediction", "Prediction"), ("ground_truth", "Ground truth"), ("errors", "Errors (FP/FN)"),
         ("picture", "Picture only"), ("model", "Model's prediction"))
EMPTY_HINT = (
    "<div style='font-size:15px'><b>Open a picture, a folder of pictures or a workspace</b></div>"
    "<div style='margin-top:8px'>A picture, video or workspace: File ▸ Open… (Ctrl+O). A folder of pictures "
    "or a drive's image sequence: File ▸ Open folder… (Ctrl+Shift+O). Or drop it here.</div>"
    "<div style='margin-top:4px; color:#666'>Then pick a model and run it (Ctrl+R), "
    "or import ground truth to measure IoU.</div>"
)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{v:02x}" for v in rgb)


class ViewPanel(QWidget):
    """Canvas plus its controls; `readout` is a label the main window puts in the status bar."""

    viewChanged = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.canvas = Canvas()
        self.view_combo = QComboBox()
        for key, text in VIEWS:
            self.view_combo.addItem(text, key)
        self.view_combo.setToolTip("Which mask the canvas shows (the error view uses the active class)")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setFixedWidth(120)
        self.opacity.setToolTip("Mask opacity")
        self.opacity_label = QLabel("50%")
        self.opacity_label.setMinimumWidth(34)
        fit = QToolButton(text="Fit")  # type: ignore[call-arg]  # Qt property keywords
        fit.setToolTip("Fit the picture to the window (Ctrl+0)")
        fit.clicked.connect(self.canvas.fit)
        one = QToolButton(text="1:1")  # type: ignore[call-arg]
        one.setToolTip("One picture pixel per screen pixel (Ctrl+1)")
        one.clicked.connect(self.canvas.actual_size)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(48)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(QLabel("View:"))
        bar.addWidget(self.view_combo)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Opacity:"))
        bar.addWidget(self.opacity)
        bar.addWidget(self.opacity_label)
        bar.addSpacing(12)
        bar.addWidget(fit)
        bar.addWidget(one)
        bar.addWidget(self.zoom_label)
        bar.addStretch(1)
        self.hint = QLabel("")
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.setContentsMargins(6, 2, 6, 2)
        self.readout = QLabel("")
        self.readout.setMinimumWidth(300)
        empty = QLabel(EMPTY_HINT)
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(empty)
        self.stack.addWidget(self.canvas)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.hint)

        self.opacity.valueChanged.connect(self._on_opacity)
        self.view_combo.currentIndexChanged.connect(self._on_view)
        self.canvas.pixelHovered.connect(self._on_hover)
        self._hovered = (-1, -1)  # where the pointer last was: the readout follows a stroke's new status too
        session.framesChanged.connect(lambda: self._on_hover(*self._hovered))
        session.framesChanged.connect(self._name_mask_view)  # a first stroke makes it a correction
        session.editChanged.connect(lambda _f: self._on_hover(*self._hovered))  # a refine preview, under it
        for changed in (session.frameChanged, session.opened):  # another picture: the old spot means nothing
            changed.connect(lambda *_: setattr(self, "_hovered", (-1, -1)))
        self.canvas.zoomChanged.connect(  # in source pixels: an orthomosaic shows a coarser level
            lambda _z: self.zoom_label.setText(f"{self.canvas.source_zoom() * 100:.0f}%"))
        session.opened.connect(self.refresh)
        session.frameChanged.connect(lambda _fid: self.refresh())
        session.masksChanged.connect(self._on_masks)
        session.classViewChanged.connect(self.refresh_layer)

    # ------------------------------------------------------------- binding
    @property
    def view(self) -> str:
        return self.view_combo.currentData()

    def set_view(self, key: str) -> None:
        self.view_combo.setCurrentIndex(max(0, self.view_combo.findData(key)))

    def _on_opacity(self, value: int) -> None:
        self.canvas.set_overlay_opacity(value / 100)
        self.opacity_label.setText(f"{value}%")

    def _on_view(self, _index: int) -> None:
        self.refresh_layer()
        self.viewChanged.emit(self.view)

    def _on_masks(self, frame_id: str) -> None:
        if frame_id == self.session.current:
            self.refresh_layer()

    def refresh(self) -> None:
        """Show the current frame's picture (keeping zoom when the size is the same) and its layer."""
        image = self.session.image()
        self.stack.setCurrentIndex(1 if self.session.workspace is not None else 0)
        self.canvas.set_image(image, keep_view=True)
        if image is None and self.session.current is not None:
            self.hint.setText(f"<span style='color:#b00'>Cannot show {self.session.current}: "
                              "see Messages.</span>")
            return
        self.refresh_layer()

    def _name_mask_view(self) -> None:
        """The first view shows the mask being edited: "Correction" once the picture has one."""
        s = self.session
        edited = s.current is not None and s.workspace is not None and s.record(s.current).has_correction
        self.view_combo.setItemText(0, "Correction" if edited else "Prediction")

    def refresh_layer(self) -> None:
        """Recompute the mask layer for the current view (an RGBA array from core)."""
        s, view = self.session, self.view
        self._name_mask_view()
        table = s.classes
        if table is None or not self.canvas.has_image():
            self.canvas.set_overlay(None)
            return
        pred, gt = s.mask("current"), s.mask("ground_truth")
        layer, hint = None, ""
        if view == "prediction":
            if pred is None:
                hint = "No prediction for this picture yet: choose a model and Run (Ctrl+R)."
            else:
                layer = view_rgba(view, pred, gt, table, s.hidden)
        elif view == "model":  # the model's own output, also where a correction now shows instead
            raw = s.mask("predicted")
            if raw is None:
                hint = "No prediction by a model for this picture: choose a model and Run (Ctrl+R)."
            else:
                layer = view_rgba("prediction", raw, gt, table, s.hidden)
                if s.current is not None and s.record(s.current).has_correction:
                    hint = "The model's own prediction (read only): Prediction (Alt+1) shows your correction."
        elif view == "ground_truth":
            if gt is None:
                hint = "No ground truth for this picture: File ▸ Open ground truth…"
            else:
                layer = view_rgba(view, pred, gt, table, s.hidden)
        elif view == "errors":
            if pred is None or gt is None:
                hint = "The error view needs both a prediction and ground truth for this picture."
            elif s.active_class is None:
                hint = "Choose a class in the Classes panel."
            else:
                try:
                    layer = view_rgba(view, pred, gt, table, s.hidden, s.active_class)
                except BadInputError as exc:
                    s.log.report(exc)
                hint = (
                    f"Errors of <b>{table.name_of(s.active_class)}</b>: "
                    f"<span style='color:{_hex(FP_COLOR)}'>■</span> false positive "
                    f"&nbsp; <span style='color:{_hex(FN_COLOR)}'>■</span> false negative "
                    f"&nbsp; <span style='color:{_hex(TP_COLOR)}'>■</span> correct"
                )
        self.canvas.set_overlay(layer)
        self.hint.setText(hint)

    def _on_hover(self, x: int, y: int) -> None:
        s, table = self.session, self.session.classes
        self._hovered = (x, y)
        if x < 0 or table is None:
            self.readout.setText("")
            return
        sx, sy = self.canvas.source_xy(x, y)  # an orthomosaic's own pixel, not its level's or region's
        parts = [f"x {sx}, y {sy}"]
        model = self.view == "model"  # the model's own mask is shown: name its class, not the correction's
        pred = s.mask("predicted" if model else "current")
        if pred is not None:
            parts.append(f"class {table.name_of(int(pred[y, x]))}")
        conf = s.mask("confidence")
        if conf is not None:  # the model's confidence in its own class, which a correction may not be
            edited = not model and s.current is not None and s.record(s.current).has_correction
            own = s.mask("predicted") if edited else None
            theirs = f" in {table.name_of(int(own[y, x]))}" if own is not None and pred is not None \
                and own[y, x] != pred[y, x] else ""  # painted over: say which class the figure is for
            parts.append(f"model's confidence {conf[y, x] / 255:.2f}{theirs}" if edited
                         else f"confidence {conf[y, x] / 255:.2f}")
        gt = s.mask("ground_truth")
        if gt is not None:
            parts.append(f"truth {table.name_of(int(gt[y, x]))}")
        self.readout.setText("  ·  ".join(parts))
