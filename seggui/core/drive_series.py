"""Per-frame figures of a drive (area of one class, IoU where ground truth exists), over time.

The window plots these under the timeline; they come from the masks on disk
through `seggui.core.report.measure_frame`, the same code as the area report,
so a point of the plot and a row of the report's CSV always agree. Frames
are measured one by one in a job, so a long drive is measured in the
background and a changed frame is measured again on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.report import frame_gsd, measure_frame
from seggui.core.workspace import Workspace


@dataclass(frozen=True)
class FramePoint:
    """One frame's point: its index in the drive, the class area and the class IoU (NaN: no GT)."""

    frame: str
    index: int
    value: float  # m² when the frame has a GSD, else pixels
    in_m2: bool
    iou: float


def measure_point(ws: Workspace, frame_id: str, class_id: int) -> FramePoint | None:
    """The point of one frame from its current mask (corrected, else predicted); None without one."""
    kind = "corrected" if ws.mask_path(frame_id, "corrected").exists() else "predicted"
    mask = ws.read_mask(frame_id, kind)
    if mask is None:
        return None
    gsd = frame_gsd(ws, frame_id, None, mask.shape)
    rep = measure_frame(ws, frame_id, mask, kind, gsd, class_id)
    assert rep.parking is not None  # measure_frame fills it for the class asked for
    in_m2 = rep.parking["m2"] is not None
    value = float(rep.parking["m2"] if in_m2 else rep.parking["pixels"])
    iou = math.nan
    if rep.gt is not None and rep.gt.get("parking_iou") is not None:
        iou = float(rep.gt["parking_iou"])
    index = ws.frames[frame_id].index
    return FramePoint(frame_id, int(index if index is not None else 0), value, in_m2, iou)


def measure_series(ws: Workspace, frame_ids: Sequence[str], class_id: int,
                   token: CancelToken | None = None) -> Job[list[FramePoint]]:
    """Measure frames one by one; each point also travels in `Progress.data["point"]`.

    Frames without a mask are passed over; an unreadable mask is reported in
    `Progress.error` and the rest go on.
    """
    points: list[FramePoint] = []
    for i, fid in enumerate(frame_ids, 1):
        if token is not None:
            token.raise_if_cancelled()
        error, point = None, None
        try:
            point = measure_point(ws, fid, class_id)
        except BadInputError as exc:
            error = str(exc)
        if point is not None:
            points.append(point)
        yield Progress(i, len(frame_ids), fid, item=fid, error=error, data={"frame": fid, "point": point})
    return points
