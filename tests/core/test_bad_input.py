"""Hostile and absurd input: decompression bombs, huge class ids, CSV formula injection (issue 16).

Bombs are made small on disk by tests/bomb_files.py; the 60000x60000 ones make OpenCV raise
its own error at once, so these tests fail quickly (not by eating memory) on code that
does not check the header before decoding.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from bomb_files import jpeg_bomb, png_bomb

from seggui.cli import main
from seggui.core.classes import ClassTable
from seggui.core.csvfile import csv_text, safe_cell
from seggui.core.errors import BadInputError
from seggui.core.images import read_image
from seggui.core.imagesize import DEFAULT_MAX_PIXELS, ENV_MAX_PIXELS, max_pixels, set_max_pixels
from seggui.core.masks import read_mask, write_mask

CLASSES = {"name": "lot", "ignore_index": 255, "classes": [
    {"id": 0, "name": "ground", "color": [0, 0, 0]},
    {"id": 1, "name": "=HYPERLINK(\"http://x\")", "color": [255, 200, 0]},
    {"id": 2, "name": "road", "color": [128, 64, 128]}]}


def tiff_bomb(path: Path, width: int, height: int) -> Path:
    tifffile.imwrite(path, np.zeros((16, 16), np.uint8))
    with tifffile.TiffFile(path, mode="r+b") as tif:
        tif.pages[0].tags["ImageWidth"].overwrite(width)
        tif.pages[0].tags["ImageLength"].overwrite(height)
    return path


@pytest.mark.parametrize("make", [png_bomb, jpeg_bomb, tiff_bomb], ids=["png", "jpeg", "tiff"])
def test_bombs_are_refused_from_the_header(make, tmp_path: Path) -> None:
    bomb = make(tmp_path / f"bomb.{make.__name__[:4]}", 60000, 60000)
    for read in (read_image, read_mask):
        with pytest.raises(BadInputError) as err:
            read(bomb)
        assert err.value.path == bomb
        assert "60000x60000" in err.value.problem and ENV_MAX_PIXELS in err.value.problem


def test_30k_png_is_refused_without_decoding(tmp_path: Path) -> None:
    bomb = png_bomb(tmp_path / "b.png", 30000, 30000)
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(BadInputError, match="30000x30000 .*over the limit of 300 megapixels"):
        read_image(bomb)


def test_a_huge_file_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    import tracemalloc

    big = tmp_path / "ortho.tif"  # 400 MB of uncompressed pixels (a sparse file: no disk used)
    tifffile.imwrite(big, shape=(20000, 20000), dtype=np.uint8)
    assert big.stat().st_size > 400_000_000
    tracemalloc.start()
    try:
        with pytest.raises(BadInputError, match="20000x20000"):
            read_image(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # the header, not the file


def test_the_limit_can_be_raised_and_lowered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pic = tmp_path / "p.png"
    cv2.imwrite(str(pic), np.zeros((40, 50, 3), np.uint8))
    monkeypatch.setenv(ENV_MAX_PIXELS, "1999")
    with pytest.raises(BadInputError, match="50x40"):
        read_image(pic)
    monkeypatch.setenv(ENV_MAX_PIXELS, "2000")
    assert read_image(pic).shape == (40, 50, 3)
    monkeypatch.setenv(ENV_MAX_PIXELS, "lots")
    with pytest.raises(BadInputError, match=ENV_MAX_PIXELS):
        read_image(pic)
    monkeypatch.delenv(ENV_MAX_PIXELS)
    assert max_pixels() == DEFAULT_MAX_PIXELS
    try:
        set_max_pixels(100)  # a program setting; the environment variable still wins
        with pytest.raises(BadInputError, match="over the limit of 100 pixels"):
            read_mask(pic)
        monkeypatch.setenv(ENV_MAX_PIXELS, "1e9")
        assert read_mask(pic).shape == (40, 50)
    finally:
        set_max_pixels(None)


def test_decoder_errors_become_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = png_bomb(tmp_path / "b.png", 60000, 60000)
    monkeypatch.setenv(ENV_MAX_PIXELS, str(10**10))  # past our check: OpenCV's own limit throws
    with pytest.raises(BadInputError, match="b.png: cannot be decoded"):
        read_image(bomb)


def test_video_frame_size_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from seggui.core.media.video import VideoSource

    path = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for _ in range(3):
        w.write(np.zeros((48, 64, 3), np.uint8))
    w.release()
    monkeypatch.setenv(ENV_MAX_PIXELS, "1000")
    with pytest.raises(BadInputError, match="each video frame is 64x48"):
        VideoSource(path)


@pytest.fixture()
def lot(tmp_path: Path) -> Path:
    (tmp_path / "classes.json").write_text(json.dumps(CLASSES))
    for kind in ("gt", "pred"):
        write_mask(tmp_path / kind / "a.png", np.ones((20, 30), np.uint8))
        png_bomb(tmp_path / kind / "b.png", 60000, 60000)
        write_mask(tmp_path / kind / "c.png", np.full((20, 30), 2, np.uint8))
    return tmp_path


def test_area_folder_reports_the_bomb_and_carries_on(lot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lot / "area.csv"
    rc = main(["area", str(lot / "gt"), "--classes", str(lot / "classes.json"), "--quiet", "--csv", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "b.png" in err and "over the limit" in err
    rows = list(csv.DictReader(out.open()))
    assert sorted({r["mask"] for r in rows}) == ["a.png", "c.png"]
    # the class named like a formula goes out as text, not as a live formula
    names = {r["class"] for r in rows}
    assert "'=HYPERLINK(\"http://x\")" in names and not any(n.startswith("=") for n in names)


def test_eval_folder_reports_the_bomb_and_carries_on(lot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lot / "eval.csv"
    rc = main(["eval", "--pred", str(lot / "pred"), "--gt", str(lot / "gt"), "--classes",
               str(lot / "classes.json"), "-q", "--csv", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "b.png" in err and "over the limit" in err
    text = out.read_text()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_csv_cells_that_start_like_formulas_are_quoted() -> None:
    for bad in ("=1+1", "+cmd", "-cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(bad) == "'" + bad
    for fine in ("road", "-1.5", "+3", "", 7, -2.0, None):
        assert safe_cell(fine) == fine
    text = csv_text(["frame", "=bad px"], [["@f", -3], {"frame": "-x"}])
    assert list(csv.reader(text.splitlines())) == [["frame", "'=bad px"], ["'@f", "-3"], ["'-x", ""]]


def test_class_ids_beyond_the_table_limit_are_refused(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    big = {"name": "big", "classes": [{"id": 0, "name": "a", "color": [0, 0, 0]},
                                      {"id": 65535, "name": "b", "color": [1, 1, 1]}]}
    with pytest.raises(BadInputError, match="id 65535, outside 0..1023"):
        ClassTable.from_dict(big, "big.json")
    with pytest.raises(BadInputError, match="label_map label 99999999"):
        ClassTable.from_dict({**big, "classes": big["classes"][:1], "label_map": {"99999999": 0}})
    # through the CLI: one line naming the table, before any matrix is made
    big["classes"][1]["id"] = 4096
    (tmp_path / "big.json").write_text(json.dumps(big))
    for kind in ("gt", "pred"):
        write_mask(tmp_path / kind / "a.png", np.zeros((8, 8), np.uint8))
    rc = main(["eval", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--classes",
               str(tmp_path / "big.json"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "big.json" in err and "id 4096" in err


def test_report_skips_a_bomb_mask_and_quotes_formula_names(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from seggui.core.workspace import Workspace

    (tmp_path / "classes.json").write_text(json.dumps(CLASSES))
    ws = Workspace.create(tmp_path / "ws", str(tmp_path / "classes.json"), gsd=0.1)
    for name in ("a", "b"):
        pic = tmp_path / "pics" / f"{name}.png"
        pic.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(pic), np.zeros((20, 30, 3), np.uint8))
        ws.add_image(pic)
        ws.write_mask(name, "predicted", np.ones((20, 30), np.uint8))
    ws.save()
    png_bomb(ws.mask_path("b", "predicted"), 60000, 60000)
    out = tmp_path / "r.csv"
    rc = main(["report", str(ws.root), "--format", "csv", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0 and "not measured: b" in err and "60000x60000" in err
    rows = list(csv.reader(out.open()))
    assert [r[0] for r in rows[1:]] == ["a", "TOTAL"]
    assert any(c.startswith("'=HYPERLINK") for c in rows[0]) and not any(c.startswith("=") for c in rows[0])


def test_fuzzed_picture_headers_give_a_picture_or_a_clear_error(tmp_path: Path) -> None:
    """Random sizes and bytes in the PNG IHDR (its CRC made right again, so the decoder believes
    it) and in the JPEG start-of-frame: a picture, or a BadInputError naming the file."""
    import struct
    import zlib

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    png = bytearray(cv2.imencode(".png", np.zeros((8, 8), np.uint8))[1].tobytes())
    jpg = bytearray(cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    sof = jpg.index(b"\xff\xc0")

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(which=st.sampled_from(["png", "jpg"]), pos=st.integers(0, 12),
           value=st.binary(min_size=1, max_size=8))
    def check(which: str, pos: int, value: bytes) -> None:
        if which == "png":  # IHDR data is bytes 16..28: width, height, depth, colour type, ...
            data = bytearray(png)
            data[16 + pos:16 + min(13, pos + len(value))] = value[:13 - pos]
            data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
        else:  # SOF0: length, precision, height, width, components
            data = bytearray(jpg)
            data[sof + 2 + pos:sof + 2 + min(10, pos + len(value))] = value[:max(0, 10 - pos)]
        path = tmp_path / f"f.{which}"
        path.write_bytes(bytes(data))
        try:
            arr = read_image(path)
        except BadInputError as exc:
            assert exc.path == path and exc.problem
        else:
            assert arr.ndim == 3 and arr.shape[2] == 3 and arr.shape[0] * arr.shape[1] <= max_pixels()

    check()
