"""Small pictures for the picture list, made cheaply and kept on disk.

An analyst scrolling 300 aerial pictures or a 2,000-frame drive recognises a
frame by its look faster than by its number, but decoding a 24-megapixel
picture for a 64-pixel row is waste. Two things keep it cheap:

- a JPEG is decoded at 1/2, 1/4 or 1/8 of its size (`cv2.IMREAD_REDUCED_*`,
  libjpeg's DCT scaling: most of the work is skipped, not thrown away) when
  the reduced picture still covers the thumbnail; other formats are decoded
  whole and shrunk with INTER_AREA, which averages instead of aliasing;
- every thumbnail is written once, as a small JPEG, to a cache folder (the
  workspace's `thumbnails/`), so the next time the list shows that row costs
  one tiny decode.

A cached thumbnail is named by the frame id, its size and a digest of where
its pixels came from: the source file's resolved path, size and modification time (and
the frame index for a video). A picture rewritten in place therefore gets a
new name and a new thumbnail; the stale file of that frame is removed when the
new one is stored. Orientation follows `seggui.core.images.read_image` (EXIF
rotation ignored), so a thumbnail always looks like the picture on the canvas.

Nothing here raises on a bad picture: thumbnails are a convenience, and the
session reports unreadable pictures when the analyst opens them. A bad or
missing picture gives None; a cache folder that cannot be written only costs
the caching.
"""

from __future__ import annotations

import glob
import hashlib
import re
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from seggui.core.atomic import atomic_write_bytes
from seggui.core.errors import BadInputError
from seggui.core.images import decode, read_encoded, read_image
from seggui.core.media.headers import image_size

THUMBNAIL_DIR = "thumbnails"  # beside seggui.json in a workspace
DEFAULT_MAX_SIDE = 128  # twice the list's 64 px, so a HiDPI screen still gets sharp rows
_FORMAT = 1  # part of every key: bump it when thumbnails are made differently
_JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
            (2, cv2.IMREAD_REDUCED_COLOR_2))
_SAFE_ID = re.compile(r"[\w][\w.\- ]{0,99}")
_DIGEST = re.compile(r"[0-9a-f]{16}\.jpg")
# what reading a picture or a video frame may raise
_ERRORS = (BadInputError, OSError, IndexError, ValueError, cv2.error)


def make_thumbnail(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """`rgb` shrunk so its longer side is `max_side`, aspect kept (INTER_AREA).

    A picture already that small comes back as a copy, not enlarged: a
    thumbnail must not invent pixels.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, not {max_side}")
    if not isinstance(rgb, np.ndarray) or rgb.ndim not in (2, 3) or rgb.size == 0:
        raise ValueError("expected a non-empty (H, W) or (H, W, C) picture array")
    h, w = rgb.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return rgb.copy()
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _reduced_flag(path: Path, max_side: int) -> tuple[int, int] | None:
    """(factor, imread flag) for the most reduced JPEG decode still at least `max_side` long, if any."""
    if path.suffix.lower() not in _JPEG_SUFFIXES:
        return None
    try:
        h, w = image_size(path)
    except BadInputError:
        return None  # the full decode below names the fault
    for factor, flag in _REDUCED:
        if max(h, w) // factor >= max_side:
            return factor, flag
    return None


def read_small(path: str | Path, max_side: int = DEFAULT_MAX_SIDE) -> np.ndarray:
    """A picture file as a thumbnail (RGB uint8), decoding as little as the format allows.

    Raises BadInputError for a missing or unreadable file (like `read_image`).
    """
    path = Path(path)
    from seggui.core.geo.ortho_region import is_orthomosaic

    if is_orthomosaic(path):  # never decoded whole: one decimated read (the file's overviews if it has them)
        from seggui.core.geo.raster import GeoRaster

        with GeoRaster(path) as ras:
            return make_thumbnail(ras.to_rgb8(ras.overview(max_side)[0]), max_side)
    reduced = _reduced_flag(path, max_side)
    if reduced is None:
        return make_thumbnail(read_image(path), max_side)
    _factor, flag = reduced
    bgr = decode(path, read_encoded(path), flag | cv2.IMREAD_IGNORE_ORIENTATION)
    return make_thumbnail(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), max_side)


class ThumbnailCache:
    """Thumbnails of a workspace's frames as small JPEGs in `folder`, made on a miss.

    Safe to use from worker threads: every file is written atomically, and
    two threads making the same thumbnail at once only write it twice.
    `hits` and `misses` count lookups, for tests and the curious.
    """

    def __init__(self, folder: str | Path, max_side: int = DEFAULT_MAX_SIDE, quality: int = 90) -> None:
        if max_side < 1:
            raise ValueError(f"max_side must be at least 1, not {max_side}")
        self.folder = Path(folder)
        self.max_side = int(max_side)
        self.quality = int(quality)
        self.hits = self.misses = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ naming
    @staticmethod
    def _stem(frame_id: str) -> str:
        """The frame id when it is a plain file name, else a digest of it (never a path outside)."""
        if _SAFE_ID.fullmatch(frame_id):
            return frame_id
        return "id-" + hashlib.sha1(frame_id.encode("utf-8")).hexdigest()[:16]

    def path(self, frame_id: str, source: str | Path, index: int | None = None) -> Path | None:
        """Where the thumbnail of this version of the source lives; None when the source is gone."""
        source = Path(source)
        try:
            st = source.stat()
            where = str(source.resolve())
        except OSError:
            return None
        key = f"{_FORMAT}|{self.max_side}|{where}|{st.st_size}|{st.st_mtime_ns}|{index}"
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        return self.folder / f"{self._stem(frame_id)}.{self.max_side}px.{digest}.jpg"

    def _others(self, frame_id: str, keep: Path) -> list[Path]:
        """Older thumbnails of the same frame and size (other digests), to remove."""
        prefix = f"{self._stem(frame_id)}.{self.max_side}px."
        found = self.folder.glob(glob.escape(prefix) + "*.jpg")
        return [p for p in found if p != keep and _DIGEST.fullmatch(p.name[len(prefix):])]

    # ----------------------------------------------------------------- reading
    def load(self, frame_id: str, source: str | Path, index: int | None = None) -> np.ndarray | None:
        """The cached thumbnail (RGB) of this version of the source, or None on a miss."""
        where = self.path(frame_id, source, index)
        if where is None:
            return None
        try:
            data = where.read_bytes()
        except OSError:
            return None
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if bgr is None:  # a damaged cache file is a miss; the next store replaces it
            return None
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def store(self, frame_id: str, source: str | Path, thumb: np.ndarray,
              index: int | None = None) -> Path | None:
        """Write a thumbnail for this version of the source; None when it cannot be written."""
        where = self.path(frame_id, source, index)
        if where is None:
            return None
        bgr = cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR) if thumb.ndim == 3 else thumb
        # full-resolution colour (4:4:4): at 128 px, halved chroma smears every coloured edge
        params = [cv2.IMWRITE_JPEG_QUALITY, self.quality,
                  cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
        ok, buf = cv2.imencode(".jpg", bgr, params)
        if not ok:
            return None
        try:
            atomic_write_bytes(where, buf.tobytes())
            for old in self._others(frame_id, where):
                old.unlink(missing_ok=True)
        except OSError:
            return None  # a read-only or full disk: the thumbnail still shows, it is just not kept
        return where

    def get(self, frame_id: str, source: str | Path, index: int | None = None,
            read: Callable[[], np.ndarray] | None = None) -> np.ndarray | None:
        """The thumbnail of a frame: from the cache, else made (and stored); None when unreadable.

        `source` is the picture file, or the video whose frame `index` this
        is; `read` returns the frame's pixels when the source is not a
        picture file (`read_small` reads a picture).
        """
        cached = self.load(frame_id, source, index)
        with self._lock:
            if cached is not None:
                self.hits += 1
            else:
                self.misses += 1
        if cached is not None:
            return cached
        try:
            pixels = read() if read is not None else read_small(source, self.max_side)
            thumb = make_thumbnail(pixels, self.max_side)
        except _ERRORS:
            return None
        if thumb.ndim == 2:
            thumb = cv2.cvtColor(thumb, cv2.COLOR_GRAY2RGB)
        self.store(frame_id, source, thumb, index)
        return thumb
