"""The confusion matrices of a workspace's ground-truth frames, read on a worker thread.

The window shows the workspace-wide IoU while the analyst works: matrices it
already holds (frames viewed, the frame being edited) are merged at once, and
the rest are read from disk by a job (`seggui.core.jobs`) that yields each
frame's matrix with the version of the frame it was computed for, so the
window keeps it only if the frame has not changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable

from seggui.core.confusion import ConfusionMatrix
from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.mask_kind import MaskKind
from seggui.core.masks import read_mask
from seggui.core.workspace import Workspace

MatrixJob = Callable[[CancelToken], Job[tuple[ConfusionMatrix, int]]]


def matrix_job(ws: Workspace, todo: list[tuple[str, int]], total: ConfusionMatrix, known: int) -> MatrixJob:
    """A job factory: the matrices of the `todo` frames (frame id, version), merged into a copy of `total`.

    Each frame's current mask (the correction, else the prediction) is
    compared with its ground truth (read through the workspace's class map).
    Every step yields `Progress.data = {"frame", "version", "matrix"}` (the
    matrix None when a mask is missing, the error named when one is
    unreadable); the job returns (the total, the number of frames in it).
    `known` frames are already in `total`.
    """
    table = ws.classes
    paths = [(fid, version, [ws.mask_path(fid, MaskKind.CORRECTED), ws.mask_path(fid, MaskKind.PREDICTED)],
              ws.mask_path(fid, MaskKind.GROUND_TRUTH)) for fid, version in todo]

    def job(token: CancelToken) -> Job[tuple[ConfusionMatrix, int]]:
        acc, count = total.copy(), known
        for i, (fid, version, preds, gt_path) in enumerate(paths, 1):
            token.raise_if_cancelled()
            error, cm = None, None
            try:
                pred_path = next((p for p in preds if p.exists()), None)
                if pred_path is not None and gt_path.exists():
                    cm = ConfusionMatrix.for_table(table).update(
                        read_mask(pred_path, table), ws.read_truth_file(gt_path), pred_path)
                    acc.merge(cm)
                    count += 1
            except BadInputError as exc:
                error = str(exc)
            yield Progress(i, len(paths), fid, item=fid, error=error,
                           data={"frame": fid, "version": version, "matrix": cm})
        return acc, count

    return job
