"""The Edit menu, the editing shortcuts and the editing toolbar.

Shortcuts are those users know from napari, CVAT and labelme: B brush, E
eraser, F fill, P polygon, L picker, R refine, S superpixel brush, U most uncertain picture,
Ctrl+Shift+V carry labels along the motion, Ctrl+Shift+P propagate them N frames
along the drive (`seggui.ui.propagate_drive`), [ and ] brush size (Ctrl+wheel on the
canvas too), Ctrl+Z undo, Ctrl+Shift+Z or Ctrl+Y redo, Ctrl+Enter mark
reviewed, Ctrl+S save now. They are window actions, so they work whichever
panel has the focus, and a text field still takes its letters.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QMenu, QSpinBox, QToolBar, QToolButton

from seggui.core.editing.superpixels import SIZES
from seggui.core.workspace import FrameStatus
from seggui.ui.canvas_tools import next_size
from seggui.ui.editing import EditController
from seggui.ui.qtutil import swatch_icon

TOOL_ACTIONS = (("navigate", "&Navigate", "H", "Drag to pan; no editing"),
                ("brush", "&Brush", "B", "Paint the active class"),
                ("eraser", "&Eraser", "E", "Paint unlabelled (or the chosen eraser label)"),
                ("fill", "&Fill", "F", "Flood-fill the clicked region with the active class"),
                ("polygon", "&Polygon", "P", "Click vertices, Enter or double-click to fill, Esc to cancel"),
                ("picker", "Pic&k label", "L", "Click a pixel to paint its class (Alt+click with any tool)"),
                ("refine", "&Refine", "R", "Click the active class's region (Shift+click: not it, drag: "
                 "a box); the region follows the picture and the model; Enter keeps, Esc drops"),
                ("superpixel", "&Superpixel brush", "S", "Paint whole superpixels: strokes snap to the "
                 "picture's edges (segment size in Options)"))


def _act(win: QMainWindow, text: str, slot: Callable[[], object], keys: tuple[str, ...] = (),
         tip: str = "") -> QAction:
    act = QAction(text, win)
    if keys:
        act.setShortcuts([QKeySequence(k) for k in keys])
    shown = " or ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
    if tip:
        act.setStatusTip(tip)
    act.setToolTip(f"{tip or text.replace('&', '')} ({shown})" if keys else tip or text.replace("&", ""))
    act.triggered.connect(lambda _checked=False: slot())
    win.addAction(act)  # works while the menu bar is hidden or a dock has the focus
    return act


def create_actions(win: QMainWindow, ctrl: EditController) -> dict[str, QAction]:
    """Every editing action, by name (tool actions are checkable and exclusive)."""
    a: dict[str, QAction] = {}
    group = QActionGroup(win)
    group.setExclusive(True)
    for name, text, key, tip in TOOL_ACTIONS:
        act = _act(win, text, lambda n=name: ctrl.set_tool(n), (key,), tip)  # type: ignore[misc]
        act.setCheckable(True)
        act.setIconText(text.replace("&", "").split()[0])
        group.addAction(act)
        a[f"tool_{name}"] = act
    a[f"tool_{ctrl.tool}"].setChecked(True)
    ctrl.toolChanged.connect(lambda n: a[f"tool_{n}"].setChecked(True))
    a["smaller"] = _act(win, "S&maller brush", lambda: ctrl.set_size(next_size(ctrl.size, -1)), ("[",),
                        "Smaller brush")
    a["larger"] = _act(win, "L&arger brush", lambda: ctrl.set_size(next_size(ctrl.size, 1)), ("]",),
                       "Larger brush")
    a["undo"] = _act(win, "&Undo", ctrl.undo, ("Ctrl+Z",), "Undo the last stroke")
    a["redo"] = _act(win, "&Redo", ctrl.redo, ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo")
    a["accept"] = _act(win, "&Accept prediction", ctrl.accept_prediction, (),
                       "Take the model's mask as the starting label (undoable) and save it as the correction")
    a["clear"] = _act(win, "C&lear labels", ctrl.clear, (), "Set every pixel to unlabelled (undoable)")
    a["copy_prev"] = _act(win, "&Copy labels from previous picture", ctrl.copy_previous, (),
                          "Replace the labels with the previous picture's mask (undoable)")
    a["carry_prev"] = _act(win, "Carry labels from previous frame along the &motion",
                           ctrl.assist.propagate_previous, ("Ctrl+Shift+V",),
                           "The previous frame's mask moved by the optical flow onto this frame (undoable); "
                           "the prediction stays where the flow is unsure")
    a["classify"] = _act(win, "Classify unlabelled pi&xels from my strokes", ctrl.assist.classify_rest,
                         ("Ctrl+Shift+C",), "A pixel classifier (random forest) learns the painted classes "
                         "and fills every unlabelled pixel (undoable)")

    def classify_others(only_unpredicted: bool) -> object:
        runner = getattr(win, "runner", None)  # the window's job runner: progress and cancel in the job panel
        if runner is None:  # a window without one (a bare test window) has no background jobs
            ctrl.session.log.warning("no job runner in this window: cannot run the pixel classifier")
            return False
        return ctrl.assist.pixels.apply_to_others(runner, only_unpredicted=only_unpredicted)

    a["classify_unpredicted"] = _act(
        win, "Pixel classifier on pictures &without a prediction",
        lambda: classify_others(True), (),
        "Run the pixel classifier trained on your strokes on every picture with no prediction yet: its "
        "masks are written as predictions to correct and review (a background job)")
    a["classify_all"] = _act(
        win, "Pixel classifier on all &other pictures",
        lambda: classify_others(False), (),
        "Run the pixel classifier trained on your strokes on every other picture; its masks replace their "
        "predictions (corrections stay) (a background job)")
    a["uncertain"] = _act(win, "Most &uncertain picture", ctrl.assist.next_uncertain, ("U",),
                          "Go to the uncorrected prediction the model was least sure of "
                          "(U again: the next one)")
    a["reviewed"] = _act(win, "Mark re&viewed", ctrl.mark_reviewed, ("Ctrl+Return", "Ctrl+Enter"),
                         "Save the mask and mark the picture reviewed, for retraining")
    a["save"] = _act(win, "&Save correction now", ctrl.flush, ("Ctrl+S",),
                     "Corrections save themselves after each stroke; this writes at once")
    return a


def fill_edit_menu(menu: QMenu, a: dict[str, QAction]) -> None:
    menu.addActions([a["undo"], a["redo"]])
    menu.addSeparator()
    menu.addActions([a[f"tool_{name}"] for name, *_ in TOOL_ACTIONS])
    menu.addActions([a["smaller"], a["larger"]])
    menu.addSeparator()
    menu.addActions([a["accept"], a["clear"], a["copy_prev"], a["carry_prev"], a["propagate"], a["classify"]])
    menu.addActions([a["classify_unpredicted"], a["classify_all"]])
    menu.addSeparator()
    menu.addActions([a["reviewed"], a["save"]])


class EditToolBar(QToolBar):
    """Tools, brush size, "paint over" protection, options, and whether the correction is saved."""

    def __init__(self, ctrl: EditController, a: dict[str, QAction]) -> None:
        super().__init__("Editing")
        self.ctrl = ctrl
        self.setObjectName("edit_toolbar")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addActions([a[f"tool_{name}"] for name, *_ in TOOL_ACTIONS])
        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, 500)
        self.size_spin.setSuffix(" px")
        self.size_spin.setValue(ctrl.size)
        self.size_spin.setToolTip("Brush diameter in picture pixels ([ and ], or Ctrl+wheel on the canvas)")
        self.size_spin.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.over_combo = QComboBox()
        self.over_combo.setToolTip("Protect other labels: paint only over this label")
        self.over_combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.over_combo.setMinimumContentsLength(10)
        self.over_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.addSeparator()
        self.addWidget(QLabel(" Size "))
        self.addWidget(self.size_spin)
        self.addWidget(QLabel(" Over "))
        self.addWidget(self.over_combo)
        self.options = QMenu("Options", self)
        self._option_actions()
        more = QToolButton()
        more.setText("Options")
        more.setMenu(self.options)
        more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.addWidget(more)
        self.addSeparator()
        self.addActions([a["undo"], a["redo"], a["reviewed"]])
        self.state = QLabel("")
        self.state.setContentsMargins(6, 0, 4, 0)
        self.addWidget(self.state)
        self.size_spin.valueChanged.connect(ctrl.set_size)
        ctrl.sizeChanged.connect(self.size_spin.setValue)
        self.over_combo.currentIndexChanged.connect(
            lambda _i: ctrl.set_paint_over(self.over_combo.currentData()))
        ctrl.stateChanged.connect(self.update_state)
        ctrl.session.opened.connect(self.rebuild)
        ctrl.session.frameChanged.connect(lambda _f: self.update_state())
        ctrl.session.classViewChanged.connect(self.update_state)
        ctrl.session.framesChanged.connect(self.update_state)  # a run or a review moves the status

    def _option_actions(self) -> None:
        ctrl = self.ctrl
        fill = self.options.addAction("Fill every pixel of the label (global fill)")
        fill.setCheckable(True)
        fill.toggled.connect(lambda on: setattr(ctrl, "fill_global", on))
        start = self.options.addAction("Start a correction from the prediction")
        start.setCheckable(True)
        start.setChecked(ctrl.start_from_prediction)
        start.toggled.connect(lambda on: setattr(ctrl, "start_from_prediction", on))
        self.eraser_menu = self.options.addMenu("Eraser paints")
        sizes = self.options.addMenu("Superpixel size")
        group = QActionGroup(sizes)
        for px in SIZES:
            act = sizes.addAction(f"{px} px")
            act.setCheckable(True)
            act.setChecked(px == ctrl.superpixel_size)
            act.triggered.connect(lambda _c=False, v=px: setattr(ctrl, "superpixel_size", v))
            group.addAction(act)

    def rebuild(self) -> None:
        """Refill the label lists from the workspace's class table."""
        table = self.ctrl.session.classes
        self.over_combo.blockSignals(True)
        self.over_combo.clear()
        self.over_combo.addItem("everything", None)
        self.eraser_menu.clear()
        if table is not None:
            unlabelled = self.ctrl.unlabelled_value()
            self.over_combo.addItem(f"{table.name_of(unlabelled)} only", unlabelled)  # type: ignore[arg-type]
            group = QActionGroup(self.eraser_menu)
            for c in table.classes:
                if c.id != unlabelled:
                    self.over_combo.addItem(swatch_icon(c.color), f"{c.name} only", c.id)
            for cid in [unlabelled] + [c.id for c in table.classes if c.id != unlabelled]:
                act = self.eraser_menu.addAction(table.name_of(cid))  # type: ignore[arg-type]
                act.setCheckable(True)
                act.setChecked(cid == self.ctrl.erase_value())
                act.triggered.connect(lambda _c=False, v=cid: setattr(self.ctrl, "eraser_value", v))
                group.addAction(act)
        self.over_combo.setCurrentIndex(0)
        self.over_combo.blockSignals(False)
        self.ctrl.set_paint_over(None)
        self.ctrl.eraser_value = None
        self.update_state()

    def update_state(self) -> None:
        ctrl, s = self.ctrl, self.ctrl.session
        rec = s.workspace.frames.get(s.current) if s.workspace is not None and s.current else None
        status = rec.status if rec is not None else None
        if status is None:
            self.state.setText("")
            return
        saved = ("saved" if ctrl.saved else "<span style='color:#b00020'>not saved (see Messages)</span>"
                 if ctrl.save_failed else "<span style='color:#b60'>saving…</span>")
        word = {FrameStatus.NONE: "no mask", FrameStatus.PREDICTED: "prediction",
                FrameStatus.CORRECTED: "corrected", FrameStatus.REVIEWED: "reviewed",
                FrameStatus.PROPAGATED: "propagated, not reviewed"}[status]
        editor = ctrl.editor
        if editor is not None and editor.preview is not None:  # not saved, not yet an edit: say what it is
            self.state.setText(f"{word} · <b>refine preview</b>: Enter keeps it, Esc drops it")
            return
        steps = f" · {len(editor.history)} undo" if editor is not None and len(editor.history) else ""
        self.state.setText(f"{word} · {saved}{steps}" if editor is not None else word)
