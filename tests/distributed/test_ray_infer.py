"""`seggui infer --ray`: a local Ray with two workers, against the single-process run (no mocks).

One Ray session for the module (start-up takes seconds on two cores); each
pool of two predictor actors loads camvid-small once.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the distributed extra is missing: pip install 'seggui[distributed]'")

from seggui.cli import main  # noqa: E402
from seggui.core.images import list_images, read_image  # noqa: E402
from seggui.core.masks import read_mask  # noqa: E402

pytestmark = pytest.mark.slow
MODEL = "camvid-small"


@pytest.fixture(scope="module", autouse=True)
def ray_session():  # type: ignore[no-untyped-def]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def pictures(camvid: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five real CamVid pictures at half size (a folder of their own, to keep the runs short)."""
    folder = tmp_path_factory.mktemp("camvid5")
    for src in list_images(camvid / "val")[:5]:
        img = cv2.imread(str(src))
        cv2.imwrite(str(folder / src.name), cv2.resize(img, (240, 180), interpolation=cv2.INTER_AREA))
    return folder


def _infer(source: Path, out: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["infer", str(source), "--model", MODEL, "--out", str(out), "--threads", "1", *extra])
    return rc, json.loads(capsys.readouterr().out)


def _same_outputs(a: Path, b: Path) -> int:
    names = sorted(p.name for p in (a / "masks").glob("*.png"))
    assert names and names == sorted(p.name for p in (b / "masks").glob("*.png"))
    for n in names:
        np.testing.assert_array_equal(read_mask(a / "masks" / n), read_mask(b / "masks" / n), err_msg=n)
    assert (a / "areas.csv").read_text() == (b / "areas.csv").read_text()
    return len(names)


def test_ray_run_of_camvid_pictures_equals_the_single_process_run_and_resumes(
        pictures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, single = _infer(pictures, tmp_path / "single", capsys=capsys)
    assert rc == 0 and single["written"] == 5
    rc, spread = _infer(pictures, tmp_path / "ray", "--ray", "--workers", "2", "--confidence", capsys=capsys)
    assert rc == 0 and spread["written"] == 5 and spread["failed"] == []
    assert _same_outputs(tmp_path / "single", tmp_path / "ray") == 5
    assert len(list((tmp_path / "ray" / "confidence").glob("*.png"))) == 5
    # a second run resumes: every frame is already done, nothing is predicted again
    rc, again = _infer(pictures, tmp_path / "ray", "--ray", "--workers", "2", "--confidence", capsys=capsys)
    assert rc == 0 and again["written"] == 0 and again["skipped_as_done"] == 5


def test_ray_run_of_a_generated_video_equals_the_single_process_run(
        pictures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = tmp_path / "drive.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (240, 180))
    for k in range(6):  # the pictures, shifted a little each frame, as a short drive
        frame = cv2.imread(str(list_images(pictures)[k % 5]))
        writer.write(np.roll(frame, 4 * k, axis=1))
    writer.release()
    rc, single = _infer(video, tmp_path / "single", capsys=capsys)
    assert rc == 0 and single["written"] == 6
    rc, spread = _infer(video, tmp_path / "ray", "--ray", "--workers", "2", capsys=capsys)
    assert rc == 0 and spread["written"] == 6
    assert _same_outputs(tmp_path / "single", tmp_path / "ray") == 6


def test_a_lost_worker_is_replaced_and_its_frames_retried(pictures: Path) -> None:
    from seggui.core.media import open_source
    from seggui.distributed.ray_infer import RayRun
    from seggui.engine.card import resolve_model
    from seggui.engine.predictor import load_predictor

    source = open_source(pictures)
    pool = RayRun(resolve_model(MODEL), {"threads": 1}, workers=2)
    got: dict[str, np.ndarray] = {}
    errors: list[str] = []
    try:
        pool.start()
        job = pool.run(source, lambda i, name, frame, pred: got.__setitem__(name, pred.labels))
        killed = False
        while True:
            try:
                p = next(job)
            except StopIteration as stop:
                result = stop.value
                break
            if p.error:
                errors.append(p.error)
            if not killed and p.done >= 1:  # a worker dies with frames queued on it
                ray.kill(pool.actors[0], no_restart=True)
                killed = True
    finally:
        pool.close()
    assert result.failed == [] and result.written == list(range(5))
    assert any("worker 0 lost" in e and "retrying" in e for e in errors), errors
    with load_predictor(MODEL, threads=1) as local:
        for i in range(5):
            want = local.predict(read_image(source.frame_path(i)), confidence=False).labels
            np.testing.assert_array_equal(got[source.name(i)], want)


def test_an_unreadable_last_picture_is_reported_by_the_ray_run_as_by_the_local_one(
        pictures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    for src in list_images(pictures)[:2]:
        (folder / src.name).write_bytes(src.read_bytes())
    (folder / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")  # the last frame of the run
    for extra in ((), ("--ray", "--workers", "2")):
        capsys.readouterr()
        rc = main(["infer", str(folder), "--model", MODEL, "--out", str(tmp_path / f"o{len(extra)}"),
                   "--threads", "1", *extra])
        captured = capsys.readouterr()
        summary = json.loads(captured.out)
        assert rc == 1 and summary["written"] == 2, extra
        assert [f["frame"] for f in summary["failed"]] == ["zz_broken"], extra
        assert "zz_broken" in captured.err, extra
