"""The live pixel classifier in the window: fill this picture from strokes, then label the other pictures.

Edit ▸ Classify unlabelled pixels from my strokes (Ctrl+Shift+C) trains a
random forest on the painted pixels of the picture being edited (on a worker
thread) and fills its still-unlabelled pixels, one undo step. The forest is
kept for this session and its scribbles are saved with the workspace
(`seggui.core.editing.classifier_run`: a PNG, not a pickle).

Edit ▸ Pixel classifier on other pictures (all, or those without a
prediction) then runs it as a background job of the window's runner, with
progress and cancel in the job panel: each picture's labels and confidence
are written as its prediction, recorded by the workspace in batches (model
ref `pixel-classifier (…)`), so they are corrected, ranked and reviewed for
retraining like a model's. In a workspace opened again it retrains from the
saved scribbles first (inside the job).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from seggui.core.editing.classifier_run import (
    SETTING,
    classify_job,
    frames_to_read,
    load_scribbles,
    model_ref,
    save_scribbles,
    scribble_path,
    train,
)
from seggui.core.editing.pixel_classifier import PixelClassifier, pixel_features
from seggui.core.images import read_image
from seggui.core.outputs import DeferredWorkspaceOutputs

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.editing import EditController
    from seggui.ui.runner import JobHandle, JobRunner


class PixelClassifierTool(QObject):
    """Train from strokes, fill this picture, run on the others; see the module docstring."""

    classified = Signal(str, object, str, object)  # frame, labels or None, error, forest (from the worker)
    _recordDue = Signal()  # from the job's thread: written predictions await recording

    def __init__(self, ctrl: EditController) -> None:
        super().__init__(ctrl)
        self.ctrl = ctrl
        self.session = ctrl.session
        self.classifying: str | None = None  # the frame being trained on / filled
        self.model: PixelClassifier | None = None  # trained in this session on `model_frame`
        self.model_frame: str | None = None
        self.handle: JobHandle | None = None  # the running "on other pictures" job
        self._sink: DeferredWorkspaceOutputs | None = None
        self.classified.connect(self._apply_classified)
        self._recordDue.connect(self._record)
        self.session.opened.connect(self._forget)

    def _forget(self) -> None:
        self.model, self.model_frame = None, None

    # --------------------------------------------------------- this picture
    def classify_rest(self) -> None:
        """Label the unlabelled pixels by a random forest trained on the labelled ones (worker thread).

        Meant for a class no model knows: start from a blank mask, paint a
        few strokes of two or more classes, run this; strokes painted while
        it works stay (only still-unlabelled pixels are filled), one undo step.
        """
        s = self.session
        editor = self.ctrl.ensure_editor()
        unl = self.ctrl.unlabelled_value()
        image = s.image()
        if editor is None or unl is None or image is None or s.current is None or s.workspace is None:
            return
        if self.classifying is not None:
            s.log.info(f"the pixel classifier is still working on {self.classifying}")
            return
        labels, fid, root = editor.labels.copy(), s.current, s.workspace.root
        self.classifying = fid
        s.log.info(f"{fid}: training the pixel classifier on {int((labels != unl).sum()):,} painted pixels…")

        def work() -> None:
            try:
                feats = pixel_features(image)
                model = PixelClassifier.fit(feats, labels, unl)
                out = model.predict(feats, labels.dtype)
            except (ValueError, RuntimeError) as exc:
                self.classified.emit(fid, None, str(exc), None)
                return
            note = ""
            try:
                save_scribbles(root, fid, labels)  # a file: the workspace records it on its own thread
            except OSError as exc:
                note = f"the scribbles could not be kept with the workspace ({exc})"
            self.classified.emit(fid, np.where(labels == unl, out, labels).astype(labels.dtype), note, model)

        threading.Thread(target=work, name="pixel-classifier", daemon=True).start()

    def _apply_classified(self, fid: str, labels: object, error: str, model: object) -> None:
        self.classifying = None
        s = self.session
        if not isinstance(labels, np.ndarray) or not isinstance(model, PixelClassifier):
            s.log.warning(f"{fid}: no classification ({error})")
            return
        self.model, self.model_frame = model, fid
        ws = s.workspace
        if error:
            s.log.warning(f"{fid}: {error}")
        elif ws is not None and not s.read_only and fid in ws.frames:
            ws.set_setting(SETTING, {"frame": fid, "classes": [int(c) for c in model.classes]})
        editor = self.ctrl.editor
        if editor is None or s.editor_frame != fid:
            s.log.warning(f"{fid}: the classification came back after you left the picture; "
                          "run it again there")
            return
        unl = self.ctrl.unlabelled_value()
        self.ctrl._changed(editor.replace(labels, only_over=None if unl is None else {unl}))
        s.log.info(f"{fid}: unlabelled pixels filled by the pixel classifier (Ctrl+Z takes them back); "
                   "Edit ▸ Pixel classifier on other pictures labels the rest")

    # ------------------------------------------------------- other pictures
    def apply_to_others(self, runner: JobRunner, only_unpredicted: bool) -> bool:
        """Run the trained classifier on the other pictures (all, or those without a prediction)."""
        s = self.session
        ws, table, unl = s.workspace, s.classes, self.ctrl.unlabelled_value()
        if ws is None or table is None or unl is None:
            s.log.warning("open pictures first")
            return False
        if s.read_only:
            s.log.warning(f"read-only: this workspace is open in another window ({s.read_only}); "
                          "its predictions cannot be written here")
            return False
        if runner.is_running():
            s.log.warning(f"{runner.title} is still running; wait or cancel it")
            return False
        found = self._model_source(ws)
        if found is None:
            s.log.warning("the pixel classifier is not trained: paint strokes of two or more classes on a "
                          "picture and use Edit ▸ Classify unlabelled pixels from my strokes first")
            return False
        get_model, frame, classes = found
        ids = [f for f in s.frame_ids if f != frame
               and (not only_unpredicted or not ws.mask_path(f, "predicted").exists())]
        items = frames_to_read(ws, ids)
        if not items:
            s.log.info("no other picture to classify" + (" without a prediction" if only_unpredicted else ""))
            return False
        ref = model_ref(classes, table)
        sink = DeferredWorkspaceOutputs(ws, ref, notify=self._recordDue.emit)
        dtype = np.dtype(table.mask_dtype)
        title = f"Pixel classifier on {len(items)} picture{'s' * (len(items) != 1)}"
        handle = runner.start(title, lambda token: classify_job(get_model, items, sink, dtype, token))
        if handle is None:
            return False
        self.handle, self._sink = handle, sink
        handle.result.connect(lambda n: self._ended(f"{ref}: {n} picture{'s' * (n != 1)} labelled; "
                                                    "their masks are predictions to correct and review"))
        handle.cancelled.connect(lambda: self._ended(f"{title}: cancelled (the pictures done are kept)"))
        handle.error.connect(lambda msg, _d: self._ended(""))
        return True

    def _model_source(self, ws: Any) -> tuple[Any, str, tuple[int, ...]] | None:
        """(a function giving the classifier, the frame trained on, its classes), or None when untrained.

        The session's own forest when there is one; else one retrained (in
        the job, off the GUI thread) from the scribbles saved in the workspace.
        """
        if self.model is not None and self.model_frame is not None:
            model = self.model
            return (lambda: model), self.model_frame, model.classes
        saved = ws.settings.get(SETTING)
        if not isinstance(saved, dict) or saved.get("frame") not in ws.frames:
            return None
        frame = str(saved["frame"])
        path, image_path = scribble_path(ws.root, frame), ws.image_path(frame)
        unl = self.ctrl.unlabelled_value()
        if image_path is None or unl is None:
            return None  # a video frame's scribbles: kept, but retrained only by classifying there again
        classes = tuple(int(c) for c in saved.get("classes", []))

        def retrain() -> PixelClassifier:
            return train(read_image(image_path), load_scribbles(path), unl)

        return retrain, frame, classes

    def _record(self) -> None:
        sink, ws = self._sink, self.session.workspace
        if sink is not None:
            sink.record(ws if ws is not None and ws.root == sink.ws.root else None)

    def _ended(self, message: str) -> None:
        self._record()
        self.handle, self._sink = None, None
        if message:
            self.session.log.info(message)
