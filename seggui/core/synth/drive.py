"""Drives: overlapping frames flown along a street over one larger scene, and their video.

The world picture is painted once (without sensor effects); each frame is a
crop of it along a straight path at constant speed, so consecutive frames
share content and differ by a known shift, and each crop gets its own sensor
blur and noise as a real camera's frames would.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from seggui.core.atomic import plain_file_mode
from seggui.core.errors import BadInputError
from seggui.core.synth.labels import TABLE_NAME, parking_area_m2
from seggui.core.synth.plan import plan_layout
from seggui.core.synth.render import paint, sensor
from seggui.core.synth.scene import CLASS_NAMES, DEFAULT_GSD, Scene, check_size, describe, streams

MAX_WORLD_PIXELS = 36_000_000
FOURCC = {".mp4": "mp4v", ".avi": "MJPG"}


@dataclass
class Drive:
    """Frames of a fly-over, each a `Scene` cut from `world` at `offsets[i]` = (x, y)."""

    frames: list[Scene]
    offsets: list[tuple[int, int]]
    world: Scene
    heading_deg: float
    speed_px: float


def render_drive(seed: int, n_frames: int, frame_size: tuple[int, int] = (360, 480),
                 gsd: float = DEFAULT_GSD, speed_px: float = 8.0,
                 heading_deg: float | None = None) -> Drive:
    """Fly `n_frames` frames of `frame_size` = (height, width) along a street at `speed_px` per frame.

    The heading (degrees, x right, y down) is random unless given; the street
    below runs along it. Every frame's `parking_area_m2` comes from its own mask.
    """
    fh, fw = check_size(frame_size, gsd)
    if not isinstance(n_frames, int | np.integer) or n_frames < 1:
        raise BadInputError(None, f"a drive needs at least one frame, got {n_frames!r}")
    if not 0 <= speed_px <= max(fh, fw):
        raise BadInputError(None, f"speed {speed_px} px per frame must lie in 0..{max(fh, fw)}")
    layout_rng, paint_rng, path_rng, frame_rng = streams(seed, 4, key=1)
    heading = np.radians(heading_deg) if heading_deg is not None else path_rng.uniform(0, 2 * np.pi)
    dx, dy = speed_px * np.cos(heading), speed_px * np.sin(heading)
    margin = 4
    ww = int(np.ceil(fw + abs(dx) * (n_frames - 1))) + 2 * margin
    wh = int(np.ceil(fh + abs(dy) * (n_frames - 1))) + 2 * margin
    if ww * wh > MAX_WORLD_PIXELS:
        raise BadInputError(None, f"drive too long: its world picture would be {ww}x{wh} pixels")
    x0 = margin if dx >= 0 else ww - fw - margin
    y0 = margin if dy >= 0 else wh - fh - margin
    lay = plan_layout(layout_rng, ww * gsd, wh * gsd, heading=heading)
    image, mask = paint(lay, wh, ww, gsd, paint_rng, finish=False)
    world = Scene(image, mask, float(gsd), int(seed), parking_area_m2(mask, gsd), describe(lay, mask))
    frames, offsets = [], []
    for k in range(n_frames):
        x, y = int(round(x0 + k * dx)), int(round(y0 + k * dy))
        crop_m = np.ascontiguousarray(mask[y:y + fh, x:x + fw])
        crop = sensor(image[y:y + fh, x:x + fw].astype(np.float32), frame_rng)
        crop_i = np.clip(crop + 0.5, 0, 255).astype(np.uint8)
        counts = np.bincount(crop_m.ravel(), minlength=len(CLASS_NAMES))[: len(CLASS_NAMES)]
        meta = {"frame": k, "offset_xy": [x, y], "drive_seed": int(seed), "classes": TABLE_NAME,
                "class_share": {n: round(float(c) / crop_m.size, 5)
                                for n, c in zip(CLASS_NAMES, counts, strict=True)}}
        frames.append(Scene(crop_i, crop_m, float(gsd), int(seed), parking_area_m2(crop_m, gsd), meta))
        offsets.append((x, y))
    return Drive(frames, offsets, world, round(float(np.degrees(heading)) % 360, 3), float(speed_px))


def write_drive_video(path: str | Path, frames: Iterable[np.ndarray | Scene], fps: float = 10.0) -> Path:
    """Write RGB frames (or Scenes) as a video: mp4v in .mp4, MJPG in .avi; atomic.

    The file appears only once it is complete, so a reader never opens half a video.
    """
    path = Path(path)
    fourcc = FOURCC.get(path.suffix.lower())
    if fourcc is None:
        raise BadInputError(path, f"video suffix must be one of {', '.join(FOURCC)}")
    if not fps > 0:
        raise BadInputError(path, f"fps must be positive, got {fps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, plain_file_mode())  # mkstemp's 0600 would make the video private to this account
    writer = None
    size = None
    count = 0
    try:
        for frame in frames:
            rgb = frame.image if isinstance(frame, Scene) else np.asarray(frame)
            if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
                raise BadInputError(path, f"frame {count} is not an RGB uint8 picture ({rgb.shape})")
            if writer is None:
                size = (rgb.shape[1], rgb.shape[0])
                writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*fourcc),  # type: ignore[attr-defined]
                                         float(fps), size)
                if not writer.isOpened():
                    raise BadInputError(path, f"OpenCV cannot write {fourcc} video here")
            elif (rgb.shape[1], rgb.shape[0]) != size:
                raise BadInputError(path, f"frame {count} is {rgb.shape[1]}x{rgb.shape[0]}, "
                                          f"the video is {size[0]}x{size[1]}")  # type: ignore[index]
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            count += 1
        if writer is None:
            raise BadInputError(path, "no frames to write")
        writer.release()
        writer = None
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.release()
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
