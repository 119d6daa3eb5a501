"""Assisted correction in the window: refine from clicks, carry labels along the drive, most-uncertain next.

The algorithms are Qt-free (`seggui.core.editing.refine`, `.propagate`,
`seggui.core.uncertainty`); this object feeds them what the session holds
and hands the resulting `Change`s to the `EditController`, so repaint,
live figures, undo and autosave work as for the brush. The refine tool's
clicks and its cuts on a worker thread are `seggui.ui.refine_preview`'s.

Where the refine tool's probabilities come from: the prediction's labels
and its confidence PNG, which every run stores already
(`class_probability`: the model's probability of the class it chose, the
rest spread over the others). The alternatives were a stored per-class
probability file (12 classes x 960x720 bytes is 8 MB a frame before
compression, for every frame of every run) or re-running the model on the
picture at each refine (a model load and a forward pass, seconds on a
CPU, and impossible once the model is gone). tests/benchmarks/refine.py
scores the refine with the full softmax against this stand-in: see the
README for the clicks each needed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from seggui.core.editing import warp_labels
from seggui.core.frame_record import FrameStatus
from seggui.core.uncertainty import LOW_CONFIDENCE, Uncertainty, UncertaintyCache, rank
from seggui.ui.refine_preview import RefinePreview

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.editing import EditController

RANK_DELAY_MS = 1500


class AssistController(QObject):
    """Refine clicks of the picture being edited; propagation; the uncertainty ranking."""

    rankReady = Signal()  # emitted from the scoring thread; queued to the GUI thread
    classified = Signal(str, object, object)  # frame id, labels or None, error text (from the worker)

    def __init__(self, ctrl: EditController) -> None:
        super().__init__(ctrl)
        self.ctrl = ctrl
        self.session = ctrl.session
        self.refiner = RefinePreview(ctrl)  # the refine tool's clicks and its cuts on a worker thread
        self.cache = UncertaintyCache()
        self.scores: dict[str, Uncertainty] = {}
        self._scoring: threading.Thread | None = None
        self._jump = False
        self.rankReady.connect(self._ranked)
        self.classified.connect(self._apply_classified)
        self.classifying: str | None = None
        self._rank_timer = QTimer(self)
        self._rank_timer.setSingleShot(True)
        self._rank_timer.setInterval(RANK_DELAY_MS)
        self._rank_timer.timeout.connect(self.score_in_background)
        self.session.opened.connect(self._on_opened)
        self.session.framesChanged.connect(self._rank_timer.start)

    # ---------------------------------------------------------- propagation
    def propagate_previous(self) -> None:
        """The previous frame's labels moved along the optical flow onto this one (one undo step).

        Where the flow fails its forward-backward check, this frame's
        prediction is kept (when it has one). Refused with a message naming
        both frames at a cut in the video or between frames of other sizes.
        """
        s = self.session
        drive = s.drive_frames()
        ids = drive or s.frame_ids
        if s.current not in ids or ids.index(s.current) == 0:
            where = "it is the first frame of its drive" if drive else "it is the first picture"
            s.log.warning(f"there is no previous frame to carry labels from ({where})")
            return
        prev = ids[ids.index(s.current) - 1]
        labels, prev_image, image = s.mask("current", prev), s.image(prev), s.image()
        if labels is None or prev_image is None or image is None:
            s.log.warning(f"the previous picture ({prev}) has no mask to carry over")
            return
        editor = self.ctrl.ensure_editor()
        unl = self.ctrl.unlabelled_value()
        if editor is None or unl is None:
            return
        pred = s.mask("predicted")
        fallback = pred if pred is not None and pred.shape == editor.labels.shape else None
        try:
            warped = warp_labels(prev_image, image, labels, unl, fallback)
            change = editor.replace(warped)
        except ValueError as exc:
            s.log.error(f"cannot carry the labels of {prev} to {s.current}: {exc}")
            return
        self.ctrl._changed(change)
        s.log.info(f"{s.current}: labels of {prev} carried along the motion (Ctrl+Z takes them back)")

    # ------------------------------------------------------ pixel classifier
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
        if editor is None or unl is None or image is None or s.current is None:
            return
        if self.classifying is not None:
            s.log.info(f"the pixel classifier is still working on {self.classifying}")
            return
        labels, fid = editor.labels.copy(), s.current
        self.classifying = fid
        s.log.info(f"{fid}: training the pixel classifier on {int((labels != unl).sum()):,} painted pixels…")

        def work() -> None:
            from seggui.core.editing.pixel_classifier import classify_rest

            try:
                self.classified.emit(fid, classify_rest(image, labels, unl), "")
            except (ValueError, RuntimeError) as exc:
                self.classified.emit(fid, None, str(exc))

        threading.Thread(target=work, name="pixel-classifier", daemon=True).start()

    def _apply_classified(self, fid: str, labels: object, error: str) -> None:
        self.classifying = None
        s = self.session
        if not isinstance(labels, np.ndarray):
            s.log.warning(f"{fid}: no classification ({error})")
            return
        editor = self.ctrl.editor
        if editor is None or s.editor_frame != fid:
            s.log.warning(f"{fid}: the classification came back after you left the picture; "
                          "run it again there")
            return
        unl = self.ctrl.unlabelled_value()
        self.ctrl._changed(editor.replace(labels, only_over=None if unl is None else {unl}))
        s.log.info(f"{fid}: unlabelled pixels filled by the pixel classifier (Ctrl+Z takes them back)")

    # -------------------------------------------------------- uncertainty
    def _candidates(self) -> list[tuple[str, Path]]:
        """(frame, confidence path) of the frames with a prediction nobody corrected yet."""
        ws = self.session.workspace
        if ws is None:
            return []
        out = []
        for fid in self.session.frame_ids:
            rec = ws.frames.get(fid)
            if rec is not None and rec.status == FrameStatus.PREDICTED:
                out.append((fid, ws.mask_path(fid, "confidence")))
        return out

    def _on_opened(self) -> None:
        self.scores = {}
        self.cache = UncertaintyCache()
        self._rank_timer.start()

    def score_in_background(self) -> None:
        """Score the uncorrected frames' confidence maps on a worker thread (cached; cheap when done)."""
        if self._scoring is not None and self._scoring.is_alive():
            self._rank_timer.start()  # once this pass ends, look again
            return
        todo, cache = self._candidates(), self.cache

        def work() -> None:
            scores = {}
            for fid, path in todo:
                found = cache.score(path)
                if found is not None:
                    scores[fid] = found
            self._fresh = scores
            self.rankReady.emit()

        self._scoring = threading.Thread(target=work, name="uncertainty-scores", daemon=True)
        self._scoring.start()

    def _ranked(self) -> None:
        self.scores = getattr(self, "_fresh", {})
        if self._jump:
            self._jump = False
            self._go(quiet=False)

    def next_uncertain(self) -> None:
        """Go to the uncorrected frame whose prediction is least confident (U again: the next one)."""
        todo = self._candidates()
        if not todo:
            self.session.log.warning("no picture has an uncorrected prediction to rank: run a model first")
            return
        if all(self.cache.get(path) is not None for _f, path in todo):
            self.scores = {f: u for f, p in todo if (u := self.cache.get(p)) is not None}
            self._go(quiet=False)
            return
        self._jump = True
        self.session.log.info(f"ranking {len(todo)} predictions by confidence…")
        self.score_in_background()

    def _go(self, quiet: bool) -> None:
        s = self.session
        frames = s.workspace.frames if s.workspace is not None else {}
        order = [f for f in rank(self.scores) if f in frames and frames[f].status == FrameStatus.PREDICTED]
        if not order:
            if not quiet:
                s.log.warning("no uncorrected prediction left to go to")
            return
        i = order.index(s.current) + 1 if s.current in order else 0
        target = order[i % len(order)]
        u = self.scores[target]
        s.set_frame(target)
        s.log.info(f"{target}: {u.low_share:.0%} of its pixels under {LOW_CONFIDENCE:.0%} confidence "
                   f"(rank {order.index(target) + 1} of {len(order)})")
