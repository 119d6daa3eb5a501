"""Backend "auto" runs int8 only where the card measured it as accurate as fp32 against ground truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seggui.cli import main
from seggui.core.errors import BadInputError
from seggui.core.images import list_images
from seggui.core.jobs import run_job
from seggui.core.masks import read_mask
from seggui.engine import export as export_mod
from seggui.engine.card import INT8_MIOU_TOLERANCE, ModelCard
from seggui.engine.predictor import load_predictor


def _with_scores(card: ModelCard, fp32: float, int8: float) -> ModelCard:
    provenance = dict(card.provenance)
    export = dict(provenance["onnx_export"])
    export["int8"] = {**export["int8"], "miou_vs_truth": {"fp32": fp32, "int8": int8, "pictures": 3}}
    provenance["onnx_export"] = export
    return card.with_changes(provenance=provenance)


@pytest.mark.slow
def test_export_scores_both_precisions_on_the_masks(exported, camvid: Path) -> None:
    """The card keeps fp32's and int8's mIoU on the check pictures' masks, as `seggui eval` gives them."""
    report, card = exported
    scores = card.provenance["onnx_export"]["int8"]["miou_vs_truth"]
    assert report.truth_pictures == scores["pictures"] == 3
    assert scores["fp32"] == pytest.approx(report.fp32_miou, abs=1e-6)
    assert scores["int8"] == pytest.approx(report.int8_miou, abs=1e-6)
    assert card.int8_as_good == (report.int8_miou >= report.fp32_miou - INT8_MIOU_TOLERANCE)
    pictures = export_mod._read_pictures(camvid / "val", 3, [])
    masks = [read_mask(camvid / "valannot" / path.name, card.classes) for path, _ in pictures]
    fp32 = load_predictor(card, backend="onnx", device="cpu")
    labels = [fp32.predict(image, confidence=False).labels for _, image in pictures]
    assert export_mod._miou(labels, masks, card.classes) == pytest.approx(report.fp32_miou, abs=1e-9)


@pytest.mark.slow
def test_auto_follows_the_measurement(exported) -> None:
    _, card = exported
    as_good = _with_scores(card, 0.500, 0.500 - INT8_MIOU_TOLERANCE + 0.001)
    worse = _with_scores(card, 0.500, 0.500 - INT8_MIOU_TOLERANCE - 0.001)
    assert as_good.int8_as_good and not worse.int8_as_good
    assert load_predictor(as_good, device="cpu").precision == "int8"
    assert load_predictor(as_good, device="cpu").describe() == "ONNX Runtime · CPU · int8"
    assert load_predictor(worse, device="cpu").precision == "fp32"
    assert load_predictor(as_good, backend="onnx", device="cpu").precision == "fp32"  # asked for fp32
    assert load_predictor(as_good, backend="torch", device="cpu").backend == "torch"
    unmeasured = card.with_changes(provenance={})
    assert not unmeasured.int8_as_good and load_predictor(unmeasured, device="cpu").precision == "fp32"


@pytest.mark.slow
def test_auto_without_the_int8_file_runs_fp32(exported, tmp_path: Path) -> None:
    _, card = exported
    folder = tmp_path / "card"
    shutil.copytree(card.folder, folder)
    _with_scores(ModelCard.load(folder), 0.5, 0.5).save(folder)
    (folder / "model.int8.onnx").unlink()
    assert load_predictor(ModelCard.load(folder), device="cpu").precision == "fp32"


def test_masks_without_their_pictures_are_refused(fitted_card, camvid: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-onnx", "--model", str(fitted_card.folder), "--out", str(tmp_path),
                 "--check-masks", str(camvid / "valannot")]) == 2
    assert "--check-masks" in capsys.readouterr().err
    with pytest.raises(BadInputError, match="check pictures"):
        run_job(export_mod.export_job(fitted_card, tmp_path / "o", truth_dir=camvid / "valannot"))


def test_pictures_without_any_mask_are_named(tmp_path: Path, camvid: Path, fitted_card) -> None:
    empty = tmp_path / "masks"
    empty.mkdir()
    shutil.copy(list_images(camvid / "trainannot")[0], empty)  # a mask, but of no check picture
    pictures = export_mod._read_pictures(camvid / "val", 2, [])
    with pytest.raises(BadInputError, match="none of the 2 check pictures") as err:
        export_mod._truth_masks(pictures, empty, fitted_card.classes, [])
    assert str(empty) in str(err.value)
