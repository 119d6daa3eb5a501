"""The `Source` contract: a sequence of RGB frames with random access by index.

An image, a folder of images, an image sequence and a video all look the same
to the rest of seggui: `len(src)` frames of one size `src.frame_size`, read by
index (`src.read(i)`) or in order (`src.iter_frames(start, stop)`), each with a
stable id `src.name(i)` that names the frame's mask files in a workspace. Damage
found while opening does not stop the open: it is described in `src.warning`
and the usable frames stay readable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np

from seggui.core.errors import BadInputError

SourceKind = Literal["image", "folder", "video"]


class Source(ABC):
    """Frames of one image, folder or video; subclasses fill in the decoding.

    Attributes set by subclasses: `path`, `kind`, `frame_size` (H, W), `fps`
    (None for a still image; a settable default for image sequences) and
    `warning` (None, or a message naming the file and the damage).
    """

    path: Path
    kind: SourceKind
    frame_size: tuple[int, int]
    fps: float | None
    warning: str | None = None

    @abstractmethod
    def __len__(self) -> int:
        """Number of readable frames."""

    @abstractmethod
    def _read(self, index: int) -> np.ndarray:
        """Decode frame `index` (already range-checked) as RGB uint8 (H, W, 3)."""

    @abstractmethod
    def name(self, index: int) -> str:
        """A stable id for frame `index`, usable as a file stem for its masks."""

    def frame_path(self, index: int) -> Path | None:
        """The picture file behind frame `index`; None for a video frame.

        Lets callers find a picture's georeferencing (world file, GeoTIFF).
        """
        self.check_index(index)
        return None

    def read(self, index: int) -> np.ndarray:
        """Frame `index` as RGB uint8 (H, W, 3); BadInputError if it cannot be read."""
        return self._read(self.check_index(index))

    def check_index(self, index: int) -> int:
        """Return `index` as an int (negative counts from the end) or raise IndexError."""
        n = len(self)
        i = int(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"{self.path}: frame {index} is out of range (0..{n - 1})")
        return i

    def span(self, start: int = 0, stop: int | None = None) -> range:
        """The clipped frame range [start, stop), as slicing would give it."""
        return range(*slice(start, stop).indices(len(self)))

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (index, frame) for frames start..stop-1 in order.

        Videos override this with one sequential decode (no seek per frame).
        """
        for i in self.span(start, stop):
            yield i, self._read(i)

    def __iter__(self) -> Iterator[np.ndarray]:
        for _, frame in self.iter_frames():
            yield frame

    @property
    def duration(self) -> float | None:
        """Seconds of the drive at `fps`, or None for a still."""
        return len(self) / self.fps if self.fps else None

    def time_of(self, index: int) -> float | None:
        """Presentation time of frame `index` in seconds at `fps` (None for a still)."""
        return index / self.fps if self.fps else None

    def close(self) -> None:
        """Release files and decoders; the default source holds none open."""
        return None

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        h, w = self.frame_size
        return f"<{type(self).__name__} {self.kind} {self.path} frames={len(self)} size={w}x{h}>"


def check_frame(path: Path, frame: np.ndarray, frame_size: tuple[int, int], what: str) -> np.ndarray:
    """Refuse a frame whose size differs from the source's, naming `what` it is."""
    if frame.shape[:2] != tuple(frame_size):
        h, w = frame.shape[:2]
        fh, fw = frame_size
        raise BadInputError(path, f"{what} is {w}x{h} but the sequence is {fw}x{fh}")
    return frame
