"""The model's uncertainty per frame in the window: Go ▸ Most uncertain picture (U) and the sorted list.

Scores come from each prediction's confidence PNG (`seggui.core.uncertainty`),
read on a worker thread: a workspace of thousands of frames means thousands
of files, which the GUI thread never waits for. Every frame with a
prediction is scored (corrected and reviewed ones too, so the picture list
sorted by uncertainty shows them where they rank); U goes only to the
uncorrected ones. Scores are cached by file size and time, so a pass after a
run reads only the new confidence files. A pass is due shortly after any
frame or mask change (a run, a re-run, a correction), coalesced by a timer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from seggui.core.frame_record import FrameStatus
from seggui.core.uncertainty import LOW_CONFIDENCE, Uncertainty, UncertaintyCache, rank
from seggui.ui.session import Session

RANK_DELAY_MS = 1500


def ordered(frame_ids: Iterable[str], scores: dict[str, Uncertainty]) -> list[str]:
    """The frames most uncertain first; those without a score after them, in their own order."""
    ids = list(frame_ids)
    known = set(ids)
    first = [f for f in rank(scores) if f in known]
    scored = set(first)
    return first + [f for f in ids if f not in scored]


def describe(u: Uncertainty) -> str:
    """The score as a row's tooltip says it."""
    return (f"{u.low_share:.0%} of its pixels under {LOW_CONFIDENCE:.0%} confidence "
            f"(mean confidence {u.mean:.0%})")


class UncertaintyRanker(QObject):
    """Scores of the workspace's predictions, kept fresh in the background; see the module docstring."""

    ranked = Signal()  # on the GUI thread: `scores` was refreshed
    _scored = Signal(object, int)  # scores, generation (emitted from the worker; queued to the GUI thread)

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.cache = UncertaintyCache()
        self.scores: dict[str, Uncertainty] = {}
        self._gen = 0
        self._scoring: threading.Thread | None = None
        self._jump = False
        self._scored.connect(self._on_scored)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RANK_DELAY_MS)
        self._timer.timeout.connect(self.score_in_background)
        session.opened.connect(self._on_opened)
        session.framesChanged.connect(self._timer.start)
        session.masksChanged.connect(lambda _f: self._timer.start())  # a re-run keeps the status

    @property
    def pending(self) -> bool:
        """A pass is due or running (tests wait on it)."""
        return self._timer.isActive() or (self._scoring is not None and self._scoring.is_alive())

    def candidates(self, uncorrected_only: bool = False) -> list[tuple[str, Path]]:
        """(frame, confidence path) of the frames with a prediction (only the uncorrected ones if asked)."""
        ws = self.session.workspace
        if ws is None:
            return []
        out = []
        for fid in self.session.frame_ids:
            rec = ws.frames.get(fid)
            if rec is None or rec.status == FrameStatus.NONE:
                continue
            if uncorrected_only and rec.status != FrameStatus.PREDICTED:
                continue
            out.append((fid, ws.mask_path(fid, "confidence")))
        return out

    def _on_opened(self) -> None:
        self._gen += 1  # a pass of the previous workspace still running is dropped
        self.scores = {}
        self.cache = UncertaintyCache()
        self._timer.start()
        self.ranked.emit()

    def score_in_background(self) -> None:
        """Score the predictions' confidence maps on a worker thread (cached; cheap when done)."""
        if self._scoring is not None and self._scoring.is_alive():
            self._timer.start()  # once this pass ends, look again
            return
        todo, cache, gen = self.candidates(), self.cache, self._gen

        def work() -> None:
            scores = {}
            for fid, path in todo:
                found = cache.score(path)
                if found is not None:
                    scores[fid] = found
            self._scored.emit(scores, gen)

        self._scoring = threading.Thread(target=work, name="uncertainty-scores", daemon=True)
        self._scoring.start()

    def _on_scored(self, scores: dict[str, Uncertainty], gen: int) -> None:
        if gen != self._gen:
            return
        changed, self.scores = scores != self.scores, scores
        if changed:  # a pass after a stroke's autosave mostly finds nothing new: no list work then
            self.ranked.emit()
        if self._jump:
            self._jump = False
            self._go()

    def next_uncertain(self) -> None:
        """Go to the uncorrected frame whose prediction is least confident (U again: the next one)."""
        todo = self.candidates(uncorrected_only=True)
        if not todo:
            self.session.log.warning("no picture has an uncorrected prediction to rank: run a model first")
            return
        if all(self.cache.get(path) is not None for _f, path in todo):
            fresh = {f: u for f, p in todo if (u := self.cache.get(p)) is not None}
            self.scores.update(fresh)
            self._go()
            return
        self._jump = True
        self.session.log.info(f"ranking {len(todo)} predictions by confidence…")
        self.score_in_background()

    def _go(self) -> None:
        s = self.session
        frames = s.workspace.frames if s.workspace is not None else {}
        order = [f for f in rank(self.scores) if f in frames and frames[f].status == FrameStatus.PREDICTED]
        if not order:
            s.log.warning("no uncorrected prediction left to go to")
            return
        i = order.index(s.current) + 1 if s.current in order else 0
        target = order[i % len(order)]
        u = self.scores[target]
        s.set_frame(target)
        s.log.info(f"{target}: {u.low_share:.0%} of its pixels under {LOW_CONFIDENCE:.0%} confidence "
                   f"(rank {order.index(target) + 1} of {len(order)})")
