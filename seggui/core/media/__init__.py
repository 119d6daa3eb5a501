"""Frames from pictures, folders, image sequences and videos, with a bounded cache.

    src = open_source("drive.mp4")          # or a picture, or a folder (+ pattern="0016E5_*")
    frame = src.read(120)                   # RGB uint8 (H, W, 3), frame-accurate
    for i, frame in iter_frames_threaded(src, cancel=token):   # decoded ahead on a thread
        ...
    cache = FrameCache(src, max_bytes=256 << 20)   # LRU by bytes for browsing

See base.Source for the contract every source keeps.
"""

from seggui.core.media.base import Source
from seggui.core.media.cache import DEFAULT_CACHE_BYTES, CacheStats, FrameCache
from seggui.core.media.headers import image_size
from seggui.core.media.prefetch import iter_frames_threaded
from seggui.core.media.sources import is_video_file, open_source
from seggui.core.media.stills import DEFAULT_SEQUENCE_FPS, FolderSource, ImageSource, PictureListSource
from seggui.core.media.video import VIDEO_SUFFIXES, VideoIndex, VideoSource, index_video

__all__ = [
    "DEFAULT_CACHE_BYTES", "DEFAULT_SEQUENCE_FPS", "VIDEO_SUFFIXES", "CacheStats", "FolderSource",
    "FrameCache", "ImageSource", "PictureListSource", "Source", "VideoIndex", "VideoSource",
    "image_size", "index_video",
    "is_video_file", "iter_frames_threaded", "open_source",
]
