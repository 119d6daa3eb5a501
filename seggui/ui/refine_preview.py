"""The refine tool's preview, cut on a worker thread: the window keeps answering while GrabCut runs.

A click (or a box) is checked at once on the GUI thread (a click off the
picture, a box of no size: a message, nothing queued) and drawn as a marker;
the cut itself (`seggui.core.editing.refine.refine`, with the model's
P(class) made from the prediction there too) runs on a worker thread, from a
snapshot of the region as it shows then. One cut runs at a time and the
newest request wins: a click made while a cut runs replaces whatever waited,
and the running cut's result is dropped when a newer request came meanwhile
(its clicks are in the newer one, which starts from the mask as it is then).
A result whose mask changed under it (undo, another picture) is dropped too.

Enter while a cut runs keeps the preview once the newest cut is on the mask
(one undo step); Esc drops the preview and every cut still due; Backspace
takes back the last click (the rest are cut again together). Only the
change of the newest result is applied on the GUI thread (`Editor.show_refined`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from seggui.core.editing import Click, class_probability
from seggui.core.editing.refine import Refined, check_clicks, refine

if TYPE_CHECKING:  # pragma: no cover
    from seggui.core.editing import Editor
    from seggui.ui.editing import EditController

Box = tuple[float, float, float, float]


@dataclass
class _Request:
    """One cut: the clicks and box so far, and what the worker needs (taken when it starts)."""

    gen: int
    clicks: tuple[Click, ...]
    box: Box | None
    value: int
    only_over: set[int] | None
    image: np.ndarray
    pred: np.ndarray | None
    conf: np.ndarray | None
    n_classes: int
    unlabelled: int
    editor: Editor
    base: np.ndarray | None = None
    version: int = -1
    reach: list[Click] | None = None
    fallback: Any = field(default=0)


def _cut(req: _Request) -> Refined:
    """The worker's part: P(class) from the prediction, the fallback labels, the cut."""
    assert req.base is not None
    prob = None
    if req.pred is not None:
        prob = class_probability(req.pred, req.conf, req.value, req.n_classes)
        req.fallback = np.where(req.pred == req.value, req.unlabelled, req.pred)
    else:
        req.fallback = req.unlabelled
    return refine(req.image, req.base, req.clicks, prob, req.box, reach=req.reach)


class RefinePreview(QObject):
    """The refine in progress: its clicks and box, its cuts on a worker thread (see the module docstring)."""

    cut = Signal(object, object, str)  # request, Refined or None, error (emitted from the worker)
    settled = Signal()  # no cut running or due any more (tests and the status wait on it)

    def __init__(self, ctrl: EditController) -> None:
        super().__init__(ctrl)
        self.ctrl = ctrl
        self.session = ctrl.session
        self.clicks: list[Click] = []
        self.box: Box | None = None
        self._gen = 0
        self._shown: object = None  # the editor's preview after our last result
        self._applied = 0  # clicks already on the mask in that preview
        self._running: _Request | None = None
        self._wanted: _Request | None = None
        self._commit_when_ready = False
        self.cut.connect(self._on_cut)

    @property
    def busy(self) -> bool:
        """A cut is running or waiting."""
        return self._running is not None or self._wanted is not None

    # ------------------------------------------------------------ requests
    def refine_click(self, x: float, y: float, positive: bool) -> bool:
        """Add a click; its preview follows from the worker. False (with a message) when refused."""
        return self._ask(Click(x, y, positive), None)

    def refine_box(self, box: Box) -> bool:
        """Refine the region inside a dragged box (GrabCut's classic start)."""
        return self._ask(None, box)

    def _ask(self, click: Click | None, box: Box | None) -> bool:
        s, ctrl = self.session, self.ctrl
        value = ctrl._paint_value(False)
        editor = ctrl.ensure_editor() if value is not None else None
        image = s.image()
        if editor is None or value is None or image is None:
            return False
        if editor.preview is not self._shown and not self.busy:  # committed, dropped or undone meanwhile
            self._reset()
        clicks = self.clicks + ([click] if click is not None else [])
        box = box or self.box
        try:
            check_clicks(editor.labels.shape, clicks, box)
        except ValueError as exc:
            s.log.warning(f"{s.current}: cannot refine ({exc})")
            return False
        self.clicks, self.box = clicks, box
        self._want(editor, image, value)
        return True

    def _want(self, editor: Editor, image: np.ndarray, value: int) -> None:
        s, table = self.session, self.session.classes
        unl = self.ctrl.unlabelled_value()
        pred, conf = s.mask("predicted"), s.mask("confidence")
        if pred is not None and pred.shape != editor.labels.shape:
            s.log.warning(f"{s.current}: its prediction is {pred.shape[1]}x{pred.shape[0]} but the picture "
                          f"{editor.labels.shape[1]}x{editor.labels.shape[0]}; refining from colour alone "
                          "(run the model again on this picture)")
            pred = None
        if pred is None or (conf is not None and conf.shape != pred.shape):
            conf = None
        n_classes = len(table.classes) if table is not None else 1
        req = _Request(self._gen, tuple(self.clicks), self.box, value, self.ctrl._only_over(), image, pred,
                       conf, n_classes, 0 if unl is None else unl, editor)
        if self._running is None:
            self._start(req)
        else:
            self._wanted = req  # whatever waited is superseded

    def _start(self, req: _Request) -> None:
        editor = req.editor
        req.base = editor.refine_base(req.value)
        req.version = editor.version
        req.reach = list(req.clicks[self._applied:]) if editor.preview is not None else None
        self._running = req

        def work() -> None:
            try:
                self.cut.emit(req, _cut(req), "")
            except ValueError as exc:
                self.cut.emit(req, None, str(exc))

        threading.Thread(target=work, name="refine-preview", daemon=True).start()

    def _on_cut(self, req: _Request, found: object, error: str) -> None:
        self._running = None
        wanted, self._wanted = self._wanted, None
        editor = self.ctrl.editor
        current = (req.gen == self._gen and wanted is None and editor is req.editor
                   and editor.version == req.version)
        if current and isinstance(found, Refined):
            change = editor.show_refined(found, req.value, req.fallback, req.only_over)
            self._applied, self._shown = len(req.clicks), editor.preview
            self.ctrl._changed(change, final=False)
            self.ctrl.stateChanged.emit()
        elif current and error:
            self.session.log.warning(f"{self.session.current}: cannot refine ({error})")
        if wanted is not None and wanted.gen == self._gen and self.ctrl.editor is wanted.editor:
            self._start(wanted)
            return
        if self._commit_when_ready:
            self._commit_when_ready = False
            self.commit()
        self.settled.emit()

    # -------------------------------------------------------------- keys
    def commit(self) -> bool:
        """Enter: the preview becomes one undo step and is saved like a stroke (once the newest cut is in)."""
        if self.busy:
            self._commit_when_ready = True
            self.session.log.info("the refine preview is still being computed; it is kept once it is shown")
            return True
        editor = self.ctrl.editor
        self._reset()
        if editor is None or editor.preview is None:
            return False
        self.ctrl._changed(editor.commit_preview())
        return True

    def drop(self) -> bool:
        """Esc: the preview goes, and every cut running or due; the mask is as before the first click."""
        had = self.busy or bool(self.clicks) or self.box is not None
        self._reset()
        editor = self.ctrl.editor
        if editor is None or editor.preview is None:
            if had:
                self.settled.emit()
            return had
        self.ctrl._changed(editor.drop_preview())
        self.settled.emit()
        return True

    def undo_click(self) -> bool:
        """Backspace: the preview without the last click (the box, if any, stays), cut again."""
        clicks, box = self.clicks[:-1], self.box
        self.drop()
        if not clicks and box is None:
            return True
        value = self.ctrl._paint_value(False)
        editor, image = self.ctrl.editor, self.session.image()
        if editor is None or value is None or image is None:
            return True
        self.clicks, self.box = clicks, box
        self._want(editor, image, value)
        return True

    def _reset(self) -> None:
        """Forget the clicks and every cut in flight (their results will be dropped)."""
        self._gen += 1
        self._wanted = None
        self._commit_when_ready = False
        self.clicks, self.box, self._shown, self._applied = [], None, None, 0
