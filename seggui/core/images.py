"""Reading and writing pictures with messages that name the file and the fault.

OpenCV returns None for anything it cannot decode; here that becomes a
`BadInputError` saying whether the file is missing, empty, truncated or not an
image. Images come back as RGB uint8 (H, W, 3), whatever their file type.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from seggui.core.atomic import atomic_write_bytes
from seggui.core.errors import BadInputError
from seggui.core.imagesize import PNG_END, check_encoded, check_file

try:  # keep OpenCV's own warnings off the user's terminal; we report ourselves
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
except AttributeError:  # pragma: no cover - very old OpenCV
    pass

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def is_image_file(path: str | Path) -> bool:
    """True for file names with an image suffix seggui reads."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def list_images(folder: str | Path) -> list[Path]:
    """Image files of a folder sorted by name (the natural order of a drive)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(folder, "folder not found")
    return sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))


def read_bytes(path: str | Path) -> bytes:
    """Read a whole file, turning OS errors into one clear message."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except IsADirectoryError:
        raise BadInputError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot read file ({exc.strerror or exc})") from None
    if not data:
        raise BadInputError(path, "file is empty")
    return data


def read_encoded(path: str | Path) -> bytes:
    """The bytes of a picture file, after its header passed the pixel limit (see `decode`)."""
    check_file(path)
    return read_bytes(path)


def decode(path: str | Path, data: bytes, flags: int) -> np.ndarray:
    """Decode image bytes: the one place pictures and masks are decoded.

    PNGs are checked for truncation first, and every format whose header
    gives its size is checked against the pixel limit
    (`seggui.core.imagesize.max_pixels`) before a pixel is decoded, so a
    decompression bomb is refused at once instead of taking gigabytes. A
    decoder failure of any kind becomes a BadInputError naming the file.
    """
    path = Path(path)
    if data[:8] == b"\x89PNG\r\n\x1a\n" and PNG_END not in data[-32:]:
        raise BadInputError(path, "truncated PNG (the file ends before its IEND chunk)")
    check_encoded(path, data)
    try:
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:  # OpenCV's own size limit, or a decoder that throws
        reason = (getattr(exc, "err", "") or str(exc) or "decoder error").strip().splitlines()[-1]
        if "CV_IO_MAX_IMAGE_PIXELS" in reason:
            reason = "over OpenCV's own size limit; raise it with CV_IO_MAX_IMAGE_PIXELS as well"
        raise BadInputError(path, f"cannot be decoded ({reason})") from None
    except MemoryError:
        raise BadInputError(path, "too large to decode in the memory available") from None
    if arr is None:
        raise BadInputError(path, "not a readable image (corrupt or unsupported format)")
    return arr


def read_image(path: str | Path) -> np.ndarray:
    """Read a picture as RGB uint8 (H, W, 3); 16-bit images are scaled to 8."""
    path = Path(path)
    return decode_image(path, read_encoded(path))


def decode_image(path: str | Path, data: bytes) -> np.ndarray:
    """`read_image` for bytes already in memory (an upload); `path` only names them in errors."""
    path = Path(path)
    arr = decode(path, data, cv2.IMREAD_UNCHANGED)
    if arr.dtype == np.uint16:
        arr = (arr / 257.0 + 0.5).astype(np.uint8)
    elif arr.dtype != np.uint8:
        raise BadInputError(path, f"unsupported pixel type {arr.dtype}")
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    if arr.shape[2] == 4:
        return cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)


def encode_png(arr: np.ndarray, path: str | Path = "image.png") -> bytes:
    """Encode an array as PNG bytes (RGB arrays are given in RGB order)."""
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(arr), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise BadInputError(path, "cannot encode PNG")
    return buf.tobytes()


def write_image(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an RGB picture atomically; the suffix picks the format."""
    path = Path(path)
    suffix = path.suffix.lower() or ".png"
    if suffix == ".png":
        return atomic_write_bytes(path, encode_png(rgb, path))
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    ok, buf = cv2.imencode(suffix, bgr)
    if not ok:
        raise BadInputError(path, f"cannot encode {suffix} image")
    return atomic_write_bytes(path, buf.tobytes())
