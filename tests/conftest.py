"""Shared fixtures: the real data in ../shared/data, skipped cleanly when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SEGGUI_SHARED_DATA", REPO.parent / "shared" / "data"))


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path} (a fresh clone has no ../shared/data)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder (CamVid, Houston UAV)."""
    return _need(SHARED_DATA)


@pytest.fixture(scope="session")
def camvid(shared_data: Path) -> Path:
    """../shared/data/camvid: train/, trainannot/, val/, valannot/, classes.json."""
    return _need(shared_data / "camvid")


@pytest.fixture(scope="session")
def houston(shared_data: Path) -> Path:
    """../shared/data/houston-uav: images/*.jpg, masks/*.png, classes.json."""
    return _need(shared_data / "houston-uav")
