"""Video files as sources, with frame-accurate random access through OpenCV.

Opening a video indexes it once (`VideoIndex`, kept per file in this process):

1. a demux-only pass (OpenCV's raw-packet mode, no decoding) counts the frame
   packets and notes the keyframes. This is cheap even for long drives, and it
   does not trust the header's frame count, which a cut-off recording gets
   wrong;
2. a probe decodes the first frames in order, seeks back to one of them with
   CAP_PROP_POS_FRAMES and compares pixels. Where the seek is exact (every
   codec we tried) reads seek directly; where it is not, reads fall back to
   decoding forward from the start, slow but never wrong;
3. the last group of pictures is decoded to find where decoding really stops,
   and the container's own part sizes (seggui.core.media.containers) tell
   whether the file was cut.

A truncated or damaged file therefore opens with the frames up to the damage,
and `src.warning` names the file and the frame where decoding stops. The last
frame before a cut is left out: FFmpeg decodes it from a partial packet,
fills in the missing part and reports success, so it cannot be trusted. A file
OpenCV cannot demux raises BadInputError (an MP4 cut off before its index was
written is named as such); one it can demux but not decode names the codec.

Random reads move a private cursor: forward by decoding when no keyframe lies
between the cursor and the target (a seek would decode the same frames), by a
seek otherwise. `iter_frames` opens its own decoder and decodes in order, so a
background pipeline never fights with the UI's random reads.
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

import seggui.core.images  # noqa: F401 - importing it silences OpenCV's own logger
from seggui.core.errors import BadInputError
from seggui.core.imagesize import check_pixels
from seggui.core.media.base import Source, check_frame
from seggui.core.media.containers import mp4_has_index, video_truncated

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".ts")
_PROBE_MAX = 300  # furthest frame the open-time seek probe decodes up to
_BLIND_HOP = 16  # without keyframe information, decode forward up to this many frames
_INDEX_KEEP = 64  # video indexes remembered per process


@dataclass(frozen=True)
class VideoIndex:
    """What one pass over a video file learnt; reused while the file is unchanged."""

    frames: int  # readable frames
    packets: int  # frame packets the demuxer found
    header_frames: int  # what the container claims (<= 0 when it does not say)
    keyframes: tuple[int, ...] | None  # None when OpenCV cannot report them
    codec: str
    fps: float | None
    frame_size: tuple[int, int]
    seek_exact: bool  # CAP_PROP_POS_FRAMES landed on the right pixels in the probe
    damaged: bool  # cut short: by the container's sizes, the header's count or the packets


_INDEX_CACHE: OrderedDict[tuple[str, int, int], VideoIndex] = OrderedDict()
_INDEX_LOCK = threading.Lock()


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF
    raw = code.to_bytes(4, "little").rstrip(b"\x00")
    text = raw.decode("ascii", "replace")
    return text if raw and text.isprintable() else f"0x{code:08x}"


def _container_problem(path: Path) -> str:
    if mp4_has_index(path) is False:
        return ("the MP4/MOV index (moov box) is missing, so no frame can be located: "
                "the recording was cut off before it was finished")
    return "not a readable video (unknown container, no video stream, or a damaged file)"


def _open(path: Path, raw: bool = False) -> cv2.VideoCapture:
    # FFmpeg's decoder chatter goes straight to stderr; we report damage ourselves. OpenCV reads
    # this variable when it first opens a video, so a user's own setting still wins.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    params = [cv2.CAP_PROP_FORMAT, -1] if raw else []
    return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)


class _Cursor:
    """One decoder on a video and the index of the frame its next read returns."""

    def __init__(self, path: Path, keyframes: tuple[int, ...] | None, seek_exact: bool,
                 cap: cv2.VideoCapture | None = None) -> None:
        self.path, self.keyframes, self.seek_exact = path, keyframes, seek_exact
        self.cap = cap if cap is not None else _open(path)
        self.pos = 0  # -1: unknown, after a failed read

    def _keyframe_at_or_before(self, index: int) -> int:
        if self.keyframes is None:
            return index
        return self.keyframes[max(0, bisect_right(self.keyframes, index) - 1)]

    def _rewind(self) -> None:
        self.cap.release()
        self.cap = _open(self.path)
        self.pos = 0

    def _forward(self, index: int) -> None:
        while self.pos < index:
            if not self.cap.grab():
                stopped, self.pos = self.pos, -1
                raise BadInputError(self.path, f"decoding stopped at frame {stopped}")
            self.pos += 1

    def goto(self, index: int) -> None:
        """Make the next `read` return frame `index`."""
        if index == self.pos:
            return
        near = index - self.pos <= _BLIND_HOP if self.keyframes is None else (
            self._keyframe_at_or_before(index) <= self.pos)
        if 0 <= self.pos < index and near:
            self._forward(index)
            return
        if self.seek_exact and self.cap.set(cv2.CAP_PROP_POS_FRAMES, index) and (
                round(self.cap.get(cv2.CAP_PROP_POS_FRAMES)) == index):
            self.pos = index
            return
        self._rewind()
        self._forward(index)

    def read(self) -> np.ndarray | None:
        """Decode the next frame as RGB, or None where decoding stops."""
        ok, bgr = self.cap.read()
        if not ok or bgr is None:
            self.pos = -1
            return None
        self.pos += 1
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self.cap.release()


def _scan_packets(path: Path) -> tuple[int, int, tuple[int, ...] | None, str, float | None]:
    """Demux without decoding: (packets, header frame count, keyframes, codec, fps)."""
    cap = _open(path, raw=True)
    if not cap.isOpened():
        cap.release()
        raise BadInputError(path, _container_problem(path))
    try:
        codec = _fourcc(cap)
        header = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        key_prop = getattr(cv2, "CAP_PROP_LRF_HAS_KEY_FRAME", None)
        keys: list[int] | None = [] if key_prop is not None else None
        packets = 0
        while cap.grab():
            if keys is not None and cap.get(key_prop):  # type: ignore[arg-type]  # set when keys is
                keys.append(packets)
            packets += 1
    finally:
        cap.release()
    if keys is not None and (not keys or keys[0] != 0):
        keys = None  # a stream that does not start on a keyframe: keyframe data is not usable
    return packets, header, tuple(keys) if keys is not None else None, codec, (
        fps if np.isfinite(fps) and fps > 0 else None)


def _build_index(path: Path) -> VideoIndex:
    packets, header, keys, codec, fps = _scan_packets(path)
    if packets == 0:
        raise BadInputError(path, f"no video frames found (codec '{codec}')")
    cap = _open(path)
    if not cap.isOpened():
        cap.release()
        raise BadInputError(path, f"unsupported video codec '{codec}' "
                                  "(this OpenCV/FFmpeg build has no decoder for it)")
    try:  # the stream header's frame size, checked before a frame is decoded
        check_pixels(path, int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                     "each video frame")
    except BadInputError:
        cap.release()
        raise
    cur = _Cursor(path, keys, seek_exact=True, cap=cap)
    try:
        first = cur.read()
        if first is None:
            raise BadInputError(path, f"the first frame cannot be decoded (codec '{codec}')")
        seek_exact = _probe_seek(cur, first, packets, keys)
        cur.seek_exact = seek_exact
        decoded = _decodable(cur, packets, keys)
    finally:
        cur.close()
    # +1: containers that estimate their count from duration x fps may round up by one.
    damaged = decoded < packets or header > decoded + 1 or bool(video_truncated(path))
    # The last frame before a cut decodes from a partial packet (FFmpeg conceals the missing part
    # and reports success), so it is left out rather than shown as if whole.
    frames = decoded - 1 if damaged and decoded > 1 else decoded
    return VideoIndex(frames, packets, header, keys, codec, fps, first.shape[:2], seek_exact, damaged)


def _probe_seek(cur: _Cursor, first: np.ndarray, packets: int, keys: tuple[int, ...] | None) -> bool:
    """Decode frames 1..t in order, seek back to t, and compare the pixels."""
    if keys is not None and len(keys) > 1 and keys[1] + 1 < min(packets, _PROBE_MAX):
        target = keys[1] + 1  # not a keyframe: the seek must also decode forward correctly
    else:
        target = min(packets - 1, 12)
    frame, reached = first, 0
    while reached < target:
        nxt = cur.read()
        if nxt is None:
            break
        frame, reached = nxt, reached + 1
    target = reached
    if target == 0:
        return True  # a one-frame video: nothing to seek to
    cur.pos = -1  # force a real seek
    if not cur.cap.set(cv2.CAP_PROP_POS_FRAMES, target):
        return False
    cur.pos = target
    again = cur.read()
    return again is not None and np.array_equal(again, frame)


def _decodable(cur: _Cursor, packets: int, keys: tuple[int, ...] | None) -> int:
    """Frames that really decode: decode from the last usable keyframe to the end."""
    starts = [k for k in keys if k < packets] if keys is not None else [max(0, packets - 1)]
    while starts:
        start = starts.pop()
        try:
            cur.goto(start)
        except BadInputError:
            continue
        count = _count_to_end(cur)
        if count:
            return start + count
    cur.goto(0)  # nothing decoded after any keyframe: count from the start
    return _count_to_end(cur)


def _count_to_end(cur: _Cursor) -> int:
    """Decode (without colour conversion) until decoding stops; return how many frames."""
    count = 0
    while cur.cap.grab():
        count += 1
    cur.pos = -1
    return count


def index_video(path: str | Path) -> VideoIndex:
    """The index of a video file, built once per file version and then remembered."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    if not path.is_file():
        raise BadInputError(path, "is a folder, not a video file")
    if st.st_size == 0:
        raise BadInputError(path, "file is empty")
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _INDEX_LOCK:
        if key in _INDEX_CACHE:
            _INDEX_CACHE.move_to_end(key)
            return _INDEX_CACHE[key]
    index = _build_index(path)
    with _INDEX_LOCK:
        _INDEX_CACHE[key] = index
        while len(_INDEX_CACHE) > _INDEX_KEEP:
            _INDEX_CACHE.popitem(last=False)
    return index


class VideoSource(Source):
    """A video file: frames decoded on demand, frame-accurately, thread-safely.

    `fps` comes from the container (None when it gives none) and may be set.
    `index` holds the scan results (codec, keyframes, header frame count).
    """

    kind = "video"

    def __init__(self, path: str | Path, fps: float | None = None) -> None:
        self.path = Path(path)
        self.index = index_video(self.path)
        self.frame_size = self.index.frame_size
        self.fps = fps if fps is not None else self.index.fps
        self._lock = threading.Lock()
        self._cursor: _Cursor | None = None
        self.warning = self._describe_damage()

    @property
    def codec(self) -> str:
        return self.index.codec

    @property
    def seek_exact(self) -> bool:
        """False where seeking proved inexact and reads decode forward from the start."""
        return self.index.seek_exact

    def _describe_damage(self) -> str | None:
        ix = self.index
        if not ix.damaged:
            return None
        promised = max(ix.packets, ix.header_frames)
        return (f"{self.path}: the video is truncated or damaged: decoding stops at frame {ix.frames} "
                f"of the {promised} it should hold (frames 0-{ix.frames - 1} are readable)")

    def __len__(self) -> int:
        return self.index.frames

    def name(self, index: int) -> str:
        return f"{self.path.stem}_{self.check_index(index):06d}"

    def _new_cursor(self) -> _Cursor:
        return _Cursor(self.path, self.index.keyframes, self.index.seek_exact)

    def _read(self, index: int) -> np.ndarray:
        with self._lock:
            if self._cursor is None:
                self._cursor = self._new_cursor()
            self._cursor.goto(index)
            frame = self._cursor.read()
        if frame is None:
            raise BadInputError(self.path, f"frame {index} cannot be decoded")
        return check_frame(self.path, frame, self.frame_size, f"frame {index}")

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Decode frames start..stop-1 in order with a decoder of its own (one seek at most)."""
        span = self.span(start, stop)
        if not span:
            return
        cur = self._new_cursor()
        try:
            cur.goto(span.start)
            for i in span:
                frame = cur.read()
                if frame is None:
                    raise BadInputError(self.path, f"decoding stopped at frame {i}")
                yield i, check_frame(self.path, frame, self.frame_size, f"frame {i}")
        finally:
            cur.close()

    def close(self) -> None:
        """Release the decoder; a later read opens a new one."""
        with self._lock:
            if self._cursor is not None:
                self._cursor.close()
                self._cursor = None
