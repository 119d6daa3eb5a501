"""Fixtures for the window tests: temp settings, a small CamVid folder, a tiny model card."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from ui_helpers import N_PICTURES, link_pictures


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """A settings file in the test's temp folder (never the user's)."""
    return QSettings(str(tmp_path / "settings" / "seggui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings: QSettings, tmp_path: Path):
    """The real main window, with workspaces and model folders under tmp_path."""
    from seggui.ui.main_window import MainWindow

    (tmp_path / "models").mkdir()
    win = MainWindow(settings, store_dir=tmp_path / "workspaces", model_dirs=[tmp_path / "models"])
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    yield win
    for runner in (win.runner, win.metrics.runner):
        runner.cancel()
        runner.wait(20000)


@pytest.fixture
def camvid_folder(camvid: Path, tmp_path: Path) -> Path:
    """tmp/camvid/val with 4 CamVid val pictures and their ground truth beside them."""
    names = sorted(p.name for p in (camvid / "val").glob("*.png"))[:N_PICTURES]
    return link_pictures(camvid, tmp_path / "camvid", names)


@pytest.fixture(scope="session")
def tiny_card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init, 3-level smp Unet (resnet18) card for camvid-11: fast, not accurate.

    The card asks for pictures scaled to 160 px on their long side, so a CamVid
    picture costs a 160x120 forward pass; labels come back at full size.
    """
    import torch

    from seggui.engine.card import InputSpec, ModelCard
    from seggui.engine.factory import build_model
    from seggui.engine.weights import save_state_dict

    folder = tmp_path_factory.mktemp("models") / "tiny-camvid"
    params = {"encoder_depth": 3, "decoder_channels": [32, 16, 8]}
    torch.manual_seed(0)
    model = build_model("Unet", "resnet18", 12, params)
    save_state_dict(model, folder / "weights.safetensors")
    spec = InputSpec(resize="max_side", size=160, stride=8, tile_size=None)
    card = ModelCard(name="tiny-camvid", architecture="Unet", num_classes=12, classes_spec="camvid-11",
                     encoder="resnet18", arch_params=params, input=spec,
                     description="random weights, for tests")
    card.save(folder)
    return folder
