"""The layers are checked by import-linter (contracts in pyproject.toml), not by grep.

`lint-imports` follows relative imports and indirect chains, which the AST test in
test_layers.py does not; these tests run it on the real package and show, on a
copy of the package with a planted violation, that the contracts catch one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, pythonpath: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if not LINT.exists():
        pytest.skip(f"lint-imports is not installed beside {sys.executable} (pip install -e '.[test]')")
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    return subprocess.run([str(LINT), "--no-cache", *extra], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_import_contracts_are_kept() -> None:
    out = _lint(ROOT, ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the package and its contracts, to plant violations in."""
    shutil.copytree(ROOT / "seggui", tmp_path / "seggui",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("module", "line", "contract"), [
    # a relative import from core up into the ui: the grep test skips these
    ("core/errors.py", "from ..ui import qtutil", "Layers"),
    # the engine reaching up into training
    ("engine/card.py", "from seggui.training import loop", "Layers"),
    # torch in core, directly
    ("core/metrics.py", "import torch", "core imports neither torch nor Qt"),
    # Qt in the engine
    ("engine/tiling.py", "from PySide6 import QtCore", "Qt only in seggui.ui"),
])
def test_a_planted_violation_breaks_a_contract(package_copy: Path, module: str, line: str,
                                               contract: str) -> None:
    path = package_copy / "seggui" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    out = _lint(package_copy, package_copy)
    assert out.returncode != 0, out.stdout
    broken = [ln for ln in out.stdout.splitlines() if ln.endswith("BROKEN")]
    assert any(ln.startswith(contract) for ln in broken), out.stdout
