"""`open_source`: one entry point for every kind of picture input.

The caller (CLI argument, file dialog, workspace) has a path and wants frames;
the suffix or the folder-ness of the path decides which source reads it, and
every refusal is a BadInputError naming the path and the reason.
"""

from __future__ import annotations

from pathlib import Path

from seggui.core.errors import BadInputError
from seggui.core.images import is_image_file
from seggui.core.media.base import Source
from seggui.core.media.stills import DEFAULT_SEQUENCE_FPS, FolderSource, ImageSource
from seggui.core.media.video import VIDEO_SUFFIXES, VideoSource


def is_video_file(path: str | Path) -> bool:
    """True for file names with a video suffix seggui opens."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def open_source(path: str | Path, pattern: str | None = None, fps: float | None = None) -> Source:
    """Open an image, a folder of images (optionally only names matching `pattern`) or a video.

    `fps` overrides the rate: a folder defaults to DEFAULT_SEQUENCE_FPS, a
    video to its container's rate, a single image has none.
    """
    path = Path(path)
    if not path.exists():
        raise BadInputError(path, "not found")
    if path.is_dir():
        return FolderSource(path, pattern, DEFAULT_SEQUENCE_FPS if fps is None else fps)
    if pattern is not None:
        raise BadInputError(path, f"a name pattern ('{pattern}') only applies to a folder")
    if is_video_file(path):
        return VideoSource(path, fps)
    if is_image_file(path):
        return ImageSource(path)
    raise BadInputError(path, f"unsupported file type '{path.suffix or '(none)'}': "
                              "expected a picture, a folder of pictures or a video")
