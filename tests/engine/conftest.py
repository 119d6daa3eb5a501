"""Engine fixtures: the fitted tiny model card and small CamVid pictures (see engine_helpers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_helpers import fit_tiny, make_card, small

from seggui.core.images import list_images, read_image


@pytest.fixture(scope="session")
def fitted_card(tmp_path_factory, camvid: Path):
    """A tiny card with fitted weights (read-only: copy it before changing it)."""
    return make_card(tmp_path_factory.mktemp("fitted") / "tiny", fit_tiny(camvid), name="tiny-fitted")


@pytest.fixture(scope="session")
def val_images(camvid: Path) -> list[np.ndarray]:
    """Four CamVid val pictures at 96x128."""
    files = list_images(camvid / "val")[::25][:4]
    return [small(read_image(f)) for f in files]


@pytest.fixture(scope="session")
def val_full(camvid: Path) -> list[np.ndarray]:
    """Two CamVid val pictures at their own 360x480."""
    files = list_images(camvid / "val")[10::50][:2]
    return [read_image(f) for f in files]


@pytest.fixture(scope="session")
def exported(tmp_path_factory, fitted_card, camvid: Path):
    """The fitted card exported to a new folder with ONNX and static int8: (report, new card)."""
    from seggui.core.jobs import run_job
    from seggui.engine.card import ModelCard
    from seggui.engine.export import export_job

    out = tmp_path_factory.mktemp("exported") / "tiny-onnx"
    report = run_job(export_job(fitted_card, out, int8=True, check_dir=camvid / "val", check_count=3,
                                calib_dir=camvid / "train", calib_count=4, truth_dir=camvid / "valannot"))
    return report, ModelCard.load(out)
