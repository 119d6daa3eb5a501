"""Predict a workspace's frames into its predicted/ folder: pictures, then each drive.

Pictures go through one `PictureListSource` (any sizes); each drive (a video
or an image sequence) through its own source, decoded in order. Frames the same model already predicted
are skipped, so a stopped run resumes. Used by the demo and by retraining's
re-predict after a promotion; the window has its own sink that applies
results on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterable

from seggui.core.jobs import CancelToken, Job
from seggui.core.media import PictureListSource
from seggui.core.outputs import WorkspaceOutputs
from seggui.core.workspace import Workspace
from seggui.engine.pipeline import run_pipeline
from seggui.engine.predictor import Predictor


def predict_workspace(ws: Workspace, predictor: Predictor, frame_ids: Iterable[str] | None = None,
                      token: CancelToken | None = None) -> Job[int]:
    """Predict `frame_ids` (default: every frame) of `ws`; returns how many were written."""
    wanted = set(ws.frames if frame_ids is None else frame_ids)
    sink = WorkspaceOutputs(ws, predictor.card.ref)

    def skip(index: int, fid: str) -> bool:
        return fid not in wanted or sink.done(index, fid)

    written = 0
    try:
        pictures, drives = ws.split_by_drive(fid for fid in ws.frames if fid in wanted)
        if pictures:
            src = PictureListSource([ws.image_path(fid) for fid in pictures], pictures)  # type: ignore[misc]
            result = yield from run_pipeline(predictor, src, sink, skip=skip, token=token)
            written += len(result.written)
        for _drive, fids in sorted(drives.items()):
            with ws.open_drive(fids[0]) as src:
                result = yield from run_pipeline(predictor, src, sink, skip=skip, token=token)
                written += len(result.written)
    finally:
        sink.close()
    return written
