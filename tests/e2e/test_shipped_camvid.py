"""The shipped camvid-small model on real CamVid val pictures: it segments, well above chance."""

from __future__ import annotations

from pathlib import Path

import pytest

from seggui.core.confusion import ConfusionMatrix
from seggui.core.images import list_images, read_image
from seggui.core.masks import read_mask
from seggui.core.metrics import compute_metrics
from seggui.paths import shipped_models_dir

CARD = shipped_models_dir() / "camvid-small"


@pytest.mark.skipif(not (CARD / "model.json").exists(), reason="camvid-small is not in this checkout")
def test_camvid_small_on_val_pictures(camvid: Path) -> None:
    from seggui.engine.predictor import load_predictor

    files = list_images(camvid / "val")[::25][:4]
    with load_predictor(CARD, "torch", "cpu") as pred:
        table = pred.card.classes
        cm = ConfusionMatrix.for_table(table)
        for f in files:
            cm.update(pred.predict(read_image(f)).labels, read_mask(camvid / "valannot" / f.name, table))
    m = compute_metrics(cm, table).to_dict()
    assert m["pixel_accuracy"] > 0.6 and m["miou"] > 0.3  # card: 0.509 mIoU on all 101 val pictures


@pytest.mark.parametrize("name", ["camvid-small", "camvid-pspnet"])
def test_shipped_driving_cards_run_int8_where_measured_as_accurate(name: str) -> None:
    """Their exports scored int8 against ground truth, so backend auto runs int8 on a CPU (2-3x faster)."""
    from seggui.engine.card import INT8_MIOU_TOLERANCE, ModelCard
    from seggui.engine.predictor import load_predictor

    card = ModelCard.load(shipped_models_dir() / name)
    scores = card.provenance["onnx_export"]["int8"]["miou_vs_truth"]
    assert scores["pictures"] >= 62 and scores["int8"] >= scores["fp32"] - INT8_MIOU_TOLERANCE
    with load_predictor(card, device="cpu") as pred:
        assert pred.describe() == "ONNX Runtime · CPU · int8"
