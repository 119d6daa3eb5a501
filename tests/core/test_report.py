"""Area reports: every format parses and carries the core's numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.cli import main
from seggui.core.area import area_per_class, find_regions
from seggui.core.confusion import ConfusionMatrix
from seggui.core.gsd import Gsd
from seggui.core.images import write_image
from seggui.core.jobs import run_job
from seggui.core.metrics import compute_metrics
from seggui.core.report import build_report
from seggui.core.report_formats import to_csv, to_html, to_json, write_report
from seggui.core.workspace import Workspace

GSD = 0.5


def _mask(h: int, w: int, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    for y, x, hh, ww in boxes:
        m[y:y + hh, x:x + ww] = 1
    return m


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    """Two pictures with predictions (one with ground truth) and a 4-frame drive."""
    rng = np.random.default_rng(0)
    w = Workspace.create(tmp_path / "ws", "parking-2", model="toy@1", gsd=GSD)
    for name in ("a", "b"):
        write_image(tmp_path / f"{name}.png", rng.integers(0, 255, (40, 60, 3), np.uint8))
    w.add_images([tmp_path / "a.png", tmp_path / "b.png"])
    w.write_mask("a", "predicted", _mask(40, 60, [(0, 0, 10, 10), (20, 30, 5, 8)]))
    w.write_mask("a", "ground_truth", _mask(40, 60, [(0, 0, 10, 12)]))
    w.write_mask("b", "predicted", _mask(40, 60, [(5, 5, 4, 4)]))
    w.write_mask("b", "corrected", _mask(40, 60, [(5, 5, 6, 6)]))
    video = tmp_path / "drive.avi"
    vw = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (60, 40))
    for _ in range(4):
        vw.write(rng.integers(0, 255, (40, 60, 3), np.uint8))
    vw.release()
    names = [f"drive_{i:06d}" for i in range(4)]
    w.add_video_frames(video, names)
    for i, fid in enumerate(names):
        w.write_mask(fid, "predicted", _mask(40, 60, [(0, 0, 2 + i, 10)]))
    return w


def test_report_numbers_equal_core_computations(ws: Workspace) -> None:
    report = run_job(build_report(ws))
    assert [f.frame for f in report.frames][:2] == ["a", "b"] and len(report.frames) == 6
    a = report.frames[0]
    pred = ws.read_mask("a", "predicted")
    gt = ws.read_mask("a", "ground_truth")
    area = area_per_class(pred, ws.classes, Gsd.square(GSD))
    assert a.parking["m2"] == pytest.approx(area.get(1).m2) == pytest.approx((100 + 40) * GSD**2)
    assert a.parking["regions"] == find_regions(pred, 1).count == 2
    assert a.parking["largest_m2"] == pytest.approx(100 * GSD**2)
    m = compute_metrics(ConfusionMatrix.for_table(ws.classes).update(pred, gt), ws.classes).to_dict()
    assert a.gt["parking_iou"] == pytest.approx(m["per_class_iou"]["parking"])
    assert a.gt["parking_symdiff_m2"] == pytest.approx((20 + 40) * GSD**2)  # 20 FN + 40 FP pixels
    assert a.gt["true_parking_m2"] == pytest.approx(120 * GSD**2)
    b = report.frames[1]
    assert b.mask_kind == "corrected" and b.parking["pixels"] == 36 and b.gt is None
    assert a.model == "toy@1" and "set by the user" in a.gsd.describe()
    drive = report.drives[str(ws.root.parent / "drive.avi")]
    assert [f.parking["pixels"] for f in drive] == [20, 30, 40, 50]
    t = report.totals()
    assert t["parking_m2"] == pytest.approx((140 + 36 + 140) * GSD**2)
    assert t["frames_with_ground_truth"] == 1 and t["mean_parking_iou"] == pytest.approx(a.gt["parking_iou"])


def test_three_formats_carry_the_same_numbers(ws: Workspace, tmp_path: Path) -> None:
    report = run_job(build_report(ws))
    data = json.loads(to_json(report))
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert len(rows) == len(report.frames) + 1 and rows[-1]["frame"] == "TOTAL"
    for row, frame in zip(rows, data["frames"], strict=False):
        assert row["frame"] == frame["frame"]
        assert float(row["parking_m2"]) == pytest.approx(frame["parking"]["m2"])
        assert float(row["parking m2"]) == pytest.approx(frame["parking"]["m2"])
    assert float(rows[-1]["parking_m2"]) == pytest.approx(data["totals"]["parking_m2"])
    assert float(rows[0]["parking_iou"]) == pytest.approx(data["frames"][0]["ground_truth"]["parking_iou"])
    page = to_html(report, ws)
    assert page.startswith("<!doctype html>") and "<svg" in page and "polyline" in page
    assert page.count("data:image/jpeg;base64,") == 6  # two pictures + the 4 sampled drive frames
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing external
    assert f"{data['totals']['parking_m2']:,.1f}" in page


def test_cli_writes_each_format(ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("csv", "json", "html"):
        out = tmp_path / f"r.{fmt}"
        assert main(["report", str(ws.root), "--format", fmt, "--out", str(out)]) == 0
        assert out.stat().st_size > 100
    assert "parking" in capsys.readouterr().out
    assert main(["report", str(ws.root), "--format", "json"]) == 0
    assert (ws.root / "reports" / "area-report.json").exists()
    assert main(["report", str(tmp_path / "nowhere")]) == 2


def test_bad_ground_truth_is_reported_and_others_measured(ws: Workspace) -> None:
    from seggui.core.masks import write_mask

    write_mask(ws.mask_path("a", "ground_truth"), np.zeros((10, 10), np.uint8))
    report = run_job(build_report(ws))
    assert [s["frame"] for s in report.skipped] == ["a"]
    assert "10x10" in report.skipped[0]["reason"] or "size" in report.skipped[0]["reason"]
    assert len(report.frames) == 5


def test_write_report_refuses_unknown_format(ws: Workspace, tmp_path: Path) -> None:
    from seggui.core.errors import BadInputError

    with pytest.raises(BadInputError, match="unknown report format"):
        write_report(run_job(build_report(ws)), "pdf", tmp_path / "x.pdf")


def test_reports_say_each_frame_status_and_round_their_floats(ws: Workspace) -> None:
    """Propagated frames are not called corrected; CSV cells are not float noise (walkthrough)."""
    from seggui.core.frame_record import FrameStatus

    ws.write_mask("drive_000001", "corrected", _mask(40, 60, [(0, 0, 3, 10)]))
    ws.frames["drive_000001"].status = FrameStatus.PROPAGATED
    ws.set_gsd(0.15)
    report = run_job(build_report(ws))
    by_id = {f.frame: f for f in report.frames}
    assert by_id["drive_000001"].mask_kind == "corrected" and by_id["drive_000001"].status == "propagated"
    assert json.loads(to_json(report))["frames"][3]["status"] == "propagated"
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert rows[3]["status"] == "propagated" and rows[-1]["source"] == "6 frames"
    cells = [v for r in rows for k, v in r.items() if k.endswith("m2") and v]
    assert cells and all(len(v.split(".")[-1]) <= 6 for v in cells), cells
    page = to_html(report)
    assert "<td>propagated</td>" in page and "measured m²" in page and "predicted m²" not in page
