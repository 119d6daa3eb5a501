"""Overlay videos: a source's frames with their masks blended in, as mp4 or avi.

Written in a separate pass after inference (from the masks on disk), so a
resumed run still gives one complete video, in frame order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.masks import overlay
from seggui.core.media import Source

FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


def write_overlay_video(
    source: Source,
    mask_of: Callable[[int], np.ndarray | None],
    table: ClassTable,
    out: str | Path,
    fps: float | None = None,
    alpha: float = 0.5,
    token: CancelToken | None = None,
) -> Job[Path]:
    """Write every frame of `source` with its mask (where `mask_of(i)` has one) blended in."""
    out = Path(out)
    fourcc = FOURCC.get(out.suffix.lower())
    if fourcc is None:
        raise BadInputError(out, f"overlay video must be one of {', '.join(FOURCC)}")
    h, w = source.frame_size
    rate = fps or source.fps or 10.0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), rate, (w, h))  # type: ignore[attr-defined]
    if not writer.isOpened():
        raise BadInputError(out, f"cannot open a {fourcc} video writer")
    n = len(source)
    try:
        for i, frame in source.iter_frames():
            if token is not None:
                token.raise_if_cancelled()
            mask = mask_of(i)
            shown = overlay(frame, mask, table, alpha) if mask is not None else frame
            writer.write(cv2.cvtColor(shown, cv2.COLOR_RGB2BGR))
            yield Progress(i + 1, n, f"overlay frame {i + 1}/{n}")
    except BaseException:
        writer.release()
        tmp.unlink(missing_ok=True)
        raise
    writer.release()
    tmp.replace(out)
    return out
