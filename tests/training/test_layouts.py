"""Dataset layouts: each one on a tiny folder built here (and CamVid on the real data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seggui.core.classes import load_classes
from seggui.core.errors import BadInputError
from seggui.core.images import write_image
from seggui.core.masks import write_mask
from seggui.core.workspace import FrameStatus, Workspace
from seggui.training.layouts import (
    MASK_KITTI,
    MASK_LABELS,
    Sample,
    find_samples,
    fingerprint,
    holdout_split,
)
from seggui.training.readers import read_sample, read_sample_mask


def _img(path: Path, h: int = 8, w: int = 12) -> None:
    write_image(path, np.full((h, w, 3), 100, np.uint8))


def test_folder_pairs_by_stem_and_reports_orphans(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        _img(tmp_path / "images" / f"{name}.png")
        write_mask(tmp_path / "masks" / f"{name}.png", np.zeros((8, 12), np.uint8))
    _img(tmp_path / "images" / "lonely.jpg")
    write_mask(tmp_path / "masks" / "orphan.png", np.zeros((8, 12), np.uint8))
    found = find_samples("folder", tmp_path)
    assert [s.name for s in found.samples] == ["a", "b", "c"]
    assert len(found.problems) == 2
    assert any("lonely.jpg: no mask" in p for p in found.problems)
    assert any("orphan.png: no picture" in p for p in found.problems)


def test_camvid_real_layout(camvid: Path) -> None:
    train = find_samples("camvid", camvid, "train")
    val = find_samples("camvid", camvid, "val")
    assert (len(train.samples), len(val.samples)) == (367, 101)
    assert train.problems == [] and val.problems == []
    image, mask = read_sample(val.samples[0], load_classes("camvid-11"))
    assert image.shape == (360, 480, 3) and mask.shape == (360, 480)
    assert int(mask.max()) <= 11


def test_cityscapes_label_ids_become_train_ids(tmp_path: Path) -> None:
    stem = "aachen_000000_000019"
    _img(tmp_path / "leftImg8bit" / "train" / "aachen" / f"{stem}_leftImg8bit.png", 4, 4)
    labels = np.array([[7, 7, 26, 26], [0, 1, 24, 24], [7, 8, 11, 21], [23, 23, 33, 3]], np.uint8)
    write_mask(tmp_path / "gtFine" / "train" / "aachen" / f"{stem}_gtFine_labelIds.png", labels)
    # gtFine also holds colour and instance files: they must not be taken for masks
    write_mask(tmp_path / "gtFine" / "train" / "aachen" / f"{stem}_gtFine_instanceIds.png", labels)
    found = find_samples("cityscapes", tmp_path, "train")
    assert len(found.samples) == 1 and found.problems == []
    assert found.samples[0].mask_kind == MASK_LABELS
    mask = read_sample_mask(found.samples[0], load_classes("cityscapes-19"))
    expected = np.array([[0, 0, 13, 13], [255, 255, 11, 11], [0, 1, 2, 8], [10, 10, 18, 255]])
    np.testing.assert_array_equal(mask, expected)


def test_kitti_road_names_and_colours(tmp_path: Path) -> None:
    base = tmp_path / "training"
    _img(base / "image_2" / "um_000000.png", 2, 3)
    _img(base / "image_2" / "umm_000001.png", 2, 3)
    _img(base / "image_2" / "uu_000002.png", 2, 3)  # no road mask: reported
    magenta, red, black = (255, 0, 255), (255, 0, 0), (0, 0, 0)
    gt = np.array([[magenta, red, black], [red, magenta, magenta]], np.uint8)
    write_image(base / "gt_image_2" / "um_road_000000.png", gt)
    write_image(base / "gt_image_2" / "um_lane_000000.png", gt)  # lane task: skipped silently
    write_image(base / "gt_image_2" / "umm_road_000001.png", gt)
    found = find_samples("kitti", tmp_path, "train")
    assert [s.image.name for s in found.samples] == ["um_000000.png", "umm_000001.png"]
    assert [s.mask.name for s in found.samples] == ["um_road_000000.png", "umm_road_000001.png"]
    assert all(s.mask_kind == MASK_KITTI for s in found.samples)
    assert len(found.problems) == 1 and "uu_000002.png" in found.problems[0]
    mask = read_sample_mask(found.samples[0], load_classes("kitti-road-2"))
    np.testing.assert_array_equal(mask, [[1, 0, 255], [0, 1, 1]])  # black = outside: ignored


@pytest.mark.parametrize("release", ["current", "2018"])
def test_bdd100k_drivable_both_releases(tmp_path: Path, release: str) -> None:
    _img(tmp_path / "images" / "100k" / "val" / "b1c66a42-6f7d68ca.jpg", 4, 4)
    ids = np.array([[0, 1, 2, 2]] * 4, np.uint8)
    if release == "current":
        write_mask(tmp_path / "labels" / "drivable" / "masks" / "val" / "b1c66a42-6f7d68ca.png", ids)
    else:
        write_mask(tmp_path / "drivable_maps" / "labels" / "val" / "b1c66a42-6f7d68ca_drivable_id.png", ids)
    found = find_samples("bdd100k", tmp_path, "val")
    assert len(found.samples) == 1 and found.problems == []
    image, mask = read_sample(found.samples[0], load_classes("bdd100k-drivable-3"))
    np.testing.assert_array_equal(mask, ids)


def test_workspace_takes_corrected_and_reviewed_frames(tmp_path: Path) -> None:
    pics = tmp_path / "pics"
    for name in ("p1", "p2", "p3", "p4"):
        _img(pics / f"{name}.png")
    ws = Workspace.create(tmp_path / "ws", "parking-2")
    ws.add_images(sorted(pics.glob("*.png")))
    m = np.zeros((8, 12), np.uint8)
    ws.write_mask("p1", "corrected", m)
    ws.write_mask("p2", "corrected", m)
    ws.set_status("p2", FrameStatus.REVIEWED)
    ws.write_mask("p3", "predicted", m)  # a prediction alone is not training data
    found = find_samples("workspace", tmp_path / "ws")
    assert sorted(s.name for s in found.samples) == ["p1", "p2"]
    assert all(s.mask.parent.name == "corrected" for s in found.samples)


def test_holdout_is_stable_when_the_folder_grows(tmp_path: Path) -> None:
    from seggui.training.layouts import Sample

    samples = [Sample(tmp_path / f"img{i:04d}.png", tmp_path / f"m{i}.png") for i in range(400)]
    train, val = holdout_split(samples[:200], 0.2)
    assert 20 <= len(val) <= 60 and len(train) + len(val) == 200
    _, val_more = holdout_split(samples, 0.2)
    assert {s.name for s in val} <= {s.name for s in val_more}
    with pytest.raises(BadInputError):
        holdout_split(samples, 1.5)


def test_fingerprint_sees_a_rewritten_file(tmp_path: Path) -> None:
    _img(tmp_path / "images" / "a.png")
    write_mask(tmp_path / "masks" / "a.png", np.zeros((8, 12), np.uint8))
    samples = find_samples("folder", tmp_path).samples
    first = fingerprint(samples, tmp_path)
    assert first == fingerprint(samples, tmp_path) and first["pairs"] == 1
    _img(tmp_path / "images" / "a.png", 16, 16)
    assert fingerprint(samples, tmp_path)["sha256"] != first["sha256"]


def test_bad_layout_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="unknown dataset layout"):
        find_samples("voc", tmp_path)
    with pytest.raises(BadInputError, match="images folder not found"):
        find_samples("folder", tmp_path)
    with pytest.raises(BadInputError, match="dataset folder not found"):
        find_samples("camvid", tmp_path / "nope")


def test_holdout_keeps_runs_of_drive_frames_together(camvid: Path) -> None:
    from seggui.core.media.sequences import block_keys
    from seggui.training.layouts import Sample

    files = sorted((camvid / "train").glob("*.png"))
    samples = [Sample(p, camvid / "trainannot" / p.name) for p in files]
    keys = block_keys(files)
    assert len(set(keys.values())) == sum((n + 9) // 10 for n in (62, 101, 204))
    train, val = holdout_split(samples, 0.2, lambda s: keys[s.image])
    assert 0.1 < len(val) / len(samples) < 0.3
    side = {s.image: "val" for s in val} | {s.image: "train" for s in train}
    for key in set(keys.values()):  # every run of ten frames lies on one side only
        assert len({side[p] for p, k in keys.items() if k == key}) == 1
    # without groups, neighbours land on both sides (what the groups prevent)
    plain_val = {s.image for s in holdout_split(samples, 0.2)[1]}
    assert any((files[i] in plain_val) != (files[i + 1] in plain_val) for i in range(len(files) - 1))


def test_a_small_grouped_set_that_hashes_to_one_side_still_has_both_sides() -> None:
    import zlib

    # four group keys that all hash to the validation side at a 0.5 share, and four to training
    keys = [f"drive#{k}" for k in range(200)]
    low = [k for k in keys if zlib.crc32(k.encode()) % 10000 < 5000][:4]
    high = [k for k in keys if zlib.crc32(k.encode()) % 10000 >= 5000][:4]
    for chosen in (low, high):
        samples = [Sample(Path(f"f{g}_{i}"), Path(f"f{g}_{i}")) for g in range(4) for i in range(3)]
        group = {s.image.name: chosen[int(s.image.name[1])] for s in samples}
        train, val = holdout_split(samples, 0.5, lambda s, group=group: group[s.image.name])
        assert train and val
        for g in range(4):  # a group is never split
            names = {f"f{g}_{i}" for i in range(3)}
            assert names <= {s.image.name for s in train} or names <= {s.image.name for s in val}


def _camvid_like(root: Path, names: dict[str, list[str]]) -> None:
    for split, files in names.items():
        for name in files:
            _img(root / split / f"{name}.png")
            write_mask(root / f"{split}annot" / f"{name}.png", np.zeros((8, 12), np.uint8))


def test_val_drives_validate_on_whole_drives_from_every_split(tmp_path: Path) -> None:
    from seggui.training.build import find_split
    from seggui.training.config import TrainConfig

    _camvid_like(tmp_path, {"train": ["0001TP_0001", "0001TP_0002", "0006R0_f0001", "0016E5_0001"],
                            "val": ["0016E5_0100", "0001tp_0003"]})
    cfg = TrainConfig.from_dict({"data": {"layout": "camvid", "root": str(tmp_path),
                                          "val_drives": ["0001TP"]}})
    split = find_split(cfg)
    assert sorted(s.name for s in split.val) == ["0001TP_0001", "0001TP_0002", "0001tp_0003"]
    assert sorted(s.name for s in split.train) == ["0006R0_f0001", "0016E5_0001", "0016E5_0100"]
    assert split.val_source == "held-out drive 0001TP"
    cfg.data.val_drives = ["Seq05VD"]
    with pytest.raises(BadInputError, match="Seq05VD"):
        find_split(cfg)
    with pytest.raises(BadInputError, match="val_drives"):
        TrainConfig.from_dict({"data": {"layout": "camvid", "root": str(tmp_path), "val_drives": "0001TP"}})
