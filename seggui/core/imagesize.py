"""Picture sizes from file headers, and the pixel limit every decode is checked against.

Two needs share one reader. Opening a folder of thousands of frames must find
the odd-sized ones at once, without decoding every picture. And a hostile or
absurd file must be refused before it is decoded: a 30000x30000 PNG of one
colour is under a megabyte on disk but 2.7 GB once decoded, and would freeze
the window or the command for minutes before failing. PNG, JPEG, BMP, WebP and
TIFF carry their size in a few header bytes, so the size is read from there
and compared with `max_pixels()` before any pixel is decoded.

The limit (`DEFAULT_MAX_PIXELS`, 300 megapixels: a 20000x15000 orthophoto
still opens) is raised by the environment variable `SEGGUI_MAX_PIXELS` or,
from a program setting, by `set_max_pixels`; the variable wins, since it is
the user's explicit word for this run.
"""

from __future__ import annotations

import io
import logging
import os
import struct
from pathlib import Path

from seggui.core.errors import BadInputError

ENV_MAX_PIXELS = "SEGGUI_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 300_000_000

PNG_SIG = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
HEADER_BYTES = 1 << 18  # EXIF thumbnails can push a JPEG's SOF marker past the first 64 KiB
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8, CC are not SOF.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}

_setting: int | None = None


# ------------------------------------------------------------------ the limit
def set_max_pixels(limit: int | None) -> None:
    """Set the pixel limit for this process (None: back to the default).

    For a program setting; `SEGGUI_MAX_PIXELS` in the environment still wins.
    """
    global _setting
    if limit is not None and int(limit) < 1:
        raise BadInputError(None, f"the pixel limit must be at least 1, not {limit}")
    _setting = None if limit is None else int(limit)


def max_pixels() -> int:
    """The largest picture (width x height) seggui decodes: env variable, else setting, else default."""
    raw = os.environ.get(ENV_MAX_PIXELS, "").strip()
    if raw:
        try:
            value = int(float(raw.replace("_", "")))
        except ValueError:
            value = 0
        if value < 1:
            raise BadInputError(None, f"{ENV_MAX_PIXELS}={raw!r} is not a pixel count "
                                      "(give a whole number such as 1000000000)")
        return value
    return _setting if _setting is not None else DEFAULT_MAX_PIXELS


def check_pixels(path: str | Path | None, height: int, width: int, what: str = "picture") -> None:
    """Raise BadInputError naming the file when height x width is over `max_pixels()`."""
    limit = max_pixels()
    if int(height) * int(width) > limit:
        raise BadInputError(
            path, f"{what} is {width}x{height} ({_count(height * width)}), over the limit of "
            f"{_count(limit)}; if you trust the file, raise the limit with {ENV_MAX_PIXELS}=<pixels>")


def _count(pixels: int) -> str:
    return f"{pixels / 1e6:,.0f} megapixels" if pixels >= 10**6 else f"{pixels:,} pixels"


# ----------------------------------------------------------------- the reader
def _png_size(head: bytes) -> tuple[int, int] | None:
    if len(head) >= 24 and head[:8] == PNG_SIG and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        return h, w
    return None


def _bmp_size(head: bytes) -> tuple[int, int] | None:
    if len(head) >= 26 and head[:2] == b"BM":
        w, h = struct.unpack("<ii", head[18:26])
        return abs(h), abs(w)  # a negative height means rows stored top-down
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


def _webp_size(head: bytes) -> tuple[int, int] | None:
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    kind = head[12:16]
    if kind == b"VP8X":  # extended: 24-bit canvas width-1, height-1
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return h, w
    if kind == b"VP8L" and head[20] == 0x2F:  # lossless: 14-bit width-1, height-1
        bits = int.from_bytes(head[21:25], "little")
        return ((bits >> 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1
    if kind == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # lossy key frame
        w, h = struct.unpack("<HH", head[26:30])
        return h & 0x3FFF, w & 0x3FFF
    return None


def tiff_size(source: str | Path | bytes) -> tuple[int, int] | None:
    """(H, W) of a TIFF's first page (a file or its bytes), or None when it does not parse."""
    import tifffile

    logging.getLogger("tifffile").setLevel(logging.ERROR)  # damage is reported by the caller, once
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source
        with tifffile.TiffFile(handle) as tif:
            page = tif.pages[0]
            return int(page.imagelength), int(page.imagewidth)  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - tifffile raises many kinds; the caller decodes or refuses
        return None


def head_size(head: bytes) -> tuple[int, int] | None:
    """(H, W) from the first bytes of a PNG, JPEG, BMP or WebP file; None for other formats."""
    size = _png_size(head) or _bmp_size(head) or _jpeg_size(head) or _webp_size(head)
    return size if size is not None and size[0] > 0 and size[1] > 0 else None


def size_of_bytes(data: bytes) -> tuple[int, int] | None:
    """(H, W) of a whole encoded picture held in memory, from its header; None when unknown."""
    if data[:4] in TIFF_MAGIC:
        return tiff_size(data)
    return head_size(data[:HEADER_BYTES])


def check_encoded(path: str | Path | None, data: bytes) -> None:
    """Refuse encoded picture bytes whose header declares more than `max_pixels()` pixels."""
    size = size_of_bytes(data)
    if size is not None:
        check_pixels(path, *size)


def check_file(path: str | Path) -> None:
    """Refuse a picture file whose header declares more than `max_pixels()`, before it is read whole.

    A huge uncompressed TIFF would otherwise be read into memory (gigabytes)
    only to be refused. A file that cannot be opened passes: reading it names
    that fault.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(HEADER_BYTES)
    except OSError:
        return
    size = tiff_size(path) if head[:4] in TIFF_MAGIC else head_size(head)
    if size is not None:
        check_pixels(path, *size)


def image_size(path: str | Path) -> tuple[int, int]:
    """(H, W) of a picture file, from its header when the format allows, else by decoding it.

    Raises BadInputError for a missing, unreadable or truncated (PNG) file.
    """
    path = Path(path)
    size: tuple[int, int] | None = None
    try:
        with path.open("rb") as f:
            head = f.read(HEADER_BYTES)
            size = head_size(head)
            if _png_size(head) is not None:  # a cut-off copy is the common damage; its tail shows it cheaply
                f.seek(max(0, path.stat().st_size - 32))
                if PNG_END not in f.read(32):
                    raise BadInputError(path, "truncated PNG (the file ends before its IEND chunk)")
    except OSError:
        head = b""
    if size is None and head[:4] in TIFF_MAGIC:
        size = tiff_size(path)
    if size is not None and size[0] > 0 and size[1] > 0:
        return size
    from seggui.core.images import read_image  # images reads sizes from here: import late

    h, w = read_image(path).shape[:2]  # raises BadInputError naming the file
    return h, w
