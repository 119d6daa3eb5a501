"""Overlay videos: a drive's frames with their masks blended in, a legend and the frame number.

Written in a separate pass after inference (from the masks on disk), so a
resumed run still gives one complete video, in frame order. `frames` limits
it to a range (the one the analyst ran); a frame without a mask says so on
the picture instead of passing for a clean one.

.mp4 files are H.264 (yuv420p, what browsers and slide software play),
through PyAV, whose wheel carries libx264; OpenCV's headless wheel cannot
encode H.264. Where PyAV is missing, mp4 falls back to OpenCV's MPEG-4 Part 2
(`mp4v`), and the result names the codec used, so nobody is surprised. .avi
and .mkv are Motion JPEG through OpenCV.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.masks import overlay
from seggui.core.media import Source

OPENCV_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
H264_SUFFIXES = (".mp4", ".m4v", ".mov")


@dataclass
class OverlayVideo:
    """What was written: the file, the codec, and the source frames it holds."""

    path: Path
    codec: str
    frames: int
    first: int
    last: int

    def describe(self) -> str:
        # counted from 1, as the timeline shows frames
        return f"{self.path.name}: frames {self.first + 1}–{self.last + 1} ({self.frames}), {self.codec}"


class _Writer:
    """One video file, H.264 through PyAV where it can, else OpenCV's codec for the suffix."""

    def __init__(self, path: Path, size: tuple[int, int], fps: float, out: Path) -> None:
        h, w = size
        self.size = (h + h % 2, w + w % 2)  # yuv420p wants even sides
        self._av: Any = None
        self._cv: Any = None
        suffix = out.suffix.lower()
        if suffix in H264_SUFFIXES:
            try:
                import av
            except ImportError:
                av = None  # type: ignore[assignment]
            if av is not None:
                self._av = av.open(str(path), mode="w", format="mp4")
                rate = Fraction(fps).limit_denominator(1001)
                self._stream = self._av.add_stream("libx264", rate=rate)
                self._stream.width, self._stream.height = self.size[1], self.size[0]
                self._stream.pix_fmt = "yuv420p"
                self._stream.options = {"crf": "20", "preset": "veryfast"}
                self.codec = "H.264 (libx264)"
                return
        fourcc = OPENCV_FOURCC[suffix]
        self._cv = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps,  # type: ignore[attr-defined]
                                   (self.size[1], self.size[0]))
        if not self._cv.isOpened():
            raise BadInputError(out, f"cannot open a {fourcc} video writer")
        self.codec = ("MPEG-4 Part 2 (mp4v; PyAV is not installed, so no H.264)" if fourcc == "mp4v"
                      else "Motion JPEG")

    def write(self, rgb: np.ndarray) -> None:
        h, w = self.size
        if rgb.shape[:2] != (h, w):
            rgb = cv2.copyMakeBorder(rgb, 0, h - rgb.shape[0], 0, w - rgb.shape[1], cv2.BORDER_REPLICATE)
        if self._av is not None:
            import av

            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            for packet in self._stream.encode(frame):
                self._av.mux(packet)
        else:
            self._cv.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        if self._av is not None:
            for packet in self._stream.encode():
                self._av.mux(packet)
            self._av.close()
        elif self._cv is not None:
            self._cv.release()


def draw_legend(rgb: np.ndarray, table: ClassTable, ids: Sequence[int]) -> np.ndarray:
    """A box of colour swatches and class names in the top-right corner (in place; returned)."""
    h, w = rgb.shape[:2]
    scale = max(0.42, min(0.6, h / 900))
    line = max(18, int(round(26 * scale)) + 6)  # swatches big enough to tell the colours apart
    names = [table.name_of(c) for c in ids]
    text_w = max((cv2.getTextSize(n, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] for n in names), default=0)
    box_w, box_h = text_w + line + 12, line * len(names) + 8
    x0, y0 = max(0, w - box_w - 6), 6
    region = rgb[y0:y0 + box_h, x0:x0 + box_w]
    region[...] = (region * 0.35).astype(rgb.dtype)
    for k, (cid, name) in enumerate(zip(ids, names, strict=True)):
        y = y0 + 4 + k * line
        color = tuple(int(v) for v in table.by_id[cid].color)
        cv2.rectangle(rgb, (x0 + 5, y + 2), (x0 + line - 2, y + line - 4), color, -1)
        cv2.rectangle(rgb, (x0 + 5, y + 2), (x0 + line - 2, y + line - 4), (255, 255, 255), 1)
        cv2.putText(rgb, name, (x0 + line + 3, y + line - 6), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return rgb


def draw_label(rgb: np.ndarray, text: str, warn: bool = False) -> np.ndarray:
    """The frame's name, number and time in the top-left corner (in place; returned)."""
    scale = max(0.4, min(0.7, rgb.shape[0] / 800))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    region = rgb[4:4 + th + base + 8, 4:4 + tw + 10]
    region[...] = (region * 0.35).astype(rgb.dtype)
    cv2.putText(rgb, text, (9, 8 + th), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 170, 60) if warn else (255, 255, 255), 1, cv2.LINE_AA)
    return rgb


def write_overlay_video(
    source: Source,
    mask_of: Callable[[int], np.ndarray | None],
    table: ClassTable,
    out: str | Path,
    fps: float | None = None,
    alpha: float = 0.5,
    token: CancelToken | None = None,
    frames: range | None = None,
    legend: bool = True,
) -> Job[OverlayVideo]:
    """Write the frames `frames` of `source` (default all) with their masks blended in.

    Each frame carries its name, number and time, and "no mask" where
    `mask_of(i)` has none; `legend` adds the scored classes' colours. Written
    to a partial file and moved into place at the end: a cancelled or failed
    export leaves nothing half written.
    """
    out = Path(out)
    if out.suffix.lower() not in OPENCV_FOURCC:
        raise BadInputError(out, f"overlay video must be one of {', '.join(OPENCV_FOURCC)}")
    span = source.span() if frames is None else frames
    if len(span) == 0:
        raise BadInputError(out, "no frames to write (the range is empty)")
    rate = fps or source.fps or 10.0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    writer = _Writer(tmp, source.frame_size, rate, out)
    ids = table.scored_ids
    try:
        for k, (i, frame) in enumerate(source.iter_frames(span.start, span.stop), 1):
            if token is not None:
                token.raise_if_cancelled()
            mask = mask_of(i)
            shown = overlay(frame, mask, table, alpha) if mask is not None else frame.copy()
            if legend:
                draw_legend(shown, table, ids)
            when = source.time_of(i) if source.fps else i / rate
            draw_label(shown, f"{source.name(i)}  frame {i + 1}/{len(source)}  {when or 0:.2f} s"
                       + ("  no mask" if mask is None else ""), warn=mask is None)
            writer.write(shown)
            yield Progress(k, len(span), f"overlay frame {i + 1} ({k}/{len(span)})")
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    writer.close()
    tmp.replace(out)
    return OverlayVideo(out, writer.codec, len(span), span.start, span.stop - 1)
