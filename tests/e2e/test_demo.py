"""`seggui demo --headless` end to end, at small sizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seggui.cli import main
from seggui.core.jobs import run_job
from seggui.core.masks import read_mask
from seggui.core.workspace import Workspace
from seggui.demo import DemoSpec, build_demo_workspace
from seggui.paths import shipped_models_dir


@pytest.fixture(scope="module")
def tiny_parking_card(tmp_path_factory) -> Path:
    """A small random-init parking-2 card: the pipeline, not the model, is under test here."""
    import torch

    from seggui.engine.card import InputSpec, ModelCard
    from seggui.engine.factory import build_model
    from seggui.engine.weights import save_state_dict

    torch.manual_seed(0)
    params = {"encoder_depth": 3, "decoder_channels": [16, 8, 8]}
    model = build_model("Unet", "mobilenet_v2", 2, params)
    folder = tmp_path_factory.mktemp("cards") / "tiny-parking"
    folder.mkdir()
    save_state_dict(model, folder / "weights.safetensors")
    ModelCard(name="tiny-parking", architecture="Unet", encoder="mobilenet_v2", arch_params=params,
              num_classes=2, classes_spec="parking-2", weights="weights.safetensors",
              input=InputSpec(stride=8)).save(folder)
    return folder


def test_headless_demo_report_carries_the_generator_truth(tiny_parking_card: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    rc = main(["demo", "--headless", "--out", str(out), "--pictures", "3", "--size", "128x160",
               "--drive-frames", "4", "--drive-size", "96x128", "--model", str(tiny_parking_card),
               "--backend", "torch"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "aerial_00" in text and "drive_000003" in text and "TOTAL" in text
    ws = Workspace.open(out)
    truth = ws.settings["true_parking_m2"]
    report = json.loads((out / "reports" / "area-report.json").read_text())
    assert len(report["frames"]) == 3 + 4
    for f in report["frames"]:
        # exact: the report's true parking area is the generator's own figure
        assert f["ground_truth"]["true_parking_m2"] == truth[f["frame"]]
        mask = read_mask(ws.mask_path(f["frame"], "predicted"))
        assert f["parking"]["pixels"] == int((mask == 1).sum())
    assert (out / "reports" / "area-report.html").stat().st_size > 1000
    assert (out / "reports" / "area-report.csv").exists()
    assert ws.frames["aerial_00"].status == "predicted"
    # a second run reuses the workspace and resumes (nothing to predict again)
    assert main(["demo", "--headless", "--out", str(out), "--model", str(tiny_parking_card)]) == 0


def test_demo_workspace_is_deterministic(tmp_path: Path) -> None:
    spec = DemoSpec(pictures=2, size=(96, 96), drive_frames=0)
    a = run_job(build_demo_workspace(tmp_path / "a", spec))
    b = run_job(build_demo_workspace(tmp_path / "b", spec))
    for fid in a.frames:
        assert (a.image_path(fid).read_bytes() == b.image_path(fid).read_bytes())
        assert (a.read_mask(fid, "ground_truth") == b.read_mask(fid, "ground_truth")).all()
    with pytest.raises(Exception, match="already holds a workspace"):
        run_job(build_demo_workspace(tmp_path / "a", spec))


@pytest.mark.skipif(not (shipped_models_dir() / "parking-demo" / "model.json").exists(),
                    reason="the shipped parking-demo model is not in this checkout")
def test_shipped_parking_model_finds_parking_on_held_out_scenes(tmp_path: Path) -> None:
    """The shipped model on 3 held-out generated scenes: parking IoU well above chance."""
    from seggui.demo import run_demo_headless

    ws = run_job(build_demo_workspace(tmp_path / "d", DemoSpec(pictures=3, size=(384, 384), drive_frames=0)))
    summary = run_job(run_demo_headless(ws, backend="torch", device="cpu"))
    assert summary.totals["mean_parking_iou"] > 0.6
