"""`seggui eval` and the evaluation job on real CamVid masks, and every bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from seggui.cli import main
from seggui.core.classes import ClassTable, load_classes
from seggui.core.confusion import ConfusionMatrix
from seggui.core.errors import BadInputError, Cancelled
from seggui.core.evaluation import evaluate_folders, pair_files
from seggui.core.jobs import CancelToken, run_job
from seggui.core.masks import read_mask, write_color_mask, write_mask
from seggui.core.metrics import compute_metrics

Folders = tuple[ClassTable, Path, Path, dict[str, tuple[np.ndarray, np.ndarray]]]


@pytest.fixture()
def folders(camvid: Path, tmp_path: Path) -> Folders:
    """tmp gt/ (6 CamVid val masks) and pred/ (shifted copies; two saved as colour masks)."""
    table = load_classes(camvid / "classes.json")
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, src in enumerate(sorted((camvid / "valannot").glob("*.png"))[::20][:6]):
        gt = read_mask(src, table)
        pred = np.roll(gt, 5 + 3 * i, axis=1)
        write_mask(gt_dir / src.name, gt)
        if i < 2:
            write_color_mask(pred_dir / src.name, pred, table)
        else:
            write_mask(pred_dir / src.name, pred)
        pairs[src.name] = (pred, gt)
    return table, gt_dir, pred_dir, pairs


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["eval", "-q", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_writes_json_and_csv_that_match_the_core_computation(folders, tmp_path, capsys) -> None:
    table, gt_dir, pred_dir, pairs = folders
    js, cs = tmp_path / "out" / "m.json", tmp_path / "out" / "m.csv"
    rc, out, err = _run(capsys, "--pred", str(pred_dir), "--gt", str(gt_dir),
                        "--classes", str(table.source), "--json", str(js), "--csv", str(cs))
    assert rc == 0, err
    cm = ConfusionMatrix.for_table(table)
    for pred, gt in pairs.values():
        cm.update(pred, gt)
    core = compute_metrics(cm, table)
    data = json.loads(js.read_text())
    assert data["n_images"] == 6 and data["problems"] == []
    assert data["miou"] == pytest.approx(core.miou, abs=1e-12)
    assert 0.3 < data["miou"] < 1.0
    assert data["pixel_accuracy"] == pytest.approx(core.pixel_accuracy, abs=1e-12)
    assert data["confusion_matrix"] == core.confusion.tolist()
    for name, cid in data["class_ids"].items():
        j = core.ids.index(cid)
        want = core.iou[j]
        got = data["per_class_iou"][name]
        assert (got is None and math.isnan(want)) or got == pytest.approx(want, abs=1e-12)
        assert data["symdiff_px"][name] == int(core.symdiff_px[j])
    assert len(data["images"]) == 6 and data["mean_per_image_iou"] is not None
    rows = list(csv.DictReader(cs.open()))
    assert [r["name"] for r in rows] == [*core.names, "mean"]
    assert float(rows[-1]["iou"]) == pytest.approx(core.miou, abs=1e-6)
    assert "mIoU" in out and "Building" in out


def test_missing_prediction_is_named_and_the_rest_is_scored(folders, tmp_path, capsys) -> None:
    table, gt_dir, pred_dir, _ = folders
    victim = sorted(pred_dir.iterdir())[3]
    victim.unlink()
    js = tmp_path / "m.json"
    rc, _, err = _run(capsys, "--pred", str(pred_dir), "--gt", str(gt_dir),
                      "--classes", str(table.source), "--json", str(js))
    assert rc == 1
    assert f"no prediction named {victim.stem}.*" in err
    data = json.loads(js.read_text())
    assert data["n_images"] == 5 and len(data["problems"]) == 1
    assert data["problems"][0]["file"].endswith(victim.name)


def test_truncated_png_is_named(folders, capsys) -> None:
    table, gt_dir, pred_dir, _ = folders
    victim = sorted(pred_dir.iterdir())[2]
    victim.write_bytes(victim.read_bytes()[:500])
    rc, out, err = _run(capsys, "--pred", str(pred_dir), "--gt", str(gt_dir), "--classes", str(table.source))
    assert rc == 1
    assert f"{victim}: truncated PNG" in err
    assert "5 images" in out


def test_size_mismatch_names_both_sizes_and_the_file(folders, capsys) -> None:
    table, gt_dir, pred_dir, pairs = folders
    name = sorted(pairs)[4]
    write_mask(pred_dir / name, pairs[name][0][:300, :400])
    rc, _, err = _run(capsys, "--pred", str(pred_dir), "--gt", str(gt_dir), "--classes", str(table.source))
    assert rc == 1
    assert f"{pred_dir / name}: prediction is 400x300 but ground truth {name} is 480x360" in err


def test_ids_outside_the_table_are_named(folders, capsys) -> None:
    table, gt_dir, pred_dir, pairs = folders
    name = sorted(pairs)[5]
    bad = pairs[name][0].copy()
    bad[:2, :3] = 42
    write_mask(pred_dir / name, bad)
    rc, _, err = _run(capsys, "--pred", str(pred_dir), "--gt", str(gt_dir), "--classes", str(table.source))
    assert rc == 1
    assert f"{pred_dir / name}: class ids not in the" in err and "42 (6 px)" in err


def test_empty_ground_truth_folder_exits_2_with_one_line(tmp_path, capsys) -> None:
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    rc, _, err = _run(capsys, "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"),
                      "--classes", "camvid-11")
    assert rc == 2
    assert err.strip().count("\n") == 0 and "no mask files" in err


def test_missing_folder_and_no_pairs_exit_2(folders, tmp_path, capsys) -> None:
    table, gt_dir, _, _ = folders
    rc, _, err = _run(capsys, "--pred", str(tmp_path / "nope"), "--gt", str(gt_dir), "--classes", "camvid-11")
    assert rc == 2 and "folder not found" in err
    other = tmp_path / "other"
    write_mask(other / "unrelated.png", np.zeros((4, 4), np.uint8))
    rc, _, err = _run(capsys, "--pred", str(other), "--gt", str(gt_dir), "--classes", "camvid-11")
    assert rc == 2 and "has a prediction" in err and err.strip().count("\n") == 0


def test_all_pairs_bad_exits_2(folders, capsys) -> None:
    table, gt_dir, pred_dir, _ = folders
    for p in pred_dir.iterdir():
        p.write_bytes(b"not a png")
    rc, _, err = _run(capsys, "--pred", str(pred_dir), "--gt", str(gt_dir), "--classes", str(table.source))
    assert rc == 2 and "none of the 6 pairs could be evaluated" in err.splitlines()[-1]


def test_predictions_without_ground_truth_are_only_noted(folders, capsys) -> None:
    table, gt_dir, pred_dir, _ = folders
    write_mask(pred_dir / "extra_frame.png", np.zeros((360, 480), np.uint8))
    rc, _, err = _run(capsys, "--pred", str(pred_dir), "--gt", str(gt_dir), "--classes", str(table.source))
    assert rc == 0 and "1 predictions have no ground truth (e.g. extra_frame.png)" in err


def test_pairing_prefers_png_among_predictions_sharing_a_stem(tmp_path) -> None:
    write_mask(tmp_path / "gt" / "a.png", np.zeros((2, 2), np.uint8))
    for suffix in (".tif", ".png", ".bmp"):
        write_mask(tmp_path / "pred" / f"a{suffix}", np.zeros((2, 2), np.uint8))
    write_mask(tmp_path / "pred" / "b.png", np.zeros((2, 2), np.uint8))
    pairs, unpaired = pair_files(tmp_path / "pred", tmp_path / "gt")
    assert pairs == [(tmp_path / "gt" / "a.png", tmp_path / "pred" / "a.png")]
    assert unpaired == [tmp_path / "pred" / "b.png"]


def test_job_reports_progress_errors_and_honours_cancel(folders) -> None:
    table, gt_dir, pred_dir, _ = folders
    sorted(pred_dir.iterdir())[0].unlink()
    steps = list(_collect(evaluate_folders(pred_dir, gt_dir, table)))
    assert [s.done for s in steps] == [1, 2, 3, 4, 5, 6] and steps[0].total == 6
    assert steps[0].error is not None and all(s.error is None for s in steps[1:])
    token = CancelToken()
    job = evaluate_folders(pred_dir, gt_dir, table, token)
    next(job)
    token.cancel()
    with pytest.raises(Cancelled):
        next(job)
    with pytest.raises(BadInputError, match="empty_missing: folder not found"):
        run_job(evaluate_folders(pred_dir, pred_dir.parent / "empty_missing", table))


def _collect(job):
    try:
        while True:
            yield next(job)
    except StopIteration:
        return
