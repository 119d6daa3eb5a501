"""Retrain on corrections end to end: a CamVid workspace, a tiny card, the real training subprocess."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.cli import main
from seggui.core.errors import BadInputError, Cancelled
from seggui.core.images import list_images, read_image, write_image
from seggui.core.jobs import CancelToken, run_job
from seggui.core.masks import read_mask
from seggui.core.workspace import FrameStatus, Workspace
from seggui.engine.card import ModelCard
from seggui.training.retrain import NOTHING_TO_LEARN, RetrainProcess, plan_retrain, retrain_job
from seggui.training.retrain_versions import (
    compare_models,
    list_versions,
    promote,
    repredict_job,
    rollback,
)

HW = (96, 128)
PARAMS = {"encoder_depth": 3, "decoder_channels": [16, 8, 8]}
CHILD_ENV = {"OMP_NUM_THREADS": "1"}


def tiny_card(folder: Path, name: str, classes: str, num_classes: int, seed: int = 0) -> Path:
    """A random-init Unet card; the retrain machinery, not the model's skill, is under test."""
    import torch

    from seggui.engine.card import InputSpec
    from seggui.engine.factory import build_model
    from seggui.engine.weights import save_state_dict

    torch.manual_seed(seed)
    model = build_model("Unet", "mobilenet_v2", num_classes, PARAMS)
    folder.mkdir(parents=True)
    save_state_dict(model, folder / "weights.safetensors")
    ModelCard(name=name, architecture="Unet", encoder="mobilenet_v2", arch_params=PARAMS,
              num_classes=num_classes, classes_spec=classes, weights="weights.safetensors",
              input=InputSpec(stride=8, tile_size=None)).save(folder)
    return folder


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_workspace(root: Path, camvid: Path, card: Path, n: int = 6) -> Workspace:
    """n CamVid val pictures at 96x128; no corrections yet."""
    pics = list_images(camvid / "val")[:n]
    ws = Workspace.create(root, "camvid-11", model=str(card), gsd=0.05)
    for p in pics:
        dest = root / "images" / p.name
        write_image(dest, cv2.resize(read_image(p), HW[::-1], interpolation=cv2.INTER_AREA))
        ws.add_image(dest)
    ws.save()
    return ws


def truth(camvid: Path, fid: str) -> np.ndarray:
    m = read_mask(camvid / "valannot" / f"{fid}.png")
    return cv2.resize(m, HW[::-1], interpolation=cv2.INTER_NEAREST)


@pytest.fixture(scope="module")
def retrained(camvid: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One real retrain: 4 frames corrected (2 of them marked reviewed), 2 with ground truth."""
    base = tmp_path_factory.mktemp("retrain")
    card = tiny_card(base / "cards" / "tiny-camvid", "tiny-camvid", "camvid-11", 12)
    before = sha(card / "weights.safetensors")
    ws = make_workspace(base / "ws", camvid, card)
    ids = sorted(ws.frames)
    for fid in ids[:4]:
        ws.write_mask(fid, "corrected", truth(camvid, fid))
    ws.set_status(ids[3], FrameStatus.REVIEWED)
    for fid in ids[4:]:
        ws.write_mask(fid, "ground_truth", truth(camvid, fid))
    plan = plan_retrain(ws, epochs=1, lr=1e-3, batch=2, device="cpu")
    result = run_job(retrain_job(plan, env=CHILD_ENV))
    return {"ws": ws, "card": card, "before": before, "plan": plan, "result": result, "camvid": camvid}


@pytest.mark.slow
def test_plan_uses_corrections_and_validates_on_ground_truth(retrained: dict) -> None:
    plan, ws = retrained["plan"], retrained["ws"]
    ids = sorted(ws.frames)
    assert sorted(plan.train_ids) == ids[:4]
    assert sorted(plan.val_ids) == ids[4:] and plan.val_source == "ground truth"
    assert plan.out == ws.models_dir / "tiny-camvid-v2"
    assert plan.config.from_model == str(retrained["card"]) and plan.config.data.layout == "workspace"
    parent = ModelCard.load(retrained["card"])  # retrain.json names the network actually trained
    saved = json.loads(plan.config_path.read_text())
    assert (saved["architecture"], saved["encoder"], saved["arch_params"], saved["stride"]) == \
        (parent.architecture, parent.encoder, parent.arch_params, parent.input.stride)


@pytest.mark.slow
def test_new_version_has_card_and_metrics_and_old_weights_untouched(retrained: dict) -> None:
    result, card = retrained["result"], retrained["card"]
    new = ModelCard.load(result.card_dir)
    assert result.card_dir == retrained["plan"].out and result.status == "finished"
    assert new.version == 2 and new.parent == "tiny-camvid@1"
    assert (result.card_dir / "weights.safetensors").is_file()
    assert new.metrics["miou"] == pytest.approx(result.best_miou) and new.metrics["n_images"] == 2
    assert new.training["train_pairs"] == 4 and new.training["val_pairs"] == 2
    assert new.provenance["dataset"]["validation"]["pairs"] == 2
    assert len(result.epochs) == 1 and result.epochs[0]["miou"] is not None
    assert new.onnx is None and not retrained["plan"].config.export_onnx  # nor was the parent exported
    assert sha(card / "weights.safetensors") == retrained["before"]


def recompute_iou(ws: Workspace, card: Path, ids: list[str], camvid: Path) -> tuple[list, list]:
    """IoU per scored class straight from predictions and the CamVid masks (numpy, no ConfusionMatrix)."""
    from seggui.engine.predictor import load_predictor

    inter = np.zeros(11, np.int64)
    union = np.zeros(11, np.int64)
    with load_predictor(card, "torch", "cpu") as p:
        for fid in ids:
            pred = p.predict(read_image(ws.image_path(fid)), confidence=False).labels
            gt = truth(camvid, fid)
            scored = gt != 11
            for c in range(11):
                a, b = (gt == c) & scored, (pred == c) & scored
                inter[c] += int((a & b).sum())
                union[c] += int((a | b).sum())
    ious = [float(i / u) if u else None for i, u in zip(inter, union, strict=True)]
    return ious, [x for x in ious if x is not None]


@pytest.mark.slow
def test_comparison_equals_a_recomputation(retrained: dict) -> None:
    ws, plan, result = retrained["ws"], retrained["plan"], retrained["result"]
    cmp = run_job(compare_models(ws, plan.parent, result.card_dir, plan.val_ids, "torch", "cpu"))
    old, old_defined = recompute_iou(ws, retrained["card"], plan.val_ids, retrained["camvid"])
    new, new_defined = recompute_iou(ws, result.card_dir, plan.val_ids, retrained["camvid"])
    for row, o, n in zip(cmp.rows, old, new, strict=True):
        assert row.old_iou == pytest.approx(o) if o is not None else row.old_iou is None
        assert row.new_iou == pytest.approx(n) if n is not None else row.new_iou is None
        if o is not None and n is not None:
            assert row.delta == pytest.approx(n - o)
    assert cmp.old_miou == pytest.approx(float(np.mean(old_defined)))
    assert cmp.new_miou == pytest.approx(float(np.mean(new_defined)))
    d = cmp.to_dict()
    assert d["old"] == "tiny-camvid@1" and d["new"] == "tiny-camvid@2" and d["parking"] is None
    assert len(d["rows"]) == 11 and "mIoU" in cmp.table()


@pytest.mark.slow
def test_promote_rollback_and_repredict(retrained: dict) -> None:
    ws, card, result = retrained["ws"], retrained["card"], retrained["result"]
    corrected_before = {fid: sha(ws.mask_path(fid, "corrected")) for fid in retrained["plan"].train_ids}
    promote(ws, result.card_dir)
    assert Workspace.open(ws.root).model == str(result.card_dir.resolve())
    assert [v["ref"] for v in list_versions(ws)] == ["tiny-camvid@1", "tiny-camvid@2"]
    n = run_job(repredict_job(ws, "torch", "cpu"))
    assert n == 2  # the two ground-truth frames were never corrected
    again = Workspace.open(ws.root)
    for fid in retrained["plan"].val_ids:
        assert again.frames[fid].model == "tiny-camvid@2"
    for fid, digest in corrected_before.items():
        assert sha(ws.mask_path(fid, "corrected")) == digest
        assert again.frames[fid].status in (FrameStatus.CORRECTED, FrameStatus.REVIEWED)
    rollback(ws, "tiny-camvid@1")
    assert Workspace.open(ws.root).model == str(card.resolve())
    assert (result.card_dir / "model.json").is_file()  # nothing deleted
    with pytest.raises(BadInputError, match="no model version"):
        rollback(ws, "tiny-camvid@9")


@pytest.mark.slow
def test_cli_lists_and_rolls_back(retrained: dict, capsys: pytest.CaptureFixture[str]) -> None:
    ws = retrained["ws"]
    assert main(["retrain", str(ws.root), "--list"]) == 0
    out = capsys.readouterr().out
    assert "tiny-camvid@1" in out and "tiny-camvid@2" in out
    assert main(["retrain", str(ws.root), "--rollback", "tiny-camvid-v2"]) == 0
    assert Workspace.open(ws.root).model == str(retrained["result"].card_dir.resolve())


@pytest.mark.slow
def test_cancel_mid_run_stops_the_process_and_keeps_the_workspace(retrained: dict) -> None:
    ws = Workspace.open(retrained["ws"].root)
    model_before = ws.model
    plan = plan_retrain(ws, epochs=50, lr=1e-3, batch=1, device="cpu")
    token = CancelToken()
    proc = RetrainProcess(plan.config_path, env=CHILD_ENV)
    job = proc.job(token)
    with pytest.raises(Cancelled):
        for p in job:
            if p.data.get("event") == "step":
                token.cancel()
    assert proc.proc is not None and proc.proc.poll() == 130
    again = Workspace.open(ws.root)
    assert again.model == model_before
    assert again.read_mask(plan.train_ids[0], "corrected") is not None
    assert not (plan.out / "model.json").exists()  # cancelled before a whole epoch: no half card
    nxt = plan_retrain(again, epochs=1, device="cpu")  # and the workspace retrains again
    assert nxt.out != plan.out and nxt.out.name.startswith("tiny-camvid-v")


def test_refuses_when_nothing_to_learn_from(camvid: Path, tmp_path: Path) -> None:
    card = tiny_card(tmp_path / "card", "tiny-camvid", "camvid-11", 12)
    ws = make_workspace(tmp_path / "ws", camvid, card, n=2)
    with pytest.raises(BadInputError, match="no corrected frames"):
        plan_retrain(ws)
    assert NOTHING_TO_LEARN.startswith("no corrected frames")
    assert main(["retrain", str(ws.root)]) == 2
    assert not ws.models_dir.exists()


@pytest.mark.slow
def test_training_error_is_reported_with_its_cause(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"epochs": 0}', encoding="utf-8")
    with pytest.raises(Exception, match="epochs must be a positive integer"):
        run_job(RetrainProcess(bad, env=CHILD_ENV).job())


def test_parking_symmetric_difference_in_px_and_m2(tmp_path: Path) -> None:
    """With a parking class, the comparison adds |O delta E| of the parking class, per model."""
    from seggui.engine.predictor import load_predictor

    old = tiny_card(tmp_path / "a", "park", "parking-2", 2, seed=1)
    new = tiny_card(tmp_path / "b", "park2", "parking-2", 2, seed=2)
    ws = Workspace.create(tmp_path / "ws", "parking-2", model=str(old), gsd=0.1)
    rng = np.random.default_rng(0)
    for i in range(2):
        write_image(tmp_path / "ws" / "images" / f"p{i}.png", rng.integers(0, 255, (64, 64, 3), np.uint8))
        ws.add_image(tmp_path / "ws" / "images" / f"p{i}.png")
        gt = np.zeros((64, 64), np.uint8)
        gt[10:40, 5:30] = 1
        ws.write_mask(f"p{i}", "ground_truth", gt)
    cmp = run_job(compare_models(ws, old, new, ["p0", "p1"], "torch", "cpu"))
    for key, card in (("old", old), ("new", new)):
        sym = 0
        with load_predictor(card, "torch", "cpu") as p:
            for fid in ("p0", "p1"):
                pred = p.predict(read_image(ws.image_path(fid)), confidence=False).labels
                sym += int(((pred == 1) ^ (ws.read_mask(fid, "ground_truth") == 1)).sum())
        assert cmp.parking[f"{key}_px"] == sym
        assert cmp.parking[f"{key}_m2"] == pytest.approx(sym * 0.01)
    assert cmp.parking["class"] == "parking"


@pytest.mark.skipif(os.name == "nt", reason="POSIX paths in the message")
def test_no_model_refusal(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws", "camvid-11")
    with pytest.raises(BadInputError, match="no model"):
        plan_retrain(ws)


@pytest.mark.slow
def test_cli_retrains_with_held_out_validation_and_promotes(camvid: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from seggui.engine.export import export_job
    from seggui.engine.predictor import load_predictor

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    card = tiny_card(tmp_path / "card", "tiny-camvid", "camvid-11", 12)
    # a parent that runs int8 on ONNX Runtime, as the shipped driving cards do: exported, quantised and
    # scored against masks; its int8 is marked as accurate as fp32 (a random net's score is noise)
    run_job(export_job(ModelCard.load(card), card, int8=True, calib_dir=camvid / "train", calib_count=2,
                       check_dir=camvid / "val", check_count=2, truth_dir=camvid / "valannot"))
    parent = ModelCard.load(card)
    parent.provenance["onnx_export"]["int8"]["miou_vs_truth"].update(fp32=0.5, int8=0.5)
    parent.save(card)
    assert ModelCard.load(card).int8_as_good
    ws = make_workspace(tmp_path / "ws", camvid, card, n=4)
    ids = sorted(ws.frames)
    for fid in ids[:3]:
        ws.write_mask(fid, "corrected", truth(camvid, fid))
    before = sha(card / "weights.safetensors")
    rc = main(["retrain", str(ws.root), "--epochs", "1", "--batch", "2", "--device", "cpu", "--promote",
               "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "held out" in captured.err and "re-predicted 1 uncorrected frames" in captured.err
    d = json.loads(captured.out)
    assert d["old"] == "tiny-camvid@1" and d["new"] == "tiny-camvid@2"
    assert d["frames"] and set(d["frames"]) < set(ids[:3])  # held out of the corrections, not all of them
    new = ModelCard.load(ws.models_dir / "tiny-camvid-v2")
    assert new.training["train_pairs"] == 3 - len(d["frames"])
    # the new version is exported as its parent was, so the promoted model runs where the old one ran
    assert new.onnx_path is not None and new.onnx_path.is_file()
    assert new.provenance["onnx_export"]["agreement_vs_torch"] > 0.99
    # and quantised as its parent was: calibrated on what it trained on, scored on the held-out frames
    scores = new.provenance["onnx_export"]["int8"]["miou_vs_truth"]
    assert new.onnx_int8_path.is_file() and scores["pictures"] == len(d["frames"])
    with load_predictor(new, "auto", "cpu") as predictor:
        assert predictor.describe() == "ONNX Runtime · CPU" + (" · int8" if new.int8_as_good else "")
    after = Workspace.open(ws.root)
    assert after.model == str((ws.models_dir / "tiny-camvid-v2").resolve())
    assert after.frames[ids[3]].model == "tiny-camvid@2"
    assert sha(card / "weights.safetensors") == before


def test_split_keeps_validation_away_from_neighbouring_training_frames(tmp_path: Path) -> None:
    from seggui.training.retrain import DRIVE_BLOCK, split_frames

    folder = tmp_path / "seq"
    files = [write_image(folder / f"d_{i:03d}.png", np.full((8, 12, 3), i, np.uint8)) for i in range(40)]
    ws = Workspace.create(tmp_path / "ws", "camvid-11")
    ws.add_sequence_frames(folder, "d_*.png", files, [p.stem for p in files])
    m = np.zeros((8, 12), np.uint8)
    for i in range(0, 20):  # the analyst corrected the first twenty frames
        ws.write_mask(f"d_{i:03d}", "corrected", m)
    for i in (5, 25, 29, 35):  # ground truth on four; 5 sits among the corrected frames
        ws.write_mask(f"d_{i:03d}", "ground_truth", m)
    train, val, source, problems = split_frames(ws)
    # 25 lies 6 frames from the corrected 19: left out; 29 lies 10 away: it validates
    assert source == "ground truth" and val == ["d_029", "d_035"]
    assert "d_005" in train and len(train) == 20  # a corrected frame is trained on, ground truth or not
    assert any("1 ground-truth frames" in p and "left out of validation" in p for p in problems)

    # no ground truth: a held-out share, whole runs of DRIVE_BLOCK frames on one side
    ws2 = Workspace.create(tmp_path / "ws2", "camvid-11")
    ws2.add_sequence_frames(folder, "d_*.png", files, [p.stem for p in files])
    for i in range(40):
        ws2.write_mask(f"d_{i:03d}", "corrected", m)
    train, val, source, _ = split_frames(ws2, 0.5)
    assert source == "held out" and val and train
    for block in range(40 // DRIVE_BLOCK):
        ids = {f"d_{i:03d}" for i in range(block * DRIVE_BLOCK, (block + 1) * DRIVE_BLOCK)}
        assert ids <= set(train) or ids <= set(val)


@pytest.mark.parametrize("names", [("lot", "field"), ("field", "lot"), ("a_lot", "b_fl"), ("z_lot", "a_fl")])
def test_the_only_corrections_of_a_class_are_trained_on_not_held_out(tmp_path: Path, names) -> None:
    """Walkthrough: of two corrected Houston pictures the hash held out the one with the lot, and the new
    version trained without parking learnt none. Whatever the names, the lot trains, the other validates."""
    from seggui.training.retrain import split_frames

    lot, field = names
    ws = Workspace.create(tmp_path / "ws", "parking-2")
    for fid in names:
        ws.add_image(write_image(tmp_path / f"{fid}.png", np.zeros((60, 80, 3), np.uint8)))
    with_lot = np.zeros((60, 80), np.uint8)
    with_lot[10:50, 10:70] = 1  # 2,400 px of parking, more than the comparison's weak-class floor
    ws.write_mask(lot, "corrected", with_lot)
    ws.write_mask(field, "corrected", np.zeros((60, 80), np.uint8))
    train, val, source, problems = split_frames(ws, 0.5)
    assert train == [lot] and val == [field] and source == "held out"
    if any("trained on, not held out" in p for p in problems):  # the hash had held out the lot: said so
        assert any(f"{lot} is trained on" in p and "parking" in p for p in problems)
        assert any(f"{field} is held out for validation instead" in p for p in problems)


def test_what_counts_is_what_the_corrections_changed_not_what_they_show(tmp_path: Path) -> None:
    """Re-walk: the other picture kept the model's stray parking under a small background stroke, so by
    what the masks show it "had parking" and the lot was held out. The lot's correction taught parking."""
    from seggui.training.retrain import split_frames

    ws = Workspace.create(tmp_path / "ws", "parking-2")
    for fid in ("lot", "field"):
        ws.add_image(write_image(tmp_path / f"{fid}.png", np.zeros((60, 80, 3), np.uint8)))
    stray = np.zeros((60, 80), np.uint8)
    stray[0:30, 0:50] = 1  # 1,500 px of predicted parking on the lot-free picture
    ws.write_mask("field", "predicted", stray)
    touched = stray.copy()
    touched[50:55, 0:10] = 0  # one small background stroke (nothing changed: it was background)
    touched[20:25, 40:50] = 0  # and a little of the stray parking taken away
    ws.write_mask("field", "corrected", touched)
    ws.write_mask("lot", "predicted", np.zeros((60, 80), np.uint8))  # the model saw no lot
    lot = np.zeros((60, 80), np.uint8)
    lot[10:50, 10:70] = 1
    ws.write_mask("lot", "corrected", lot)
    train, val, _source, _problems = split_frames(ws, 0.5)
    assert train == ["lot"] and val == ["field"]


def test_with_one_class_per_correction_nothing_is_held_out_and_it_says_why(tmp_path: Path) -> None:
    from seggui.training.retrain import split_frames

    ws = Workspace.create(tmp_path / "ws", "parking-2")
    for fid, value in (("a", 0), ("b", 1)):
        ws.add_image(write_image(tmp_path / f"{fid}.png", np.zeros((60, 80, 3), np.uint8)))
        ws.write_mask(fid, "corrected", np.full((60, 80), value, np.uint8))
    train, val, source, problems = split_frames(ws, 0.5)
    assert sorted(train) == ["a", "b"] and val == [] and source == "none"
    assert any("cannot be compared" in p for p in problems)



def test_epochs_left_to_the_plan_give_enough_optimiser_steps() -> None:
    from seggui.training.retrain import MIN_EPOCHS, MIN_STEPS, auto_epochs

    assert auto_epochs(3, 3) == MIN_STEPS  # three corrections: one step an epoch
    assert auto_epochs(20, 4) == MIN_STEPS // 5  # five steps an epoch
    assert auto_epochs(400, 4) == MIN_EPOCHS  # a large set: the floor on epochs
    for n, b in ((1, 4), (7, 4), (9, 4), (33, 8)):
        steps = n // b if n >= 2 * b else 1
        assert auto_epochs(n, b) * steps >= MIN_STEPS
