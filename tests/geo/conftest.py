"""GIS tests need the geo extra; they skip with the reason when it is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from seggui.core.geo import geo_available  # noqa: E402

# without the geo extra these tests are not collected (pip install 'seggui[geo]' brings them back)
collect_ignore_glob = [] if geo_available() else ["test_*.py"]


@pytest.fixture(scope="session")
def scene():
    from seggui.core.synth import render_scene

    return render_scene(7, (240, 304), 0.15)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from geo_helpers import tiny_onnx

    return tiny_onnx(tmp_path_factory.mktemp("model") / "tiny.onnx")
