"""Predict a workspace's frames into its predicted/ folder: pictures, then each drive.

The one prediction path: the CLI's re-predict, the demo, retraining and the
window all run `predict_workspace`; only the sink differs. The default sink
(`WorkspaceOutputs`) writes and records each frame on the pipeline's writer
thread, for callers that own the workspace on that job's thread. The window
plans on its GUI thread (`plan_prediction`, with the drive sources it has
open), runs the job on a worker with a sink that writes the PNGs there and
leaves the recording in seggui.json to the GUI thread, in batches
(`seggui.core.outputs.DeferredWorkspaceOutputs`).

Pictures go through one `PictureListSource` (any sizes); each drive (a video
or an image sequence) through its own source, decoded in order, only the
frames wanted (a frame range, frames not done yet). A picture that fails is
reported in `Progress.error` and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seggui.core.jobs import CancelToken, Job, Progress, map_progress
from seggui.core.media import PictureListSource, Source
from seggui.core.outputs import WorkspaceOutputs
from seggui.core.workspace import Workspace
from seggui.engine.pipeline import Sink, run_pipeline
from seggui.engine.predictor import Predictor


@dataclass
class DriveRun:
    """The frames of one drive to predict: its source and their indices in it (sorted)."""

    source: Source
    indices: list[int]
    owned: bool = True  # opened by the plan, so closed by it
    lost: list[str] = field(default_factory=list)  # frames of the workspace no longer in the source


@dataclass
class PredictionPlan:
    """What a run predicts, decided on the thread that owns the workspace (it reads the workspace).

    `skipped`: frames left out as already done. `written` and `failed`
    (frame id, reason) fill in as the run goes.
    """

    pictures: list[tuple[str, Path]] = field(default_factory=list)
    drives: list[DriveRun] = field(default_factory=list)
    skipped: int = 0
    written: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.pictures) + sum(len(d.indices) for d in self.drives)

    def close(self) -> None:
        """Close the drive sources the plan opened (not those lent to it)."""
        for d in self.drives:
            if d.owned:
                d.source.close()


def plan_prediction(ws: Workspace, frame_ids: Iterable[str] | None = None, *,
                    done: Callable[[str], bool] | None = None,
                    source_of: Callable[[str], Source | None] | None = None) -> PredictionPlan:
    """Split `frame_ids` (default: every frame) into pictures and drive runs, leaving out those `done`.

    `source_of(frame_id)` lends an open source of a frame's drive (the
    window's, kept open; None: unreadable, left out); without it each drive
    is opened here and closed by `PredictionPlan.close`.
    """
    ids = list(ws.frames if frame_ids is None else frame_ids)
    plan = PredictionPlan()
    if done is not None:
        kept = [fid for fid in ids if not done(fid)]
        plan.skipped, ids = len(ids) - len(kept), kept
    pictures, drives = ws.split_by_drive(ids)
    plan.pictures = [(fid, path) for fid in pictures if (path := ws.image_path(fid)) is not None]
    try:
        for _drive, fids in sorted(drives.items()):
            src = source_of(fids[0]) if source_of is not None else ws.open_drive(fids[0])
            if src is None:
                continue
            index = {src.name(i): i for i in range(len(src))}
            wanted = sorted(index[fid] for fid in fids if fid in index)
            lost = [fid for fid in fids if fid not in index]
            plan.drives.append(DriveRun(src, wanted, owned=source_of is None, lost=lost))
    except BaseException:
        plan.close()
        raise
    return plan


def predict_workspace(ws: Workspace, predictor: Predictor, frame_ids: Iterable[str] | None = None,
                      token: CancelToken | None = None, *, sink: Any = None,
                      plan: PredictionPlan | None = None) -> Job[int]:
    """Predict `frame_ids` (default: every frame not done by this model) of `ws`; returns the count written.

    `sink(index, frame_id, frame, prediction)` runs on the pipeline's writer
    thread (default `WorkspaceOutputs`: write and record); its `close()` is
    called at the end. `plan`, when given, was made beforehand with
    `plan_prediction` (then `frame_ids` is not read); otherwise frames the sink
    reports done are skipped, so a stopped run resumes.
    """
    sink = sink if sink is not None else WorkspaceOutputs(ws, predictor.card.ref)
    try:
        if plan is None:
            plan = plan_prediction(ws, frame_ids, done=lambda fid: sink.done(-1, fid))
        try:
            return (yield from _run_plan(plan, predictor, sink, token))
        finally:
            plan.close()
    finally:
        sink.close()


def _run_plan(plan: PredictionPlan, predictor: Predictor, sink: Sink, token: CancelToken | None) -> Job[int]:
    """Run the pipeline over the plan's pictures, then each drive; progress counts over the whole plan."""
    total = plan.total
    runs: list[tuple[Source, int, int | None, Callable[[int, str], bool] | None]] = []
    if plan.pictures:
        src = PictureListSource([path for _fid, path in plan.pictures], [fid for fid, _path in plan.pictures])
        runs.append((src, 0, None, None))
    for d in plan.drives:
        if d.indices:
            wanted = set(d.indices)
            runs.append((d.source, d.indices[0], d.indices[-1] + 1,
                         lambda i, _name, w=wanted: i not in w))  # type: ignore[misc]
    base = 0
    for source, start, stop, skip in runs:
        span = source.span(start, stop)
        unwanted = len(span) - (sum(1 for i in span if not skip(i, "")) if skip else len(span))

        def overall(p: Progress, base: int = base, unwanted: int = unwanted) -> Progress:
            return Progress(base + max(0, p.done - unwanted), total, p.message, item=p.item, error=p.error)

        result = yield from map_progress(
            run_pipeline(predictor, source, sink, start=start, stop=stop, skip=skip, token=token), overall)
        plan.written += len(result.written)
        plan.failed += [(source.name(i), why) for i, why in result.failed]
        base += len(result.written) + len(result.failed)
    return plan.written
