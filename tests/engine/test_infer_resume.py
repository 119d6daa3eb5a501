"""Issue 16, finding 4: `seggui infer` never resumes one model's output folder with another model.

The folder records the model (name, version, weights hash) and the options
that change the masks; a different model is refused naming both, or redone
whole with --overwrite; a missing confidence file is written again on resume.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import make_card

from seggui.cli import main
from seggui.core.images import write_image
from seggui.core.run_record import RUN_FILE
from seggui.core.workspace import Workspace
from seggui.engine.predictor import load_predictor
from seggui.engine.workspace_inference import predict_workspace

HW = (48, 64)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pics")
    rng = np.random.default_rng(0)
    for i in range(3):
        write_image(folder / f"p{i}.png", rng.integers(0, 255, (*HW, 3), dtype=np.uint8))
    return folder


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("cards")
    return {"a": make_card(base / "a", name="tiny-a", seed=0),
            "b": make_card(base / "b", name="tiny-b", seed=1),
            "a_retrained": make_card(base / "a2", name="tiny-a", seed=2)}  # same name@version, other weights


def _infer(pictures: Path, card, out: Path, *extra: str) -> int:  # noqa: ANN001
    return main(["infer", str(pictures), "--model", str(card.folder), "--backend", "torch", "--device", "cpu",
                 "--out", str(out), *extra])


def _stamps(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted((out / "masks").glob("*.png"))}


@pytest.mark.slow
def test_another_model_is_refused_naming_both_then_redone_with_overwrite(
        pictures: Path, cards: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert _infer(pictures, cards["a"], out) == 0
    capsys.readouterr()
    before = _stamps(out)
    assert _infer(pictures, cards["b"], out) == 2
    err = capsys.readouterr().err
    assert "tiny-a@1" in err and "tiny-b@1" in err and "--overwrite" in err
    assert _stamps(out) == before  # nothing redone, nothing mixed
    assert _infer(pictures, cards["b"], out, "--overwrite") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["written"] == 3 and summary["skipped_as_done"] == 0
    assert json.loads((out / RUN_FILE).read_text())["model"]["ref"] == "tiny-b@1"
    assert _infer(pictures, cards["b"], out) == 0  # the same model resumes
    assert json.loads(capsys.readouterr().out)["skipped_as_done"] == 3


@pytest.mark.slow
def test_same_name_and_version_with_other_weights_is_another_model(
        pictures: Path, cards: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert _infer(pictures, cards["a"], out) == 0
    assert _infer(pictures, cards["a_retrained"], out) == 2
    assert "weights" in capsys.readouterr().err


def test_an_unrecorded_folder_of_masks_is_not_resumed(
        pictures: Path, cards: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert _infer(pictures, cards["a"], out) == 0
    (out / RUN_FILE).unlink()  # as an older seggui left it: masks, no record of their model
    assert _infer(pictures, cards["b"], out) == 2
    assert "did not record its model" in capsys.readouterr().err


def test_a_missing_confidence_file_is_written_again(
        pictures: Path, cards: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert _infer(pictures, cards["a"], out, "--confidence") == 0
    capsys.readouterr()
    (out / "confidence" / "p1.png").unlink()
    assert _infer(pictures, cards["a"], out, "--confidence") == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["written"], summary["skipped_as_done"]) == (1, 2)
    assert (out / "confidence" / "p1.png").is_file()


def test_workspace_resume_writes_a_missing_confidence_file(pictures: Path, cards: dict,
                                                          tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws", "camvid-11")
    ws.add_images(sorted(pictures.glob("*.png")))
    with load_predictor(cards["a"], "torch", "cpu") as predictor:
        first = predict_workspace(ws, predictor)
        assert _drain(first) == 3
        ws.mask_path("p2", "confidence").unlink()
        assert _drain(predict_workspace(ws, predictor)) == 1
    assert ws.mask_path("p2", "confidence").is_file()


def _drain(job) -> int:  # noqa: ANN001
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value
