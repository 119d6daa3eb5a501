"""Frame sources, the byte-bounded frame cache and threaded decoding, on real CamVid frames."""

from __future__ import annotations

import dataclasses
import random
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile

from seggui.core.errors import BadInputError, Cancelled
from seggui.core.images import read_image
from seggui.core.jobs import CancelToken
from seggui.core.media import (
    DEFAULT_SEQUENCE_FPS,
    FrameCache,
    Source,
    VideoSource,
    image_size,
    iter_frames_threaded,
    open_source,
)
from seggui.core.media.containers import video_truncated

N_FRAMES = 40
SIZE = (160, 120)  # (W, H) for cv2: small, so writing and decoding stay fast


@pytest.fixture(scope="module")
def drive_pngs(camvid: Path) -> list[Path]:
    files = sorted((camvid / "train").glob("0016E5_*.png"))[:N_FRAMES]
    assert len(files) == N_FRAMES
    return files


@pytest.fixture(scope="module")
def drive_frames(drive_pngs: list[Path]) -> list[np.ndarray]:
    """BGR frames as written to the test videos."""
    return [cv2.resize(cv2.imread(str(p)), SIZE, interpolation=cv2.INTER_AREA) for p in drive_pngs]


def _write_video(path: Path, frames: list[np.ndarray], fourcc: str, fps: float = 15.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, SIZE)
    assert writer.isOpened(), f"cannot write {fourcc} video"
    for f in frames:
        writer.write(f)
    writer.release()
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory, drive_frames: list[np.ndarray]) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("videos")
    return {
        "mp4v": _write_video(d / "drive.mp4", drive_frames, "mp4v"),
        "mp4v_avi": _write_video(d / "drive_avi.avi", drive_frames, "mp4v"),
        "mjpg": _write_video(d / "drive_mjpg.avi", drive_frames, "MJPG"),
    }


def _decode_all(path: Path) -> list[np.ndarray]:
    """Plain sequential decode with OpenCV: the reference every seek must match."""
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return out


# --- stills -------------------------------------------------------------------------------------


def test_open_image(drive_pngs: list[Path]) -> None:
    src = open_source(drive_pngs[0])
    assert (src.kind, len(src), src.frame_size, src.fps) == ("image", 1, (360, 480), None)
    assert src.name(0) == drive_pngs[0].stem
    np.testing.assert_array_equal(src.read(0), read_image(drive_pngs[0]))
    np.testing.assert_array_equal(src.read(-1), src.read(0))
    with pytest.raises(IndexError):
        src.read(1)


def test_open_sequence_by_pattern(camvid: Path) -> None:
    train = camvid / "train"
    expected = sorted(p for p in train.glob("*.png") if p.name.startswith("0016E5_"))
    src = open_source(train, pattern="0016E5_*")
    assert src.kind == "folder" and len(src) == len(expected) < len(list(train.glob("*.png")))
    assert [src.name(i) for i in range(len(src))] == [p.stem for p in expected]
    assert src.fps == DEFAULT_SEQUENCE_FPS and src.warning is None
    np.testing.assert_array_equal(src.read(7), read_image(expected[7]))
    assert open_source(train, pattern="0016E5_*", fps=15).fps == 15
    assert [i for i, _ in src.iter_frames(3, 6)] == [3, 4, 5]


def test_open_whole_folder(camvid: Path) -> None:
    src = open_source(camvid / "val")
    assert src.kind == "folder" and len(src) == 101 and src.frame_size == (360, 480)


def test_mixed_sizes_are_reported_and_refused(tmp_path: Path, drive_frames: list[np.ndarray]) -> None:
    for i, f in enumerate(drive_frames[:5]):
        cv2.imwrite(str(tmp_path / f"f{i:02d}.png"), f)
    cv2.imwrite(str(tmp_path / "f05.jpg"), cv2.resize(drive_frames[5], (200, 100)))
    cv2.imwrite(str(tmp_path / "f06.png"), drive_frames[6][:60])
    (tmp_path / "f07.png").write_bytes((tmp_path / "f00.png").read_bytes()[:300])  # truncated
    src = open_source(tmp_path)
    assert len(src) == 8 and src.frame_size == (120, 160)
    assert sorted(src.bad_frames) == [5, 6, 7]
    assert src.warning is not None and str(tmp_path) in src.warning
    for name in ("f05.jpg is 200x100", "f06.png is 160x60", "f07.png cannot be read"):
        assert name in src.warning
    with pytest.raises(BadInputError, match="f05.jpg") as err:
        src.read(5)
    assert err.value.path == tmp_path / "f05.jpg"
    np.testing.assert_array_equal(src.read(4), drive_frames[4][:, :, ::-1])


def test_empty_missing_and_unmatched(tmp_path: Path, camvid: Path) -> None:
    with pytest.raises(BadInputError, match="no pictures in the folder"):
        open_source(tmp_path)
    with pytest.raises(BadInputError, match="not found"):
        open_source(tmp_path / "nope.mp4")
    with pytest.raises(BadInputError, match="XYZ_"):
        open_source(camvid / "train", pattern="XYZ_*")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(BadInputError, match="unsupported file type"):
        open_source(tmp_path / "notes.txt")


def test_header_sizes_match_decoding(tmp_path: Path, drive_frames: list[np.ndarray]) -> None:
    img = cv2.resize(drive_frames[0], (131, 77))
    for suffix in (".png", ".jpg", ".bmp", ".webp"):
        cv2.imwrite(str(tmp_path / f"a{suffix}"), img)
        assert image_size(tmp_path / f"a{suffix}") == (77, 131), suffix
    tifffile.imwrite(tmp_path / "a.tif", img)
    assert image_size(tmp_path / "a.tif") == (77, 131)
    progressive = tmp_path / "p.jpg"
    cv2.imwrite(str(progressive), img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert image_size(progressive) == (77, 131)


# --- video --------------------------------------------------------------------------------------


def test_open_video(videos: dict[str, Path]) -> None:
    with open_source(videos["mp4v"]) as src:
        assert isinstance(src, VideoSource)
        assert (src.kind, len(src), src.frame_size, src.fps) == ("video", N_FRAMES, (120, 160), 15.0)
        assert src.name(3) == "drive_000003" and src.warning is None
        assert src.read(0).dtype == np.uint8 and src.read(0).shape == (120, 160, 3)


@pytest.mark.parametrize("kind", ["mp4v", "mp4v_avi", "mjpg"])
def test_seek_is_frame_accurate(videos: dict[str, Path], drive_frames: list[np.ndarray], kind: str) -> None:
    reference = _decode_all(videos[kind])
    assert len(reference) == N_FRAMES
    assert not np.array_equal(reference[10], reference[11])  # neighbours differ: an off-by-one shows
    src = open_source(videos[kind])
    assert src.seek_exact
    rng = random.Random(7)
    order = [rng.randrange(N_FRAMES) for _ in range(60)] + list(range(N_FRAMES - 1, -1, -1))
    for i in order:
        np.testing.assert_array_equal(src.read(i), reference[i], err_msg=f"{kind} frame {i}")
    got = list(src.iter_frames(11, 29))
    assert [i for i, _ in got] == list(range(11, 29))
    for i, frame in got:
        np.testing.assert_array_equal(frame, reference[i])
    # frame i of the video is CamVid frame i: closest to its own picture among its neighbours
    for i in (0, 17, 39):
        dists = [np.abs(src.read(i).astype(int) - drive_frames[j][:, :, ::-1]).mean()
                 for j in range(max(0, i - 2), min(N_FRAMES, i + 3))]
        assert int(np.argmin(dists)) == i - max(0, i - 2)
    src.close()
    np.testing.assert_array_equal(src.read(5), reference[5])  # reopens after close


def test_fallback_when_seeking_is_inexact(videos: dict[str, Path]) -> None:
    """Where the probe finds seeks inexact, reads decode forward and still match."""
    reference = _decode_all(videos["mp4v"])
    src = open_source(videos["mp4v"])
    src.index = dataclasses.replace(src.index, seek_exact=False)
    for i in (30, 2, 25, 26, 13, 39, 0):
        np.testing.assert_array_equal(src.read(i), reference[i])


@pytest.mark.parametrize(("kind", "keep"), [("mp4v_avi", 0.6), ("mjpg", 0.6), ("mp4v_avi", 0.99)])
def test_truncated_video_opens_up_to_the_damage(tmp_path: Path, videos: dict[str, Path], kind: str,
                                                keep: float) -> None:
    """Frames before the cut read exactly as in the whole file; the cut-off frame is left out."""
    assert video_truncated(videos[kind]) is False
    cut = tmp_path / "cut.avi"
    data = videos[kind].read_bytes()
    cut.write_bytes(data[:int(len(data) * keep)])
    assert video_truncated(cut) is True
    src = open_source(cut)
    n = len(src)
    assert 0 < n < N_FRAMES
    assert src.warning is not None and str(cut) in src.warning and f"frame {n} " in src.warning
    reference = _decode_all(videos[kind])
    for i in range(n):
        np.testing.assert_array_equal(src.read(i), reference[i], err_msg=f"frame {i}")
    with pytest.raises(IndexError):
        src.read(n)
    assert [i for i, _ in src.iter_frames()] == list(range(n))


def test_truncated_mp4_names_its_missing_index(tmp_path: Path, videos: dict[str, Path]) -> None:
    cut = tmp_path / "cut.mp4"
    data = videos["mp4v"].read_bytes()
    cut.write_bytes(data[:int(len(data) * 0.6)])  # OpenCV writes the moov index last
    with pytest.raises(BadInputError, match="moov") as err:
        open_source(cut)
    assert err.value.path == cut


def test_unsupported_codec_and_garbage_are_named(tmp_path: Path, videos: dict[str, Path]) -> None:
    data = bytearray(videos["mjpg"].read_bytes())
    head = bytes(data[:4096]).replace(b"MJPG", b"ZZZZ")
    data[:4096] = head
    odd = tmp_path / "odd.avi"
    odd.write_bytes(bytes(data))
    with pytest.raises(BadInputError, match="codec 'ZZZZ'") as err:
        open_source(odd)
    assert err.value.path == odd
    junk = tmp_path / "junk.mkv"
    junk.write_bytes(b"not a video at all " * 200)
    with pytest.raises(BadInputError, match="not a readable video"):
        open_source(junk)
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    with pytest.raises(BadInputError, match="empty"):
        open_source(empty)


# --- cache --------------------------------------------------------------------------------------


def test_cache_is_bounded_by_bytes_and_least_recently_used(videos: dict[str, Path]) -> None:
    src = open_source(videos["mp4v"])
    frame_bytes = 120 * 160 * 3
    cache = FrameCache(src, max_bytes=int(3.5 * frame_bytes))
    for i in (0, 1, 2):
        cache.get(i)
    np.testing.assert_array_equal(cache.get(0), src.read(0))  # hit; 0 becomes most recent
    cache.get(3)  # evicts 1, the least recently used
    assert cache.keys() == [2, 0, 3] and 1 not in cache
    st = cache.stats
    assert (st.hits, st.misses, st.evictions, st.frames) == (1, 4, 1, 3)
    assert st.bytes == 3 * frame_bytes <= st.max_bytes and st.peak_bytes <= st.max_bytes
    with pytest.raises(ValueError):
        cache.get(2)[0, 0, 0] = 1  # shared frames are read-only
    for i in range(N_FRAMES):
        cache.get(i)
        assert cache.stats.bytes <= cache.max_bytes
    tiny = FrameCache(src, max_bytes=frame_bytes - 1)  # one frame is larger than the bound
    assert tiny.get(5).shape == (120, 160, 3) and len(tiny) == 0 and tiny.stats.bytes == 0


def test_cache_is_thread_safe(videos: dict[str, Path]) -> None:
    src = open_source(videos["mp4v"])
    reference = _decode_all(videos["mp4v"])
    cache = FrameCache(src, max_bytes=8 * 120 * 160 * 3)
    errors: list[str] = []

    def browse(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(60):
            i = rng.randrange(N_FRAMES)
            if not np.array_equal(cache.get(i), reference[i]):
                errors.append(f"frame {i}")

    threads = [threading.Thread(target=browse, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st = cache.stats
    assert errors == [] and st.hits + st.misses == 240 and st.peak_bytes <= st.max_bytes


# --- threaded decoding --------------------------------------------------------------------------


def _decoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("decode ")]


def test_threaded_iteration_matches_in_order(videos: dict[str, Path], camvid: Path) -> None:
    for src in (open_source(videos["mp4v"]), open_source(camvid / "train", pattern="0016E5_*")):
        expected = list(src.iter_frames(5, 35))
        got = list(iter_frames_threaded(src, 5, 35, queue_size=2))
        assert [i for i, _ in got] == list(range(5, 35))
        for (_, a), (_, b) in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a, b)
    it = iter_frames_threaded(open_source(videos["mp4v"]), queue_size=1)
    next(it)
    it.close()  # the consumer walks away: the decoder thread stops
    assert _decoder_threads() == []


def test_threaded_iteration_cancels_and_forwards_errors(videos: dict[str, Path]) -> None:
    token = CancelToken()
    seen = []
    with pytest.raises(Cancelled):
        for i, _ in iter_frames_threaded(open_source(videos["mp4v"]), cancel=token, queue_size=2):
            seen.append(i)
            if i == 4:
                token.cancel()
    assert seen == [0, 1, 2, 3, 4] and _decoder_threads() == []

    class Breaks(Source):
        """Three good frames, then a damaged one."""

        path, kind, frame_size, fps = Path("broken.avi"), "video", (2, 2), 1.0

        def __len__(self) -> int:
            return 10

        def _read(self, index: int) -> np.ndarray:
            if index == 3:
                raise BadInputError(self.path, "frame 3 cannot be decoded")
            return np.full((2, 2, 3), index, np.uint8)

        def name(self, index: int) -> str:
            return str(index)

    got = []
    with pytest.raises(BadInputError, match="frame 3"):
        for i, _ in iter_frames_threaded(Breaks()):
            got.append(i)
    assert got == [0, 1, 2] and _decoder_threads() == []


def test_threaded_iteration_can_skip_bad_frames(tmp_path: Path, drive_frames: list[np.ndarray]) -> None:
    """A folder run reports the corrupt and odd-sized pictures and carries on past them."""
    for i, f in enumerate(drive_frames[:6]):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), f if i < 4 else f[:50])  # f4, f5 odd-sized
    (tmp_path / "f2.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    src = open_source(tmp_path)
    bad: list[tuple[int, str]] = []
    got = [i for i, _ in iter_frames_threaded(src, on_bad=lambda i, e: bad.append((i, e.path.name)))]
    assert got == [0, 1, 3] and bad == [(2, "f2.png"), (4, "f4.png"), (5, "f5.png")]
    assert [i for i, _ in iter_frames_threaded(src, 5, 5)] == []
