"""Picture sizes from file headers, without decoding the pixels.

Opening a folder of thousands of frames must find the odd-sized ones at once
(so the user hears about them before a long run), but decoding every picture
would take minutes. PNG, JPEG, BMP and TIFF carry their size in a few header
bytes; other formats, and headers that do not parse, fall back to a decode.
"""

from __future__ import annotations

import struct
from pathlib import Path

import tifffile

from seggui.core.errors import BadInputError
from seggui.core.images import _PNG_END, read_image

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8, CC are not SOF.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_HEAD = 1 << 18  # EXIF thumbnails can push the SOF marker past the first 64 KiB


def _png_size(head: bytes) -> tuple[int, int] | None:
    if len(head) >= 24 and head[:8] == _PNG_SIG and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        return h, w
    return None


def _bmp_size(head: bytes) -> tuple[int, int] | None:
    if len(head) >= 26 and head[:2] == b"BM":
        w, h = struct.unpack("<ii", head[18:26])
        return abs(h), w  # a negative height means rows stored top-down
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in _SOF:
            h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
            return h, w
        pos += 2 + length
    return None


def image_size(path: str | Path) -> tuple[int, int]:
    """(H, W) of a picture, from its header when the format allows.

    Raises BadInputError for a missing, unreadable or truncated (PNG) file.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(_JPEG_HEAD)
            size = _png_size(head)
            if size is not None:  # a cut-off copy is the common damage; its tail shows it cheaply
                f.seek(max(0, path.stat().st_size - 32))
                if _PNG_END not in f.read(32):
                    raise BadInputError(path, "truncated PNG (the file ends before its IEND chunk)")
    except OSError:
        head, size = b"", None
    size = size or _bmp_size(head) or _jpeg_size(head)
    if size is None and head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        try:
            with tifffile.TiffFile(path) as tif:
                page = tif.pages[0]
                size = (int(page.imagelength), int(page.imagewidth))
        except Exception:  # noqa: BLE001 - any parse failure falls back to a full decode
            size = None
    if size is not None and size[0] > 0 and size[1] > 0:
        return size
    h, w = read_image(path).shape[:2]  # raises BadInputError naming the file
    return h, w
