"""Issue 16 through `seggui infer` / `export-onnx` and the weights loader: bombs, batch sizes,
unwritable outputs, a cut video, formula cells in areas.csv, hostile pickles and card paths."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from bomb_files import png_bomb
from engine_helpers import make_card

from seggui.cli import main
from seggui.core.errors import BadInputError
from seggui.engine.card import ModelCard
from seggui.engine.predictor import load_predictor
from seggui.engine.weights import load_state_dict

HW = (48, 64)


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return make_card(tmp_path_factory.mktemp("card") / "tiny")


@pytest.fixture()
def pictures(tmp_path: Path) -> Path:
    folder = tmp_path / "pics"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a", "c"):
        cv2.imwrite(str(folder / f"{name}.png"), rng.integers(0, 255, (*HW, 3), np.uint8))
    png_bomb(folder / "b.png", 60000, 60000)
    return folder


def test_infer_reports_a_bomb_and_carries_on(card, pictures: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["infer", str(pictures), "--model", str(card.folder), "--backend", "torch",
               "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert rc == 1
    summary = json.loads(captured.out)
    assert summary["written"] == 2 and [f["frame"] for f in summary["failed"]] == ["b"]
    assert "60000x60000" in summary["failed"][0]["error"]
    # the bomb alone: refused from its header with the limit named, one line, exit 2
    rc = main(["infer", str(pictures / "b.png"), "--model", str(card.folder), "--backend", "torch",
               "--out", str(tmp_path / "o2")])
    captured = capsys.readouterr()
    assert rc == 2 and "b.png" in captured.err and "over the limit of 300 megapixels" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("batch", ["0", "-1"])
def test_batch_below_one_is_refused(batch: str, card, pictures: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["infer", str(pictures), "--model", str(card.folder), "--batch", batch, "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert f"must be at least 1, not {batch}" in capsys.readouterr().err
    with pytest.raises(BadInputError, match="at least 1"):
        load_predictor(card, "torch", batch_size=int(batch))


def test_unwritable_outputs_are_one_line_before_the_model_loads(card, pictures: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # a model that does not exist: the output check comes first, so the message is about the output
    for argv in (["infer", str(pictures), "--model", "no-such-model", "--out", str(blocker / "out")],
                 ["export-onnx", "--model", "no-such-model", "--out", str(blocker / "card")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and str(blocker) in err and "not a folder" in err, err
    assert not (tmp_path / "a-file").is_dir()


def test_a_full_disk_mid_write_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    from seggui.core import atomic
    from seggui.core.masks import write_mask

    write_mask(tmp_path / "m" / "a.png", np.zeros((4, 4), np.uint8))
    real_fsync = os.fsync

    def full(fd: int) -> None:
        real_fsync(fd)
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "area.csv"))

    monkeypatch.setattr(atomic.os, "fsync", full)
    rc = main(["area", str(tmp_path / "m"), "--classes", "camvid-11", "--quiet",
               "--csv", str(tmp_path / "area.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "area.csv" in err[0] and "No space left" in err[0]
    assert not (tmp_path / "area.csv").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".area.csv")] == []


def test_a_cut_video_exits_1(card, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "drive.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (HW[1], HW[0]))
    rng = np.random.default_rng(1)
    for _ in range(10):
        w.write(rng.integers(0, 255, (*HW, 3), np.uint8))
    w.release()
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * 0.6)])
    rc = main(["infer", str(path), "--model", str(card.folder), "--backend", "torch",
               "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert rc == 1 and "warning" in captured.err and "drive.avi" in captured.err
    assert json.loads(captured.out)["written"] >= 1


def test_areas_csv_quotes_formula_class_names(tmp_path: Path, pictures: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    classes = {"name": "evil", "classes": [{"id": i, "name": f"c{i}", "color": [i, i, i]} for i in range(12)]}
    classes["classes"][3]["name"] = "=HYPERLINK(\"http://x\",\"y\")"
    classes["classes"][4]["name"] = "@SUM(1)"
    evil = make_card(tmp_path / "evil", classes=classes, name="evil")
    (pictures / "b.png").unlink()
    (pictures / "=cmd.png").write_bytes((pictures / "a.png").read_bytes())
    assert main(["infer", str(pictures), "--model", str(evil.folder), "--backend", "torch",
                 "--out", str(tmp_path / "o")]) == 0
    rows = list(csv.reader((tmp_path / "o" / "areas.csv").open()))
    cells = [c for r in rows for c in r]
    assert "'=HYPERLINK(\"http://x\",\"y\") px" in cells and "'@SUM(1) m2" in cells and "'=cmd" in cells
    assert not any(c.startswith(("=", "@", "+")) for c in cells)


def test_a_pickle_that_would_run_code_says_so(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self):  # noqa: ANN204
            return (os.system, ("echo owned",))

    torch.save({"w": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(BadInputError) as err:
        load_state_dict(tmp_path / "evil.pt")
    text = err.value.problem
    assert "pickle that would run code" in text and "system" in text and "damaged" not in text
    (tmp_path / "junk.pt").write_bytes(b"\x80\x04junk")  # torch raises struct.error here
    with pytest.raises(BadInputError, match="not a readable torch weights file"):
        load_state_dict(tmp_path / "junk.pt")


def test_torch_warnings_stay_off_the_terminal(tmp_path: Path) -> None:
    import warnings

    (tmp_path / "p4.pt").write_bytes(b"\x80\x04junk")  # torch warns "Detected pickle protocol 4"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(BadInputError, match="p4.pt"):
            load_state_dict(tmp_path / "p4.pt")
    assert [str(w.message) for w in seen] == []


def test_missing_weights_are_named_as_such(card, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(card.folder, copy)
    (copy / "weights.safetensors").unlink()
    with pytest.raises(BadInputError) as err:
        load_predictor(copy)
    assert "weights.safetensors" in str(err.value) and "is missing" in err.value.problem
    assert "ONNX" not in str(err.value)


@pytest.mark.parametrize("key, value", [("weights", "../../secret.safetensors"), ("weights", "/etc/passwd"),
                                        ("onnx", "sub/../../x.onnx"), ("classes", "../classes.json")])
def test_card_paths_stay_inside_the_card(card, tmp_path: Path, key: str, value: str) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(card.folder, copy)
    data = json.loads((copy / "model.json").read_text())
    data[key] = value
    (copy / "model.json").write_text(json.dumps(data))
    with pytest.raises(BadInputError) as err:
        ModelCard.load(copy)
    assert err.value.path == copy / "model.json" and repr(value) in err.value.problem
