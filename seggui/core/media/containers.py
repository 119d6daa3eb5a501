"""Is a video file shorter than its container says? Read from the top-level headers.

FFmpeg decodes the last packet of a cut-off file from whatever bytes are left
and reports success, so frame counts alone cannot always tell a whole file
from a cut one (the cut may fall inside the last frame). AVI (RIFF), MP4/MOV
(ISO boxes) and Matroska/WebM (EBML) each state the size of their top-level
parts; a part that runs past the end of the file is proof of truncation. Only
the few header bytes of each top-level part are read, never the media.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"


def _walk_riff(f: BinaryIO, size: int) -> bool:
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(8)
        length = int.from_bytes(head[4:8], "little")
        pos += 8 + length + (length & 1)  # chunks are padded to an even size
    return pos > size + 1  # +1: some writers omit the final pad byte


def _walk_boxes(f: BinaryIO, size: int) -> tuple[bool, bool]:
    """(truncated, has a moov box) for an ISO base media file."""
    pos, has_moov = 0, False
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(16)
        length, kind = int.from_bytes(head[:4], "big"), head[4:8]
        has_moov = has_moov or kind == b"moov"
        if length == 1 and len(head) == 16:
            length = int.from_bytes(head[8:16], "big")
        if length == 0:  # the box runs to the end of the file
            return False, has_moov
        if length < 8:
            return True, has_moov
        pos += length
    return pos > size, has_moov


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int, bool]:
    """EBML variable-size integer at `pos`: (value, length in bytes, all value bits set)."""
    first = data[pos]
    length = 8 - first.bit_length() + 1
    raw = int.from_bytes(data[pos:pos + length], "big")
    value = raw if keep_marker else raw & ((1 << (7 * length)) - 1)
    return value, length, value == (1 << (7 * length)) - 1


def _walk_ebml(f: BinaryIO, size: int) -> bool:
    pos = 0
    while pos + 2 <= size:
        f.seek(pos)
        head = f.read(12)
        if not head or head[0] == 0:
            return False  # not an element header: nothing more to learn
        _, id_len, _ = _vint(head, 0, keep_marker=True)
        if id_len + 1 > len(head) or head[id_len] == 0:
            return False
        length, size_len, unknown = _vint(head, id_len, keep_marker=False)
        if unknown:  # a live recording that never wrote its size
            return False
        pos += id_len + size_len + length
    return pos > size


def video_truncated(path: str | Path) -> bool | None:
    """True when the container says the file should be longer; None for other containers."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if head[:4] == b"RIFF":
            return _walk_riff(f, size)
        if head[4:8] == b"ftyp":
            return _walk_boxes(f, size)[0]
        if head[:4] == _EBML_MAGIC:
            return _walk_ebml(f, size)
    return None


def mp4_has_index(path: str | Path) -> bool | None:
    """For an MP4/MOV, whether its moov box (the frame index) exists; None for other files."""
    path = Path(path)
    with path.open("rb") as f:
        if f.read(8)[4:8] != b"ftyp":
            return None
        return _walk_boxes(f, path.stat().st_size)[1]
