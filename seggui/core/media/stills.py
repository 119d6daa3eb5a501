"""Still pictures as sources: one image file, or a folder / image sequence.

A folder is a drive whose frames are its pictures in frame order (CamVid's
`0016E5_07959.png, 0016E5_07961.png, ...`; numbers inside names are compared
by value, so an unpadded `frame_2` comes before `frame_10`; see
`seggui.core.media.sequences`). All frames of
a source share one size, because masks, metrics and the overlay video assume
it: the most common size wins, and pictures of another size (or that cannot be
read at all) are listed in `src.warning` and refused when read, with a
BadInputError naming the file. Refusing beats silently resizing: a resized
frame would get a mask that matches neither the original picture nor its
ground truth.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.images import read_image
from seggui.core.media.base import Source, check_frame
from seggui.core.media.headers import image_size
from seggui.core.media.sequences import sequence_files

DEFAULT_SEQUENCE_FPS = 30.0  # image sequences carry no rate; dashcams mostly record at 30
_LISTED = 10  # odd frames named in a warning before "and N more"


class ImageSource(Source):
    """One picture: a source of exactly one frame and no frame rate."""

    kind = "image"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise BadInputError(self.path, "file not found")
        self.frame_size = image_size(self.path)
        self.fps = None
        self.warning = None

    def __len__(self) -> int:
        return 1

    def _read(self, index: int) -> np.ndarray:
        return check_frame(self.path, read_image(self.path), self.frame_size, "the picture")

    def name(self, index: int) -> str:
        self.check_index(index)
        return self.path.stem

    def frame_path(self, index: int) -> Path:
        self.check_index(index)
        return self.path


def _frame_ids(files: list[Path]) -> list[str]:
    """File stems, made unique where two pictures share one (a.png and a.jpg)."""
    counts = Counter(p.stem for p in files)
    return [p.stem if counts[p.stem] == 1 else f"{p.stem}_{p.suffix.lstrip('.').lower()}" for p in files]


class FolderSource(Source):
    """The pictures of a folder in frame order, optionally filtered by a glob.

    `pattern` (e.g. "0016E5_*") matches the file name or its stem, so one
    CamVid sequence can be opened out of a folder that holds several; with a
    pattern, matching pictures without a frame number are left out (`strays`,
    named in `warning`).
    `bad_frames` maps the index of each refused frame to the reason.
    """

    kind = "folder"

    def __init__(self, folder: str | Path, pattern: str | None = None,
                 fps: float | None = DEFAULT_SEQUENCE_FPS) -> None:
        self.path = Path(folder)
        self.pattern = pattern
        files, self.strays = sequence_files(self.path, pattern)
        if not files:
            what = f"no pictures match '{pattern}'" if pattern else "no pictures in the folder"
            raise BadInputError(self.path, what)
        self.files = files
        self._ids = _frame_ids(files)
        self.fps = fps
        self.bad_frames: dict[int, str] = {}
        sizes: list[tuple[int, int] | None] = []
        for i, p in enumerate(files):
            try:
                sizes.append(image_size(p))
            except BadInputError as exc:
                sizes.append(None)
                self.bad_frames[i] = f"cannot be read: {exc.problem}"
        common = Counter(s for s in sizes if s is not None).most_common(1)
        if not common:
            raise BadInputError(self.path, f"none of its {len(files)} pictures can be read")
        self.frame_size = common[0][0]
        fh, fw = self.frame_size
        for i, s in enumerate(sizes):
            if s is not None and s != self.frame_size:
                self.bad_frames[i] = f"is {s[1]}x{s[0]}, not {fw}x{fh} like the rest"
        self.warning = self._describe_bad()

    def _describe_bad(self) -> str | None:
        notes = []
        if self.strays:
            names = ", ".join(p.name for p in self.strays[:_LISTED])
            more = f" and {len(self.strays) - _LISTED} more" if len(self.strays) > _LISTED else ""
            notes.append(f"{self.path}: {len(self.strays)} pictures match '{self.pattern}' but carry no "
                         f"frame number and are not frames of the sequence: {names}{more}")
        if self.bad_frames:
            notes.append(self._describe_odd())
        return "\n".join(notes) or None

    def _describe_odd(self) -> str:
        items = sorted(self.bad_frames.items())
        listed = "; ".join(f"{self.files[i].name} {why}" for i, why in items[:_LISTED])
        more = f"; and {len(items) - _LISTED} more" if len(items) > _LISTED else ""
        return (f"{self.path}: {len(items)} of {len(self.files)} frames will not be read "
                f"(the others are {self.frame_size[1]}x{self.frame_size[0]}): {listed}{more}")

    def __len__(self) -> int:
        return len(self.files)

    def frame_path(self, index: int) -> Path:
        """The picture file behind frame `index`."""
        return self.files[self.check_index(index)]

    def _read(self, index: int) -> np.ndarray:
        path = self.files[index]
        if index in self.bad_frames:
            raise BadInputError(path, f"frame {index} {self.bad_frames[index]}")
        return check_frame(path, read_image(path), self.frame_size, f"frame {index}")

    def name(self, index: int) -> str:
        return self._ids[self.check_index(index)]


class PictureListSource(Source):
    """Independent pictures (a workspace's, of any sizes) as one source of frames.

    Unlike a folder sequence, pictures may differ in size: each is read at
    its own size (`frame_size` is the first one's, for information only).
    Frame ids are given by the caller (a workspace's frame ids) or the stems.
    """

    kind = "folder"

    def __init__(self, files: list[Path], ids: list[str] | None = None) -> None:
        if not files:
            raise BadInputError(None, "no pictures to read")
        self.files = [Path(f) for f in files]
        self._ids = list(ids) if ids is not None else _frame_ids(self.files)
        if len(self._ids) != len(self.files):
            raise ValueError("one frame id per picture")
        self.path = self.files[0].parent
        self.fps = None
        self.warning = None
        try:
            self.frame_size = image_size(self.files[0])
        except BadInputError:
            self.frame_size = (0, 0)

    def __len__(self) -> int:
        return len(self.files)

    def frame_path(self, index: int) -> Path:
        return self.files[self.check_index(index)]

    def _read(self, index: int) -> np.ndarray:
        return read_image(self.files[index])

    def name(self, index: int) -> str:
        return self._ids[self.check_index(index)]
