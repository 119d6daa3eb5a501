"""Carry one frame's labels N frames along its drive, forward or back (Edit ▸ Propagate along the drive).

Three steps, so the slow part runs off the workspace owner's thread:

1. `plan_propagation` (owner's thread): the N frames in drive order, which
   of them are the analyst's (corrected or reviewed, or being edited: kept
   unless the analyst asks to replace them), and where the drive ends.
2. `propagate_job` (any thread; it reads pictures and masks through a
   `FrameReader` made on the owner's thread, and encodes each carried mask
   into a staged file beside its place, never touching the workspace's
   own files or state): each frame's labels are
   carried from the frame before it in the chain (`propagate.carry`, the
   model's prediction kept where the flow fails its forward-backward check).
   At a kept frame the chain goes on from the analyst's own correction,
   a better start than our copy (a keyframe, in a tracker's terms). It stops
   and says where at a cut in the video, a frame of another size or one it
   cannot read.
3. `record_step` (owner's thread): the staged mask is renamed into place
   as the frame's correction with the status "propagated" (a rename: the
   encoding, 50 ms for a 1920x1080 mask, stays off the window's thread),
   unless the frame became the analyst's meanwhile (the staged file goes).

A propagated frame is shown, measured and reported like a corrected one
(its mask is the corrected kind) but is left out of retraining until the
analyst reviews it (Mark reviewed) or edits it (then it is corrected).
Frames still marked propagated are replaced by a later propagation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seggui.core.editing.label_map import unlabelled_value
from seggui.core.editing.propagate import carry
from seggui.core.errors import BadInputError
from seggui.core.frame_record import CORRECTION_STATUSES, FrameStatus
from seggui.core.images import read_image
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.mask_kind import MaskKind
from seggui.core.masks import read_mask, write_mask
from seggui.core.media.base import Source
from seggui.core.workspace import Workspace

ANALYST = (FrameStatus.CORRECTED, FrameStatus.REVIEWED)
SOURCES = CORRECTION_STATUSES


@dataclass
class PropagationPlan:
    """What a propagation will visit: `targets` in chain order, `kept` the analyst's frames among them."""

    start: str
    targets: list[str]
    kept: set[str]
    direction: int  # +1: the next frames, -1: the previous ones
    replace_analyst: bool
    end_note: str = ""  # "the drive ends ..." when fewer frames were left than asked for


@dataclass
class Step:
    """One frame of the chain: its carried labels (None for a kept frame) and how much the flow doubted."""

    frame: str
    labels: np.ndarray | None
    unreliable: float
    staged: Path | None = None  # the carried mask, encoded and written beside its place

    def discard(self) -> None:
        """Remove the staged file of a step that is not recorded."""
        if self.staged is not None:
            self.staged.unlink(missing_ok=True)


@dataclass
class PropagationOutcome:
    """What a propagation job did: frames carried, frames kept as the analyst's, why it stopped early."""

    carried: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    stopped: str = ""  # the reason, naming the frames, when it ended before its last target
    end_note: str = ""

    def summary(self, start: str) -> str:
        """One line for the analyst: how many frames, which were left alone, where and why it stopped."""
        n = len(self.carried)
        parts = [f"labels of {start} carried to {n} frame{'s' if n != 1 else ''}"
                 + (f" ({self.carried[0]} … {self.carried[-1]}), marked propagated" if n else "")]
        if self.kept:
            parts.append(f"{len(self.kept)} corrected or reviewed frame{'s' if len(self.kept) != 1 else ''} "
                         f"left as they were (first: {self.kept[0]}); the chain went on from them")
        if self.stopped:
            parts.append(f"stopped: {self.stopped}")
        elif self.end_note:
            parts.append(self.end_note)
        return "; ".join(parts)


def plan_propagation(ws: Workspace, drive: list[str], start: str, count: int, direction: int = 1,
                     replace_analyst: bool = False, busy: Iterable[str] = ()) -> PropagationPlan:
    """The next (`direction` +1) or previous (-1) `count` frames of `drive` after `start`.

    `busy`: frames to keep whatever their status (the one being edited, a
    correction that could not be saved). BadInputError with the way out
    when there is nothing to carry or nowhere to carry it.
    """
    if direction not in (1, -1):
        raise ValueError(f"direction must be 1 or -1, not {direction!r}")
    if start not in drive:
        raise BadInputError(ws.root, f"{start} is not a frame of a drive: propagation needs a video "
                            "or an image sequence")
    if count < 1:
        raise BadInputError(ws.root, f"propagate to at least one frame, not {count}")
    status = ws.frames[start].status
    if status not in SOURCES:
        has = "no mask yet" if status == FrameStatus.NONE else "only the model's prediction"
        raise BadInputError(ws.root, f"{start} has no correction to carry ({has}): correct it first")
    i = drive.index(start)
    rest = drive[i + 1:] if direction > 0 else drive[:i][::-1]
    if not rest:
        raise BadInputError(ws.root, f"{start} is the {'last' if direction > 0 else 'first'} frame of its "
                            "drive: there is no frame to carry its labels to in that direction")
    targets = rest[:count]
    note = ""
    if len(targets) < count:
        note = (f"the drive {'ends' if direction > 0 else 'begins'} at {targets[-1]}: "
                f"{len(targets)} of the {count} frames asked for")
    busy = set(busy)
    kept = {f for f in targets if f in busy or (not replace_analyst and ws.frames[f].status in ANALYST)}
    return PropagationPlan(start, targets, kept, direction, replace_analyst, note)


class FrameReader:
    """Pictures and masks of a drive's frames, read from files only (safe on a worker thread).

    Made on the workspace owner's thread: it copies the paths and the class
    table it needs. A video is opened on first use by the thread that reads.
    """

    def __init__(self, ws: Workspace, frames: Iterable[str]) -> None:
        self.table = ws.classes
        self._where: dict[str, tuple[Path | None, int]] = {}
        self._masks: dict[tuple[str, str], Path] = {}
        self._video: tuple[Path, str | None] | None = None
        self._staged: dict[str, Path] = {}
        for fid in frames:
            rec = ws.frames[fid]
            self._where[fid] = (ws.image_path(fid), rec.index or 0)
            if rec.image is None and self._video is None and rec.source is not None:
                self._video = (ws.source_path(fid) or Path(rec.source), rec.pattern)
            for kind in (MaskKind.PREDICTED, MaskKind.CORRECTED):
                self._masks[(fid, kind)] = ws.mask_path(fid, kind)
            self._staged[fid] = ws.mask_path(fid, MaskKind.CORRECTED).with_name(f".{fid}.propagated.png")
        self._source: Source | None = None

    def image(self, fid: str) -> np.ndarray:
        """The frame's picture, RGB; BadInputError naming the file when it cannot be read."""
        path, index = self._where[fid]
        if path is not None:
            return read_image(path)
        if self._source is None:
            from seggui.core.media import open_source

            assert self._video is not None
            self._source = open_source(self._video[0], pattern=self._video[1])
        frame: np.ndarray = self._source.read(index)
        return frame

    def mask(self, fid: str, kind: str) -> np.ndarray | None:
        path = self._masks[(fid, kind)]
        return read_mask(path, self.table) if path.exists() else None

    def stage(self, fid: str, labels: np.ndarray) -> Path:
        """Encode a carried mask into its staged file (atomic); `record_step` renames it into place."""
        return write_mask(self._staged[fid], labels)

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None


def _size(a: np.ndarray) -> str:
    return f"{a.shape[1]}x{a.shape[0]}"


def propagate_job(plan: PropagationPlan, reader: FrameReader, labels: np.ndarray, unlabelled: int,
                  token: CancelToken | None = None) -> Job[PropagationOutcome]:
    """Carry `labels` (the start frame's) along `plan.targets`; each `Progress.data["step"]` is a `Step`.

    Stages each carried mask as a file; `record_step` puts it in place (or
    `Step.discard` removes it). Closes the reader at the end.
    """
    out = PropagationOutcome(end_note=plan.end_note)
    total = len(plan.targets)
    try:
        prev_id, prev_image = plan.start, reader.image(plan.start)
        if labels.shape != prev_image.shape[:2]:
            raise BadInputError(None, f"the labels of {plan.start} are {_size(labels)} but its picture "
                                f"{_size(prev_image)}")
        for n, fid in enumerate(plan.targets, 1):
            if token is not None:
                token.raise_if_cancelled()
            try:
                image = reader.image(fid)
            except (BadInputError, IndexError) as exc:
                out.stopped = f"{fid} cannot be read ({exc}); nothing carried from there on"
                break
            if image.shape[:2] != prev_image.shape[:2]:
                out.stopped = (f"{fid} is {_size(image)} but {prev_id} {_size(prev_image)}: frames of "
                               "another size cannot be matched pixel to pixel; nothing carried from "
                               f"{fid} on")
                break
            pred = reader.mask(fid, MaskKind.PREDICTED)
            fallback = pred if pred is not None and pred.shape == image.shape[:2] else None
            try:
                carried = carry(prev_image, image, labels, unlabelled, fallback)
            except ValueError as exc:
                out.stopped = f"between {prev_id} and {fid}: {exc}; nothing carried from {fid} on"
                break
            own = reader.mask(fid, MaskKind.CORRECTED) if fid in plan.kept else None
            if fid in plan.kept and own is not None and own.shape == image.shape[:2]:
                labels, step = own, Step(fid, None, carried.unreliable)
                out.kept.append(fid)
            elif fid in plan.kept:  # the analyst's frame without a usable file: left alone, chain goes on
                labels, step = carried.labels, Step(fid, None, carried.unreliable)
                out.kept.append(fid)
            else:
                try:
                    staged = reader.stage(fid, carried.labels)
                except (BadInputError, OSError) as exc:
                    out.stopped = f"the mask carried to {fid} cannot be written ({exc}); stopped there"
                    break
                labels, step = carried.labels, Step(fid, carried.labels, carried.unreliable, staged)
                out.carried.append(fid)
            prev_id, prev_image = fid, image
            yield Progress(n, total, f"{fid}: {'kept (yours)' if step.labels is None else 'carried'}",
                           item=fid, data={"step": step})
    finally:
        reader.close()
    return out


def record_step(ws: Workspace, plan: PropagationPlan, step: Step, busy: Iterable[str] = ()) -> bool:
    """Write a carried step as the frame's propagated correction; False when it must stay as it is.

    Checked again here, on the owner's thread: the analyst may have
    corrected or reviewed the frame, or opened it to edit, since the plan.
    """
    if step.labels is None:
        return False
    if step.frame in set(busy) or (not plan.replace_analyst and ws.frames[step.frame].status in ANALYST):
        step.discard()
        return False
    if step.staged is not None:
        ws.record_propagated(step.frame, step.staged)
    else:
        ws.write_propagated(step.frame, step.labels)
    return True


def propagate(ws: Workspace, drive: list[str], start: str, count: int, direction: int = 1,
              replace_analyst: bool = False, token: CancelToken | None = None) -> Job[PropagationOutcome]:
    """Plan, carry and record in one job on one thread (the headless path: tests, benchmarks)."""
    plan = plan_propagation(ws, drive, start, count, direction, replace_analyst)
    labels = ws.current_mask(start)
    if labels is None:
        raise BadInputError(ws.mask_path(start, MaskKind.CORRECTED), f"{start} has no mask to carry")
    job = propagate_job(plan, FrameReader(ws, [start, *plan.targets]), labels, unlabelled_value(ws.classes),
                        token)
    written = []
    while True:
        try:
            p = next(job)
        except StopIteration as stop:
            outcome: PropagationOutcome = stop.value
            break
        step = p.data.get("step")
        if isinstance(step, Step) and record_step(ws, plan, step):
            written.append(step.frame)
        yield p
    outcome.carried = written
    return outcome
