"""The open media of a workspace's drives: one source per video or image sequence, a bounded frame cache each.

A drive of thousands of frames must browse in flat memory: frames are
decoded through one open `Source` per drive and kept in a `FrameCache`
bounded in bytes. Sources are opened on first use (or handed over already
open by `seggui.core.opening`) and closed when the workspace changes. The
frame rate the analyst set for a drive (an image sequence carries none) is
kept in the workspace settings (`drive_fps`, by drive) and applied here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.media import FrameCache, Source
from seggui.core.workspace import Workspace

VIDEO_CACHE_BYTES = 192 << 20  # decoded frames kept per open video (about 60 frames of 1080p)
FPS_KEY = "drive_fps"


class DriveMedia:
    """Frames of drive frames, read through one open source per drive (see the module docstring).

    `report(key, exc)` says a problem once per key; `warn(text)` passes on a
    source's warning (a variable frame rate, a codec quirk).
    """

    def __init__(self, report: Callable[[str, BadInputError], None], warn: Callable[[str], None]) -> None:
        self.report = report
        self.warn = warn
        self.workspace: Workspace | None = None
        self._caches: dict[str, FrameCache] = {}  # by FrameRecord.drive

    def reset(self, ws: Workspace | None, opened: dict[str, Source] | None = None) -> None:
        """Close what is open and serve `ws`, starting with sources already open (by drive)."""
        self.close()
        self.workspace = ws
        for key, src in (opened or {}).items():
            self._caches[key] = FrameCache(self._own_fps(key, src), VIDEO_CACHE_BYTES)

    def close(self) -> None:
        """Release the decoders and cached frames of the open drives."""
        for cache in self._caches.values():
            cache.clear()
            cache.source.close()
        self._caches.clear()

    def cache(self, fid: str) -> FrameCache | None:
        """The frame cache over the drive of `fid` (opened on first use); None for a picture, a bad drive."""
        ws = self.workspace
        if ws is None or fid not in ws.frames:
            return None
        key = ws.frames[fid].drive
        if key is None:
            return None
        if key not in self._caches:
            try:
                src = ws.open_drive(fid)
            except BadInputError as exc:
                self.report(key, exc)
                return None
            if src.warning:
                self.warn(src.warning)
            self._caches[key] = FrameCache(self._own_fps(key, src), VIDEO_CACHE_BYTES)
        return self._caches[key]

    def source(self, fid: str) -> Source | None:
        cache = self.cache(fid)
        return cache.source if cache is not None else None

    def frame(self, fid: str) -> np.ndarray | None:
        """The decoded picture of a drive frame; None (said once) when it cannot be read."""
        cache = self.cache(fid)
        if cache is None or self.workspace is None:
            return None
        try:
            return cache.get(self.workspace.frames[fid].index or 0)
        except BadInputError as exc:
            self.report(f"{fid}/image", exc)
        except IndexError as exc:
            self.report(f"{fid}/image", BadInputError(cache.source.path, str(exc)))
        return None

    def set_fps(self, fid: str, fps: float) -> None:
        """Set the frame rate of the drive of `fid`; kept in the workspace settings (saved, told)."""
        ws = self.workspace
        if ws is None:
            raise BadInputError(None, "open a picture, a folder or a workspace first")
        key = ws.frames[fid].drive if fid in ws.frames else None
        if key is None:
            raise BadInputError(ws.root, "a frame rate belongs to a drive: go to a frame of one first")
        if not fps > 0:
            raise BadInputError(ws.root, f"a frame rate must be positive, not {fps}")
        rates = dict(ws.settings.get(FPS_KEY) or {})
        rates[key] = float(fps)
        ws.set_setting(FPS_KEY, rates)
        src = self.source(fid)
        if src is not None:
            src.fps = float(fps)

    def _own_fps(self, key: str, src: Source) -> Source:
        """`src` with the rate the analyst set for its drive, if any."""
        fps = (self.workspace.settings.get(FPS_KEY) or {}).get(key) if self.workspace else None
        if isinstance(fps, int | float) and fps > 0:
            src.fps = float(fps)
        return src
