"""Decompression bombs for the bad-input tests and benchmark: huge declared sizes, tiny files.

A PNG of one colour is written by hand with zlib: one group of zero rows is
deflated with a full flush (which resets the compressor, so every later group
deflates to the same bytes) and that chunk is repeated, so a 60000x60000 PNG
takes a fraction of a second and a few megabytes, never the 3.6 GB of pixels.
The file is a valid PNG: a decoder that trusts it really does try to inflate
all of it.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

_GROUP = 256  # rows deflated per repeated chunk


def _chunk(kind: bytes, parts: list[bytes]) -> list[bytes]:
    length = sum(len(p) for p in parts)
    crc = zlib.crc32(kind)
    for p in parts:
        crc = zlib.crc32(p, crc)
    return [struct.pack(">I", length), kind, *parts, struct.pack(">I", crc & 0xFFFFFFFF)]


def png_bomb(path: Path, width: int, height: int) -> Path:
    """Write a valid all-black 8-bit greyscale PNG of width x height; returns the path."""
    row = bytes(width + 1)  # filter byte 0 + zero pixels
    if height < 2 * _GROUP:
        body = [zlib.compress(row * height, 9)]
    else:
        body = _repeated(row, height)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", *_chunk(b"IHDR", [ihdr]), *_chunk(b"IDAT", body), *_chunk(b"IEND", [])]
    with path.open("wb") as f:
        for p in parts:
            f.write(p)
    return path


def _repeated(row: bytes, height: int) -> list[bytes]:
    """The zlib stream of `height` copies of an all-zero `row`, as a list of pieces."""
    comp = zlib.compressobj(9)
    head = comp.compress(row * _GROUP) + comp.flush(zlib.Z_FULL_FLUSH)
    group = comp.compress(row * _GROUP) + comp.flush(zlib.Z_FULL_FLUSH)
    groups, rest = divmod(height, _GROUP)
    tail = comp.compress(row * rest) + comp.flush(zlib.Z_FINISH)
    # comp's trailer holds the Adler-32 of what it saw; all-zero data has A = 1, B = length mod 65521
    adler = struct.pack(">I", (((len(row) * height) % 65521) << 16) | 1)
    return [head, *[group] * (groups - 1), tail[:-4], adler]


def jpeg_bomb(path: Path, width: int, height: int) -> Path:
    """A small real JPEG whose start-of-frame marker is rewritten to declare width x height."""
    import cv2
    import numpy as np

    ok, buf = cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))
    data = bytearray(buf.tobytes())
    pos = data.index(b"\xff\xc0")
    data[pos + 5:pos + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path
