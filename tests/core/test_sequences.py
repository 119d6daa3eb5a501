"""Image sequences in a folder: which pictures are frames of a drive, their order, their glob."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seggui.core.errors import BadInputError
from seggui.core.images import write_image
from seggui.core.media import FolderSource, open_source
from seggui.core.media.sequences import (
    MIN_SEQUENCE_FRAMES,
    escape_glob,
    find_sequences,
    frame_number,
    natural_key,
    sequence_files,
)
from seggui.core.workspace import Workspace


def _pictures(folder: Path, names: list[str], hw: tuple[int, int] = (8, 12)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, name in enumerate(names):
        out.append(write_image(folder / name, np.full((*hw, 3), i % 250, np.uint8)))
    return out


def test_camvid_train_holds_three_drives(camvid: Path) -> None:
    sequences, loose = find_sequences(camvid / "train")
    assert [(q.name, len(q)) for q in sequences] == [("0001TP", 62), ("0006R0_f", 101), ("0016E5", 204)]
    assert loose == []
    for q in sequences:
        numbers = [frame_number(p) for p in q.files]
        assert numbers == sorted(numbers)
        # the glob selects exactly the same files again, in the same order
        src = FolderSource(q.folder, q.pattern)
        assert src.files == list(q.files) and src.warning is None
        assert src.name(0) == q.files[0].stem


def test_a_few_aerial_shots_stay_pictures(houston: Path) -> None:
    sequences, loose = find_sequences(houston / "images")
    assert sequences == [] and [p.name for p in loose] == ["6411.jpg", "6703.jpg", "7677.jpg"]


def test_unpadded_numbers_play_in_time_order(tmp_path: Path) -> None:
    _pictures(tmp_path, [f"frame_{i}.png" for i in range(1, 13)])
    (q,), loose = find_sequences(tmp_path)
    assert loose == [] and q.name == "frame"
    assert [p.stem for p in q.files] == [f"frame_{i}" for i in range(1, 13)]
    with open_source(tmp_path) as src:  # the whole folder as one drive, in the same order
        assert [src.name(i) for i in range(len(src))] == [p.stem for p in q.files]
    assert sorted(["b10.png", "b9.png", "a.png"], key=lambda n: natural_key(Path(n))) == \
        ["a.png", "b9.png", "b10.png"]


def test_short_runs_and_unnumbered_pictures_are_loose(tmp_path: Path) -> None:
    _pictures(tmp_path, [f"cam_{i:03d}.png" for i in range(MIN_SEQUENCE_FRAMES)]
              + [f"shot_{i}.jpg" for i in range(3)] + ["overview.png"])
    (q,), loose = find_sequences(tmp_path)
    assert q.name == "cam" and len(q) == MIN_SEQUENCE_FRAMES
    assert [p.name for p in loose] == ["overview.png", "shot_0.jpg", "shot_1.jpg", "shot_2.jpg"]
    assert find_sequences(tmp_path, min_frames=MIN_SEQUENCE_FRAMES + 1)[0] == []


def test_two_drives_side_by_side_and_special_characters(tmp_path: Path) -> None:
    _pictures(tmp_path, [f"run[1]_{i:04d}.png" for i in range(12)]
              + [f"run[2]_{i:04d}.png" for i in range(11)])
    a, b = find_sequences(tmp_path)[0]
    assert (a.name, len(a), b.name, len(b)) == ("run[1]", 12, "run[2]", 11)
    assert escape_glob("run[1]_") == "run[[]1]_"
    assert FolderSource(tmp_path, a.pattern).files == list(a.files)
    assert FolderSource(tmp_path, b.pattern).files == list(b.files)


def test_a_matching_picture_without_a_number_is_named_not_a_frame(tmp_path: Path) -> None:
    _pictures(tmp_path, [f"0016E5_{i:05d}.png" for i in range(0, 360, 30)] + ["0016E5_notes.png"])
    frames, strays = sequence_files(tmp_path, "0016E5_*")
    assert len(frames) == 12 and [p.name for p in strays] == ["0016E5_notes.png"]
    src = FolderSource(tmp_path, "0016E5_*")
    assert len(src) == 12
    assert "0016E5_notes.png" in (src.warning or "") and "no frame number" in (src.warning or "")


def test_odd_sized_frames_of_a_sequence_are_reported(tmp_path: Path) -> None:
    _pictures(tmp_path, [f"f_{i:03d}.png" for i in range(11)])
    _pictures(tmp_path, ["f_011.png"], hw=(10, 12))
    (q,), _ = find_sequences(tmp_path)
    src = FolderSource(q.folder, q.pattern)
    assert len(src) == 12 and "f_011.png is 12x10, not 12x8" in (src.warning or "")


def test_workspace_keeps_sequence_frames_as_pictures_of_a_drive(tmp_path: Path) -> None:
    files = _pictures(tmp_path / "seq", [f"d_{i:02d}.png" for i in range(12)])
    _pictures(tmp_path / "seq", ["map.png"])
    (q,), loose = find_sequences(tmp_path / "seq")
    ws = Workspace.create(tmp_path / "ws", "camvid-11")
    ws.add_image(loose[0])
    src = FolderSource(q.folder, q.pattern)
    ws.add_sequence_frames(src.path, src.pattern, src.files, [src.name(i) for i in range(len(src))])
    again = Workspace.open(tmp_path / "ws")
    key = again.frames["d_00"].drive
    assert key is not None and key.endswith("/d_*.png")
    assert again.drives() == {key: [f"d_{i:02d}" for i in range(12)]}
    assert again.frames["map"].drive is None
    assert again.image_path("d_05") == files[5]  # still a picture: training and reports read it
    with again.open_drive("d_05") as drive:
        assert len(drive) == 12 and drive.name(5) == "d_05"
        assert np.array_equal(drive.read(5), np.full((8, 12, 3), 5, np.uint8))
    with pytest.raises(Exception, match="picture, not a drive"):
        again.open_drive("map")
    again.add_image(files[3])  # re-added as a lone picture: it leaves the drive
    assert again.frames["d_03"].drive is None and len(again.drives()[key]) == 11


def test_mixed_case_extensions_are_one_sequence(tmp_path: Path) -> None:
    _pictures(tmp_path, [f"s_{i:03d}.png" for i in range(7)] + [f"s_{i:03d}.PNG" for i in range(7, 14)])
    (q,), loose = find_sequences(tmp_path)
    assert len(q) == 14 and loose == []
    assert FolderSource(q.folder, q.pattern).files == list(q.files)


def test_a_glob_is_one_drive_never_two_mixed(tmp_path: Path) -> None:
    _pictures(tmp_path, [f"{i:010d}.png" for i in range(12)] + [f"cam_{i:04d}.png" for i in range(12)]
              + [f"cam_b{i:03d}.png" for i in range(12)])
    seqs, loose = find_sequences(tmp_path)
    assert [(q.prefix, len(q)) for q in seqs] == [("", 12), ("cam_", 12), ("cam_b", 12)] and loose == []
    for q in seqs:  # each folder-made pattern selects its own sequence, even "*.png" and "cam_*.png"
        assert FolderSource(tmp_path, q.pattern).files == list(q.files)
    with pytest.raises(BadInputError, match=r"'cam\*' matches 2 image sequences: cam_…\.png \(12 frames\), "
                       r"cam_b…\.png \(12 frames\)"):
        FolderSource(tmp_path, "cam*")
    assert len(FolderSource(tmp_path, "cam_b*")) == 12


def test_a_sequence_clashing_with_a_picture_id_is_refused_whole(tmp_path: Path) -> None:
    files = _pictures(tmp_path / "f", [f"cam_{i:04d}.png" for i in range(12)])
    other = _pictures(tmp_path / "g", ["cam_0005.jpg"])[0]
    ws = Workspace.create(tmp_path / "ws", "camvid-11")
    ws.add_image(other)
    with pytest.raises(BadInputError, match="'cam_0005' already names"):
        ws.add_sequence_frames(tmp_path / "f", "cam_*.png", files, [p.stem for p in files])
    assert list(ws.frames) == ["cam_0005"] and ws.drives() == {}


def test_reconcile_detaches_and_drops_frames_that_left_the_folder(tmp_path: Path) -> None:
    files = _pictures(tmp_path / "f", [f"d_{i:02d}.png" for i in range(12)])
    ws = Workspace.create(tmp_path / "ws", "camvid-11")
    ws.add_sequence_frames(tmp_path / "f", "d_*.png", files, [p.stem for p in files])
    ws.write_mask("d_03", "corrected", np.zeros((8, 12), np.uint8))
    for i in (2, 3):
        files[i].unlink()
    present = {p.stem for p in files if p.exists()} - {"d_11"}  # d_11 is still there but not re-registered
    dropped, missing = ws.reconcile_folder(tmp_path / "f", present)
    assert dropped == ["d_02"] and missing == ["d_03"]  # the corrected one is kept, its picture gone
    assert "d_02" not in ws.frames and ws.frames["d_03"].drive is None and ws.frames["d_11"].drive is None


def test_split_by_drive_and_predicted_by(tmp_path: Path) -> None:
    files = _pictures(tmp_path / "seq", [f"d_{i:02d}.png" for i in range(12)])
    (loose,) = _pictures(tmp_path / "pics", ["aerial.png"])
    ws = Workspace.create(tmp_path / "ws", "camvid-11")
    ws.add_image(loose)
    ws.add_sequence_frames(tmp_path / "seq", "d_*.png", files, [p.stem for p in files])
    pictures, drives = ws.split_by_drive(["d_05", "aerial", "d_01", "nope"])
    assert pictures == ["aerial"] and list(drives.values()) == [["d_01", "d_05"]]
    ws.write_mask("d_01", "predicted", np.zeros((8, 12), np.uint8), model="m@1")
    assert ws.predicted_by("d_01", "m@1") and not ws.predicted_by("d_01", "m@2")
    assert not ws.predicted_by("d_05", "m@1") and not ws.predicted_by("nope", "m@1")
