"""A CPU-only machine runs a card's ONNX file without importing torch (about 300 MB saved)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.engine.devices import no_nvidia_driver

pytestmark = pytest.mark.skipif(not no_nvidia_driver(), reason="this machine has an NVIDIA driver (or is "
                                "not Linux): torch is rightly asked about CUDA there")


def test_infer_on_onnx_runtime_never_imports_torch(tmp_path: Path) -> None:
    picture = tmp_path / "p.png"
    cv2.imwrite(str(picture), np.full((64, 96, 3), 120, np.uint8))
    out_dir = tmp_path / "o"
    code = (
        "import sys\n"
        "from seggui.cli import main\n"
        f"rc = main(['infer', {str(picture)!r}, '--model', 'parking-demo', '--out', {str(out_dir)!r}])\n"
        "assert rc == 0, rc\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ONNX Runtime" in out.stdout + out.stderr
