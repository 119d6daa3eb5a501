"""The drive pipeline and `seggui infer` on a video made from CamVid 0016E5 frames."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from engine_helpers import make_card

from seggui.cli import main
from seggui.core.images import list_images, read_image, write_image
from seggui.core.jobs import CancelToken, run_job
from seggui.core.masks import read_mask
from seggui.core.media import open_source
from seggui.core.outputs import FolderOutputs
from seggui.engine.pipeline import run_pipeline
from seggui.engine.predictor import load_predictor

N = 12
HW = (96, 128)


@pytest.fixture(scope="module")
def drive(tmp_path_factory, camvid: Path) -> Path:
    """A 12-frame MJPG video of consecutive 0016E5 frames at 96x128."""
    files = [f for f in list_images(camvid / "train") if f.name.startswith("0016E5_")][:N]
    path = tmp_path_factory.mktemp("drive") / "drive.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (HW[1], HW[0]))
    for f in files:
        w.write(cv2.resize(cv2.imread(str(f)), (HW[1], HW[0]), interpolation=cv2.INTER_AREA))
    w.release()
    return path


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return make_card(tmp_path_factory.mktemp("card") / "tiny")


def test_pipeline_equals_per_frame_prediction_and_resumes(drive: Path, card, tmp_path: Path) -> None:
    src = open_source(drive)
    out = FolderOutputs(tmp_path / "out", card.classes)
    with load_predictor(card, "torch", "cpu", batch_size=3) as pred:
        token = CancelToken()
        job = run_pipeline(pred, src, out, skip=out.done, token=token)
        steps = 0
        with pytest.raises(Exception) as stop:
            for p in job:
                steps += 1
                if p.done >= 6:
                    token.cancel()
        assert type(stop.value).__name__ == "Cancelled"
        first = sorted(out.masks.glob("*.png"))
        assert 6 <= len(first) < N
        stamps = {p.name: p.stat().st_mtime_ns for p in first}
        result = run_job(run_pipeline(pred, src, out, skip=out.done))
        assert sorted(result.skipped) == list(range(len(first)))  # resumed, not redone
        assert len(result.written) == N - len(first) and not result.failed
        assert {p.name: p.stat().st_mtime_ns for p in first} == stamps
        masks = sorted(out.masks.glob("*.png"))
        assert [m.stem for m in masks] == [src.name(i) for i in range(N)]
        for i in (0, 7, N - 1):  # batched, threaded pipeline == one frame at a time
            assert np.array_equal(read_mask(masks[i]), pred.predict(src.read(i)).labels)


def test_infer_cli_writes_masks_csv_and_overlay_video(drive: Path, card, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    video = tmp_path / "overlay.mp4"
    rc = main(["infer", str(drive), "--model", str(card.folder), "--backend", "torch", "--out", str(out),
               "--overlay-video", str(video), "--gsd", "0.1", "--confidence", "--batch", "4"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["written"] == N and summary["device"] == "torch · CPU"
    assert len(list((out / "masks").glob("*.png"))) == N
    assert len(list((out / "confidence").glob("*.png"))) == N
    rows = list(csv.DictReader(open(out / "areas.csv")))
    assert len(rows) == N and rows[0]["gsd_m_per_px"] == "0.1"
    m0 = read_mask(out / "masks" / f"{rows[0]['frame']}.png")
    road = int((m0 == 3).sum())
    assert int(rows[0]["Road px"]) == road and float(rows[0]["Road m2"]) == pytest.approx(road * 0.01)
    cap = cv2.VideoCapture(str(video))
    count = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        assert frame.shape[:2] == HW
        count += 1
    assert count == N
    # a second run resumes: nothing to redo
    assert main(["infer", str(drive), "--model", str(card.folder), "--backend", "torch",
                 "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["skipped_as_done"] == N


def test_folder_with_a_corrupt_picture_carries_on(card, camvid: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "pics"
    for f in list_images(camvid / "val")[:3]:
        write_image(folder / f.name, cv2.resize(read_image(f), (HW[1], HW[0])))
    (folder / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    rc = main(["infer", str(folder), "--model", str(card.folder), "--backend", "torch",
               "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert rc == 1
    summary = json.loads(captured.out)
    assert summary["written"] == 3 and summary["failed"][0]["frame"] == "zz_broken"
    assert "zz_broken" in captured.err
