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

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from seggui.core.editing import warp_labels
from seggui.ui.pixel_classifier_tool import PixelClassifierTool
from seggui.ui.refine_preview import RefinePreview
from seggui.ui.uncertainty_rank import UncertaintyRanker

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.editing import EditController


class AssistController(QObject):
    """Refine clicks of the picture being edited; propagation; the uncertainty ranking."""

    def __init__(self, ctrl: EditController) -> None:
        super().__init__(ctrl)
        self.ctrl = ctrl
        self.session = ctrl.session
        self.refiner = RefinePreview(ctrl)  # the refine tool's clicks and its cuts on a worker thread
        self.ranker = UncertaintyRanker(self.session, self)  # scores for U and the sorted picture list
        self.pixels = PixelClassifierTool(ctrl)  # the live pixel classifier: this picture, then the others

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
        """Edit ▸ Classify unlabelled pixels from my strokes: `seggui.ui.pixel_classifier_tool`."""
        self.pixels.classify_rest()

    # -------------------------------------------------------- uncertainty
    def next_uncertain(self) -> None:
        """Go ▸ Most uncertain picture (U): `seggui.ui.uncertainty_rank.UncertaintyRanker.next_uncertain`."""
        self.ranker.next_uncertain()
