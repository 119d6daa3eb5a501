"""Retraining with a base dataset mixed in: the sampler's share, class checks, a real run that records it."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_retrain import CHILD_ENV, HW, make_workspace, tiny_card, truth

from seggui.cli import main
from seggui.core.classes import load_classes
from seggui.core.errors import BadInputError
from seggui.core.images import list_images, read_image, write_image
from seggui.core.masks import read_mask, write_mask
from seggui.core.workspace import Workspace
from seggui.engine.card import ModelCard
from seggui.training.base_set import base_per_epoch, guess_layout, table_mismatch
from seggui.training.config import TrainConfig
from seggui.training.datasets import MixSampler, mix_sampler
from seggui.training.layouts import find_samples, fingerprint
from seggui.training.retrain import plan_retrain
from seggui.training.retrain_versions import Comparison


def camvid_base(camvid: Path, root: Path, n: int = 6) -> Path:
    """root/train + root/trainannot: the first n CamVid training pairs at 96x128 (camvid layout)."""
    for p in list_images(camvid / "train")[:n]:
        small = cv2.resize(read_image(p), HW[::-1], interpolation=cv2.INTER_AREA)
        write_image(root / "train" / p.name, small)
        m = read_mask(camvid / "trainannot" / p.name)
        write_mask(root / "trainannot" / p.name, cv2.resize(m, HW[::-1], interpolation=cv2.INTER_NEAREST))
    return root


# ------------------------------------------------------------------ sampler
def test_mix_sampler_draws_the_requested_share_every_correction_once_and_is_seeded() -> None:
    own, base = 10, 37
    s = mix_sampler(own, base, 0.5, seed=3)
    epochs = []
    for e in range(4):
        s.set_epoch(e)
        tagged = list(s)
        assert len(tagged) == len(s) == 20
        assert all(e * (own + base) <= i < (e + 1) * (own + base) for i in tagged)  # tagged with the epoch
        idx = [i - e * (own + base) for i in tagged]
        assert sorted(i for i in idx if i < own) == list(range(own))  # each correction exactly once
        assert sum(i >= own for i in idx) == 10  # half of the epoch from the base set
        epochs.append(idx)
    drawn = [[i for i in idx if i >= own] for idx in epochs]
    assert len({i for d in drawn[:3] for i in d}) == 30  # no base sample twice before all 37 were drawn
    assert {i for d in drawn for i in d} == set(range(own, own + base))  # epoch 4 finishes the set
    again = mix_sampler(own, base, 0.5, seed=3)
    again.set_epoch(2)
    assert [i - 2 * (own + base) for i in again] == epochs[2]
    other = mix_sampler(own, base, 0.5, seed=4)
    other.set_epoch(2)
    assert [i - 2 * (own + base) for i in other] != epochs[2]
    for n, share in ((9, 0.25), (4, 0.8), (7, 0.3), (12, 0.5), (5, 0.4)):
        idx = list(mix_sampler(n, 50, share, seed=0))
        assert abs(sum(i >= n for i in idx) / len(idx) - share) <= 1 / len(idx)
    assert base_per_epoch(3, 0.1) == 1  # a base set asked for is always drawn from


def test_mix_sampler_shards_like_distributed_sampler() -> None:
    whole = MixSampler(5, 8, 4, seed=1)
    shards = [MixSampler(5, 8, 4, seed=1, rank=r, world=2) for r in range(2)]
    for s in (whole, *shards):
        s.set_epoch(1)
    got = [list(s) for s in shards]
    assert len(got[0]) == len(got[1]) == 5  # 9 samples padded to 10: both ranks run the same steps
    assert sorted(got[0] + got[1]) == sorted([*whole, next(iter(whole))])
    with pytest.raises(BadInputError):
        base_per_epoch(4, 1.0)


def test_loader_mixes_both_sources(toy_data: tuple[Path, Path], toy_table: Path) -> None:
    """find_split + make_loaders as the run uses them: each epoch reads both folders in the share."""
    from seggui.training.build import find_split, make_loaders
    from seggui.training.ddp import DistInfo
    from seggui.training.readers import train_ignore_index

    base, own = toy_data  # 8 pairs as the base set, 2 as the run's own ("corrections")
    cfg = TrainConfig.from_dict({
        "data": {"layout": "folder", "root": str(own), "val_split": None, "val_fraction": 0.0},
        "classes": str(toy_table), "batch": 2, "augment": None, "seed": 5, "device": "cpu",
        "base": {"layout": "folder", "root": str(base), "share": 0.75}})
    table = load_classes(toy_table)
    split = find_split(cfg, table, "toy")
    assert len(split.train) == 2 and len(split.base) == 8 and split.val == []
    assert split.base_record["per_epoch"] == 6 and split.base_record["drawn_share"] == 0.75
    loader, val = make_loaders(cfg, table, split, train_ignore_index(table), DistInfo())
    assert val is None
    seen: list[int] = []
    for epoch in range(2):
        loader.sampler.set_epoch(epoch)
        seen_epoch = [int(i) for batch in loader for i in batch["index"]]
        assert sorted(i for i in seen_epoch if i < 2) == [0, 1]
        assert sum(i >= 2 for i in seen_epoch) == 6  # 75% of 8
        seen += seen_epoch
    assert {i for i in seen if i >= 2} == set(range(2, 10))  # the base set gone through, not one corner
    cfg.base.fingerprint = {"sha256": "0" * 64, "pairs": 7}  # what a plan saw before the folder changed
    assert any("changed since the retrain was planned (7 pairs then, 8 now)" in p
               for p in find_split(cfg, table, "toy").problems)


# ----------------------------------------------------------------- classes
def test_class_tables_compare_by_meaning_and_say_how_they_differ(camvid: Path) -> None:
    assert table_mismatch(load_classes(camvid / "classes.json"), load_classes("camvid-11")) is None
    diff = table_mismatch(load_classes("camvid-11"), load_classes("parking-2"))
    assert diff is not None and "only in the base set" in diff and "ignore index 11 there" in diff


def test_mismatched_base_set_is_refused_naming_it(camvid: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    base = camvid_base(camvid, tmp_path / "base", n=2)
    card = tiny_card(tmp_path / "card", "park", "parking-2", 2)
    ws = Workspace.create(tmp_path / "ws", "parking-2", model=str(card))
    write_image(tmp_path / "ws" / "images" / "p.png", np.zeros((64, 64, 3), np.uint8))
    ws.add_image(tmp_path / "ws" / "images" / "p.png")
    ws.write_mask("p", "corrected", np.zeros((64, 64), np.uint8))
    with pytest.raises(BadInputError) as err:
        plan_retrain(ws, base=base)
    text = str(err.value)
    assert str(base) in text and "camvid-11" in text and "parking-2" in text and "park@1" in text
    assert "only in the base set" in text
    # a folder with no class table of its own: its masks are decoded, and the readers name unknown ids
    for p in list_images(base / "train"):
        (tmp_path / "plain" / "images").mkdir(parents=True, exist_ok=True)
        (tmp_path / "plain" / "masks").mkdir(exist_ok=True)
        (tmp_path / "plain" / "images" / p.name).symlink_to(p)
        (tmp_path / "plain" / "masks" / p.name).symlink_to(base / "trainannot" / p.name)
    with pytest.raises(BadInputError, match="class ids not in the parking-2 table") as err:
        plan_retrain(ws, base=tmp_path / "plain")
    assert "base dataset" in str(err.value) and str(tmp_path / "plain") in str(err.value)
    assert main(["retrain", str(ws.root), "--base", str(base), "--base-layout", "camvid"]) == 2
    assert "do not match" in capsys.readouterr().err
    with pytest.raises(BadInputError, match="strictly between 0 and 1"):
        plan_retrain(ws, base=base, base_share=1.0)
    assert not ws.models_dir.exists()  # refused before anything was written


def test_a_synth_folder_is_a_base_set_through_its_parking2_masks(tmp_path: Path) -> None:
    """`seggui synth` keeps aerial-parking-6 masks in masks/ and the parking-2 view in parking2/."""
    from seggui.cli import main as cli

    args = ["synth", "--out", str(tmp_path / "synth"), "--count", "3", "--size", "96", "96", "--quiet"]
    assert cli(args) == 0
    card = tiny_card(tmp_path / "card", "park", "parking-2", 2)
    ws = Workspace.create(tmp_path / "ws", "parking-2", model=str(card))
    write_image(tmp_path / "ws" / "images" / "p.png", np.zeros((64, 64, 3), np.uint8))
    ws.add_image(tmp_path / "ws" / "images" / "p.png")
    ws.write_mask("p", "corrected", np.zeros((64, 64), np.uint8))
    with pytest.raises(BadInputError, match="class ids not in the parking-2 table"):
        plan_retrain(ws, base=tmp_path / "synth", base_layout="folder")
    plan = plan_retrain(ws, base=tmp_path / "synth", base_layout="folder", base_masks="parking2")
    assert plan.base is not None and plan.base["pairs"] == 3 and plan.config.base.masks == "parking2"


def test_layouts_are_told_from_the_folder(tmp_path: Path) -> None:
    for layout, dirs in (("camvid", ["train", "trainannot"]), ("folder", ["images", "masks"]),
                         ("cityscapes", ["leftImg8bit", "gtFine"]), ("kitti", ["training/image_2"]),
                         ("bdd100k", ["images/100k"])):
        for d in dirs:
            (tmp_path / layout / d).mkdir(parents=True)
        assert guess_layout(tmp_path / layout) == layout
    Workspace.create(tmp_path / "ws", "camvid-11").save()
    assert guess_layout(tmp_path / "ws") == "workspace"
    (tmp_path / "odd").mkdir()
    with pytest.raises(BadInputError, match="cannot tell the layout"):
        guess_layout(tmp_path / "odd")


def test_config_takes_a_base_mapping_and_refuses_typos() -> None:
    cfg = TrainConfig.from_dict({"base": {"layout": "camvid", "root": "/data/camvid", "share": 0.3}})
    assert cfg.base is not None and cfg.base.share == 0.3
    assert TrainConfig.from_dict(cfg.to_dict()).base == cfg.base
    with pytest.raises(BadInputError, match="unknown base settings: shares"):
        TrainConfig.from_dict({"base": {"root": "x", "shares": 0.3}})
    with pytest.raises(BadInputError, match=r"base.share must lie strictly between 0 and 1"):
        TrainConfig.from_dict({"base": {"root": "x", "share": 0}})


# ----------------------------------------------------------------- a real run
@pytest.mark.slow
def test_cli_retrains_with_a_base_set_and_records_it(camvid: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CHILD_ENV.items():
        monkeypatch.setenv(key, value)
    base = camvid_base(camvid, tmp_path / "base")
    card = tiny_card(tmp_path / "card", "tiny-camvid", "camvid-11", 12)
    ws = make_workspace(tmp_path / "ws", camvid, card, n=5)
    ids = sorted(ws.frames)
    for fid in ids[:3]:
        ws.write_mask(fid, "corrected", truth(camvid, fid))
    for fid in ids[3:]:
        ws.write_mask(fid, "ground_truth", truth(camvid, fid))
    rc = main(["retrain", str(ws.root), "--base", str(base), "--epochs", "1", "--batch", "2",
               "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert f"+ the base set {base}" in captured.err
    assert "3 samples per epoch, 50% of each epoch" in captured.err
    out = ws.models_dir / "tiny-camvid-v2"
    found = find_samples("camvid", base, "train")
    expected = fingerprint(found.samples, base)
    saved = json.loads((out / "retrain.json").read_text(encoding="utf-8"))["base"]
    assert saved["root"] == str(base.resolve()) and saved["layout"] == "camvid" and saved["share"] == 0.5
    assert saved["pairs"] == 6 and saved["fingerprint"] == expected
    new = ModelCard.load(out)
    record = new.provenance["dataset"]["base"]
    assert record["pairs"] == 6 and record["per_epoch"] == 3 and record["fingerprint"] == expected
    assert new.training["train_pairs"] == 3 and new.training["val_pairs"] == 2  # the base never validates
    assert new.metrics["n_images"] == 2
    d = json.loads(captured.out)
    assert d["frames"] == ids[3:] and d["base"] == record
    cmp = Comparison(d["old"], d["new"], d["frames"], [], d["old_miou"], d["new_miou"], None, d["base"])
    table = cmp.table()
    assert f"tiny-camvid@2 was trained with the base set {base.resolve()} (camvid, 6 pairs" in table
