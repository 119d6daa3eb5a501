"""Thumbnails on real CamVid (PNG, landscape) and Houston (JPEG, portrait) pictures, and their disk cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

import seggui.core.thumbnails as thumbnails
from seggui.core.errors import BadInputError
from seggui.core.images import read_image, write_image
from seggui.core.thumbnails import ThumbnailCache, make_thumbnail, read_small


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture
def camvid_png(camvid: Path) -> Path:
    return sorted((camvid / "val").glob("*.png"))[0]


@pytest.fixture
def houston_jpg(houston: Path) -> Path:
    return sorted((houston / "images").glob("*.jpg"))[0]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every picture the cache decodes, by path."""
    calls: list[Path] = []
    real = thumbnails.read_small

    def counting(path: str | Path, max_side: int = thumbnails.DEFAULT_MAX_SIDE) -> np.ndarray:
        calls.append(Path(path))
        return real(path, max_side)

    monkeypatch.setattr(thumbnails, "read_small", counting)
    return calls


def test_make_thumbnail_keeps_aspect_and_never_enlarges(camvid_png: Path, houston_jpg: Path) -> None:
    street = read_image(camvid_png)  # 480x360, landscape
    assert street.shape == (360, 480, 3)
    assert make_thumbnail(street, 64).shape == (48, 64, 3)
    assert make_thumbnail(street, 128).shape == (96, 128, 3)
    aerial = read_image(houston_jpg)  # 750x1000, portrait
    assert aerial.shape[:2] == (1000, 750)
    assert make_thumbnail(aerial, 128).shape == (128, 96, 3)
    # INTER_AREA averages: the thumbnail's mean colour is the picture's
    assert np.allclose(make_thumbnail(aerial, 128).mean(axis=(0, 1)), aerial.mean(axis=(0, 1)), atol=2)
    small = make_thumbnail(street, 48)
    assert make_thumbnail(small, 128).shape == small.shape  # no invented pixels
    assert make_thumbnail(street[..., 0], 64).shape == (48, 64)  # grey works too
    with pytest.raises(ValueError):
        make_thumbnail(street, 0)
    with pytest.raises(ValueError):
        make_thumbnail(np.zeros((0, 5, 3), np.uint8), 64)


def test_big_jpeg_is_decoded_reduced_and_looks_the_same(houston_jpg: Path, monkeypatch) -> None:
    full = make_thumbnail(read_image(houston_jpg), 128)

    def no_full_decode(path: str | Path) -> np.ndarray:
        raise AssertionError(f"{path} was decoded at full size")

    monkeypatch.setattr(thumbnails, "read_image", no_full_decode)
    flags: list[int] = []
    real_decode = thumbnails.decode
    monkeypatch.setattr(thumbnails, "decode", lambda p, d, f: flags.append(f) or real_decode(p, d, f))
    small = read_small(houston_jpg, 128)
    assert small.shape == full.shape == (128, 96, 3)
    assert flags == [cv2.IMREAD_REDUCED_COLOR_4 | cv2.IMREAD_IGNORE_ORIENTATION]  # 1000 / 4 >= 128 > 1000 / 8
    assert _diff(small, full) < 4  # DCT scaling then INTER_AREA: the same picture


def test_png_is_read_whole_then_shrunk(camvid_png: Path) -> None:
    small = read_small(camvid_png, 64)
    assert small.shape == (48, 64, 3)
    assert np.array_equal(small, make_thumbnail(read_image(camvid_png), 64))


def test_cache_stores_once_and_reuses(tmp_path: Path, camvid_png: Path, houston_jpg: Path,
                                      counted: list[Path]) -> None:
    folder = tmp_path / "ws" / "thumbnails"
    cache = ThumbnailCache(folder)
    first = cache.get("street", camvid_png)
    assert first is not None and first.shape == (96, 128, 3)
    assert counted == [camvid_png] and (cache.hits, cache.misses) == (0, 1)
    files = list(folder.glob("street.*.jpg"))
    assert len(files) == 1 and files[0] == cache.path("street", camvid_png)
    again = cache.get("street", camvid_png)
    assert counted == [camvid_png] and (cache.hits, cache.misses) == (1, 1)
    assert _diff(again, first) < 3.5  # the same picture, through a small JPEG
    # a second session (a new cache object on the same folder) reads the files, decodes nothing
    reopened = ThumbnailCache(folder)
    assert reopened.get("street", camvid_png) is not None
    assert reopened.get("aerial", houston_jpg).shape == (128, 96, 3)
    assert reopened.get("aerial", houston_jpg) is not None
    assert counted == [camvid_png, houston_jpg] and (reopened.hits, reopened.misses) == (2, 1)
    # another thumbnail size is another thumbnail
    assert ThumbnailCache(folder, max_side=64).get("street", camvid_png).shape == (48, 64, 3)
    assert len(list(folder.glob("street.*.jpg"))) == 2


def test_rewritten_picture_gets_a_new_thumbnail(tmp_path: Path, camvid_png: Path,
                                                counted: list[Path]) -> None:
    picture = tmp_path / "pics" / "frame.png"
    picture.parent.mkdir()
    shutil.copy(camvid_png, picture)
    cache = ThumbnailCache(tmp_path / "thumbnails")
    assert cache.get("frame", picture).shape == (96, 128, 3)
    old = cache.path("frame", picture)
    st = picture.stat()
    write_image(picture, read_image(camvid_png)[:, :360])  # the analyst crops it square, in place
    os.utime(picture, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert cache.path("frame", picture) != old
    assert cache.get("frame", picture).shape == (128, 128, 3)
    assert counted == [picture, picture]
    assert not old.exists()  # the stale thumbnail went
    assert [p.name for p in (tmp_path / "thumbnails").glob("*.jpg")] == [cache.path("frame", picture).name]


def test_bad_pictures_give_none_and_nothing_cached(tmp_path: Path, camvid_png: Path) -> None:
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    truncated = tmp_path / "truncated.jpg"
    whole = write_image(tmp_path / "whole.jpg", read_image(camvid_png))
    truncated.write_bytes(whole.read_bytes()[:200])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    cache = ThumbnailCache(tmp_path / "thumbnails")
    for path in (corrupt, truncated, empty, tmp_path / "missing.png"):
        assert cache.get(path.stem, path) is None, path
    assert not any((tmp_path / "thumbnails").glob("*.jpg"))
    with pytest.raises(BadInputError):
        read_small(corrupt)  # the reader names the fault; only the cache turns it into None

    def broken_frame() -> np.ndarray:
        raise BadInputError(camvid_png, "frame 7 cannot be decoded")

    assert cache.get("drive_7", camvid_png, index=7, read=broken_frame) is None


def test_frames_of_one_file_and_odd_ids(tmp_path: Path, camvid_png: Path) -> None:
    cache = ThumbnailCache(tmp_path / "thumbnails")
    frame = read_image(camvid_png)
    a = cache.get("v_000000", camvid_png, index=0, read=lambda: frame)
    b = cache.get("v_000001", camvid_png, index=1, read=lambda: frame[::-1])
    assert a is not None and b is not None and _diff(a, b) > 10
    assert cache.path("x", camvid_png, 0) != cache.path("x", camvid_png, 1)  # the index is in the key
    # an id that is not a plain file name never leads outside the folder
    odd = cache.path("../../evil/name", camvid_png)
    assert odd.parent == tmp_path / "thumbnails" and odd.name.startswith("id-")
    assert cache.get("../../evil/name", camvid_png) is not None
    assert not (tmp_path / "evil").exists()


def test_unwritable_cache_still_gives_thumbnails(tmp_path: Path, camvid_png: Path) -> None:
    blocker = tmp_path / "thumbnails"
    blocker.write_text("a file where the folder should be")
    cache = ThumbnailCache(blocker)
    thumb = cache.get("street", camvid_png)
    assert thumb is not None and thumb.shape == (96, 128, 3)
    assert cache.store("street", camvid_png, thumb) is None
